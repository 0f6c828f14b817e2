"""Polite, bounded fetching against the loopback hostile endpoints."""

from __future__ import annotations

import asyncio
import resource
import time

import pytest

from chainbreaker.chains.tech.fetch import Fetcher, FetchLimits, decode_body
from chainbreaker.chains.tech.personas import default_personas, persona_by_name
from chainbreaker.synth.websites import REDIRECT_HOST, TestSites
from support.hostile import hostile_sites


@pytest.fixture(scope="module")
def sites():
    s = hostile_sites(["redirect_http", "gambling", "parasite"])
    yield s
    s.close()


def _fetch(sites: TestSites, url: str, *, limits: FetchLimits | None = None, own: bool = False, persona: str = "desktop",
           follow: set[str] | None = None):
    async def run():
        f = Fetcher({sites.host(n) for n in sites.servers}, limits or FetchLimits(delay=0, total_timeout=3),
                    own_sites=own, follow_hosts=follow)
        try:
            return await f.fetch(url, persona_by_name(persona))
        finally:
            await f.close()

    return asyncio.run(run())


def test_personas_cover_agents_with_and_without_referer() -> None:
    names = {p.name for p in default_personas()}
    for agent in ("desktop", "wechat", "baiduspider", "baiduspider-render", "sogou", "360spider", "googlebot"):
        assert agent in names and f"{agent}+ref" in names
    assert "MicroMessenger" in persona_by_name("wechat").user_agent
    assert persona_by_name("googlebot+ref").headers()["Referer"].startswith("https://www.baidu.com/s?wd=")


def test_big_page_is_cut_at_the_limit(sites: TestSites) -> None:
    cap = _fetch(sites, sites.url("hostile", "/big"), limits=FetchLimits(delay=0, max_bytes=1_000_000))
    assert cap.status == 200 and cap.truncated and len(cap.body) == 1_000_000


def test_zip_bomb_is_inflated_in_bounded_steps(sites: TestSites) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cap = _fetch(sites, sites.url("hostile", "/bomb"), limits=FetchLimits(delay=0, max_bytes=2_000_000, total_timeout=10))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert cap.truncated and len(cap.body) == 2_000_000
    assert grown_mb < 60  # 128 MB decompressed would show here


def test_redirect_loop_stops_with_the_chain_recorded(sites: TestSites) -> None:
    cap = _fetch(sites, sites.url("hostile", "/loop"))
    assert cap.error == "redirect_loop"
    assert [r["status"] for r in cap.redirects] == [302, 302]


def test_slow_drip_hits_the_total_timeout(sites: TestSites) -> None:
    start = time.perf_counter()
    cap = _fetch(sites, sites.url("hostile", "/drip"), limits=FetchLimits(delay=0, total_timeout=1.5))
    assert cap.error == "timeout_total"
    assert time.perf_counter() - start < 3


def test_invalid_utf8_decodes_with_replacement(sites: TestSites) -> None:
    cap = _fetch(sites, sites.url("hostile", "/badutf8"))
    text, bad = cap.text()
    assert bad and "ok" in text and "\ufffd" in text
    assert decode_body("赌博".encode("gbk"), "text/html; charset=gbk") == ("赌博", False)


def test_offsite_redirect_is_recorded_not_followed(sites: TestSites) -> None:
    cap = _fetch(sites, sites.url("redirect_http"), persona="desktop+ref")
    assert cap.offsite_redirect == f"http://{REDIRECT_HOST}/?s=1"
    assert cap.redirects[0]["status"] == 302
    plain = _fetch(sites, sites.url("redirect_http"), persona="desktop")
    assert plain.offsite_redirect is None and plain.status == 200


def test_robots_txt_honoured_unless_own_sites(sites: TestSites) -> None:
    async def run(own: bool) -> tuple[bool, bool]:
        f = Fetcher({sites.host("gambling")}, FetchLimits(delay=0), own_sites=own)
        try:
            return (await f.robots_allows(sites.url("gambling", "/private/a.html")),
                    await f.robots_allows(sites.url("gambling", "/")))
        finally:
            await f.close()

    assert asyncio.run(run(False)) == (False, True)
    assert asyncio.run(run(True)) == (True, True)


def test_per_host_delay_and_one_request_at_a_time(sites: TestSites) -> None:
    async def run() -> float:
        f = Fetcher({sites.host("parasite")}, FetchLimits(delay=0.2))
        p = persona_by_name("desktop")
        try:
            start = time.perf_counter()
            await asyncio.gather(*(f.fetch(sites.url("parasite", f"/p{i}.html"), p) for i in range(4)))
            return time.perf_counter() - start
        finally:
            await f.close()

    assert asyncio.run(run()) >= 0.6  # 4 requests, 3 gaps of 0.2 s


def test_other_hosts_are_never_contacted(sites: TestSites) -> None:
    cap = _fetch(sites, "http://www.xpj8866.test/")
    assert cap.status is None and cap.offsite_redirect == "http://www.xpj8866.test/"


def test_contact_rules_targets_www_twin_and_allowlist() -> None:
    f = Fetcher({"example.cn", "www.school.edu.cn"}, follow_hosts={"cdn.allowed.test"})
    try:
        assert f.may_contact("http://example.cn/a") and f.may_contact("https://www.example.cn/")
        assert f.may_contact("http://school.edu.cn/") and f.may_contact("http://cdn.allowed.test/x.js")
        assert not f.may_contact("http://evil.example.cn/") and not f.may_contact("http://other.test/")
        assert not f.may_contact("ftp://example.cn/") and not f.may_contact("javascript:alert(1)")
    finally:
        asyncio.run(f.close())
