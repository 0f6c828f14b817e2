"""Gambling pages score high; honest look-alikes (police notice, welfare lottery, news) score low."""

from __future__ import annotations

import pytest

from chainbreaker.chains.tech.classify import classify_page, lexical_hits, load_lexicon, parse_lexicon
from chainbreaker.core.errors import ConfigError

GAMBLING = ["gambling_casino", "gambling_sports", "gambling_lottery"]
HONEST = ["honest_police", "honest_welfare_lottery", "honest_news", "honest_river_tourism", "honest_bank"]


@pytest.mark.parametrize("name", GAMBLING)
def test_gambling_pages_score_high(pages, name):
    v = classify_page(pages[name], "", f"http://127.0.0.1/{name}")
    assert v.is_gambling and v.score >= 0.9, v.explanation_en
    assert any(r["feature"].startswith("structure:") for r in v.reasons)
    assert "判定为赌博页面" in v.explanation_zh and "Classified as a gambling page" in v.explanation_en


@pytest.mark.parametrize("name", HONEST)
def test_honest_lookalikes_score_low(pages, name):
    v = classify_page(pages[name], "", f"http://127.0.0.1/{name}")
    assert not v.is_gambling and v.score < 0.35, v.explanation_en
    assert "未判定为赌博页面" in v.explanation_zh


def test_police_notice_names_gambling_terms_but_context_lowers_it(pages):
    v = classify_page(pages["honest_police"], "", "http://127.0.0.1/police")
    fired = {r["feature"] for r in v.reasons}
    # The notice quotes 百家乐 and 澳门新葡京 ...
    assert "game:百家乐" in fired and "brand:澳门新葡京" in fired
    # ... but law-enforcement and anti-gambling context outweighs them, and the explanation says so.
    assert any(f.startswith("law_enforcement:") for f in fired)
    assert any(r["weight"] < 0 for r in v.reasons)
    assert "降低得分的语境" in v.explanation_zh and "执法" in v.explanation_zh
    # Without the context words, the same lexical evidence would be a gambling page.
    stripped = classify_page(pages["honest_police"], "", "x", lexicon=_without_negatives())
    assert stripped.score > v.score + 0.5


def _without_negatives():
    lex = load_lexicon()
    data = {"positive": {}, "negative": {}, "structure": lex.structure, "scoring": lex.scoring}
    for cat in lex.categories.values():
        if cat.sign > 0:
            data["positive"][cat.name] = {"weight": 1.0, "terms": [{t: w} for t, w in cat.terms.items()]}
    return parse_lexicon(data)


def test_brand_inside_a_longer_word_does_not_fire():
    lex = load_lexicon()
    assert lexical_hits("金沙江大峡谷一日游", lex) == {}
    assert lexical_hits("金沙官方网站 金沙app下载", lex)["金沙"] == 2
    assert lexical_hits("澳门金沙娱乐城", lex)["金沙娱乐"] == 1


def test_text_only_and_empty_input():
    v = classify_page("", "百家乐 真人视讯 首充返水 无限返水 立即存款 注册送彩金 时时彩 北京赛车 体育投注", "u")
    assert v.is_gambling
    empty = classify_page("", "", "u")
    assert empty.score < 0.1 and not empty.is_gambling and empty.reasons == []


def test_entity_encoded_title_is_decoded():
    html = "<html><head><title>&#30334;&#23478;&#20048; &#30495;&#20154;&#35270;&#35759; &#39318;&#20805;&#36820;&#27700;</title></head>" \
           "<body><form><input name='amount'><button>存款</button></form>时时彩 北京赛车 彩金 注册送</body></html>"
    v = classify_page(html, "", "u")
    assert "game:百家乐" in {r["feature"] for r in v.reasons} and v.is_gambling


def test_bad_lexicon_is_a_clear_error(tmp_path):
    bad = tmp_path / "lex.yaml"
    bad.write_text("positive:\n  a: {terms: [x]}\n  b: {terms: [x]}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_lexicon(str(bad))
    assert "重复" in err.value.message("zh")


def test_cheap_evasions_are_undone():
    lex = load_lexicon()
    hits = lexical_hits("百*家*乐 真丨人丨视丨讯 首\u200b充 ｂｅｔ３６５", lex)
    assert {"百家乐", "真人视讯", "首充", "bet365"} <= set(hits)
