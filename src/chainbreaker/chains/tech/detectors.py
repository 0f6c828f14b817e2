"""Detectors of injection and cloaking techniques (暗链、劫持、黑帽 SEO 检测).

:func:`chainbreaker.chains.tech.pageview.analyze_page` turns each capture into a
:class:`~chainbreaker.chains.tech.pageview.PageView`; the detectors here compare the views of one URL
across personas and emit findings under the rule ids of the technique table; host-level rules
(``gambling.site``, ``inject.parasite``) are in :mod:`chainbreaker.chains.tech.host_rules`:

``inject.title_spider``, ``inject.loader_script``, ``inject.referrer_redirect``,
``inject.hidden_links``, ``cloak.ua``, ``inject.parasite``, ``cloak.fake_error``, ``gambling.site``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from chainbreaker.chains.tech.hidden import (
    STRONG_TECHNIQUES,
    find_hidden_blocks,
    hiding_technique,
    parse_decls,
)
from chainbreaker.chains.tech.host_rules import detect_host
from chainbreaker.chains.tech.pageview import (
    Classify,
    Draft,
    PageView,
    abs_host,
    analyze_page,
    domains,
    gambling_head,
    gambling_text,
    is_fake_error,
    settled,
    similar,
    uniq,
)
from chainbreaker.chains.tech.scripts import ScriptInfo, analyze_script, is_infrastructure, is_remote

RULES = ("inject.title_spider", "inject.loader_script", "inject.referrer_redirect", "inject.hidden_links",
         "cloak.ua", "inject.parasite", "cloak.fake_error", "gambling.site")
Landing = Callable[[str], list[PageView]]
_GATE_ZH = {"user_agent": "浏览器标识（User-Agent）", "referrer": "来源（Referer）",
            "user_agent+referrer": "浏览器标识与来源"}
_GATE_EN = {"user_agent": "user agent", "referrer": "referrer", "user_agent+referrer": "user agent and referrer"}
MIN_BODY_CHARS = 150  # a victim page has text of its own (Chinese is dense); a thin gambling landing page does not


# ------------------------------------------------------------------------------ title swaps
def detect_title_spider(views: list[PageView], classify: Classify | None) -> Draft | None:
    """标题劫持: a head swapped for spiders, a gated ``document.title`` swap, or an injected head."""
    static = [v for v in views if v.ok and not v.rendered and not v.has_referer]
    return (_server_swap(static, classify) or _script_swap(static, views, classify)
            or _injected_head(static, classify))


def _server_swap(static: list[PageView], classify: Classify | None) -> Draft | None:
    """(a) the server gives spiders another title / keywords / description; the body stays."""
    spiders = [v for v in static if v.is_spider]
    people = [v for v in static if not v.is_spider]
    for sp in spiders:
        for pv in people:
            if sp.head == pv.head or similar(sp.text, pv.text) < 0.6:
                continue
            url = sp.url
            if (gambling_head(classify, sp.title, sp.keywords, sp.description, url)
                    and not gambling_head(classify, pv.title, pv.keywords, pv.description, url)):
                seen_by = uniq([v.persona for v in spiders if v.title == sp.title])
                return Draft("inject.title_spider", "page", url, 0.9, {
                    "spider_title": sp.title, "spider_keywords": sp.keywords, "spider_description": sp.description,
                    "visitor_title": pv.title, "spider_personas": seen_by, "visitor_persona": pv.persona,
                    "mode": "server_swap"}, [sp.evidence(), pv.evidence()],
                    f"蜘蛛（{'、'.join(seen_by)}）看到的标题为“{sp.title}”，普通访客看到“{pv.title}”：标题/关键词被替换为赌博内容，只展示给搜索引擎。",
                    f"Spiders ({', '.join(seen_by)}) get the title '{sp.title}', visitors get '{pv.title}': "
                    "title/keywords swapped to gambling for search engines only.")
    return None


def _script_swap(static: list[PageView], views: list[PageView], classify: Classify | None) -> Draft | None:
    """(b) a script that tests the user agent or the referrer for search engines sets another
    ``document.title``: evidence on its own; the classifier only adds confidence."""
    for v in static:
        for sc in v.scripts:
            if sc.title_set is None or not (sc.ua_spider_check or sc.referrer_check):
                continue
            script_title = " ".join(sc.title_set.split())
            if not script_title or script_title == v.title:
                continue
            url = v.url
            gate = "+".join(g for g, on in (("user_agent", sc.ua_spider_check), ("referrer", sc.referrer_check)) if on)
            html_gambling = gambling_head(classify, v.title, v.keywords, v.description, url)
            script_gambling = gambling_head(classify, script_title, url=url)
            score = 0.9 if html_gambling != script_gambling else 0.75
            rendered = [r for r in views if r.rendered and r.ok and not r.is_spider]
            facts: dict[str, Any] = {
                "html_title": v.title, "script_title": script_title, "keywords": v.keywords,
                "description": v.description, "gate": gate, "engines": sorted(set(sc.ua_engines + sc.referrer_engines)),
                "html_head_gambling": html_gambling, "script_title_gambling": script_gambling,
                "decode_layers": sc.layers, "decoded_strings": sc.strings[:10], "mode": "script_restore"}
            if rendered:
                facts["rendered_title"] = rendered[0].title
            extra_zh = "；分类器判定源码标题为赌博内容" if html_gambling and not script_gambling else ""
            extra_en = "; the classifier calls the HTML title gambling" if html_gambling and not script_gambling else ""
            return Draft("inject.title_spider", "page", url, score, facts,
                         [v.evidence()] + [r.evidence() for r in rendered[:1]],
                         f"网页源码标题为“{v.title}”，脚本检测访问者的{_GATE_ZH[gate]}（{'、'.join(facts['engines'])}）后把标题改为"
                         f"“{script_title}”：搜索引擎与普通访客看到的标题不同，站长看不到{extra_zh}。",
                         f"The HTML title is '{v.title}'; a script that tests the visitor's {_GATE_EN[gate]} "
                         f"({', '.join(facts['engines'])}) sets '{script_title}' instead, so search engines and "
                         f"visitors see different titles{extra_en}.")
    return None


def _injected_head(static: list[PageView], classify: Classify | None) -> Draft | None:
    """(c) everyone gets a gambling head (often a duplicated head, the injected one first) over
    the site's own, non-gambling page."""
    visitors = [v for v in static if not v.is_spider and not is_fake_error(v)]
    if not visitors or classify is None:
        return None
    if not all(v.head_gambling and v.body_gambling is False and len(v.text) >= MIN_BODY_CHARS for v in visitors):
        return None
    v = visitors[0]
    dup = v.title_count > 1
    return Draft("inject.title_spider", "page", v.url, 0.85 if dup else 0.75, {
        "mode": "head_injected", "html_title": v.title, "keywords": v.keywords, "description": v.description,
        "duplicated_head": dup, "title_count": v.title_count, "body_chars": len(v.text),
        "personas": [x.persona for x in visitors]}, [x.evidence() for x in visitors[:2]],
        f"网页标题/关键词/描述为赌博内容（“{v.title}”），正文却是网站自身的非赌博内容"
        + ("，且页面有两个 head（注入的在前）" if dup else "") + "：网站被篡改（TDK 劫持），不是赌博网站本身。",
        f"The title/keywords/description are gambling ('{v.title}') over the site's own non-gambling content"
        + (", with a duplicated head (the injected one first)" if dup else "")
        + ": the site was tampered with (head hijack); it is not a gambling site itself.")


