"""Evidence values and the rule score of the gambling-page classifier (赌博页面评分).

Kept apart from :mod:`chainbreaker.chains.tech.classify` so the trained model
(:mod:`chainbreaker.chains.tech.page_model`) uses the same feature values without importing the classifier.
"""

from __future__ import annotations

import math
from collections import Counter

from chainbreaker.chains.tech.features import Lexicon
from chainbreaker.chains.tech.titles import official_title, title_rule


def feature_values(counts: Counter[str], structure: list[tuple[str, str]], lex: Lexicon,
                   title: str = "") -> dict[str, float]:
    """Per-category evidence (after repeat scaling and cap), structure flags, and the official-title
    rule on ``title`` (:mod:`chainbreaker.chains.tech.titles`, lexical evidence of category ``title_official``)."""
    repeat = lex.scoring.get("repeat", 0.25)
    cap = lex.scoring.get("category_cap", 5.0)
    values: dict[str, float] = {}
    for term, n in counts.items():
        cat = lex.categories[lex.term_category[term]]
        values[f"cat:{cat.name}"] = values.get(f"cat:{cat.name}", 0.0) + cat.terms[term] * (1 + repeat * math.log(n))
    for key in list(values):
        values[key] = min(values[key], cap)
    if title and "title_official" in lex.categories and official_title(title, lex):
        values["cat:title_official"] = float(title_rule(lex).get("weight", 2.5))
    for name, _ in structure:
        values[f"struct:{name}"] = 1.0
    return values



def rule_score(values: dict[str, float], lex: Lexicon) -> tuple[float, float, float, float]:
    """(score, positive P, negative N, structure S) of the lexicon-and-structure rule."""
    pos = sum(v for k, v in values.items() if k.startswith("cat:") and lex.categories[k[4:]].sign > 0)
    neg = sum(v for k, v in values.items() if k.startswith("cat:") and lex.categories[k[4:]].sign < 0)
    struct = sum(float(lex.structure.get(k[7:], {}).get("weight", 0.5)) for k in values if k.startswith("struct:"))
    lexical = pos / (1.0 + lex.scoring.get("damping", 0.8) * neg)
    z = lexical + struct - lex.scoring.get("bias", 3.0)
    return 1.0 / (1.0 + math.exp(-z)), pos, neg, struct

