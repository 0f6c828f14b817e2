"""End to end: scan every loopback test site and check each technique's rule id, the honest
look-alikes, the facts and evidence of the findings, the lake tables and the hostile endpoints."""

from __future__ import annotations

import json
import time

import pytest

from chainbreaker.chains.tech.detectors import RULES
from chainbreaker.chains.tech.fetch import FetchLimits
from chainbreaker.chains.tech.scan import ScanResult, scan
from chainbreaker.core.errors import InputError
from chainbreaker.core.workspace import Workspace
from chainbreaker.synth.websites import (
    EXPECTED,
    HONEST,
    IFRAME_HOST,
    LOADER_HOST,
    REDIRECT_HOST,
    TestSites,
)
from support.hostile import hostile_sites

TECHNIQUE_SITES = [n for n in EXPECTED if EXPECTED[n]]


@pytest.fixture(scope="module")
def sites():
    s = hostile_sites()
    yield s
    s.close()


@pytest.fixture(scope="module")
def scanned(sites: TestSites, tmp_path_factory) -> tuple[Workspace, ScanResult]:
    ws = Workspace(tmp_path_factory.mktemp("scan") / "ws")
    limits = FetchLimits(delay=0, total_timeout=5)
    result = scan(ws, [sites.url(n) for n in EXPECTED if n != "parasite"], own_sites=True, limits=limits)
    # doorway pages are found through the sitemap and links: one level deeper
    deeper = scan(ws, [sites.url("parasite")], depth=1, own_sites=True, limits=limits)
    result.findings += deeper.findings
    result.captures += deeper.captures
    return ws, result


def _rules(sites: TestSites, result: ScanResult, name: str) -> set[str]:
    return result.rules_by_host().get(sites.host(name), set())


def test_every_rule_id_is_covered_by_a_site() -> None:
    assert set().union(*EXPECTED.values()) == set(RULES)


@pytest.mark.parametrize("name", TECHNIQUE_SITES)
def test_technique_detected_under_its_rule_id(sites: TestSites, scanned, name: str) -> None:
    _ws, result = scanned
    assert _rules(sites, result, name) == EXPECTED[name]


@pytest.mark.parametrize("name", HONEST)
def test_honest_lookalike_not_flagged(sites: TestSites, scanned, name: str) -> None:
    _ws, result = scanned
    assert _rules(sites, result, name) == set()


def _finding(sites: TestSites, result: ScanResult, name: str, rule: str):
    host = sites.host(name)
    return next(f for f in result.findings if f.rule_id == rule and host in f.subject_key)


def test_facts_name_personas_decoded_strings_and_operator_domains(sites: TestSites, scanned) -> None:
    _ws, result = scanned
    title = _finding(sites, result, "title_spider", "inject.title_spider").facts
    assert "澳门新葡京" in title["spider_title"] and "人民政府" in title["visitor_title"]
    assert "baiduspider" in title["spider_personas"]
    restore = _finding(sites, result, "title_restore", "inject.title_spider").facts
    assert restore["mode"] == "script_restore" and restore["script_title"] == "某某市第一中学"
    loader = _finding(sites, result, "loader_packed", "inject.loader_script").facts
    assert loader["operator_domains"] == [LOADER_HOST] and loader["decode_layers"].count("packer") == 2
    arr = _finding(sites, result, "loader_array", "inject.loader_script").facts
    assert arr["operator_domains"] == [IFRAME_HOST] and "array_table" in arr["decode_layers"]
    for name, how in (("redirect_http", "http_redirect"), ("redirect_meta", "meta_refresh"),
                      ("redirect_js", "script_redirect"), ("redirect_iframe", "script_overlay_iframe")):
        facts = _finding(sites, result, name, "inject.referrer_redirect").facts
        assert facts["how"] == how, name
        assert facts["operator_domains"] == [REDIRECT_HOST if name != "redirect_iframe" else IFRAME_HOST]
    cloak = _finding(sites, result, "cloak_ua", "cloak.ua").facts
    assert "baiduspider" in cloak["gambling_personas"] and cloak["statuses"]["googlebot"] == 404
    fake = _finding(sites, result, "fake_error", "cloak.fake_error").facts
    assert "ERR_NAME_NOT_RESOLVED" in fake["signatures"] and "desktop" in fake["fake_error_personas"]
    assert "baiduspider" in fake["gambling_for"]
    parasite = [f for f in result.findings if f.rule_id == "inject.parasite"]
    assert {f.subject_key.split(sites.host("parasite"))[1] for f in parasite} == {
        "/tags/baijiale.html", "/search.php?kw=%E7%99%BE%E5%AE%B6%E4%B9%90"}