# ------------------------------------------------------------------------------ loaders
_STATIC_ASSET = re.compile(r"\.(?:png|jpe?g|gif|css|svg|ico|woff2?)(?:\?|$)", re.I)


def detect_loader_script(views: list[PageView]) -> Draft | None:
    """加载脚本: a script that writes HTML with a remote ``<script>``/``<iframe>`` (whatever syntax
    wrote it; public analytics and CDNs excepted unless the script is obfuscated), or an obfuscated
    script that creates remote elements; rendered, blocked loads of hosts the HTML never names."""
    url = views[0].url
    for v in views:
        for sc in v.scripts:
            base = v.final_url
            loads = [u for u in sc.html_loads if is_remote(u, base) and (sc.obfuscated or not is_infrastructure(u))]
            if sc.referrer_check:  # an overlay frame for search visitors is a referrer redirect
                loads = [u for u in loads if u not in sc.html_frames]
            dom: list[str] = []
            if sc.obfuscated and not sc.referrer_check:  # createElement('script'), .src = remote
                dom = [u for u in sc.dom_loads if not _STATIC_ASSET.search(u) and is_remote(u, base)]
            remote = list(dict.fromkeys(loads + dom))
            if not remote:
                continue
            doms = domains(remote)
            how = "written_html" if loads else "dom_element"
            return Draft("inject.loader_script", "page", url, 0.85 if sc.obfuscated else 0.75, {
                "how": how, "decode_layers": sc.layers, "remote_urls": remote[:10], "operator_domains": doms,
                "decoded_strings": sc.strings[:10], "written_html": sc.written_html[:5], "persona": v.persona,
                "script_src": sc.src, "obfuscated": sc.obfuscated},
                [v.evidence()],
                f"脚本（解码层：{'→'.join(sc.layers) or '无'}）向页面写入外部脚本/框架：{'、'.join(doms)}。",
                f"A script (layers: {' -> '.join(sc.layers) or 'none'}) writes a remote script/iframe into "
                f"the page: {', '.join(doms)}.")
    for v in views:  # rendered: the page tried to load scripts/frames from hosts the HTML never names
        named = set(domains(v.script_srcs + v.iframes))
        loads = [b["url"] for b in v.blocked if b.get("type") in ("script", "sub_frame", "iframe")
                 and urlsplit(b["url"]).netloc.lower() not in named]
        if v.rendered and loads and any(sc.obfuscated for sc in v.scripts):
            doms = domains(loads)
            return Draft("inject.loader_script", "page", url, 0.8, {
                "how": "rendered", "blocked_loads": loads[:10], "operator_domains": doms, "persona": v.persona},
                [v.evidence()],
                f"浏览器渲染时，混淆脚本试图加载外部脚本/框架（已拦截）：{'、'.join(doms)}。",
                f"When rendered, an obfuscated script tried to load remote code (blocked): {', '.join(doms)}.")
    return None


