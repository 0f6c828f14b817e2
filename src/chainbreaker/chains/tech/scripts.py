"""What a page script does, read from its decoded and normalised text (脚本行为分析).

:func:`analyze_script` decodes a script (:mod:`chainbreaker.chains.tech.decode`; member access is then
in dot form whatever spelling the kit used) and records what the detectors compare:

* the HTML it writes through any sink (``document.write``, ``innerHTML``, ``insertAdjacentHTML``,
  jQuery ``.html()/.append()``) and the remote ``<script>``/``<iframe>`` sources in that HTML;
* which search engines it tests ``navigator.userAgent`` and ``document.referrer`` against —
  crawler tokens (``spider``, ``bot``) and engine names alike (``indexOf("baidu")``,
  ``/sogou|360|sm|toutiao/i``, ``navigator.userAgent.toLowerCase().match(...)``);
* where it sends the visitor (``location``, ``window.open``, a meta refresh it writes or builds),
  the ``document.title`` it sets, the blocks it hides.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from chainbreaker.chains.tech.decode import MAX_INPUT, Decoded, decode_entities, decode_text
from chainbreaker.chains.tech.fetch import host_of, safe_join
from chainbreaker.chains.tech.jsnorm import scan_literals
from chainbreaker.chains.tech.strarray import js_string_value

INFRASTRUCTURE_PATH = Path(__file__).with_name("infrastructure.yaml")
MAX_ENGINE_TESTS = 200  # operands naming an engine that are attributed per script (bounded time)

# Names kits test the user agent or the referrer against (lower case tokens of their patterns).
SEARCH_ENGINE_TOKENS = frozenset({
    "baidu", "baiduspider", "baiduboxapp", "sogou", "sogouspider", "soso", "sosospider", "360", "360spider",
    "360so", "haosou", "so", "sm", "shenma", "yisou", "yisouspider", "toutiao", "bytespider", "bytedance",
    "google", "googlebot", "bing", "bingbot", "msnbot", "yahoo", "slurp", "youdao", "yandex", "yandexbot",
    "spider", "bot", "crawler", "crawl", "118114", "biso", "gougou", "jike", "petalbot", "duckduckbot",
})


@dataclass
class ScriptInfo:
    src: str | None
    layers: list[str]
    obfuscated: bool
    writes: bool                     # document.write / createElement / innerHTML / appendChild
    remote_urls: list[str]           # absolute URLs on other hosts named by the (decoded) script
    ua_spider_check: bool            # tests navigator.userAgent against crawler or search-engine names
    referrer_check: bool             # tests document.referrer against search-engine names
    redirect_targets: list[str]      # location / window.open / written or built meta refresh targets
    title_set: str | None            # document.title = '...'
    hides_ids: list[str]             # ids of blocks the script hides
    written_html: list[str]          # HTML strings the script writes
    strings: list[str]               # decoded string literals (for the finding facts)
    writes_html: bool = False        # a sink that parses HTML
    html_loads: list[str] = field(default_factory=list)       # <script>/<iframe> src in written HTML
    html_frames: list[str] = field(default_factory=list)      # the <iframe>/<frame> ones among them
    dom_loads: list[str] = field(default_factory=list)        # src of script/iframe elements it creates
    ua_engines: list[str] = field(default_factory=list)       # names tested against the user agent
    referrer_engines: list[str] = field(default_factory=list)  # names tested against the referrer


_URL = re.compile(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?::\d+)?(?:/[^\s'\"<>)\\]*)?")
_WRITES = re.compile(r"document\s*\.\s*(?:write|writeln)|createElement\s*\(\s*['\"](?:script|iframe)"
                     r"|innerHTML|insertAdjacentHTML|appendChild|\.src\s*=", re.I)
_HTML_SINK = re.compile(r"\.\s*write(?:ln)?\s*\(|(?:inner|outer)HTML\s*\+?=|insertAdjacentHTML\s*\(|"
                        r"createContextualFragment\s*\(|(?:\$|jQuery)\s*\([^()]*\)\s*\.\s*(?:html|append|prepend|after|"
                        r"before|replaceWith)\s*\(")
_REDIRECT = re.compile(r"(?:location(?:\.href)?\s*=|location\.(?:replace|assign)\s*\(|window\.open\s*\(|"
                       r"top\.location)\s*['\"]?\s*\(?\s*['\"]([^'\"]+)['\"]", re.I)
_TITLE_SET = re.compile(r"document\.title\s*=\s*(['\"])((?:(?!\1)[^\\]|\\.)*)\1")
_HIDE = re.compile(r"getElementById\(\s*['\"]([\w-]+)['\"]\s*\)\.style\.(?:display\s*=\s*['\"]none|"
                   r"visibility\s*=\s*['\"]hidden)|\$\(\s*['\"]#([\w-]+)['\"]\s*\)\.hide\(\)")
_TAG_SRC = re.compile(r"<\s*(script|iframe|frame|embed)\b[^>]*?\bsrc\s*=\s*\\?['\"]?\s*([^'\"\s>\\]+)", re.I)
_META_REFRESH = re.compile(r"<\s*meta\b[^>]*http-equiv\s*=\s*\\?['\"]?refresh[^>]*?content\s*=\s*\\?['\"]?\s*\d*\s*;?\s*"
                           r"url\s*=\s*['\"]?([^'\"\s>\\]+)", re.I)
_BUILT_META = re.compile(r"httpEquiv\s*=\s*['\"]refresh['\"]", re.I)
_CONTENT_URL = re.compile(r"\.content\s*=\s*['\"]\s*\d*\s*;?\s*url\s*=\s*([^'\"\s]+)['\"]", re.I)
_HOSTLIKE = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?::\d+)?/", re.I)
_FILE_SUFFIX = re.compile(r"\.(?:js|html?|php|aspx?|jsp|css|json|txt|png|gif|jpe?g)/?$", re.I)
_CREATES_LOADER = re.compile(r"createElement\s*\(\s*['\"](?:script|iframe)['\"]", re.I)
_SRC_SET = re.compile(r"\.src\s*=\s*['\"]([^'\"]+)['\"]|setAttribute\s*\(\s*['\"]src['\"]\s*,\s*['\"]([^'\"]+)['\"]")
_UA_REF = re.compile(r"userAgent")
_REFERRER_REF = re.compile(r"referrer")
_TEST_CALL = re.compile(r"\.\s*(?:indexOf|includes|search|match|test|startsWith|endsWith|exec)\s*\(\s*|"
                        r"RegExp\s*\(\s*")


def _offsite_urls(text: str, base: str) -> list[str]:
    host = host_of(base)
    out: list[str] = []
    for m in _URL.finditer(text):
        full = safe_join(base, m.group(0))
        h = host_of(full)
        if h and h != host and full not in out and "w3.org" not in h:
            out.append(full)
    return out[:50]


def _tag_url(value: str, base: str) -> str:
    """A ``src`` from written HTML; a value whose protocol was a variable (``src='"+p+"evil.cn/x.js'``)
    starts with a host name, so it is read as protocol-relative."""
    value = value.strip()
    if not value.lower().startswith(("http:", "https:", "//", "/", ".", "#", "data:", "javascript:")):
        head = _HOSTLIKE.match(value)
        if head and not _FILE_SUFFIX.search(head.group(0)):
            value = "//" + value
    return safe_join(base, value)


_AFTER_TEST = re.compile(r"\s*\)?\s*\.\s*(?:test|exec)\s*\(\s*([^()]*(?:\([^()]*\))?[^()]*)\)")
_RECEIVER = re.compile(r"([\w$.\[\]'\"]+(?:\(\))?(?:\.\w+\(\))*)\s*\.\s*(?:indexOf|includes|search|match|startsWith|endsWith)"
                       r"\s*\(\s*$")


def _kind(expr: str, ua_names: set[str], ref_names: set[str]) -> str | None:
    """'ua' or 'ref' when ``expr`` reads the user agent or the referrer (directly or via a variable)."""
    words = set(re.findall(r"[A-Za-z_$][\w$]*", expr))
    if "userAgent" in words or words & ua_names:
        return "ua"
    if "referrer" in words or words & ref_names:
        return "ref"
    return None


def _engine_tests(text: str, strings: list[tuple[int, int]], regexes: list[tuple[int, int]]) -> tuple[set[str], set[str]]:
    """Search-engine names tested against the user agent and against the referrer.

    An operand (a regex literal, or a string passed to indexOf/match/test/RegExp/...) belongs to
    what it is tested against: the argument of ``.test()``/``.exec()`` after it, or the receiver of
    ``.indexOf()``/``.match()``... before it; failing both, the nearer of ``navigator.userAgent`` /
    ``document.referrer`` (or a variable assigned from them) within 250 characters.
    """
    ua_pos = [m.start() for m in _UA_REF.finditer(text)]
    ref_pos = [m.start() for m in _REFERRER_REF.finditer(text)]
    if not ua_pos and not ref_pos:
        return set(), set()
    ua_names: set[str] = set()
    ref_names: set[str] = set()
    for read in re.finditer(r"navigator\.userAgent|document\.referrer", text):
        var = re.search(r"(?<![\w$.])([A-Za-z_$][\w$]*)\s*=\s*(?:window\.)?(?:top\.|parent\.)?$",
                        text[max(0, read.start() - 60):read.start()])
        if var is None:
            continue
        is_ua = read.group(0).endswith("userAgent")
        (ua_names if is_ua else ref_names).add(var.group(1))
        name = re.escape(var.group(1))
        (ua_pos if is_ua else ref_pos).extend(m.start() for m in re.finditer(r"(?<![\w$.])" + name + r"(?![\w$])", text))
    operands: list[tuple[int, int, str]] = [(s, e, text[s + 1:text.rfind("/", s, e)]) for s, e in regexes]
    call_ends = {m.end() for m in _TEST_CALL.finditer(text)}
    operands += [(s, e, js_string_value(text[s + 1:e - 1])) for s, e in strings if s in call_ends]
    ua_pos.sort()
    ref_pos.sort()
    ua: set[str] = set()
    ref: set[str] = set()
    checked = 0
    for start, end, source in operands:
        names = {t for t in re.split(r"[^a-z0-9]+", source.lower().replace("\\.", ".")) if t} & SEARCH_ENGINE_TOKENS
        if not names:
            continue
        kind = None
        after = _AFTER_TEST.match(text, end)
        if after:
            kind = _kind(after.group(1), ua_names, ref_names)
        if kind is None:
            before = _RECEIVER.search(text[max(0, start - 160):start])
            if before:
                kind = _kind(before.group(1), ua_names, ref_names)
        if kind is None:
            d_ua, d_ref = _distance(ua_pos, start, end), _distance(ref_pos, start, end)
            if min(d_ua, d_ref) > 250:
                continue
            kind = "ua" if d_ua <= d_ref else "ref"
        (ua if kind == "ua" else ref).update(names)
        checked += 1
        if checked >= MAX_ENGINE_TESTS:
            break
    return ua, ref


def _distance(positions: list[int], start: int, end: int) -> int:
    """Characters between the span [start, end) and the nearest of the sorted ``positions``."""
    k = bisect.bisect_left(positions, start)
    best = 10**9
    if k < len(positions):
        best = max(0, positions[k] - end) if positions[k] >= end else 0
    if k > 0:
        best = min(best, start - positions[k - 1])
    return best


def analyze_script(code: str, src: str | None, base: str) -> ScriptInfo:
    """Decode ``code`` and record what it writes, tests, sets and where it redirects."""
    try:
        dec = decode_text(code) if code else None
    except Exception as exc:  # noqa: BLE001 - a hostile script must not stop the scan; analyse it undecoded
        dec = Decoded(text=code[:MAX_INPUT], layers=[f"decode_error:{type(exc).__name__}"])
    text = dec.text if dec else ""
    strings, regexes = scan_literals(text) if text else ([], [])
    writes_html = bool(_HTML_SINK.search(text))
    written: list[str] = []
    if writes_html:
        values = (js_string_value(text[s + 1:e - 1]) for s, e in strings if "<" in text[s:e])
        written = [decode_entities(v) for v in values if re.search(r"<\s*[a-zA-Z!/]", v)]
    written += [s for s in (dec.strings if dec else []) if "<" in s and ("src" in s or "href" in s)]
    flat = "".join(written)
    tags = [(m.group(1).lower(), _tag_url(m.group(2), base)) for m in _TAG_SRC.finditer(flat)] if writes_html else []
    loads = [u for _, u in tags]
    frames = [u for tag, u in tags if tag in ("iframe", "frame")]
    redirects = [safe_join(base, m.group(1)) for m in _REDIRECT.finditer(text)]
    redirects += [safe_join(base, m.group(1)) for m in _META_REFRESH.finditer(flat)]
    if _BUILT_META.search(text):
        redirects += [safe_join(base, m.group(1)) for m in _CONTENT_URL.finditer(text)]
    redirects = [u for u in redirects if u]
    dom: list[str] = []
    if _CREATES_LOADER.search(text):
        dom = [_tag_url(a or b, base) for a, b in _SRC_SET.findall(text)] or _offsite_urls(text, base)
    ua, ref = _engine_tests(text, strings, regexes)
    title = _TITLE_SET.search(text)
    return ScriptInfo(
        src=src,
        layers=dec.layers if dec else [],
        obfuscated=bool(dec and dec.obfuscated),
        writes=bool(_WRITES.search(text)),
        remote_urls=_offsite_urls(text, base),
        ua_spider_check=bool(ua),
        referrer_check=bool(ref),
        redirect_targets=list(dict.fromkeys(redirects))[:10],
        title_set=decode_entities(js_string_value(title.group(2))) if title else None,
        hides_ids=[a or b for a, b in _HIDE.findall(text)],
        written_html=list(dict.fromkeys(written))[:20],
        strings=(dec.strings[:20] if dec else []),
        writes_html=writes_html,
        html_loads=list(dict.fromkeys(u for u in loads if u.startswith("http")))[:20],
        html_frames=list(dict.fromkeys(u for u in frames if u.startswith("http")))[:20],
        dom_loads=list(dict.fromkeys(u for u in dom if u.startswith("http")))[:20],
        ua_engines=sorted(ua),
        referrer_engines=sorted(ref),
    )


# ------------------------------------------------------------------ public infrastructure
@lru_cache(maxsize=1)
def infrastructure_domains() -> frozenset[str]:
    """Registrable domains of public analytics, CDNs, widgets and embeds (``infrastructure.yaml``)."""
    from chainbreaker.core.config import read_yaml

    data = read_yaml(INFRASTRUCTURE_PATH, "基础设施域名表", "infrastructure list")
    return frozenset(str(d).lower() for k, v in data.items() if k != "version" for d in (v or []))


def registrable_of(host_or_url: str) -> str:
    """eTLD+1 of a host (offline public suffix list); the host itself for IPs and unknown suffixes."""
    from chainbreaker.core.model.identifiers import Domain

    try:
        host = urlsplit(host_or_url).hostname if "//" in host_or_url else host_or_url.split(":")[0]
    except ValueError:
        return ""
    host = (host or "").lower()
    if not host or re.fullmatch(r"[\d.]+", host):
        return host
    return Domain.registrable(host) or host


def is_infrastructure(url: str) -> bool:
    return registrable_of(url) in infrastructure_domains()


def is_remote(url: str, page_url: str) -> bool:
    """Another site than the page's: a different registrable domain (or host:port for IPs)."""
    a, b = host_of(url), host_of(page_url)
    if not a or a == b:
        return False
    ra, rb = registrable_of(url), registrable_of(page_url)
    return ra != rb or (re.fullmatch(r"[\d.]+", ra or "") is not None and a != b)


__all__ = ["SEARCH_ENGINE_TOKENS", "ScriptInfo", "analyze_script", "infrastructure_domains", "is_infrastructure",
           "is_remote", "registrable_of"]
