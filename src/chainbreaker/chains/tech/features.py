"""Page evidence primitives of the gambling-page classifier (赌博页面特征): the lexicon, jieba
tokens, page parts, HTML structure flags, text normalisation and lexical hits.

They are shared by :mod:`chainbreaker.chains.tech.classify` (the verdict),
:mod:`chainbreaker.chains.tech.titles` (the official-title rule) and
:mod:`chainbreaker.chains.tech.page_model` (the trained model), which therefore import this module
and not each other.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from chainbreaker.core.settings import user_cache_dir

LEXICON_PATH = Path(__file__).with_name("lexicon.yaml")
_JIEBA_LOCK = threading.RLock()
_WINDOW = 6  # characters of context either side of a hit that jieba segments
MAX_HTML = 3_000_000  # characters of HTML parsed per page: bounded time and memory on hostile pages


# ------------------------------------------------------------------ lexicon
@dataclass(frozen=True)
class Category:
    name: str
    sign: int  # +1 evidence of gambling, -1 context that lowers it
    zh: str
    en: str
    terms: dict[str, float]


@dataclass(frozen=True)
class Lexicon:
    categories: dict[str, Category]
    structure: dict[str, dict[str, Any]]
    scoring: dict[str, float]
    term_category: dict[str, str]
    cjk_pattern: re.Pattern[str] | None
    latin_pattern: re.Pattern[str] | None
    cache: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)  # e.g. title_official

    @property
    def threshold(self) -> float:
        return float(self.scoring.get("threshold", 0.5))


def _is_ascii(term: str) -> bool:
    return all(ord(c) < 128 for c in term)


def trie_pattern(terms: list[str]) -> str:
    """A regex alternation shaped as a trie: one pass, longest term first at each position.

    A flat ``a|b|c...`` of hundreds of literals is tried alternative by alternative at every
    character; the trie shares prefixes, so the scan costs about one dictionary probe per character.
    """
    trie: dict[str, Any] = {}
    for term in terms:
        node = trie
        for ch in term:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        end = "" in node
        branches = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if end else body

    return build(trie)


def parse_lexicon(data: dict[str, Any]) -> Lexicon:
    """Build a :class:`Lexicon` from the YAML structure of ``lexicon.yaml``."""
    from chainbreaker.core.errors import ConfigError

    categories: dict[str, Category] = {}
    term_category: dict[str, str] = {}
    for section, sign in (("positive", 1), ("negative", -1)):
        for name, spec in (data.get(section) or {}).items():
            try:
                weight = float(spec.get("weight", 1.0))
                terms: dict[str, float] = {}
                for entry in spec.get("terms") or []:
                    if isinstance(entry, dict):  # {term: weight} overrides the category weight
                        for term, w in entry.items():
                            terms[str(term).lower()] = float(w)
                    else:
                        terms[str(entry).lower()] = weight
            except (AttributeError, TypeError, ValueError) as exc:
                raise ConfigError(f"词库类别 {name} 格式错误：{exc}", f"Lexicon category {name} is malformed: {exc}") from exc
            for term in terms:
                if term in term_category:
                    raise ConfigError(f"词库中“{term}”重复出现（{term_category[term]} 与 {name}）",
                                      f"Lexicon term {term!r} appears twice ({term_category[term]} and {name})")
                term_category[term] = name
            categories[name] = Category(name, sign, str(spec.get("zh", name)), str(spec.get("en", name)), terms)
    cjk = sorted((t for t in term_category if not _is_ascii(t)), key=len, reverse=True)
    latin = sorted((t for t in term_category if _is_ascii(t)), key=len, reverse=True)
    return Lexicon(
        categories=categories,
        structure=dict(data.get("structure") or {}),
        scoring={k: float(v) for k, v in (data.get("scoring") or {}).items()},
        term_category=term_category,
        cjk_pattern=re.compile(trie_pattern(cjk)) if cjk else None,
        latin_pattern=re.compile(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, latin)) + r")(?![a-z0-9])")
        if latin else None,
        extra={"title_official": dict(data.get("title_official") or {})},
    )


@lru_cache(maxsize=8)
def load_lexicon(path: str | None = None) -> Lexicon:
    """The lexicon at ``path`` (default: the bundled ``lexicon.yaml``)."""
    from chainbreaker.core.config import read_yaml

    file = Path(path) if path else LEXICON_PATH
    return parse_lexicon(read_yaml(file, "词库", "lexicon"))


# ------------------------------------------------------------------ jieba
# the per-user cache folder ($CHAINBREAKER_CACHE_DIR, ~/.cache/chainbreaker or tmp): jieba keeps its prefix dictionary there
cache_dir = user_cache_dir


@lru_cache(maxsize=1)
def segmenter() -> Any:
    """One jieba tokenizer per process, its cache in a writable place, lexicon terms added."""
    import jieba

    with _JIEBA_LOCK:
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.tmp_dir = str(cache_dir())
        tokenizer.initialize()
        for term in load_lexicon().term_category:
            if not _is_ascii(term):
                tokenizer.add_word(term)
        return tokenizer


def tokens(text: str, limit: int = 20000) -> list[str]:
    """jieba tokens of ``text`` (lower-cased, whitespace/punctuation dropped)."""
    with _JIEBA_LOCK:
        words = segmenter().lcut(text[:limit].lower(), HMM=False)
    return [w for w in words if w.strip() and any(c.isalnum() for c in w)]


def ambiguous_terms(lex: Lexicon) -> frozenset[str]:
    """CJK terms that occur inside a longer dictionary word (金沙 in 金沙江): only these need jieba.

    The lexicon's terms are added to jieba's dictionary, so elsewhere a term is a word of its own.
    """
    if "ambiguous" not in lex.cache:
        tokenizer = segmenter()
        cjk = [t for t in lex.term_category if not _is_ascii(t)]
        with _JIEBA_LOCK:
            for term in cjk:
                if tokenizer.FREQ.get(term, 0) == 0:
                    tokenizer.add_word(term)
            terms = set(cjk)
            words = "\n".join(w for w, f in tokenizer.FREQ.items() if f and len(w) >= 3 and w not in terms)
        found: set[str] = set()
        if lex.cjk_pattern is not None:
            overlapping = re.compile(f"(?=({lex.cjk_pattern.pattern}))")
            found = {m.group(1) for m in overlapping.finditer(words) if m.group(1)}
        lex.cache["ambiguous"] = frozenset(found)
    return lex.cache["ambiguous"]


def _is_word(text: str, start: int, end: int) -> bool:
    """True when jieba segments text[start:end] as one word (or a run of whole words) in context."""
    lo, hi = max(0, start - _WINDOW), min(len(text), end + _WINDOW)
    with _JIEBA_LOCK:
        spans = list(segmenter().tokenize(text[lo:hi], HMM=False))
    starts = {s + lo for _, s, _ in spans}
    ends = {e + lo for _, _, e in spans}
    return start in starts and end in ends


# ------------------------------------------------------------------ page text
@dataclass
class PageParts:
    title: str
    meta: str
    body: str
    tree: Any = None

    @property
    def text(self) -> str:
        return "\n".join(p for p in (self.title, self.meta, self.body) if p)


def page_parts(html: str, text: str = "") -> PageParts:
    """Title, meta keywords/description and visible text (entities decoded by the parser)."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html or "")
    title_node = tree.css_first("title")
    title = title_node.text(strip=True) if title_node else ""
    meta = " ".join(
        (n.attributes.get("content") or "")
        for n in tree.css("meta")
        if (n.attributes.get("name") or "").lower() in ("keywords", "description")
    )
    if not text:
        # Scripts and styles are not visible text; structure features only need forms, tables, marquees.
        for node in tree.css("script, style, noscript, template"):
            node.decompose()
        body_node = tree.body
        text = body_node.text(separator=" ", strip=True) if body_node else ""
    return PageParts(title=title, meta=meta, body=text, tree=tree)


