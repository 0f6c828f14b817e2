"""Hostile pages: huge, binary garbage, pathological strings — bounded time, a verdict, no exception."""

from __future__ import annotations

import time

from chainbreaker.chains.tech.classify import classify_page
from chainbreaker.chains.tech.indicators import extract_indicators


def test_huge_page_is_bounded():
    block = '<div class="g">百家乐 真人视讯 首充返水 <a href="/x.apk">下载</a> 6222021234567890128</div>'
    html = "<html><body>" + block * 60_000 + "</body></html>"  # ~ 5 MB, above both parse limits
    start = time.perf_counter()
    verdict = classify_page(html, "", "http://127.0.0.1/huge")
    indicators = extract_indicators(html, "", "http://127.0.0.1/huge")
    assert time.perf_counter() - start < 30
    assert verdict.is_gambling
    assert {i.kind for i in indicators} >= {"bank_card", "app_download"}


def test_garbage_and_pathological_strings():
    garbage = bytes(range(256)).decode("latin-1") * 2000 + "\x00<<<>>>&#xZZZ;&#99999999;"
    for html in (garbage, "<" * 100_000, "cnzz.com/z_stat.php?" + "a" * 500_000,
                 "OneSignal" + " " * 200_000, "t.me/" + "_" * 200_000):
        start = time.perf_counter()
        v = classify_page(html, "", "http://127.0.0.1/")
        extract_indicators(html, "", "http://127.0.0.1/")
        assert time.perf_counter() - start < 10
        assert not v.is_gambling
