"""Detectors of injection and cloaking techniques (暗链、劫持、黑帽 SEO 检测).

Two steps. :func:`analyze_page` turns one capture (a persona's view of a URL, static or rendered)
into a :class:`PageView`: decoded title and meta, scripts with their decoded text and what they
do, links hidden by CSS or script, the visible text, browser-error signatures, and the gambling
verdict of the classifier. The detectors then compare the views of one URL across personas (and
the pages of one host) and emit findings under the rule ids of the technique table:

``inject.title_spider``, ``inject.loader_script``, ``inject.referrer_redirect``,
``inject.hidden_links``, ``cloak.ua``, ``inject.parasite``, ``cloak.fake_error``, ``gambling.site``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

from chainbreaker.tech.decode import decode_entities, decode_text

RULES = ("inject.title_spider", "inject.loader_script", "inject.referrer_redirect", "inject.hidden_links",
         "cloak.ua", "inject.parasite", "cloak.fake_error", "gambling.site")
MAX_PARSE = 2_000_000  # characters of HTML parsed per capture


class Verdict(Protocol):
    score: float
    is_gambling: bool
    reasons: list[dict[str, Any]]


Classify = Callable[[str, str, str], Verdict]


# ------------------------------------------------------------------------------- page views
@dataclass
class ScriptInfo:
    src: str | None
    layers: list[str]
    obfuscated: bool
    writes: bool                     # document.write / createElement / innerHTML / appendChild
    remote_urls: list[str]           # absolute URLs on other hosts named by the (decoded) script
    ua_spider_check: bool            # compares navigator.userAgent with spider names
    referrer_check: bool             # compares document.referrer with search engines
    redirect_targets: list[str]      # location.href / replace / window.open / top.location targets
    title_set: str | None            # document.title = '...'
    hides_ids: list[str]             # ids of blocks the script hides
    written_html: list[str]          # HTML strings the script writes
    strings: list[str]               # decoded string literals (for the finding facts)


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

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc.lower()

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


_URL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?::\d+)?(?:/[^\s'\"<>)\\]*)?")
_WRITES = re.compile(r"document\s*(?:\.\s*|\[\s*['\"])(?:write|writeln)|createElement\s*\(\s*['\"](?:script|iframe)"
                     r"|innerHTML|insertAdjacentHTML|appendChild|\.src\s*=", re.I)
_SPIDER_CHECK = re.compile(r"baiduspider|sogou|360spider|googlebot|spider|bot", re.I)
_SEARCH_CHECK = re.compile(r"baidu|sogou|so\.com|sm\.cn|google|bing|360", re.I)
_REDIRECT = re.compile(r"(?:location(?:\.href)?\s*=|location\.(?:replace|assign)\s*\(|window\.open\s*\(|"
                       r"top\.location)\s*['\"]?\s*\(?\s*['\"]([^'\"]+)['\"]", re.I)
_TITLE_SET = re.compile(r"document\.title\s*=\s*(['\"])((?:[^'\"\\]|\\.)*)\1")
_HIDE = re.compile(r"getElementById\(\s*['\"]([\w-]+)['\"]\s*\)\.style\.(?:display\s*=\s*['\"]none|"
                   r"visibility\s*=\s*['\"]hidden)|\$\(\s*['\"]#([\w-]+)['\"]\s*\)\.hide\(\)")
_WRITE_ARG = re.compile(r"document\s*(?:\.\s*|\[\s*['\"])write(?:ln)?(?:['\"]\s*\])?\s*\(\s*'((?:[^'\\]|\\.)*)'", re.I)

ERROR_SIGNATURES = ("ERR_NAME_NOT_RESOLVED", "DNS_PROBE_FINISHED_NXDOMAIN", "ERR_CONNECTION_REFUSED",
                    "ERR_CONNECTION_TIMED_OUT", "ERR_CONNECTION_RESET", "ERR_TIMED_OUT", "ERR_ADDRESS_UNREACHABLE",
                    "无法访问此网站", "无法访问此页面", "服务器 IP 地址", "This site can’t be reached",
                    "This site can't be reached", "main-frame-error", "This webpage is not available",
                    "server IP address could not be found")


def _abs_host(url: str, base: str) -> str:
    return urlsplit(urljoin(base, url)).netloc.lower()


def _offsite_urls(text: str, base: str) -> list[str]:
    host = urlsplit(base).netloc.lower()
    out: list[str] = []
    for m in _URL.finditer(text):
        u = m.group(0)
        full = urljoin(base, u)
        h = urlsplit(full).netloc.lower()
        if h and h != host and full not in out and "w3.org" not in h:
            out.append(full)
    return out[:50]


def analyze_script(code: str, src: str | None, base: str) -> ScriptInfo:
    dec = decode_text(code) if code else None
    text = dec.text if dec else ""
    written = [decode_entities(m.group(1).replace("\\'", "'")) for m in _WRITE_ARG.finditer(text)]
    written += [s for s in (dec.strings if dec else []) if "<" in s and ("src" in s or "href" in s)]
    redirects = [urljoin(base, m.group(1)) for m in _REDIRECT.finditer(text)]
    hides = [a or b for a, b in _HIDE.findall(text)]
    title = _TITLE_SET.search(text)
    return ScriptInfo(
        src=src,
        layers=dec.layers if dec else [],
        obfuscated=bool(dec and dec.obfuscated),
        writes=bool(_WRITES.search(text)),
        remote_urls=_offsite_urls(text, base),
        ua_spider_check="userAgent" in text and bool(_SPIDER_CHECK.search(text)),
        referrer_check="referrer" in text and bool(_SEARCH_CHECK.search(text)),
        redirect_targets=list(dict.fromkeys(redirects))[:10],
        title_set=decode_entities(title.group(2)) if title else None,
        hides_ids=hides,
        written_html=list(dict.fromkeys(written))[:20],
        strings=(dec.strings[:20] if dec else []),
    )


# ------------------------------------------------------------------------------ hidden CSS
_CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_PX = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(px|em|rem|pt|%)?\s*(?:!important)?\s*$")
_NAMED = {"white": "#ffffff", "black": "#000000", "red": "#ff0000", "#fff": "#ffffff", "#000": "#000000"}
STRONG_TECHNIQUES = {"offscreen", "text_indent", "zero_size", "font_size_0", "same_color", "overflow_1px", "marquee",
                     "js_hide", "opacity_0"}


def parse_decls(style: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in style.split(";"):
        if ":" in part:
            k, v = part.split(":", 1)
            out[k.strip().lower()] = v.strip().lower().replace("!important", "").strip()
    return out


def _px(value: str | None) -> float | None:
    if value is None:
        return None
    m = _PX.match(value)
    if not m:
        return None
    num = float(m.group(1))
    unit = m.group(2) or "px"
    return num * 16 if unit in ("em", "rem") else num if unit != "%" else None


def _colour(value: str | None) -> str | None:
    if not value:
        return None
    v = value.split()[0] if value.split() else value
    v = _NAMED.get(v, v)
    if re.fullmatch(r"#[0-9a-f]{3}", v):
        v = "#" + "".join(c * 2 for c in v[1:])
    return v


def hiding_technique(decls: dict[str, str], tag: str = "", attrs: dict[str, str | None] | None = None) -> str | None:
    """The CSS technique that makes an element invisible, or None."""
    attrs = attrs or {}
    if tag == "marquee":
        h, w = _px(attrs.get("height") or decls.get("height")), _px(attrs.get("width") or decls.get("width"))
        amount = _px(attrs.get("scrollamount")) or 0
        if (h is not None and h <= 5) or (w is not None and w <= 5) or amount >= 200:
            return "marquee"
    if "hidden" in attrs or decls.get("display") == "none":
        return "display_none"
    if decls.get("visibility") in ("hidden", "collapse"):
        return "visibility_hidden"
    if _px(decls.get("opacity")) == 0:
        return "opacity_0"
    if _px(decls.get("font-size")) == 0:
        return "font_size_0"
    if decls.get("position") in ("absolute", "fixed") and any(
            (_px(decls.get(side)) or 0) <= -500 for side in ("left", "top", "right", "bottom")):
        return "offscreen"
    if (_px(decls.get("text-indent")) or 0) <= -500:
        return "text_indent"
    overflow = decls.get("overflow", "") == "hidden"
    w, h = _px(decls.get("width")), _px(decls.get("height"))
    if overflow and (w == 0 or h == 0):
        return "zero_size"
    if overflow and ((w is not None and w <= 1) or (h is not None and h <= 1)):
        return "overflow_1px"
    fg = _colour(decls.get("color"))
    bg = _colour(decls.get("background-color") or decls.get("background"))
    if fg and bg and fg == bg:
        return "same_color"
    return None


def _css_rules(tree: LexborHTMLParser) -> list[tuple[str, dict[str, str]]]:
    rules: list[tuple[str, dict[str, str]]] = []
    for node in tree.css("style")[:50]:
        css = re.sub(r"/\*.*?\*/", "", node.text() or "", flags=re.S)[:200_000]
        for sel_text, body in _CSS_RULE.findall(css):
            decls = parse_decls(body)
            if hiding_technique(decls) is None:
                continue
            for sel in sel_text.split(","):
                sel = sel.strip()
                if re.fullmatch(r"[\w-]*[.#][\w-]+", sel):
                    rules.append((sel, decls))
    return rules


def find_hidden_blocks(tree: LexborHTMLParser, base: str, hidden_ids: list[str], *, source: str = "html",
                       remove: bool = False) -> list[dict[str, Any]]:
    """Blocks hidden by CSS (inline, <style> rules, marquee) or by script, with the links inside."""
    candidates: list[tuple[Any, str]] = []
    for node in tree.css("[style], marquee, [hidden]")[:5000]:
        tech = hiding_technique(parse_decls(node.attributes.get("style") or ""), node.tag or "", node.attributes)
        if tech:
            candidates.append((node, tech))
    for sel, decls in _css_rules(tree):
        tech = hiding_technique(decls)
        for node in tree.css(sel)[:500]:
            candidates.append((node, tech or "css"))
    for ident in hidden_ids:
        target = tree.css_first(f"#{ident}") if re.fullmatch(r"[\w-]+", ident) else None
        if target is not None:
            candidates.append((target, "js_hide"))
    host = urlsplit(base).netloc.lower()
    blocks: list[dict[str, Any]] = []
    for node, tech in candidates:
        links = []
        seen: set[tuple[str, str]] = set()
        for a in node.css("a[href]")[:200]:
            href = urljoin(base, (a.attributes.get("href") or "").strip())
            text = " ".join((a.text() or "").split())[:80]
            if (href, text) in seen:
                continue
            seen.add((href, text))
            links.append({"href": href, "text": text, "host": urlsplit(href).netloc.lower()})
        if not links:
            continue
        offsite = [ln for ln in links if ln["host"] and ln["host"] != host and ln["href"].startswith("http")]
        blocks.append({"technique": tech, "source": source, "links": links, "offsite": len(offsite),
                       "hosts": sorted({ln["host"] for ln in offsite})})
    if remove:
        for node, _tech in candidates:
            node.decompose()
    return blocks


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
    title = tree.css_first("title")
    view.title = " ".join(decode_entities(title.text() if title else "").split())
    for meta in tree.css("meta")[:100]:
        name = (meta.attributes.get("name") or meta.attributes.get("http-equiv") or "").lower()
        content = decode_entities(meta.attributes.get("content") or "")
        if name == "keywords":
            view.keywords = content.strip()
        elif name == "description":
            view.description = content.strip()
        elif name == "refresh":
            m = re.search(r"url\s*=\s*['\"]?([^'\";]+)", content, re.I)
            if m:
                view.meta_refresh = urljoin(base, m.group(1).strip())
    hidden_ids: list[str] = []
    written: list[str] = []
    for node in tree.css("script")[:200]:
        src = node.attributes.get("src")
        if src:
            view.script_srcs.append(urljoin(base, src.strip()))
            continue
        info = analyze_script((node.text() or "")[:500_000], None, base)
        view.scripts.append(info)
        hidden_ids += info.hides_ids
        written += info.written_html
    view.iframes = [urljoin(base, (n.attributes.get("src") or "").strip()) for n in tree.css("iframe[src]")[:50]]
    view.links = [(urljoin(base, (a.attributes.get("href") or "").strip()), " ".join((a.text() or "").split())[:80])
                  for a in tree.css("a[href]")[:2000]]
    blocks = find_hidden_blocks(tree, base, hidden_ids, remove=True)
    for fragment in written[:10]:  # HTML a script writes into the page is part of the page
        frag = LexborHTMLParser(fragment)
        blocks += find_hidden_blocks(frag, base, [], source="script")
        view.iframes += [urljoin(base, (n.attributes.get("src") or "").strip()) for n in frag.css("iframe[src]")]
        view.script_srcs += [urljoin(base, (n.attributes.get("src") or "").strip()) for n in frag.css("script[src]")]
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
    return view


# ----------------------------------------------------------------------------------- findings
@dataclass
class Draft:
    """A finding before it gets its run id (see :class:`chainbreaker.model.finding.Finding`)."""

    rule_id: str
    subject_type: str
    subject_key: str
    score: float
    facts: dict[str, Any]
    evidence: list[dict[str, Any]]
    explanation_zh: str
    explanation_en: str


def _similar(a: str, b: str) -> float:
    """Jaccard similarity of character trigrams (first 5,000 characters)."""
    sa = {a[i:i + 3] for i in range(min(len(a), 5000) - 2)}
    sb = {b[i:i + 3] for i in range(min(len(b), 5000) - 2)}
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / max(len(sa | sb), 1)


_TEXT_VERDICTS: dict[tuple[int, str], bool] = {}


def _gambling_text(classify: Classify | None, text: str, url: str) -> bool:
    """Gambling verdict on a short text (title, anchors); memoised, these repeat across personas."""
    if classify is None or not text.strip():
        return False
    key = (id(classify), text[:5000])
    if key not in _TEXT_VERDICTS:
        if len(_TEXT_VERDICTS) > 20000:
            _TEXT_VERDICTS.clear()
        _TEXT_VERDICTS[key] = bool(classify("", text, url).is_gambling)
    return _TEXT_VERDICTS[key]


def _uniq(items: list[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


def _domains(urls: list[str]) -> list[str]:
    return sorted({urlsplit(u).netloc.lower() for u in urls if urlsplit(u).netloc})


def detect_title_spider(views: list[PageView], classify: Classify | None) -> Draft | None:
    static = [v for v in views if v.ok and not v.rendered and not v.has_referer]
    spiders = [v for v in static if v.is_spider]
    people = [v for v in static if not v.is_spider]
    url = views[0].url
    # (a) the server swaps title / keywords / description for spiders, the body stays the same
    for sp in spiders:
        for pv in people:
            head_sp = f"{sp.title} {sp.keywords} {sp.description}"
            head_pv = f"{pv.title} {pv.keywords} {pv.description}"
            if head_sp == head_pv or _similar(sp.text, pv.text) < 0.6:
                continue
            if _gambling_text(classify, head_sp, url) and not _gambling_text(classify, head_pv, url):
                seen_by = _uniq([v.persona for v in spiders if v.title == sp.title])
                return Draft("inject.title_spider", "page", url, 0.9, {
                    "spider_title": sp.title, "spider_keywords": sp.keywords, "spider_description": sp.description,
                    "visitor_title": pv.title, "spider_personas": seen_by, "visitor_persona": pv.persona,
                    "mode": "server_swap"}, [sp.evidence(), pv.evidence()],
                    f"蜘蛛（{'、'.join(seen_by)}）看到的标题为“{sp.title}”，普通访客看到“{pv.title}”：标题/关键词被替换为赌博内容，只展示给搜索引擎。",
                    f"Spiders ({', '.join(seen_by)}) get the title '{sp.title}', visitors get '{pv.title}': "
                    "title/keywords swapped to gambling for search engines only.")
    # (b) the HTML carries a gambling title and a script puts the real one back for people
    for v in static:
        for sc in v.scripts:
            if sc.title_set is None or not sc.ua_spider_check or sc.title_set == v.title:
                continue
            if _gambling_text(classify, f"{v.title} {v.keywords}", url) and not _gambling_text(classify, sc.title_set, url):
                rendered = [r for r in views if r.rendered and r.ok and not r.is_spider]
                facts = {"html_title": v.title, "script_title": sc.title_set, "keywords": v.keywords,
                         "decode_layers": sc.layers, "decoded_strings": sc.strings[:10], "mode": "script_restore"}
                if rendered:
                    facts["rendered_title"] = rendered[0].title
                return Draft("inject.title_spider", "page", url, 0.9, facts,
                             [v.evidence()] + [r.evidence() for r in rendered[:1]],
                             f"网页源码中的标题是赌博内容“{v.title}”，但脚本在访客不是搜索引擎蜘蛛时把标题改回“{sc.title_set}”，站长看不到。",
                             f"The HTML title is gambling ('{v.title}'); a script restores '{sc.title_set}' unless "
                             "the visitor is a spider, so the owner never sees it.")
    return None


def detect_loader_script(views: list[PageView]) -> Draft | None:
    url = views[0].url
    for v in views:
        for sc in v.scripts:
            if not sc.obfuscated or not sc.writes or sc.referrer_check:
                continue
            remote = [u for u in sc.remote_urls if not re.search(r"\.(?:png|jpe?g|gif|css)(?:\?|$)", u)]
            if not remote:
                continue
            domains = _domains(remote)
            return Draft("inject.loader_script", "page", url, 0.85, {
                "decode_layers": sc.layers, "remote_urls": remote[:10], "operator_domains": domains,
                "decoded_strings": sc.strings[:10], "written_html": sc.written_html[:5], "persona": v.persona,
                "script_src": sc.src},
                [v.evidence()],
                f"混淆脚本（{'→'.join(sc.layers)}）解码后向页面写入外部脚本/框架：{'、'.join(domains)}。",
                f"An obfuscated script ({' -> '.join(sc.layers)}) decodes to code that loads a remote "
                f"script/iframe from {', '.join(domains)}.")
    for v in views:  # rendered: the page tried to load scripts/frames from hosts the HTML never names
        named = set(_domains(v.script_srcs + v.iframes))
        loads = [b["url"] for b in v.blocked if b.get("type") in ("script", "sub_frame", "iframe")
                 and urlsplit(b["url"]).netloc.lower() not in named]
        if v.rendered and loads and any(sc.obfuscated for sc in v.scripts):
            domains = _domains(loads)
            return Draft("inject.loader_script", "page", url, 0.8, {
                "blocked_loads": loads[:10], "operator_domains": domains, "persona": v.persona}, [v.evidence()],
                f"浏览器渲染时，混淆脚本试图加载外部脚本/框架（已拦截）：{'、'.join(domains)}。",
                f"When rendered, an obfuscated script tried to load remote code (blocked): {', '.join(domains)}.")
    return None


def detect_referrer_redirect(views: list[PageView]) -> Draft | None:
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
        elif ref.meta_refresh and not plain.meta_refresh and _abs_host(ref.meta_refresh, url) != ref.host:
            how, target = "meta_refresh", ref.meta_refresh
        elif rendered:
            nav_ref = [b["url"] for b in ref.blocked if b.get("type") in ("document", "sub_frame")]
            nav_plain = [b["url"] for b in plain.blocked if b.get("type") in ("document", "sub_frame")]
            if nav_ref and not nav_plain:
                how, target = "rendered_navigation", nav_ref[0]
        if how and target:
            return Draft("inject.referrer_redirect", "page", url, 0.9, {
                "how": how, "target": target, "operator_domains": _domains([target]), "agent": agent,
                "persona_with_referer": ref.persona, "persona_without_referer": plain.persona},
                [ref.evidence(), plain.evidence()],
                f"从搜索引擎点进来的访客被跳转到 {target}（方式：{how}），直接访问则不跳转。",
                f"Visitors arriving from a search engine are sent to {target} ({how}); direct visitors are not.")
    for v in views:  # the script itself says so: checks document.referrer, then redirects or overlays
        for sc in v.scripts:
            if not sc.referrer_check:
                continue
            overlay = [u for u in sc.remote_urls if "<iframe" in " ".join(sc.written_html)]
            targets = [u for u in sc.redirect_targets if _abs_host(u, url) != v.host] or overlay
            if targets:
                how = "script_overlay_iframe" if overlay and not sc.redirect_targets else "script_redirect"
                return Draft("inject.referrer_redirect", "page", url, 0.85, {
                    "how": how, "target": targets[0], "operator_domains": _domains(targets),
                    "decode_layers": sc.layers, "decoded_strings": sc.strings[:10], "persona": v.persona},
                    [v.evidence()],
                    f"脚本（解码层：{'→'.join(sc.layers) or '无'}）检查来源是否为搜索引擎，是则跳转/覆盖到 {targets[0]}。",
                    f"A script (layers: {' -> '.join(sc.layers) or 'none'}) checks whether the visitor comes "
                    f"from a search engine and then redirects/overlays {targets[0]}.")
    return None


def detect_hidden_links(views: list[PageView], classify: Classify | None) -> Draft | None:
    url = views[0].url
    flagged: dict[tuple[str, str], dict[str, Any]] = {}
    personas: dict[str, list[str]] = {}
    evidence: list[dict[str, Any]] = []
    for v in views:
        for block in v.hidden_blocks:
            if block["offsite"] == 0:
                continue
            anchors = " ".join(ln["text"] for ln in block["links"])
            gambling = _gambling_text(classify, anchors, url)
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
    domains = sorted({h for b in flagged.values() for h in b["hosts"]})
    n_links = sum(b["offsite"] for b in flagged.values())
    return Draft("inject.hidden_links", "page", url, 0.9 if any(b["gambling_anchors"] for b in flagged.values()) else 0.75,
                 {"techniques": techniques, "blocks": list(flagged.values())[:20], "operator_domains": domains,
                  "offsite_links": n_links, "personas_by_technique": personas}, evidence[:10],
                 f"发现 {len(flagged)} 处被隐藏的外链块（{'、'.join(techniques)}），共 {n_links} 个外部链接，指向 {'、'.join(domains[:8])}。",
                 f"{len(flagged)} hidden link block(s) ({', '.join(techniques)}) with {n_links} external links "
                 f"to {', '.join(domains[:8])}.")


def is_fake_error(v: PageView) -> bool:
    return v.ok and len(v.error_signatures) >= 2 and len(v.text) < 3000


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
    gambling_for = _uniq([v.persona for v in others if v.is_gambling])
    return Draft("cloak.fake_error", "page", url, 0.9 if gambling_for else 0.7, {
        "fake_error_personas": _uniq([v.persona for v in fake]), "signatures": fake[0].error_signatures,
        "status": fake[0].status, "content_personas": _uniq([v.persona for v in others]),
        "gambling_for": gambling_for}, [fake[0].evidence()] + [v.evidence() for v in others[:2]],
        f"服务器以 HTTP {fake[0].status} 返回伪造的浏览器错误页（{'、'.join(fake[0].error_signatures[:3])}），"
        f"真实的浏览器错误页不会经 HTTP 送达" + (f"；其他身份（{'、'.join(gambling_for)}）看到赌博内容。" if gambling_for else "。"),
        f"The server answers HTTP {fake[0].status} with a fake browser error page "
        f"({', '.join(fake[0].error_signatures[:3])}); a real browser error never comes over HTTP"
        + (f"; other personas ({', '.join(gambling_for)}) get gambling content." if gambling_for else "."))


def detect_cloak_ua(views: list[PageView]) -> Draft | None:
    url = views[0].url
    static = [v for v in views if not v.rendered and v.error is None and v.status is not None
              and not is_fake_error(v) and not v.offsite_redirect]
    gambling = [v for v in static if v.ok and v.is_gambling]
    clean = [v for v in static if not (v.ok and v.is_gambling)]
    if not gambling or not clean:
        return None
    # a head-only swap is inject.title_spider; cloaking serves a different page or status
    if all(c.ok and any(_similar(c.text, g.text) >= 0.6 for g in gambling) for c in clean):
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


def detect_page(views: list[PageView], classify: Classify | None) -> list[Draft]:
    """All per-URL detectors over the views (personas, static and rendered) of one URL."""
    out = [detect_title_spider(views, classify), detect_loader_script(views), detect_referrer_redirect(views),
           detect_hidden_links(views, classify), detect_fake_error(views), detect_cloak_ua(views)]
    return [d for d in out if d is not None]


def _root_of(url: str) -> str:
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}/"


def detect_host(pages: dict[str, list[PageView]], page_drafts: dict[str, list[Draft]]) -> list[Draft]:
    """Host-level rules: ``gambling.site`` (the site itself) and ``inject.parasite`` (doorway pages)."""
    out: list[Draft] = []
    by_host: dict[str, dict[str, list[PageView]]] = {}
    for url, views in pages.items():
        by_host.setdefault(urlsplit(url).netloc.lower(), {})[url] = views
    for host, urls in by_host.items():
        root = next((u for u in urls if urlsplit(u).path in ("", "/") and not urlsplit(u).query), None)
        root_views = [v for v in urls.get(root, []) if v.ok and not v.rendered] if root else []
        visitors = [v for v in root_views if not v.is_spider and not v.has_referer and not is_fake_error(v)]
        root_gambling = bool(visitors) and all(v.is_gambling for v in visitors)
        # an injected head or hidden link block makes a victim look like a gambling site; it is not one
        if root and any(d.rule_id in ("inject.title_spider", "inject.hidden_links") for d in page_drafts.get(root, [])):
            root_gambling = False
        if root_gambling and root is not None:
            best = max(visitors, key=lambda v: v.score)
            out.append(Draft("gambling.site", "site", host, round(max(best.score, 0.5), 3), {
                "url": root, "title": best.title, "score": best.score, "reasons": best.reasons[:8],
                "personas": [v.persona for v in visitors]}, [v.evidence() for v in visitors[:3]],
                f"网站首页对普通访客即为赌博网站：“{best.title}”（分类得分 {best.score:.2f}）。",
                f"The site's home page is a gambling site for ordinary visitors: '{best.title}' (score {best.score:.2f})."))
            continue
        if not root_views:
            continue
        for url, views in urls.items():
            if url == root:
                continue
            hits = [v for v in views if v.ok and not v.rendered and v.is_gambling and not is_fake_error(v)]
            # cloaking and head swaps on every path are their own findings; a doorway differs from its host
            explained = {"cloak.fake_error", "cloak.ua", "inject.title_spider"}
            if not hits or any(d.rule_id in explained for d in page_drafts.get(url, [])):
                continue
            if any(_similar(hits[0].text, r.text) >= 0.6 for r in root_views):
                continue
            out.append(Draft("inject.parasite", "page", url, 0.85, {
                "doorway_url": url, "doorway_title": hits[0].title, "host_title": root_views[0].title,
                "personas": [v.persona for v in hits], "score": hits[0].score, "reasons": hits[0].reasons[:5]},
                [hits[0].evidence(), root_views[0].evidence()],
                f"寄生页面：{url} 的主题是赌博（“{hits[0].title}”），与网站本身（“{root_views[0].title}”）无关。",
                f"Doorway page: {url} is about gambling ('{hits[0].title}'), unlike its host ('{root_views[0].title}')."))
    return out


__all__ = ["RULES", "Draft", "PageView", "ScriptInfo", "analyze_page", "analyze_script", "detect_host",
           "detect_page", "find_hidden_blocks", "hiding_technique", "is_fake_error", "parse_decls"]
