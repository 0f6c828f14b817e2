"""Title swaps and victims on small pages: a gated document.title swap is evidence without the
classifier; a duplicated head keeps its first (injected) metas; a hacked site is not a gambling site."""

from __future__ import annotations

import pytest

from chainbreaker.chains.tech.classify import classify_page
from chainbreaker.chains.tech.detectors import analyze_page, detect_host, detect_page, detect_title_spider
from chainbreaker.chains.tech.personas import persona_by_name

URL = "http://www.county.test/"
GOV_BODY = ("<h1>某某县人民政府</h1><p>本县位于省境东南部，总面积1820平方公里，辖12个乡镇、186个行政村，户籍人口46万。"
            "县委县政府坚持以人民为中心的发展思想，扎实推进乡村振兴，加快建设现代农业产业园，持续改善城乡人居环境。"
            "办事大厅设有社保、医保、不动产登记等窗口，工作日上午8:30至下午5:30对外办公。全年地区生产总值增长6.2%，"
            "城镇新增就业5200人，完成植树造林2.3万亩。</p><ul><li><a href='/zwgk/1.html'>政府工作报告</a></li></ul>")


def _views(html: str, personas=("desktop", "baiduspider", "desktop+ref", "wechat"), classify=classify_page):
    return [analyze_page(html, URL, persona_by_name(p), status=200, classify=classify) for p in personas]


@pytest.mark.parametrize("title", ["PG电子官方网站", "某某县人民政府门户网站（测试）", "开元棋牌(中国)官方网站"])
def test_gated_title_swap_is_evidence_without_the_classifier(title: str) -> None:
    html = (f"<title>{title}</title><script>var u=navigator.userAgent.toLowerCase();"
            "if(u.indexOf('baidu')<0&&u.indexOf('sogou')<0){document['title']='某某县人民政府'}</script>" + GOV_BODY)
    draft = detect_title_spider(_views(html, classify=None), None)
    assert draft is not None and draft.facts["mode"] == "script_restore" and draft.facts["gate"] == "user_agent"
    assert draft.score == 0.75  # no classifier: evidence on its own
    with_classifier = detect_title_spider(_views(html), classify_page)
    gambling_title = title != "某某县人民政府门户网站（测试）"
    assert with_classifier is not None and with_classifier.score == (0.9 if gambling_title else 0.75)
    assert with_classifier.facts["html_head_gambling"] is gambling_title


def test_ungated_title_change_is_not_a_swap() -> None:
    html = "<title>加载中</title><script>document.title='某某县人民政府';</script>" + GOV_BODY
    assert detect_title_spider(_views(html), classify_page) is None


def test_duplicated_head_keeps_the_first_metas_and_is_a_head_injection() -> None:
    html = ("<html><head><title>开云体育(中国)官方网站-登录入口</title><meta name='keywords' content='开云体育,真人视讯'>"
            "<meta name='description' content='开云体育官方网站提供体育投注与百家乐'></head>"
            "<head><title>某某县人民政府</title><meta name='keywords' content='政务公开'>"
            "<meta name='description' content='某某县人民政府门户网站'></head><body>" + GOV_BODY + "</body></html>")
    views = _views(html)
    v = views[0]
    assert v.title == "开云体育(中国)官方网站-登录入口" and v.keywords == "开云体育,真人视讯"
    assert v.description == "开云体育官方网站提供体育投注与百家乐" and v.title_count == 2
    assert v.head_gambling and v.body_gambling is False
    draft = detect_title_spider(views, classify_page)
    assert draft is not None and draft.facts["mode"] == "head_injected" and draft.facts["duplicated_head"]
    drafts = {URL: detect_page(views, classify_page)}
    assert not [d for d in detect_host({URL: views}, drafts) if d.rule_id == "gambling.site"]


def test_description_alone_makes_a_gambling_head() -> None:
    html = ("<title>某某县人民政府</title><meta name='description' content='澳门新葡京官方网站提供百家乐、真人视讯、体育投注，"
            "首存即送彩金，无限返水'>" + GOV_BODY)
    assert _views(html)[0].head_gambling


def test_a_gambling_site_with_a_loader_is_still_a_gambling_site() -> None:
    html = ("<title>澳门新葡京娱乐城</title><script>document.write(unescape('%3Cscript src=%22http://cdn.xpj-stat.test/s.js%22%3E%3C/script%3E'))</script>"
            "<div>真人视讯 百家乐 电子游艺 老虎机 体育投注 时时彩 北京赛车 首存送彩金 每日返水 无限返水</div>"
            "<form><input name='amount'><button>立即存款</button></form>")
    views = _views(html)
    drafts = {URL: detect_page(views, classify_page)}
    assert {d.rule_id for d in drafts[URL]} == {"inject.loader_script"}
    assert views[0].body_gambling is True
    assert [d.rule_id for d in detect_host({URL: views}, drafts)] == ["gambling.site"]


def test_injected_hidden_links_alone_do_not_make_a_victim_a_gambling_site() -> None:
    links = "".join(f"<a href='http://www.bet{i}.test/'>百家乐 真人视讯 澳门新葡京 首存送彩金 返水</a>" for i in range(6))
    html = ("<title>澳门新葡京_百家乐_真人视讯</title><meta name='keywords' content='百家乐,彩金,返水'>"
            f"<div style='position:absolute;left:-9999px'>{links}</div>" + GOV_BODY)
    views = _views(html)
    drafts = {URL: detect_page(views, classify_page)}
    rules = {d.rule_id for d in drafts[URL]}
    assert "inject.hidden_links" in rules
    assert not [d for d in detect_host({URL: views}, drafts) if d.rule_id == "gambling.site"]


def test_landing_urls_of_search_visitors() -> None:
    from chainbreaker.chains.tech.crawl import landing_urls

    html_ref = ("<script>if(/baidu|sogou/.test(document.referrer)){window['location']['href']='/bc/1.html#top'}</script>"
                "<meta http-equiv='refresh' content='3;url=http://other.test/'>" + GOV_BODY)
    views = _views(html_ref, personas=("desktop", "desktop+ref"))
    assert landing_urls(URL, views) == ["http://www.county.test/bc/1.html"]
