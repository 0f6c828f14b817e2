"""Host-level rules (站点级规则): the gambling site itself, and doorway pages on a victim host.

* ``gambling.site`` — every ordinary visitor gets a gambling home page, and the site is not a
  victim: a home page whose gambling content comes from an injection (any ``inject.*`` finding on
  it while the page without its head is not gambling) is reported as the injection only.
  Blocking a hacked government site would be wrong.
* ``inject.parasite`` — a non-root URL is a gambling page (for any persona, crawlers included)
  unlike the host's home page and unlike every view of it. Cloaking on the same URL is reported
  *as well* (``cloak.ua``): a doorway served only to crawlers, 404 for everyone else, is both.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from chainbreaker.chains.tech.pageview import Draft, PageView, is_fake_error, settled, similar

# findings that say a doorway's content is the site's own page with another head, not a doorway
_NOT_A_DOORWAY = {"inject.title_spider"}


def _is_root(url: str) -> bool:
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query


def is_victim(visitors: list[PageView], drafts: list[Draft]) -> bool:
    """The home page carries injected content and is not a gambling page once its head is set aside."""
    injected = any(d.rule_id.startswith("inject.") for d in drafts)
    return injected and any(v.body_gambling is not True for v in visitors)


def detect_host(pages: dict[str, list[PageView]], page_drafts: dict[str, list[Draft]]) -> list[Draft]:
    """Host-level rules: ``gambling.site`` (the site itself) and ``inject.parasite`` (doorway pages)."""
    out: list[Draft] = []
    by_host: dict[str, dict[str, list[PageView]]] = {}
    for url, views in pages.items():
        by_host.setdefault(urlsplit(url).netloc.lower(), {})[url] = views
    for host, urls in by_host.items():
        root = next((u for u in urls if _is_root(u)), None)
        root_views = settled([v for v in urls.get(root, []) if v.ok and not v.rendered]) if root else []
        visitors = [v for v in root_views if not v.is_spider and not v.has_referer and not is_fake_error(v)]
        root_gambling = bool(visitors) and all(v.is_gambling for v in visitors)
        if root_gambling and root is not None and not is_victim(visitors, page_drafts.get(root, [])):
            out.append(_gambling_site(host, root, visitors))
            continue
        if not root_views:
            continue
        for url, views in urls.items():
            if url != root:
                draft = _doorway(url, views, root_views, page_drafts.get(url, []))
                if draft is not None:
                    out.append(draft)
    return out


def _gambling_site(host: str, root: str, visitors: list[PageView]) -> Draft:
    best = max(visitors, key=lambda v: v.score)
    return Draft("gambling.site", "site", host, round(max(best.score, 0.5), 3), {
        "url": root, "title": best.title, "score": best.score, "reasons": best.reasons[:8],
        "personas": [v.persona for v in visitors]}, [v.evidence() for v in visitors[:3]],
        f"网站首页对普通访客即为赌博网站：“{best.title}”（分类得分 {best.score:.2f}）。",
        f"The site's home page is a gambling site for ordinary visitors: '{best.title}' (score {best.score:.2f}).")


def _doorway(url: str, views: list[PageView], root_views: list[PageView], drafts: list[Draft]) -> Draft | None:
    hits = [v for v in views if v.ok and not v.rendered and v.is_gambling and not is_fake_error(v)]
    if not hits or any(d.rule_id in _NOT_A_DOORWAY for d in drafts):
        return None
    if any(similar(hits[0].text, r.text) >= 0.6 for r in root_views):
        return None  # the host serves this gambling page at its root too: not a doorway of its own
    others = [v for v in views if not v.rendered and v not in hits]
    cloaked = [d.rule_id for d in drafts if d.rule_id.startswith("cloak.")]
    statuses = {v.persona: v.status for v in others if v.status != 200 or v.error}
    host_title = root_views[0].title
    return Draft("inject.parasite", "page", url, 0.9 if cloaked else 0.85, {
        "doorway_url": url, "doorway_title": hits[0].title, "host_title": host_title,
        "personas": [v.persona for v in hits], "score": hits[0].score, "reasons": hits[0].reasons[:5],
        "served_only_to": [v.persona for v in hits] if others else [], "other_statuses": statuses,
        "also": cloaked},
        [hits[0].evidence(), root_views[0].evidence()],
        f"寄生页面：{url} 的主题是赌博（“{hits[0].title}”），与网站本身（“{host_title}”）无关"
        + (f"；只对 {'、'.join(v.persona for v in hits[:4])} 提供，其他访问身份得到 {sorted({str(s) for s in statuses.values()})}"
           if statuses else "") + "。",
        f"Doorway page: {url} is about gambling ('{hits[0].title}'), unlike its host ('{host_title}')"
        + (f"; served only to {', '.join(v.persona for v in hits[:4])}" if statuses else "") + ".")


__all__ = ["detect_host", "is_victim"]
