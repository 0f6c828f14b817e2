"""``chainbreaker report --out DIR`` (研判报告) for a real workspace: whichever chains have data.

Two workspaces: one holding only a 调单 package (the other chains say "no data"), and one with all
four chains (bank statements, travel records, a seized platform, a scan of loopback websites).
No ground truth is shown; personal data follow the role; times are in the configured zone.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types

import pytest

from chainbreaker.core.workspace import Workspace
from chainbreaker.faces.reports.case_report import chain_sections, write_report
from ingest_bank.builders import LI, ZHANG, request_folder


def _cb(ws: Workspace, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "CHAINBREAKER_WORKSPACE": str(ws.root), "COLUMNS": "200", **env}
    return subprocess.run([sys.executable, "-m", "chainbreaker.faces.cli.main", *args], capture_output=True, text=True,
                          env=full)


def _self_contained(page: str) -> None:
    assert "<script" not in page.lower()
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page) and "url(http" not in page


@pytest.fixture(scope="module")
def bank_only(tmp_path_factory):
    from chainbreaker.chains.funds.bank.service import ingest_bank
    from chainbreaker.chains.funds.screen import screen
    from chainbreaker.chains.funds.suggest import suggest

    root = tmp_path_factory.mktemp("bank-only")
    ws = Workspace(root / "ws")
    ingest_bank(ws, [request_folder(root / "调单")], progress=None, workers=1)
    screen(ws)
    suggest(ws)
    return ws


@pytest.fixture(scope="module")
def all_chains(tmp_path_factory):
    from chainbreaker.chains.funds.bank.service import ingest_bank
    from chainbreaker.chains.funds.screen import screen
    from chainbreaker.chains.funds.suggest import suggest
    from chainbreaker.chains.people.analyze import analyze as people_analyze
    from chainbreaker.chains.people.ingest import ingest_travel
    from chainbreaker.chains.promotion.analyze import analyze as promotion_analyze
    from chainbreaker.chains.promotion.ingest import ingest_platform
    from chainbreaker.chains.tech.fetch import FetchLimits
    from chainbreaker.chains.tech.scan import scan
    from chainbreaker.synth.platform import export_platform, generate_platform
    from chainbreaker.synth.travel import write_travel_files
    from chainbreaker.synth.websites import running_test_sites

    root = tmp_path_factory.mktemp("all-chains")
    ws = Workspace(root / "ws")
    ingest_bank(ws, [request_folder(root / "调单")], progress=None, workers=1)
    screen(ws)
    suggest(ws)
    travel = write_travel_files(root / "province", 300, seed=5)
    ingest_travel(ws, [root / "province" / "travel"])
    people_analyze(ws, travel.as_of)
    platform = generate_platform("pyramid", 300, 2000, seed=5, name="扣押平台")
    ingest_platform(ws, export_platform(platform, root / "platform", formats=("csv",))["csv"], platform.name)
    promotion_analyze(ws)
    with running_test_sites(["title_spider", "gambling", "news_crackdown"]) as sites:
        scan(ws, [sites.url(n) for n in ("title_spider", "gambling", "news_crackdown")], own_sites=True,
             limits=FetchLimits(delay=0, total_timeout=5))
    return ws, travel


def test_bank_only_workspace_gets_the_funds_part_and_no_data_for_the_others(bank_only, tmp_path):
    ws = bank_only
    res = _cb(ws, "report", "--out", str(tmp_path / "report"))
    assert res.returncode == 0, res.stderr
    page = (tmp_path / "report" / "index.html").read_text("utf-8")
    _self_contained(page)
    for sid in ("summary", "funds", "ingest", "coverage", "top", "trace", "suggest"):
        assert f'id="{sid}"' in page, sid
    assert ZHANG["card"] in page  # the top-ranked account of this package, with its rules and evidence
    assert "命中规则" in page and "证据（源数据行）" in page
    for chain in ("people", "promotion", "tech"):
        section = page.split(f'id="section-{chain}"')[1].split("</section>")[0]
        assert "本工作区没有该链的数据" in section, chain
    assert "tag truth" not in page and "召回率" not in page and "<th>真值<" not in page  # no ground truth
    audit = [json.loads(x) for x in (ws.root / "audit.jsonl").read_text("utf-8").splitlines()]
    assert [a["phase"] for a in audit if a["action"] == "report"][-2:] == ["start", "done"]
    assert audit[-1]["chains"] == ["funds"]


def test_statements_ingested_but_not_screened_say_what_to_run(tmp_path):
    from chainbreaker.chains.funds.bank.service import ingest_bank

    ws = Workspace(tmp_path / "ws")
    ingest_bank(ws, [request_folder(tmp_path / "调单")], progress=None, workers=1)
    result = write_report(ws, tmp_path / "report")
    page = result["report"].read_text("utf-8")
    assert result["chains"] == ["funds"] and "chainbreaker funds screen" in page


def test_all_chains_appear_with_their_own_sections(all_chains, tmp_path):
    ws, _ = all_chains
    result = write_report(ws, tmp_path / "report", role="analyst")
    assert result["chains"] == ["funds", "people", "promotion", "tech"]
    assert all(s["error"] is None and not s["empty"] for s in result["sections"]), result["sections"]
    page = result["report"].read_text("utf-8")
    _self_contained(page)
    assert "滞留境外" in page and "travel.group" in page  # people
    assert "平台：扣押平台" in page and "<svg" in page  # promotion: top agents and the tree picture
    assert "标题劫持" in page and "赌博网站" in page  # tech: findings by rule with Chinese names
    assert "tag truth" not in page and "召回率" not in page


def test_personal_data_follow_the_role(all_chains, tmp_path):
    ws, travel = all_chains
    con = ws.duck()
    stranded_ids = [k[3:] for (k,) in con.sql("SELECT person_key FROM travel_person_metrics WHERE stranded "
                                              "AND person_key LIKE 'ID:%'").fetchall()]
    assert stranded_ids
    viewer = write_report(ws, tmp_path / "viewer", role="viewer")["report"].read_text("utf-8")
    admin = write_report(ws, tmp_path / "admin", role="admin")["report"].read_text("utf-8")
    assert not [i for i in stranded_ids if i in viewer]  # masked for a viewer
    assert [i for i in stranded_ids if i in admin]  # the same page in clear for an admin
    assert LI["id"] not in viewer


def test_english_report_and_another_zone(all_chains, tmp_path, monkeypatch):
    ws, _ = all_chains
    monkeypatch.setenv("CHAINBREAKER_TIMEZONE", "Asia/Tokyo")
    page = write_report(ws, tmp_path / "en", lang="en")["report"].read_text("utf-8")
    assert "case report" in page and "Top accounts" in page and "重点账户" not in page
    assert "Asia/Tokyo" in page
    updated = ws.tables()["transactions"]["updated"]
    import datetime as dt
    from zoneinfo import ZoneInfo

    local = dt.datetime.fromisoformat(updated).astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M:%S")
    assert local in page


def test_a_failing_chain_section_is_shown_not_fatal(bank_only, monkeypatch):
    bad = types.ModuleType("cb_test_bad_report_section")

    def boom(ws, lang="zh", role="analyst"):
        raise RuntimeError("section exploded")

    bad.report_section = boom
    monkeypatch.setitem(sys.modules, "cb_test_bad_report_section", bad)
    sections = chain_sections(bank_only, "zh", "analyst", {"bad": "cb_test_bad_report_section:report_section",
                                                           "people": "chainbreaker.faces.reports.demo.people:report_section"})
    by = {s["chain"]: s for s in sections}
    assert "section exploded" in by["bad"]["error"] and by["people"]["empty"]


def test_report_needs_an_existing_workspace(tmp_path):
    res = subprocess.run([sys.executable, "-m", "chainbreaker.faces.cli.main", "--workspace", str(tmp_path / "none"),
                          "report", "--out", str(tmp_path / "r")], capture_output=True, text=True)
    assert res.returncode == 2 and "工作区不存在" in res.stderr and not (tmp_path / "none").exists()