# ------------------------------------------------------------------ structure
_MONEY_FIELD = re.compile(r"deposit|recharge|withdraw|cashout|amount|money|pay_?amount|充值|存款|提款|取款|提现|金额", re.I)
_MONEY_WORD = re.compile(r"充值|存款|提款|取款|提现|入款|出款|deposit|withdraw", re.I)
_CS_WIDGET = re.compile(
    r"meiqia|53kf|livechatinc|livechat|tawk\.to|zopim|zendesk|chatra|crisp\.chat|kefu|udesk|"
    r"qiyukf|easemob|在线客服|24小时客服|7\s*[x×*]\s*24", re.I)
_ODDS = re.compile(r"(?<![\d.])(?:[1-9]|1\d)\.\d{2}(?![\d.%])")
_ODDS_WORDS = re.compile(r"主队|客队|让球|大小|赔率|独赢|主胜|客胜|平局|odds|handicap|1x2", re.I)
_TICKER = re.compile(r"(恭喜|喜中|成功提款|成功出款|提款成功|中奖|赢得).{0,20}?\d[\d,.]*\s*(元|万|rmb|usdt)?", re.I)
_APP = re.compile(r"\.(?:apk|ipa)(?:[?#\"'\s]|$)|itms-services://|\.mobileconfig", re.I)
_REGISTER = re.compile(r"立即注册|免费注册|马上注册|立即开户|免费开户|sign\s*up|register now", re.I)


