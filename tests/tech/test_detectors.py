"""Hiding techniques and page analysis on small, readable HTML snippets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from chainbreaker.chains.tech.detectors import analyze_page, find_hidden_blocks, hiding_technique, parse_decls
from chainbreaker.chains.tech.personas import persona_by_name


@pytest.mark.parametrize(("style", "tag", "attrs", "expected"), [
    ("display:none", "div", {}, "display_none"),
    ("visibility: hidden", "div", {}, "visibility_hidden"),
    ("position:absolute; top:-1000px", "div", {}, "offscreen"),
    ("text-indent:-9999em", "p", {}, "text_indent"),
    ("width:0;height:0;overflow:hidden", "div", {}, "zero_size"),
    ("font-size:0", "span", {}, "font_size_0"),
    ("color:#FFF;background:#ffffff", "div", {}, "same_color"),
    ("height:1px;overflow:hidden", "div", {}, "overflow_1px"),
    ("", "marquee", {"height": "1", "width": "1"}, "marquee"),
    ("", "marquee", {"scrollamount": "3000"}, "marquee"),
    ("opacity:0", "div", {}, "opacity_0"),
    # visible things
    ("", "marquee", {"scrollamount": "4", "height": "28"}, None),
    ("position:absolute;left:10px", "div", {}, None),
    ("height:1px", "div", {}, None),  # no overflow:hidden: the content still shows
    ("color:#333;background:#fff", "div", {}, None),
    ("font-size:12px", "span", {}, None),
])
def test_hiding_technique(style: str, tag: str, attrs: dict, expected: str | None) -> None:
    assert hiding_technique(parse_decls(style), tag, attrs) == expected


def test_style_rules_and_script_hiding() -> None:
    html = ("<style>.yq { position:absolute; left:-3000px }</style><div class='yq'><a href='http://a.test/'>x</a></div>"
            "<div id='k'><a href='http://b.test/'>y</a></div>")
    blocks = find_hidden_blocks(LexborHTMLParser(html), "http://site.test/", ["k"])
    assert {b["technique"] for b in blocks} == {"offscreen", "js_hide"}
    assert all(b["offsite"] == 1 for b in blocks)


def test_skip_link_and_hover_menu_are_not_link_farms() -> None:
    html = ("<html><head><title>某某市政府</title></head><body><a href='#main' style='position:absolute;left:-9999px'>跳到主要内容</a>"
            "<li>友情链接<ul style='display:none'><li><a href='http://www.gov.cn/'>中国政府网</a></li>"
            "<li><a href='http://www.mps.gov.cn/'>公安部</a></li><li><a href='http://www.court.gov.cn/'>最高法</a></li></ul></li>"
            "<div id='main'>正文</div></body></html>")
    from chainbreaker.chains.tech.classify import classify_page
    from chainbreaker.chains.tech.detectors import detect_hidden_links

    view = analyze_page(html, "http://www.city.test/", persona_by_name("desktop"), status=200, classify=classify_page)
    assert {b["technique"] for b in view.hidden_blocks} == {"offscreen", "display_none"}
    assert detect_hidden_links([view], classify_page) is None
    assert "正文" in view.text and "中国政府网" not in view.text  # hidden text is not visible text


def test_written_html_is_analysed_like_the_page() -> None:
    html = ("<title>t</title><script>document.write('<div style=\"font-size:0\"><a href=\"http://bet1.test/\">百家乐</a>"
            "<a href=\"http://bet2.test/\">真人视讯</a><a href=\"http://bet3.test/\">皇冠体育</a></div>');</script>")
    view = analyze_page(html, "http://school.test/", persona_by_name("baiduspider"), status=200)
    assert view.hidden_blocks and view.hidden_blocks[0]["source"] == "script"
    assert view.hidden_blocks[0]["hosts"] == ["bet1.test", "bet2.test", "bet3.test"]


def test_entity_encoded_title_is_decoded() -> None:
    view = analyze_page("<title>&#36172;&#x535A;</title><meta name='keywords' content='&amp;#26827;&amp;#29260;'>",
                        "http://x.test/", persona_by_name("desktop"), status=200)
    assert view.title == "赌博" and view.keywords == "棋牌"


def test_help_page_about_browser_errors_is_not_a_fake_error() -> None:
    from chainbreaker.chains.tech.detectors import detect_fake_error

    html = ("<title>浏览器提示“无法访问此网站”怎么办</title><body><p>如果看到 ERR_NAME_NOT_RESOLVED 或 "
            "DNS_PROBE_FINISHED_NXDOMAIN，请检查网络和 DNS 设置。</p></body>")
    views = [analyze_page(html, "http://help.test/a.html", persona_by_name(p), status=200)
             for p in ("desktop", "baiduspider", "desktop+ref")]
    assert detect_fake_error(views) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["<div style='display:none'>", "</div>", "<a href='http://x.test/'>", "</a>", "<script>",
                                 "</script>", "document.write('<marquee height=1>');", "&#36172;", "<style>.a{",
                                 "left:-9999px}</style>", "<title>", "</title>", "\\x3c", "<meta name=keywords content='",
                                 "百家乐", "<marquee>", "'>", "<iframe src=//y.test/>", "eval(function(p,a,c,k,e,d){"]),
                max_size=40))
def test_analyze_page_never_raises_on_broken_html(parts: list[str]) -> None:
    view = analyze_page("".join(parts), "http://site.test/", persona_by_name("desktop"), status=200)
    assert isinstance(view.text, str)
