"""Short injected titles naming a game provider, studio or platform brand with 官网 wording are
gambling titles; honest titles with look-alike names are not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainbreaker.chains.tech.classify import classify_page, load_lexicon
from chainbreaker.chains.tech.titles import official_title

GAMBLING_TITLES = [
    "PG电子官方网站", "pg电子官网", "ＰＧ电子官方网站", "麻将胡了-PG电子官方网站", "JDB电子(中国)官方网站",
    "开元棋牌(中国)官方网站", "开元棋牌官网-登录入口", "AG真人国际厅-官网", "BBIN真人官方网站", "EVO真人官网",
    "开云体育(中国)官方网站-登录入口", "开云(中国)Kaiyun·官方网站", "九游会·J9-官方网站", "凯发k8国际首页登录",
    "星空体育(中国)官方网站", "澳门百家乐官网", "雷火电竞官方网站", "IM体育官网app下载", "米乐M6官网",
]
HONEST_TITLES = [
    "开云集团官网", "皇冠假日酒店官网", "MG名爵官网-上汽MG名爵汽车官方网站", "中国电子官方网站", "九游游戏中心官网",
    "凯发电气官网", "大发汽车官网", "开元酒店集团官方网站", "中国体育彩票官方网站", "中国福利彩票官网", "永利电器官网",
    "亚博智能官网", "捕鱼达人官方网站", "金沙江旅游官网", "PG One 官方网站", "爱游戏官网", "某某县人民政府门户网站",
]


@pytest.mark.parametrize("title", GAMBLING_TITLES)
def test_short_brand_titles_with_official_wording_are_gambling(title: str) -> None:
    v = classify_page(f"<html><head><title>{title}</title></head><body></body></html>", "", "http://x.test/")
    assert v.is_gambling, v.explanation_en
    assert any(r["feature"].startswith("title_official:") for r in v.reasons)
    assert "标题：品牌+官网字样" in v.explanation_zh


@pytest.mark.parametrize("title", HONEST_TITLES)
def test_look_alike_titles_stay_clean(title: str) -> None:
    v = classify_page(f"<html><head><title>{title}</title></head><body></body></html>", "", "http://x.test/")
    assert not v.is_gambling, v.explanation_en


def test_the_rule_reads_only_the_title() -> None:
    body = "<p>PG电子官方网站</p>"  # the same words in the body are ordinary terms, no title rule
    v = classify_page(f"<html><head><title>某某中学</title></head><body>{body}</body></html>", "", "u")
    assert not any(r["feature"].startswith("title_official") for r in v.reasons) and not v.is_gambling


def test_police_notice_quoting_such_titles_is_not_gambling() -> None:
    html = ("<title>警方提醒：“PG电子官方网站”“开元棋牌官网”均为赌博网站</title><body><p>公安机关提醒广大群众，"
            "远离赌博，切勿参与网络赌博，发现线索请拨打110举报。</p></body>")
    v = classify_page(html, "", "u")
    assert not v.is_gambling and any(r["feature"].startswith("title_official") for r in v.reasons)


@settings(max_examples=120, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("PG电子开元棋牌开云体育真人AG百家乐九游会(中国)·-官方网站入口登录 ")), max_size=30))
def test_no_official_wording_no_title_rule(title: str) -> None:
    lex = load_lexicon()
    hit = official_title(title, lex)
    if not any(w in title.lower() for w in lex.extra["title_official"]["official"]):
        assert hit is None
