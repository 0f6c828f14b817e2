"""Gambling-page classifier (赌博页面识别) with explanations.

``classify_page(html, text, url)`` scores a page 0–1 from three kinds of evidence:

* a weighted lexicon (``lexicon.yaml``: brands, games, promotions, payment and betting words);
* context that lowers lexical evidence (law-enforcement notices, news reports, anti-gambling
  campaigns, the legal state welfare/sports lottery);
* HTML structure (deposit/withdraw forms, customer-service widgets, odds tables, win tickers,
  app downloads, crypto deposit addresses).

Chinese terms are found with a fast literal scan and confirmed with jieba on a small window around
each hit, so a term only counts when it is a word of its own (``金沙`` the casino brand, not the
``金沙江`` river) while the page as a whole is not segmented (bounded time per page). An optional
scikit-learn model trained on the analyst's labelled pages (``page_model.py``) is blended in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chainbreaker.chains.tech import page_model
from chainbreaker.chains.tech.features import (
    LEXICON_PATH,
    MAX_HTML,
    Category,
    Lexicon,
    PageParts,
    ambiguous_terms,
    cache_dir,
    lexical_hits,
    load_lexicon,
    normalise_text,
    page_parts,
    parse_lexicon,
    segmenter,
    structure_features,
    tokens,
    trie_pattern,
)
from chainbreaker.chains.tech.scoring import feature_values, rule_score
from chainbreaker.chains.tech.titles import official_title


# ------------------------------------------------------------------ verdict
@dataclass
class PageVerdict:
    """Result of :func:`classify_page`."""

    score: float
    is_gambling: bool
    reasons: list[dict[str, Any]]
    explanation_zh: str
    explanation_en: str
    rule_score: float = 0.0
    model_score: float | None = None
    features: dict[str, float] = field(default_factory=dict)




def classify_page(html: str, text: str, url: str, *, lexicon: Lexicon | None = None,
                  model: Any = None) -> PageVerdict:
    """Score a page as gambling (赌博页面) 0–1 with the features and weights that fired.

    ``text`` may be empty (it is then taken from ``html``). ``model`` is a trained
    :class:`chainbreaker.chains.tech.page_model.PageModel`; without one the module default set by
    :func:`chainbreaker.chains.tech.page_model.use_page_model` is used, if any.
    """
    lex = lexicon or load_lexicon()
    html = (html or "")[:MAX_HTML]
    parts = page_parts(html, (text or "")[:MAX_HTML])
    max_chars = int(lex.scoring.get("max_chars", 12000))
    scan = (parts.title + "\n" + parts.meta + "\n" + parts.body)[:max_chars]
    counts = lexical_hits(scan, lex)
    structure = structure_features(parts, html)
    values = feature_values(counts, structure, lex, parts.title)
    score, pos, neg, struct = rule_score(values, lex)

    reasons: list[dict[str, Any]] = []
    for term, n in counts.most_common():
        cat = lex.categories[lex.term_category[term]]
        reasons.append({"feature": f"{cat.name}:{term}", "weight": round(cat.sign * cat.terms[term], 3),
                        "evidence": f"{term}×{n}", "category_zh": cat.zh, "category_en": cat.en})
    if "cat:title_official" in values:
        cat = lex.categories["title_official"]
        reasons.append({"feature": f"title_official:{official_title(parts.title, lex)}", "weight": values["cat:title_official"],
                        "evidence": parts.title[:80], "category_zh": cat.zh, "category_en": cat.en})
    for name, evidence in structure:
        spec = lex.structure.get(name, {})
        reasons.append({"feature": f"structure:{name}", "weight": float(spec.get("weight", 0.5)),
                        "evidence": evidence, "category_zh": spec.get("zh", name), "category_en": spec.get("en", name)})

    active = model if model is not None else page_model.default_model()
    model_score: float | None = None
    final = score
    if active is not None:
        model_score, contributions = active.score(scan, values)
        final = (1 - active.blend) * score + active.blend * model_score
        for feat, w in contributions[:5]:
            reasons.append({"feature": f"model:{feat}", "weight": round(w, 3), "evidence": feat,
                            "category_zh": "训练模型", "category_en": "trained model"})
    verdict = PageVerdict(score=round(final, 4), is_gambling=final >= lex.threshold, reasons=reasons,
                          explanation_zh="", explanation_en="", rule_score=round(score, 4),
                          model_score=None if model_score is None else round(model_score, 4), features=values)
    verdict.explanation_zh, verdict.explanation_en = _explain(verdict, lex, pos, neg, struct, url)
    return verdict


def _explain(v: PageVerdict, lex: Lexicon, pos: float, neg: float, struct: float, url: str) -> tuple[str, str]:
    def terms(sign: int, lang: str) -> str:
        groups: dict[str, list[str]] = {}
        for r in v.reasons:
            if r["feature"].startswith(("structure:", "model:")) or (r["weight"] > 0) != (sign > 0):
                continue
            groups.setdefault(r["category_" + lang], []).append(r["evidence"].split("×")[0])
        sep = "；" if lang == "zh" else "; "
        quote = ("“", "”") if lang == "zh" else ("'", "'")
        return sep.join(f"{k} " + "、".join(f"{quote[0]}{t}{quote[1]}" for t in ts[:5]) for k, ts in groups.items())

    structs_zh = "、".join(r["category_zh"] for r in v.reasons if r["feature"].startswith("structure:"))
    structs_en = ", ".join(r["category_en"] for r in v.reasons if r["feature"].startswith("structure:"))
    head_zh = "判定为赌博页面" if v.is_gambling else "未判定为赌博页面"
    head_en = "Classified as a gambling page" if v.is_gambling else "Not classified as a gambling page"
    zh = [f"{head_zh}（得分 {v.score:.2f}，阈值 {lex.threshold:.2f}）{url}。"]
    en = [f"{head_en} (score {v.score:.2f}, threshold {lex.threshold:.2f}) {url}."]
    if pos:
        zh.append(f"赌博特征词（{pos:.1f}）：{terms(1, 'zh')}。")
        en.append(f"Gambling terms ({pos:.1f}): {terms(1, 'en')}.")
    if structs_zh:
        zh.append(f"页面结构（{struct:.1f}）：{structs_zh}。")
        en.append(f"Page structure ({struct:.1f}): {structs_en}.")
    if neg:
        zh.append(f"降低得分的语境（{neg:.1f}）：{terms(-1, 'zh')}。")
        en.append(f"Context lowering the score ({neg:.1f}): {terms(-1, 'en')}.")
    if v.model_score is not None:
        zh.append(f"训练模型得分 {v.model_score:.2f}，规则得分 {v.rule_score:.2f}。")
        en.append(f"Trained model {v.model_score:.2f}, rules {v.rule_score:.2f}.")
    return "".join(zh), " ".join(en)


__all__ = [
    "LEXICON_PATH", "MAX_HTML", "Category", "Lexicon", "PageParts", "PageVerdict", "ambiguous_terms",
    "cache_dir", "classify_page", "feature_values", "lexical_hits", "load_lexicon", "normalise_text",
    "page_parts", "parse_lexicon", "rule_score", "segmenter", "structure_features", "tokens", "trie_pattern",
]
