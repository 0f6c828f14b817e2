"""Rendering in headless Chromium: scripts run, other hosts are blocked and recorded, a script that
never terminates is killed and the scan goes on."""

from __future__ import annotations

import time

import pytest

from chainbreaker.chains.tech.fetch import FetchLimits
from chainbreaker.chains.tech.scan import scan
from chainbreaker.core.workspace import Workspace
from chainbreaker.synth.websites import LOADER_HOST, REDIRECT_HOST, TestSites
from support.hostile import hostile_sites

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    sites = hostile_sites(["redirect_js", "loader_packed", "title_restore", "hidden_links"])
    ws = Workspace(tmp_path_factory.mktemp("render") / "ws")
    targets = [sites.url(n) for n in ("redirect_js", "loader_packed", "title_restore")] + [sites.url("hostile", "/spin")]
    start = time.perf_counter()
    result = scan(ws, targets, render=True, own_sites=True, limits=FetchLimits(delay=0, total_timeout=5),
                  render_timeout=4)
    elapsed = time.perf_counter() - start
    yield sites, ws, result, elapsed
    sites.close()


def test_never_terminating_script_is_killed_and_scan_goes_on(rendered) -> None:
    sites, ws, result, elapsed = rendered
    spin = [e["error"] for e in result.errors if e["url"].endswith("/spin")]
    assert "render_timeout" in spin
    assert elapsed < 120
    rules = result.rules_by_host()
    assert "inject.loader_script" in rules[sites.host("loader_packed")]


def test_rendered_views_record_blocked_hosts_titles_and_screenshots(rendered) -> None:
    sites, ws, result, _ = rendered
    con = ws.duck()
    rows = con.sql("SELECT url, persona, screenshot_sha256, redirects FROM tech_captures WHERE rendered AND error IS NULL").fetchall()
    assert rows and all(ws.evidence_path(r[2]).exists() for r in rows)
    loader = [r for r in rows if r[0] == sites.url("loader_packed")]
    assert loader and all(LOADER_HOST in r[3] for r in loader)  # tried, blocked, recorded
    titles = dict(con.sql("SELECT persona, title FROM tech_pages WHERE rendered AND url = ?",
                          params=[sites.url("title_restore")]).fetchall())
    assert titles["desktop@render"] == "某某市第一中学"
    assert "澳门新葡京" in titles["baiduspider-render@render"]


def test_referrer_redirect_seen_by_the_browser(rendered) -> None:
    sites, _ws, result, _ = rendered
    f = next(f for f in result.findings if f.rule_id == "inject.referrer_redirect" and sites.host("redirect_js") in f.subject_key)
    assert f.facts["operator_domains"] == [REDIRECT_HOST]


def test_layout_finds_links_hidden_by_an_external_stylesheet(tmp_path) -> None:
    from chainbreaker.chains.tech.personas import default_personas

    sites = TestSites(["news_crackdown", "marquee_notice"], external=True)
    desktop = [p for p in default_personas() if p.name == "desktop"]
    try:
        targets = [sites.url(n) for n in ("hidden_css_file", "news_crackdown", "marquee_notice")]
        static = scan(Workspace(tmp_path / "a"), targets, own_sites=True, personas=desktop,
                      limits=FetchLimits(delay=0))
        assert not static.findings  # the hiding rule is in /css/site.css: invisible to static analysis
        rendered = scan(Workspace(tmp_path / "b"), targets, own_sites=True, personas=desktop,
                        limits=FetchLimits(delay=0), render=True, render_personas=["desktop"])
        assert rendered.rules_by_host() == {sites.host("hidden_css_file"): {"inject.hidden_links"}}
        facts = rendered.findings[0].facts
        assert facts["techniques"] == ["offscreen"] and facts["blocks"][0]["source"] == "layout"
    finally:
        sites.close()
