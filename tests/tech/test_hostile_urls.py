"""Malformed URLs from pages, headers and targets (``http://[bad``): recorded or skipped, never a
traceback, and the scan goes on."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainbreaker.chains.tech.fetch import FetchLimits
from chainbreaker.chains.tech.pageview import analyze_page
from chainbreaker.chains.tech.personas import default_personas, persona_by_name
from chainbreaker.chains.tech.scan import read_targets, scan
from chainbreaker.core.errors import InputError
from chainbreaker.core.workspace import Workspace
from support.kitserver import RawServer

BAD_PAGE = ("<html><head><title>某某中学</title><meta http-equiv='refresh' content='5;url=http://[oops'>"
            "<script src='http://[bad'></script></head><body><iframe src='//[::1'></iframe>"
            "<a href='http://[x/'>x</a><div style='display:none'><a href='http://[y'>百家乐</a></div>"
            "<script>var _0x1a2b=['a','b','c'];(function(a,n){var f=function(n){while(--n){a['push'](a['shift']());}};"
            "f(++n);}(_0x1a2b,01));var _0x2c=function(i,k){i=i-01;return _0x1a2b[i]};_0x2c('01');"
            "location.href='http://[z';document.write('<script src=\"http://[w/x.js\"></scr'+'ipt>')</script>"
            "</body></html>")


def test_page_with_malformed_urls_is_analysed() -> None:
    v = analyze_page(BAD_PAGE, "http://school.test/", persona_by_name("desktop"), status=200)
    assert v.title == "某某中学" and v.meta_refresh is None
    assert v.script_srcs == [] and v.iframes == [] and v.links == []


def test_scan_survives_malformed_urls_and_redirects(tmp_path: Path) -> None:
    server = RawServer({
        "/": (200, {"Content-Type": "text/html; charset=utf-8"}, BAD_PAGE.encode()),
        "/jump": (302, {"Location": "http://[bad/"}, b""),
        "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow:\nSitemap: http://[s/\n"),
        "/sitemap.xml": (200, {"Content-Type": "application/xml"}, b"<urlset><url><loc>http://[u/</loc></url></urlset>"),
    })
    try:
        personas = [p for p in default_personas() if p.name in ("desktop", "baiduspider")]
        result = scan(Workspace(tmp_path / "ws"), [server.url("/"), server.url("/jump")], depth=1, personas=personas,
                      limits=FetchLimits(delay=0, total_timeout=5))
    finally:
        server.close()
    assert {e["error"] for e in result.errors if e["url"].endswith("/jump")} == {"bad_redirect"}
    assert server.url("/") in result.urls


def test_malformed_target_is_a_clear_error() -> None:
    with pytest.raises(InputError) as err:
        read_targets(["http://[bad", "http://x.test:99999/"])
    assert "没有可扫描的网址" in err.value.zh and "[bad" in err.value.en


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>'\"=/:[]@%#?&. aschrefiptlmx0123")), max_size=120))
def test_analyze_page_never_raises_on_url_soup(soup: str) -> None:
    html = f"<a href='{soup}'>x</a><script src='{soup}'></script><script>location.href='{soup}';"\
           f"document.write('<iframe src=\"{soup}\">')</script>"
    analyze_page(html, "http://site.test/", persona_by_name("desktop"), status=200)