# ------------------------------------------------------------------------------ redirects
def _landing_facts(target: str, ref: PageView | None, landing: Landing | None) -> dict[str, Any]:
    """The page a redirect lands on, classified (when it is on a host the scan may contact)."""
    seen = [ref] if ref is not None and ref.final_url == target and ref.ok else []
    if not seen and landing is not None:
        seen = [v for v in landing(target) if v.ok and not v.rendered]
        seen.sort(key=lambda v: (not v.has_referer, v.persona))
    if not seen:
        return {"landing_url": target, "landing_fetched": False}
    best = max(seen, key=lambda v: v.score)
    return {"landing_url": target, "landing_fetched": True, "landing_title": best.title,
            "landing_gambling": any(v.is_gambling for v in seen), "landing_score": round(best.score, 3)}


def _redirect_draft(url: str, how: str, target: str, views_ev: list[PageView], facts: dict[str, Any]) -> Draft:
    same_host = abs_host(target, url) == urlsplit(url).netloc.lower()
    offsite = [] if same_host else domains([target])
    landing = facts.get("landing_gambling")
    score = 0.9 if (not same_host or landing) else 0.7
    where_zh = "本站页面" if same_host else target
    land_zh = ("，落地页被判定为赌博页面" if landing else "，落地页未判定为赌博页面" if landing is False else "")
    land_en = ("; the landing page is classified as gambling" if landing else
               "; the landing page is not classified as gambling" if landing is False else "")
    return Draft("inject.referrer_redirect", "page", url, score, {
        "how": how, "target": target, "same_host": same_host, "operator_domains": offsite, **facts},
        [v.evidence() for v in views_ev],
        f"从搜索引擎点进来的访客被跳转到{where_zh} {target if same_host else ''}（方式：{how}），直接访问则不跳转{land_zh}。",
        f"Visitors arriving from a search engine are sent to {target} ({how}); direct visitors are not{land_en}.")


