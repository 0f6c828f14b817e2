"""Regression corpus of injection kits (tests/support/kits): every kit is found under its rule ids,
whatever obfuscation and syntax it uses, and every honest look-alike gives zero findings.

Each kit is its own loopback host; the scan uses all 14 personas, as an analyst's would.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from chainbreaker.chains.tech.fetch import FetchLimits
from chainbreaker.chains.tech.scan import scan
from chainbreaker.core.workspace import Workspace
from support import kitgen
from support.kitserver import KitSites, load_kits

KITS = load_kits()
TECHNIQUE_KITS = [k.name for k in KITS if not k.honest]
HONEST_KITS = [k.name for k in KITS if k.honest]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    sites = KitSites()
    ws = Workspace(tmp_path_factory.mktemp("kits") / "ws")
    limits = FetchLimits(delay=0, total_timeout=5)
    findings = []
    for mode, depth in (("root", 0), ("depth1", 1), ("path", 0)):
        targets = sites.targets(mode)
        if targets:
            findings += scan(ws, targets, depth=depth, own_sites=True, limits=limits).findings
    by_kit: dict[str, list] = {}
    for f in findings:
        host = f.subject_key if f.subject_type == "site" else urlsplit(f.subject_key).netloc
        by_kit.setdefault(sites.name_of(host) or host, []).append(f)
    yield sites, by_kit
    sites.close()


def _rules(by_kit: dict, name: str) -> set[str]:
    return {f.rule_id for f in by_kit.get(name, [])}


def _finding(by_kit: dict, name: str, rule: str):
    return next(f for f in by_kit[name] if f.rule_id == rule)


@pytest.mark.parametrize("name", TECHNIQUE_KITS)
def test_kit_found_under_its_rule_ids(corpus, name: str) -> None:
    _sites, by_kit = corpus
    kit = next(k for k in KITS if k.name == name)
    assert _rules(by_kit, name) == kit.expect


@pytest.mark.parametrize("name", HONEST_KITS)
def test_honest_lookalike_gives_no_finding(corpus, name: str) -> None:
    _sites, by_kit = corpus
    assert _rules(by_kit, name) == set()


def test_no_victim_is_reported_as_a_gambling_site(corpus) -> None:
    _sites, by_kit = corpus
    assert not [n for n, fs in by_kit.items() if any(f.rule_id == "gambling.site" for f in fs)]


def test_loader_facts_name_the_operator_whatever_the_spelling(corpus) -> None:
    _sites, by_kit = corpus
    expected = {"loader_packer_twice": "js.tj-9988.test", "loader_hex_string": "cdn.xpj-9527.test",
                "loader_strarray_rotated": "vip.hg-8866.test", "loader_strarray_checksum": "cdn.bet-tongji.test",
                "loader_strarray_b64": "js.amjs-365.test", "loader_eval_atob": "js.ylc-8899.test",
                "loader_fromcharcode": "js.xpj-stat.test", "loader_unescape": "tj.amjs-9.test",
                "loader_insertadjacent_bracket": "vip.am-bet.test", "loader_tongji_lookalike": "hm.baidu.com.tj-cdn8.test"}
    for name, host in expected.items():
        facts = _finding(by_kit, name, "inject.loader_script").facts
        assert facts["operator_domains"] == [host], name
    assert "array_table" in _finding(by_kit, "loader_strarray_checksum", "inject.loader_script").facts["decode_layers"]
    assert _finding(by_kit, "loader_unescape", "inject.loader_script").facts["obfuscated"] is False


def test_title_swaps_record_the_gate_and_the_engines(corpus) -> None:
    _sites, by_kit = corpus
    f = _finding(by_kit, "title_ua_indexof", "inject.title_spider").facts
    assert f["mode"] == "script_restore" and f["gate"] == "user_agent"
    assert f["html_title"] == "PG电子官方网站" and f["script_title"] == "某某县第二中学"
    assert {"baidu", "sogou", "360"} <= set(f["engines"]) and f["html_head_gambling"]
    assert set(_finding(by_kit, "title_ua_regex_packed", "inject.title_spider").facts["engines"]) >= {"sogou", "toutiao", "sm"}
    assert _finding(by_kit, "title_referrer_gate", "inject.title_spider").facts["gate"] == "referrer"
    dup = _finding(by_kit, "head_duplicated", "inject.title_spider").facts
    assert dup["mode"] == "head_injected" and dup["duplicated_head"]
    assert dup["html_title"] == "开云体育(中国)官方网站-登录入口" and "开云" in dup["description"]
    swap = _finding(by_kit, "title_spider_description", "inject.title_spider").facts
    assert swap["mode"] == "server_swap" and "百家乐" in swap["spider_description"]


def test_same_site_redirects_are_reported_and_their_landing_classified(corpus) -> None:
    sites, by_kit = corpus
    js = _finding(by_kit, "redirect_same_host_js", "inject.referrer_redirect").facts
    assert js["how"] == "script_redirect" and js["same_host"] and js["operator_domains"] == []
    assert js["target"] == sites.url("redirect_same_host_js", "/bc/index.html")
    assert js["landing_fetched"] and js["landing_gambling"] and "开云" in js["landing_title"]
    http = _finding(by_kit, "redirect_same_host_302", "inject.referrer_redirect").facts
    assert http["how"] == "http_redirect" and http["same_host"] and http["landing_gambling"]
    meta = _finding(by_kit, "redirect_meta_js_built", "inject.referrer_redirect").facts
    assert meta["target"] == "http://m.amjs-88.test/" and meta["operator_domains"] == ["m.amjs-88.test"]


def test_cloaked_doorways_are_parasites_and_cloaking_both(corpus) -> None:
    sites, by_kit = corpus
    for name in ("doorway_spider_only", "doorway_search_only"):
        kit = next(k for k in KITS if k.name == name)
        parasite = _finding(by_kit, name, "inject.parasite")
        assert parasite.subject_key == sites.url(name, kit.path)
        assert parasite.facts["also"] == ["cloak.ua"] and parasite.facts["served_only_to"]
        assert set(parasite.facts["other_statuses"].values()) == {404}
        assert _finding(by_kit, name, "cloak.ua").subject_key == parasite.subject_key
    spider_only = _finding(by_kit, "doorway_spider_only", "inject.parasite").facts["served_only_to"]
    assert spider_only and all("spider" in p or "bot" in p or "sogou" in p for p in spider_only)


def test_kit_files_are_what_their_recipes_build() -> None:
    built = kitgen.build()
    for name, text in built.items():
        assert (kitgen.KITS / name).read_text("utf-8") == text, f"{name}: run python -m support.kitgen"


def test_every_kit_has_a_source_note_and_a_file() -> None:
    files = {p.stem for p in kitgen.KITS.glob("*.html")}
    for kit in KITS:
        assert len(kit.source) > 20 and "\n" not in kit.source, kit.name
        assert (kit.file or kit.name) in files, kit.name
        assert kit.honest or kit.expect, kit.name
    assert {k.technique for k in KITS if not k.honest} >= {"loader", "title", "victim", "redirect", "hidden_links",
                                                           "doorway"}