def test_hidden_link_techniques_each_recognised(sites: TestSites, scanned) -> None:
    from chainbreaker.synth.websites import HIDDEN_TECHNIQUES

    _ws, result = scanned
    facts = _finding(sites, result, "hidden_links", "inject.hidden_links").facts
    assert set(facts["techniques"]) == set(HIDDEN_TECHNIQUES)
    assert facts["offsite_links"] >= 30 and all(d.endswith(".test") for d in facts["operator_domains"])


def test_evidence_points_at_stored_captures(sites: TestSites, scanned) -> None:
    ws, result = scanned
    for f in result.findings:
        assert f.evidence, f.rule_id
        for ev in f.evidence:
            assert ws.evidence_path(ev["capture"]).exists()
            assert ev["persona"]


def test_lake_tables_and_findings_written(scanned) -> None:
    ws, result = scanned
    con = ws.duck()
    n_caps = con.sql("SELECT count(*) FROM tech_captures").fetchall()[0][0]
    assert n_caps == result.captures
    personas = {r[0] for r in con.sql("SELECT DISTINCT persona FROM tech_pages").fetchall()}
    assert len(personas) == 14
    stored = con.sql("SELECT rule_id, count(*) FROM findings WHERE chain = 'tech' GROUP BY 1").fetchall()
    assert sum(n for _, n in stored) == len(result.findings)
    kinds = {r[0] for r in con.sql("SELECT DISTINCT kind FROM tech_indicators").fetchall()}
    assert kinds  # the gambling pages name bank cards, crypto addresses, QQ, Telegram
    cols = set(ws.read_arrow("tech_indicators").column_names)
    assert {"host", "url", "persona", "kind", "value", "context", "capture_sha256"} <= cols
    facts = json.loads(con.sql("SELECT facts FROM findings WHERE rule_id = 'gambling.site'").fetchall()[0][0])
    assert facts["reasons"]


def test_rescan_replaces_findings_of_the_same_subjects(sites: TestSites, tmp_path) -> None:
    ws = Workspace(tmp_path / "ws")
    limits = FetchLimits(delay=0, total_timeout=5)
    first = scan(ws, [sites.url("gambling"), sites.url("cloak_ua")], own_sites=True, limits=limits)
    scan(ws, [sites.url("gambling")], own_sites=True, limits=limits)
    stored = ws.duck().sql("SELECT rule_id FROM findings ORDER BY 1").fetchall()
    assert [r[0] for r in stored] == sorted(f.rule_id for f in first.findings)


def test_hostile_inputs_bounded_and_scan_goes_on(sites: TestSites, tmp_path) -> None:
    ws = Workspace(tmp_path / "ws")
    targets = [sites.url("hostile", p) for p in ("/big", "/loop", "/drip", "/badutf8", "/bomb")] + [sites.url("gambling")]
    start = time.perf_counter()
    from chainbreaker.chains.tech.personas import default_personas

    two = [p for p in default_personas() if p.name in ("desktop", "baiduspider")]
    result = scan(ws, targets, own_sites=True, personas=two,
                  limits=FetchLimits(delay=0, total_timeout=2, max_bytes=2_000_000))
    assert time.perf_counter() - start < 30
    errors = {(e["url"].rsplit("/", 1)[-1], e["error"]) for e in result.errors}
    assert ("drip", "timeout_total") in errors and ("loop", "redirect_loop") in errors
    caps = ws.duck().sql("SELECT url, truncated, bytes, bad_bytes FROM tech_captures").fetchall()
    by_path = {u.rsplit("/", 1)[-1]: (t, b, bad) for u, t, b, bad in caps}
    assert by_path["big"][0] and by_path["big"][1] == 2_000_000
    assert by_path["bomb"][0] and by_path["bomb"][1] == 2_000_000
    assert by_path["badutf8"][2]
    assert "gambling.site" in result.rules_by_host()[sites.host("gambling")]


def test_bad_targets_are_a_clear_error(tmp_path) -> None:
    with pytest.raises(InputError) as exc:
        scan(Workspace(tmp_path / "ws"), ["ftp://x", "   "])
    assert "没有可扫描的网址" in exc.value.zh and "ftp://x" in exc.value.en
    assert not (tmp_path / "ws" / "lake" / "_manifest.json").exists()


def test_page_cap_limits_discovery_not_explicit_targets(sites: TestSites, tmp_path) -> None:
    from chainbreaker.chains.tech.personas import default_personas

    desktop = [p for p in default_personas() if p.name == "desktop"]
    targets = [sites.url("lottery", f"/kj/{i}.html") for i in range(5)]
    result = scan(Workspace(tmp_path / "ws"), targets, depth=1, own_sites=True, personas=desktop,
                  limits=FetchLimits(delay=0), max_pages_per_host=3)
    assert set(targets) <= set(result.urls)  # all 5 targets (+ the home page) despite the cap of 3
    assert len(result.urls) == 6