def detect_referrer_redirect(views: list[PageView], landing: Landing | None = None) -> Draft | None:
    """跳转劫持: search-referred visitors are redirected (HTTP, meta refresh, script, overlay),
    to another host or to a landing path on the same site."""
    url = views[0].url
    by_agent: dict[tuple[str, bool], dict[bool, PageView]] = {}
    for v in views:
        by_agent.setdefault((v.agent, v.rendered), {})[v.has_referer] = v
    for (agent, rendered), pair in by_agent.items():
        ref, plain = pair.get(True), pair.get(False)
        if ref is None or plain is None:
            continue
        how, target = None, None
        if ref.offsite_redirect and not plain.offsite_redirect:
            how, target = "http_redirect", ref.offsite_redirect
        elif not rendered and ref.redirects and ref.final_url != plain.final_url and ref.error is None:
            how, target = "http_redirect", ref.final_url
        elif ref.meta_refresh and ref.meta_refresh != plain.meta_refresh:
            how, target = "meta_refresh", ref.meta_refresh
        elif rendered:
            nav_ref = [b["url"] for b in ref.blocked if b.get("type") in ("document", "sub_frame")]
            nav_plain = [b["url"] for b in plain.blocked if b.get("type") in ("document", "sub_frame")]
            if nav_ref and not nav_plain:
                how, target = "rendered_navigation", nav_ref[0]
            elif ref.ok and plain.ok and ref.final_url != plain.final_url:
                how, target = "rendered_navigation", ref.final_url
        if how and target:
            facts = {"agent": agent, "persona_with_referer": ref.persona, "persona_without_referer": plain.persona,
                     **_landing_facts(target, ref, landing)}
            return _redirect_draft(url, how, target, [ref, plain], facts)
    for v in views:  # the script itself says so: tests document.referrer, then redirects or overlays
        for sc in v.scripts:
            if not sc.referrer_check:
                continue
            overlay = list(sc.html_frames) or [u for u in sc.remote_urls if "<iframe" in " ".join(sc.written_html)]
            targets = [u for u in sc.redirect_targets if u.split("#")[0] != v.url] or overlay
            if targets:
                how = "script_overlay_iframe" if overlay and targets == overlay else "script_redirect"
                facts = {"decode_layers": sc.layers, "decoded_strings": sc.strings[:10], "persona": v.persona,
                         "engines": sc.referrer_engines, **_landing_facts(targets[0], None, landing)}
                return _redirect_draft(url, how, targets[0], [v], facts)
    return None


# ------------------------------------------------------------------------- hidden, errors, cloaking
def detect_hidden_links(views: list[PageView], classify: Classify | None) -> Draft | None:
    """暗链: blocks of off-site links hidden by CSS or script, with gambling anchors or many links."""
    url = views[0].url
    flagged: dict[tuple[str, str], dict[str, Any]] = {}
    personas: dict[str, list[str]] = {}
    evidence: list[dict[str, Any]] = []
    for v in views:
        for block in v.hidden_blocks:
            if block["offsite"] == 0:
                continue
            anchors = " ".join(ln["text"] for ln in block["links"])
            gambling = gambling_text(classify, anchors, url)
            strong = block["technique"] in STRONG_TECHNIQUES
            if not (gambling or (strong and block["offsite"] >= 3)):
                continue
            key = (block["technique"], ",".join(block["hosts"]))
            if key not in flagged:
                flagged[key] = {**block, "gambling_anchors": gambling, "links": block["links"][:20]}
            personas.setdefault(block["technique"], [])
            if v.persona not in personas[block["technique"]]:
                personas[block["technique"]].append(v.persona)
            if v.evidence() not in evidence:
                evidence.append(v.evidence())
    if not flagged:
        return None
    techniques = sorted({k[0] for k in flagged})
    hosts = sorted({h for b in flagged.values() for h in b["hosts"]})
    n_links = sum(b["offsite"] for b in flagged.values())
    return Draft("inject.hidden_links", "page", url, 0.9 if any(b["gambling_anchors"] for b in flagged.values()) else 0.75,
                 {"techniques": techniques, "blocks": list(flagged.values())[:20], "operator_domains": hosts,
                  "offsite_links": n_links, "personas_by_technique": personas}, evidence[:10],
                 f"发现 {len(flagged)} 处被隐藏的外链块（{'、'.join(techniques)}），共 {n_links} 个外部链接，指向 {'、'.join(hosts[:8])}。",
                 f"{len(flagged)} hidden link block(s) ({', '.join(techniques)}) with {n_links} external links "
                 f"to {', '.join(hosts[:8])}.")


