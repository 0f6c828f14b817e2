"""A page as one persona saw it (页面视图), and the helpers the detectors share.

:func:`analyze_page` turns one capture (a persona's view of a URL, static or rendered) into a
:class:`PageView`: decoded title and meta (the *first* of a duplicated head: kits inject theirs
above the site's own), scripts with what they do, links hidden by CSS or script, the visible
text, browser-error signatures and the gambling verdict of the classifier.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from selectolax.lexbor import LexborHTMLParser

from chainbreaker.chains.tech.decode import decode_entities
from chainbreaker.chains.tech.fetch import host_of, safe_join
from chainbreaker.chains.tech.hidden import find_hidden_blocks
from chainbreaker.chains.tech.scripts import ScriptInfo, analyze_script

MAX_PARSE = 2_000_000  # characters of HTML parsed per capture


class Verdict(Protocol):
    score: float
    is_gambling: bool
    reasons: list[dict[str, Any]]


Classify = Callable[[str, str, str], Verdict]


# ------------------------------------------------------------------------------- page views
@dataclass
class PageView:
    url: str
    persona: str
    agent: str
    is_spider: bool
    has_referer: bool
    status: int | None
    final_url: str
    capture_sha256: str = ""
    error: str | None = None
    rendered: bool = False
    redirects: list[dict[str, Any]] = field(default_factory=list)
    offsite_redirect: str | None = None
    title: str = ""
    keywords: str = ""
    description: str = ""
    meta_refresh: str | None = None
    text: str = ""
    scripts: list[ScriptInfo] = field(default_factory=list)
    script_srcs: list[str] = field(default_factory=list)
    iframes: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    hidden_blocks: list[dict[str, Any]] = field(default_factory=list)
    error_signatures: list[str] = field(default_factory=list)
    score: float = 0.0
    is_gambling: bool = False
    reasons: list[dict[str, Any]] = field(default_factory=list)
    # rendered views only
    blocked: list[dict[str, str]] = field(default_factory=list)   # requests to other hosts (blocked)
    written: list[str] = field(default_factory=list)              # document.write arguments
    screenshot_sha256: str = ""
    title_count: int = 0                                          # <title> elements (2+: a duplicated head)
    head_gambling: bool = False                                   # title + keywords + description alone
    body_gambling: bool | None = None                             # the page without its head (when the head or
                                                                  # the page is gambling; else not computed)

    @property
    def head(self) -> str:
        """Title, keywords and description: what a search engine shows for the page."""
        return " ".join(p for p in (self.title, self.keywords, self.description) if p)

    @property
    def host(self) -> str:
        return host_of(self.url)

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    def evidence(self) -> dict[str, Any]:
        ev: dict[str, Any] = {"capture": self.capture_sha256, "url": self.url, "persona": self.persona}
        if self.rendered:
            ev["rendered"] = True
            if self.screenshot_sha256:
                ev["screenshot"] = self.screenshot_sha256
        return ev


ERROR_SIGNATURES = ("ERR_NAME_NOT_RESOLVED", "DNS_PROBE_FINISHED_NXDOMAIN", "ERR_CONNECTION_REFUSED",
                    "ERR_CONNECTION_TIMED_OUT", "ERR_CONNECTION_RESET", "ERR_TIMED_OUT", "ERR_ADDRESS_UNREACHABLE",
                    "无法访问此网站", "无法访问此页面", "服务器 IP 地址", "This site can’t be reached",
                    "This site can't be reached", "main-frame-error", "This webpage is not available",
                    "server IP address could not be found")


def abs_host(url: str, base: str) -> str:
    return host_of(safe_join(base, url))


def _srcs(tree: LexborHTMLParser, selector: str, base: str) -> list[str]:
    return [u for n in tree.css(selector) if (u := safe_join(base, (n.attributes.get("src") or "").strip()))]


# ------------------------------------------------------------------------------ analyze page
def analyze_page(html: str, url: str, persona: Any, *, status: int | None, final_url: str | None = None,
                 classify: Classify | None = None, capture_sha256: str = "", error: str | None = None,
                 rendered: bool = False) -> PageView:
    """Parse one capture and compute everything the detectors compare."""
    view = PageView(url=url, persona=persona.name + ("@render" if rendered else ""), agent=persona.agent,
                    is_spider=persona.is_spider, has_referer=persona.has_referer, status=status,
                    final_url=final_url or url, capture_sha256=capture_sha256, error=error, rendered=rendered)
    if not html:
        return view
    base = view.final_url
    tree = LexborHTMLParser(html[:MAX_PARSE])
    titles = tree.css("title")
    view.title_count = len(titles)
    view.title = " ".join(decode_entities(titles[0].text() if titles else "").split())
    for meta in tree.css("meta")[:100]:
        name = (meta.attributes.get("name") or meta.attributes.get("http-equiv") or "").lower()
        content = decode_entities(meta.attributes.get("content") or "")
        # a duplicated head: the first metas are the injected ones, the ones the search engine reads
        if name == "keywords" and not view.keywords:
            view.keywords = content.strip()
        elif name == "description" and not view.description:
            view.description = content.strip()
        elif name == "refresh" and view.meta_refresh is None:
            m = re.search(r"url\s*=\s*['\"]?([^'\";]+)", content, re.I)
            if m:
                view.meta_refresh = safe_join(base, m.group(1).strip()) or None
    hidden_ids: list[str] = []
    written: list[str] = []
    for node in tree.css("script")[:200]:
        src = node.attributes.get("src")
        if src:
            if safe_join(base, src.strip()):
                view.script_srcs.append(safe_join(base, src.strip()))
            continue
        info = analyze_script((node.text() or "")[:500_000], None, base)
        view.scripts.append(info)
        hidden_ids += info.hides_ids
        written += info.written_html
    view.iframes = _srcs(tree, "iframe[src]", base)[:50]
    view.links = [(u, " ".join((a.text() or "").split())[:80]) for a in tree.css("a[href]")[:2000]
                  if (u := safe_join(base, (a.attributes.get("href") or "").strip()))]
    blocks = find_hidden_blocks(tree, base, hidden_ids, remove=True)
    for fragment in written[:10]:  # HTML a script writes into the page is part of the page
        frag = LexborHTMLParser(fragment)
        blocks += find_hidden_blocks(frag, base, [], source="script")
        view.iframes += _srcs(frag, "iframe[src]", base)
        view.script_srcs += _srcs(frag, "script[src]", base)
    view.hidden_blocks = blocks
    for node in tree.css("script, style, noscript, template"):
        node.decompose()
    body = tree.body
    view.text = " ".join((body.text(separator=" ") if body else "").split())[:200_000]
    probe = html[:200_000]
    view.error_signatures = [s for s in ERROR_SIGNATURES if s in probe]
    if classify is not None and view.status is not None and view.status < 400:
        # the classifier reads title and meta from the HTML itself; the text is what a visitor sees
        try:
            verdict = classify(html[:MAX_PARSE], view.text or view.title, url)
        except Exception as exc:  # noqa: BLE001 - a hostile page must not stop the scan
            view.reasons = [{"feature": "classifier_error", "weight": 0.0, "evidence": f"{type(exc).__name__}: {exc}"[:200]}]
        else:
            view.score = float(verdict.score)
            view.is_gambling = bool(verdict.is_gambling)
            view.reasons = list(verdict.reasons)[:10]
            _judge_head_and_body(view, html, url, classify)
    return view


_HEAD_TAGS = re.compile(r"<title\b[^>]*>.*?</title\s*>|<meta\b[^>]*\bname\s*=\s*['\"]?(?:keywords|description)\b[^>]*>",
                        re.I | re.S)


def _judge_head_and_body(view: PageView, html: str, url: str, classify: Classify) -> None:
    """Is the head gambling on its own, and is the page still gambling without it? A victim with an
    injected head has a gambling head over a non-gambling page; a gambling site is gambling throughout."""
    view.head_gambling = gambling_head(classify, view.title, view.keywords, view.description, url)
    if not (view.head_gambling or view.is_gambling):
        return
    try:
        verdict = classify(_HEAD_TAGS.sub(" ", html[:MAX_PARSE]), view.text, url)
    except Exception:  # noqa: BLE001 - a hostile page must not stop the scan
        return
    view.body_gambling = bool(verdict.is_gambling)


# ----------------------------------------------------------------------------------- findings
@dataclass
class Draft:
    """A finding before it gets its run id (see :class:`chainbreaker.core.model.finding.Finding`)."""

    rule_id: str
    subject_type: str
    subject_key: str
    score: float
    facts: dict[str, Any]
    evidence: list[dict[str, Any]]
    explanation_zh: str
    explanation_en: str


def similar(a: str, b: str) -> float:
    """Jaccard similarity of character trigrams (first 5,000 characters)."""
    sa = {a[i:i + 3] for i in range(min(len(a), 5000) - 2)}
    sb = {b[i:i + 3] for i in range(min(len(b), 5000) - 2)}
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / max(len(sa | sb), 1)


_TEXT_VERDICTS: dict[tuple[int, str], bool] = {}


def gambling_text(classify: Classify | None, text: str, url: str) -> bool:
    """Gambling verdict on a short text (title, anchors); memoised, these repeat across personas."""
    if classify is None or not text.strip():
        return False
    key = (id(classify), text[:5000])
    if key not in _TEXT_VERDICTS:
        if len(_TEXT_VERDICTS) > 20000:
            _TEXT_VERDICTS.clear()
        _TEXT_VERDICTS[key] = bool(classify("", text, url).is_gambling)
    return _TEXT_VERDICTS[key]


def gambling_head(classify: Classify | None, title: str, keywords: str = "", description: str = "",
                  url: str = "") -> bool:
    """Gambling verdict on a head alone (the title read as a title, so the official-title rule applies)."""
    import html as _html

    if classify is None or not (title or keywords or description).strip():
        return False
    doc = (f"<html><head><title>{_html.escape(title)}</title><meta name=\"keywords\" content=\"{_html.escape(keywords)}\">"
           f"<meta name=\"description\" content=\"{_html.escape(description)}\"></head><body></body></html>")
    key = (id(classify), "head:" + doc[:5000])
    if key not in _TEXT_VERDICTS:
        if len(_TEXT_VERDICTS) > 20000:
            _TEXT_VERDICTS.clear()
        _TEXT_VERDICTS[key] = bool(classify(doc, "", url).is_gambling)
    return _TEXT_VERDICTS[key]


def uniq(items: list[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


def domains(urls: list[str]) -> list[str]:
    return sorted({h for h in (host_of(u) for u in urls) if h})


def settled(views: list[PageView]) -> list[PageView]:
    """The views that ended on the page most of them ended on (a redirect of some personas to
    another page of the site is a redirect, not another version of this page)."""
    if not views:
        return views
    counts: dict[str, int] = {}
    for v in views:
        counts[v.final_url] = counts.get(v.final_url, 0) + 1
    main = max(counts, key=lambda u: (counts[u], u == views[0].url))
    return [v for v in views if v.final_url == main]


def is_fake_error(v: PageView) -> bool:
    return v.ok and len(v.error_signatures) >= 2 and len(v.text) < 3000


__all__ = ["ERROR_SIGNATURES", "MAX_PARSE", "Classify", "Draft", "PageView", "Verdict", "abs_host", "analyze_page",
           "domains", "gambling_head", "gambling_text", "is_fake_error", "settled", "similar", "uniq"]
