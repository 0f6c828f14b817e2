"""The kit corpus in headless Chromium: the generated (obfuscated) JavaScript really runs, and the
browser tries the loads, sets the titles and follows the redirects that static decoding reported."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from chainbreaker.chains.tech.fetch import FetchLimits
from chainbreaker.chains.tech.personas import default_personas
from chainbreaker.chains.tech.scan import scan
from chainbreaker.core.workspace import Workspace
from support.kitserver import KitSites

pytestmark = pytest.mark.browser

LOADERS = ["loader_packer_twice", "loader_hex_string", "loader_strarray_rotated", "loader_strarray_checksum",
           "loader_strarray_b64", "loader_eval_atob", "loader_fromcharcode", "loader_unescape",
           "loader_insertadjacent_bracket", "loader_tongji_lookalike"]
TITLES = ["title_ua_indexof", "title_ua_regex_packed", "title_ua_match_strarray", "title_referrer_gate"]
REDIRECTS = ["redirect_meta_js_built", "redirect_replace_strarray", "redirect_top_location_hex"]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    sites = KitSites(LOADERS + TITLES + REDIRECTS)
    ws = Workspace(tmp_path_factory.mktemp("kits-render") / "ws")
    personas = [p for p in default_personas() if p.name in ("desktop", "desktop+ref")]
    result = scan(ws, sites.targets("root"), render=True, own_sites=True, personas=personas,
                  limits=FetchLimits(delay=0, total_timeout=5), render_personas=["desktop", "desktop+ref"],
                  render_timeout=8)
    con = ws.duck()
    caps = con.sql("SELECT url, persona, redirects, final_url, error FROM tech_captures WHERE rendered").fetchall()
    titles = con.sql("SELECT url, persona, title FROM tech_pages WHERE rendered").fetchall()
    yield sites, result, caps, titles
    sites.close()


def _static(result, sites: KitSites, name: str, rule: str):
    return next(f for f in result.findings if f.rule_id == rule and sites.host(name) in f.subject_key
                and f.facts.get("how") != "rendered")


@pytest.mark.parametrize("name", LOADERS)
def test_browser_tries_the_load_static_decoding_found(rendered, name: str) -> None:
    sites, result, caps, _ = rendered
    static = _static(result, sites, name, "inject.loader_script")
    row = next(c for c in caps if c[0] == sites.url(name) and c[1] == "desktop@render")
    assert row[4] is None, row[4]
    blocked = {urlsplit(b["url"]).netloc for b in json.loads(row[2])["blocked"]}
    assert set(static.facts["operator_domains"]) <= blocked


@pytest.mark.parametrize("name", TITLES)
def test_browser_shows_visitors_the_title_the_script_restores(rendered, name: str) -> None:
    sites, result, _, titles = rendered
    static = _static(result, sites, name, "inject.title_spider")
    shown = {p: t for u, p, t in titles if u == sites.url(name)}
    assert shown["desktop@render"] == static.facts["script_title"]


@pytest.mark.parametrize("name", REDIRECTS)
def test_browser_sends_search_visitors_where_static_decoding_said(rendered, name: str) -> None:
    sites, result, caps, _ = rendered
    static = _static(result, sites, name, "inject.referrer_redirect")
    ref = next(c for c in caps if c[0] == sites.url(name) and c[1] == "desktop+ref@render")
    plain = next(c for c in caps if c[0] == sites.url(name) and c[1] == "desktop@render")
    target_host = urlsplit(static.facts["target"]).netloc
    assert target_host in {urlsplit(b["url"]).netloc for b in json.loads(ref[2])["blocked"] if b["type"] == "document"}
    assert target_host not in {urlsplit(b["url"]).netloc for b in json.loads(plain[2])["blocked"]}
