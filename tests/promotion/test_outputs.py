"""Evidence workbook, CLI and demo section."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from chainbreaker.core.workspace import Workspace


def test_workbook_for_an_edge_agent(analysed, pyramid, tmp_path: Path) -> None:
    from chainbreaker.chains.promotion.workbook import write_workbook

    ws, _ = analysed
    out = tmp_path / "证据.xlsx"
    counts = write_workbook(ws, pyramid.edge.accounts_121_persons_120, out, platform=pyramid.name)
    wb = openpyxl.load_workbook(out, read_only=True)
    assert wb.sheetnames == ["摘要", "上线路径", "伞下会员", "定罪量刑标准", "人员合并"]
    summary = {r[0]: r[1] for r in wb["摘要"].iter_rows(values_only=True) if r[0]}
    assert summary["伞下账号数"] == 121 and summary["伞下参赌人数（去重后）"] == 120
    assert summary["赌资认定口径"].startswith("stake") and "N10-S3" in summary
    assert counts["伞下会员"] == 121
    rows = list(wb["伞下会员"].iter_rows(values_only=True))
    assert rows[0][:3] == ("会员ID", "用户名", "直属上级") and len(rows) == 122
    assert sum(r[7] for r in rows[1:]) == 121 * 100.0  # every member staked 100 yuan
    th = {r[0]: r for r in wb["定罪量刑标准"].iter_rows(values_only=True)}
    assert th["N10-S3"][4] == 120 and th["N10-S3"][6] == "达到" and "公通字〔2010〕40号" in th["N10-S3"][7]
    assert th["N10-S2"][6] == "未达到" and th["OG"][6] == "未设定"
    assert not any("立案标准" in str(c) for r in th.values() for c in r)
    merged = list(wb["人员合并"].iter_rows(values_only=True))[1:]
    assert len({r[1] for r in merged}) == 2 and len({r[0] for r in merged}) == 1  # two accounts, one person
    assert "phone" in {r[2] for r in merged}
    assert len(list(wb["上线路径"].iter_rows(values_only=True))) == 2  # header + the branch root
    audit = [json.loads(x) for x in (ws.root / "audit.jsonl").read_text("utf-8").splitlines()]
    assert audit[-1]["action"] == "promotion.workbook"


def test_cli_end_to_end(exports, pyramid, tmp_path: Path) -> None:
    from chainbreaker.faces.cli.main import app

    runner = CliRunner()
    env = {"CHAINBREAKER_WORKSPACE": str(tmp_path / "ws")}
    r = runner.invoke(app, ["ingest", "platform", str(exports["pyramid"]["mysql"]), "--platform", "甲"], env=env)
    assert r.exit_code == 0, r.output
    assert "保留 会员" in r.output
    r = runner.invoke(app, ["promotion", "analyze", "--basis", "deposit"], env=env)
    assert r.exit_code == 0, r.output
    assert "N10-S3" in r.output and "deposit" in r.output
    out = tmp_path / "wb.xlsx"
    r = runner.invoke(app, ["promotion", "workbook", pyramid.edge.persons_120, "--out", str(out)], env=env)
    assert r.exit_code == 0 and out.exists(), r.output
    r = runner.invoke(app, ["promotion", "top", "--limit", "3"], env=env)
    assert r.exit_code == 0 and "伞下人数" in r.output
    r = runner.invoke(app, ["--lang", "en", "promotion", "thresholds"], env=env)
    assert r.exit_code == 0 and "aggravation" in r.output
    assert any(run["kind"] == "promotion.analyze" for run in Workspace(tmp_path / "ws").runs())


def test_demo_section(tmp_path: Path) -> None:
    from chainbreaker.faces.reports.demo.promotion import run_demo

    ws = Workspace(tmp_path / "ws")
    section = run_demo(ws, tmp_path / "work", "zh", n_members=400, n_bets=3000)
    assert section["title_zh"] and section["title_en"]
    html = section["html"]
    assert "<svg" in html and "N10-S3" in html and "http" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "立案标准" not in html
    en = run_demo(Workspace(tmp_path / "ws2"), tmp_path / "work2", "en", n_members=200, n_bets=1000)
    assert "agents" in en["html"]
