"""Short injected titles that name a gambling brand with "official site" wording (品牌官网标题).

Hacked sites and doorway pages carry titles such as ``PG电子官方网站``, ``开元棋牌(中国)官方网站``
or ``开云体育(中国)官方网站-登录入口``: a game provider (电子游艺), a 棋牌 or 真人 studio, or a
platform brand, plus 官网/官方网站 wording. Too short for the lexicon alone, they are gambling
titles all the same. The rule is data (``title_official`` in ``lexicon.yaml``):

* a term of the provider categories counts on its own, so do the ``strong_brands`` and game terms
  of at least ``game_min_chars`` characters (百家乐官网, not 捕鱼官网);
* a platform brand counts only next to a gambling word (体育, 电子, 真人, 棋牌 ...) or a region
  marker such as ``(中国)``: 开云集团官网 (Kering), 皇冠假日酒店官网 and 九游游戏中心 stay clean.

The feature is lexical evidence (damped by law-enforcement or news context like other terms), so
a police notice quoting “PG电子官方网站” is still not a gambling page.
"""

from __future__ import annotations

from typing import Any

from chainbreaker.chains.tech.features import Lexicon, lexical_hits, normalise_text


def title_rule(lex: Lexicon) -> dict[str, Any]:
    return dict(lex.extra.get("title_official") or {})


def official_title(title: str, lex: Lexicon) -> str | None:
    """``term+wording`` when ``title`` names a gambling brand with official-site wording, else None."""
    rule = title_rule(lex)
    if not title or not rule:
        return None
    text = normalise_text(title)
    wording = next((w for w in rule.get("official", []) if str(w).lower() in text), None)
    if wording is None:
        return None
    hits = lexical_hits(title, lex)
    strong = set(rule.get("categories", []))
    min_game = int(rule.get("game_min_chars", 3))
    strong_brands = {str(b).lower() for b in rule.get("strong_brands", [])}
    for term in hits:
        cat = lex.term_category[term]
        if cat in strong or term in strong_brands or (cat == "game" and len(term) >= min_game):
            return f"{term}+{wording}"
    brands = [t for t in hits if lex.term_category[t] in set(rule.get("brand_categories", []))]
    context = [str(w).lower() for w in rule.get("gambling_words", []) + rule.get("markers", [])]
    if brands and any(w in text for w in context):
        return f"{brands[0]}+{wording}"
    return None


__all__ = ["official_title", "title_rule"]
