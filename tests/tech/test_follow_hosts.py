"""Scripts on other hosts are recorded, not fetched, unless the analyst allowlists their host."""

from __future__ import annotations

from chainbreaker.chains.tech.fetch import FetchLimits
from chainbreaker.chains.tech.personas import default_personas
from chainbreaker.chains.tech.scan import scan
from chainbreaker.core.workspace import Workspace
from chainbreaker.synth.websites import LOADER_HOST_2, TestSites


def test_external_loader_only_with_follow_host(tmp_path) -> None:
    sites = TestSites([], external=True)
    personas = [p for p in default_personas() if p.name in ("desktop", "baiduspider")]
    limits = FetchLimits(delay=0, total_timeout=5)
    try:
        plain = scan(Workspace(tmp_path / "a"), [sites.url("external_loader")], own_sites=True, personas=personas,
                     limits=limits)
        assert sites.hits.get("stat_cdn", 0) == 0  # recorded, never contacted
        assert not plain.findings
        pages = Workspace(tmp_path / "a").duck().sql("SELECT DISTINCT offsite_hosts FROM tech_pages").fetchall()
        assert sites.host("stat_cdn") in pages[0][0]

        ws = Workspace(tmp_path / "b")
        followed = scan(ws, [sites.url("external_loader")], own_sites=True, personas=personas, limits=limits,
                        follow_hosts=[sites.host("stat_cdn")])
        assert sites.hits["stat_cdn"] == 1  # one fetch of the script for the whole scan
        loader = [f for f in followed.findings if f.rule_id == "inject.loader_script"]
        assert loader and loader[0].facts["operator_domains"] == [LOADER_HOST_2]
        assert loader[0].facts["script_src"] == sites.url("stat_cdn", "/js/stat.js")
        urls = [r[0] for r in ws.duck().sql("SELECT url FROM tech_captures").fetchall()]
        assert sites.url("stat_cdn", "/js/stat.js") in urls
    finally:
        sites.close()