def detect_fake_error(views: list[PageView]) -> Draft | None:
    url = views[0].url
    fake = [v for v in views if is_fake_error(v)]
    if not fake:
        return None
    others = [v for v in views if v.ok and not is_fake_error(v)]
    # a help page about browser errors is the same for everyone; a fake error page hides content
    # from some visitors, or poses as the browser (title = a host name, as Chromium shows it)
    posing = re.fullmatch(r"[\w.-]+\.[a-z]{2,}(:\d+)?", fake[0].title.strip().lower() or "x") is not None
    if not others and not posing:
        return None
    gambling_for = uniq([v.persona for v in others if v.is_gambling])
    return Draft("cloak.fake_error", "page", url, 0.9 if gambling_for else 0.7, {
        "fake_error_personas": uniq([v.persona for v in fake]), "signatures": fake[0].error_signatures,
        "status": fake[0].status, "content_personas": uniq([v.persona for v in others]),
        "gambling_for": gambling_for}, [fake[0].evidence()] + [v.evidence() for v in others[:2]],
        f"服务器以 HTTP {fake[0].status} 返回伪造的浏览器错误页（{'、'.join(fake[0].error_signatures[:3])}），"
        f"真实的浏览器错误页不会经 HTTP 送达" + (f"；其他身份（{'、'.join(gambling_for)}）看到赌博内容。" if gambling_for else "。"),
        f"The server answers HTTP {fake[0].status} with a fake browser error page "
        f"({', '.join(fake[0].error_signatures[:3])}); a real browser error never comes over HTTP"
        + (f"; other personas ({', '.join(gambling_for)}) get gambling content." if gambling_for else "."))


def detect_cloak_ua(views: list[PageView]) -> Draft | None:
    """按身份伪装: some personas get a gambling page, others another page or status. Views that a
    redirect took to another page are the redirect rules' business, not compared here."""
    url = views[0].url
    static = settled([v for v in views if not v.rendered and v.error is None and v.status is not None
                      and not is_fake_error(v) and not v.offsite_redirect])
    gambling = [v for v in static if v.ok and v.is_gambling]
    clean = [v for v in static if not (v.ok and v.is_gambling)]
    if not gambling or not clean:
        return None
    # a head-only swap is inject.title_spider; cloaking serves a different page or status
    if all(c.ok and any(similar(c.text, g.text) >= 0.6 for g in gambling) for c in clean):
        return None
    statuses = {v.persona: v.status for v in sorted(static, key=lambda v: (v.status == 200, v.persona))}
    return Draft("cloak.ua", "page", url, 0.9, {
        "gambling_personas": [v.persona for v in gambling], "other_personas": [v.persona for v in clean],
        "statuses": statuses, "gambling_title": gambling[0].title, "other_title": clean[0].title},
        [gambling[0].evidence(), clean[0].evidence()],
        f"同一网址对不同访问身份返回不同内容：{'、'.join(v.persona for v in gambling[:4])} 看到赌博页面“{gambling[0].title}”，"
        f"{'、'.join(v.persona for v in clean[:4])} 看到其他内容或状态（{', '.join(f'{k}={s}' for k, s in list(statuses.items())[:6])}）。",
        f"The same URL answers differently by persona: {', '.join(v.persona for v in gambling[:4])} get a gambling page "
        f"('{gambling[0].title}'), {', '.join(v.persona for v in clean[:4])} get other content or status.")


def detect_page(views: list[PageView], classify: Classify | None, landing: Landing | None = None) -> list[Draft]:
    """All per-URL detectors over the views (personas, static and rendered) of one URL;
    ``landing(url)`` gives the views of a redirect's landing page when the scan fetched it."""
    out = [detect_title_spider(views, classify), detect_loader_script(views), detect_referrer_redirect(views, landing),
           detect_hidden_links(views, classify), detect_fake_error(views), detect_cloak_ua(views)]
    return [d for d in out if d is not None]


__all__ = ["RULES", "Draft", "PageView", "ScriptInfo", "analyze_page", "analyze_script", "detect_host",
           "detect_page", "find_hidden_blocks", "hiding_technique", "is_fake_error", "parse_decls"]