def structure_features(parts: PageParts, html: str) -> list[tuple[str, str]]:
    """(feature, evidence) pairs for the structure features present on the page."""
    from chainbreaker.core.model.identifiers import CryptoAddress

    found: list[tuple[str, str]] = []
    tree = parts.tree
    # Deposit/withdraw form: a money field in a form, or a form whose text names deposits.
    for form in tree.css("form, [class*=deposit], [id*=deposit], [class*=recharge]") if tree else []:
        inputs = form.css("input, select")
        names = " ".join(f"{i.attributes.get('name') or ''} {i.attributes.get('id') or ''} "
                         f"{i.attributes.get('placeholder') or ''}" for i in inputs)
        form_text = form.text(separator=" ", strip=True)[:500]
        if inputs and (_MONEY_FIELD.search(names) or _MONEY_WORD.search(form_text)):
            found.append(("deposit_form", (names.strip() or form_text)[:80]))
            break
    if m := _CS_WIDGET.search(html[:500000]):
        found.append(("cs_widget", m.group(0)))
    odds_hits = 0
    for table in tree.css("table") if tree else []:
        cell_text = table.text(separator=" ", strip=True)[:5000]
        if _ODDS_WORDS.search(cell_text):
            odds_hits = max(odds_hits, len(_ODDS.findall(cell_text)))
    if odds_hits >= 6:
        found.append(("odds_table", f"{odds_hits} odds"))
    tickers = [m.group(0) for m in _TICKER.finditer(parts.body[:20000])]
    marquee = bool(tree and tree.css_first("marquee")) or "scroll" in html[:200000].lower()
    if len(tickers) >= 3 or (marquee and len(tickers) >= 2):
        found.append(("win_ticker", "；".join(tickers[:3])))
    if m := _APP.search(html[:500000]):
        found.append(("app_download", m.group(0).strip("\"' ")))
    if addrs := CryptoAddress.find_all(parts.body[:50000]):
        found.append(("crypto_address", addrs[0]))
    if _REGISTER.search(parts.text[:20000]) and re.search(r"送|彩金|首充|首存|bonus", parts.text[:20000], re.I):
        found.append(("register_bonus", _REGISTER.search(parts.text[:20000]).group(0)))  # type: ignore[union-attr]
    return found



_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060\ufeff\u00ad]")
_SPLITTER = re.compile(r"(?<=[\u4e00-\u9fff])[*＊#＃~～|丨]+(?=[\u4e00-\u9fff])")


def normalise_text(text: str) -> str:
    """Undo cheap evasions before matching: full-width letters (ｂｅｔ３６５), zero-width characters,
    and symbols stuffed between Chinese characters (百*家*乐, 真丨人丨视丨讯)."""
    return _SPLITTER.sub("", _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text))).lower()


def lexical_hits(text: str, lex: Lexicon) -> Counter[str]:
    """Counts of lexicon terms in ``text`` (normalised); CJK hits confirmed as jieba words."""
    low = normalise_text(text)
    counts: Counter[str] = Counter()
    if lex.cjk_pattern is not None:
        verdicts: dict[tuple[str, str], bool] = {}
        ambiguous = ambiguous_terms(lex)
        for m in lex.cjk_pattern.finditer(low):
            term = m.group(0)
            if term not in ambiguous:
                counts[term] += 1
                continue
            # Confirm each distinct (term, neighbourhood) once: pages repeat menus many times.
            key = (term, low[max(0, m.start() - _WINDOW):m.end() + _WINDOW])
            if key not in verdicts:
                verdicts[key] = _is_word(low, m.start(), m.end())
            if verdicts[key]:
                counts[term] += 1
    if lex.latin_pattern is not None:
        for m in lex.latin_pattern.finditer(low):
            counts[m.group(0)] += 1
    return counts

