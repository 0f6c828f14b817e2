"""Packages for partner agencies: each gets what it needs about one case and nothing more; each
package is recorded."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from chainbreaker.core.errors import InputError
from chainbreaker.core.model.finding import Finding, findings_table
from chainbreaker.ops.cases import open_case_from_finding
from chainbreaker.ops.db import engine_for, session_scope
from chainbreaker.ops.importer import import_returns
from chainbreaker.ops.sharing import share
from chainbreaker.ops.sharing_models import SharePackage
from chainbreaker.ops.tips import link_tip, submit_tip

from .seed_workbook import resident_id

ID_IN_TEXT = resident_id(7)


def _setup(ws, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    funds = Finding(run_id="r", chain="funds", rule_id="funds.fan_in", subject_type="account",
                    subject_key="6222000011112222", score=0.91,
                    explanation_zh=f"=1+1 户主身份证 {ID_IN_TEXT}，3 天内 41 个账户转入", explanation_en="41 payers",
                    evidence=[{"table": "transactions", "row": 1}, {"table": "transactions", "row": 2}])
    tech = Finding(run_id="r", chain="tech", rule_id="gambling.site", subject_type="site",
                   subject_key="www.bet-777.net", score=0.95, explanation_zh="赌博网站", explanation_en="gambling")
    with ws.transaction("test") as tx:
        tx.write("findings", findings_table([funds, tech]))
    number = open_case_from_finding(ws, funds.id, number="S-1").number
    open_case_from_finding(ws, tech.id, number="S-2")
    from chainbreaker.ops.casework_models import Case, CaseLink

    with session_scope(engine_for(ws)) as s:  # the tech finding joins case S-1 too
        s1 = s.scalars(select(Case).where(Case.number == "S-1")).one()
        link = s.scalars(select(CaseLink).where(CaseLink.ref == tech.id)).one()
        s.add(CaseLink(case_id=s1.id, kind="finding", ref=tech.id, chain="tech", rule_id=link.rule_id, linked_by="t"))
    wb = Workbook()
    wb.active.title = "强制措施"
    wb["强制措施"].append(["身份证号", "姓名", "案件编号", "措施", "日期"])
    wb["强制措施"].append([resident_id(1), "钱七", number, "刑事拘留", "2025-10-01"])
    wb["强制措施"].append([resident_id(1), "钱七", number, "逮捕", "2025-10-20"])
    wb.save(tmp_path / "m.xlsx")
    import_returns(ws, tmp_path / "m.xlsx")
    tip = submit_tip(ws, "赌场网址 https://pay.bet-888.org/x")
    link_tip(ws, tip.receipt_code, number)
    return number


def test_each_agency_gets_its_package_and_it_is_recorded(ops_ws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    number = _setup(ops_ws, tmp_path)
    out = tmp_path / "out"
    freeze = share(ops_ws, number, "freeze", "某银行省分行", out, user="li")
    assert freeze.rows == 1 and [p.suffix for p in freeze.files] == [".csv", ".xlsx"]
    with open(freeze.files[0], encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[1][0] == "6222000011112222" and rows[1][3] == "2"
    assert ID_IN_TEXT not in rows[1][4] and rows[1][4].startswith("'=")  # ID masked, formula neutralised
    sheet = load_workbook(freeze.files[1]).worksheets[0]
    assert sheet.cell(2, 1).value == "6222000011112222" and not str(sheet.cell(2, 5).value).startswith("=")

    exit_ = share(ops_ws, number, "exit", "边检总站", out, user="li")
    with open(exit_.files[0], encoding="utf-8-sig") as fh:
        people = list(csv.reader(fh))
    assert people[0] == ["身份证号", "姓名", "案件编号", "强制措施", "措施日期"]
    assert {r[0] for r in people[1:]} == {resident_id(1)} and len(people) == 3

    block = share(ops_ws, number, "blocklist", "省通信管理局", out, fmt="domains", user="li")
    names = block.files[0].read_text("utf-8").split()
    assert "bet-777.net" in names and "bet-888.org" in names
    stix = share(ops_ws, number, "indicators", "部情报中心", out, user="li")
    bundle = json.loads(stix.files[0].read_text("utf-8"))
    assert bundle["type"] == "bundle" and any("bet-888.org" in o.get("pattern", "") for o in bundle["objects"])

    with session_scope(engine_for(ops_ws)) as s:
        recorded = s.scalars(select(SharePackage).order_by(SharePackage.id)).all()
        assert [(r.kind, r.recipient, r.shared_by) for r in recorded] == [
            ("freeze", "某银行省分行", "li"), ("exit", "边检总站", "li"), ("blocklist", "省通信管理局", "li"),
            ("indicators", "部情报中心", "li")]
        assert all(len(json.loads(r.files)[0]["sha256"]) == 64 for r in recorded)
    assert (ops_ws.root / "audit.jsonl").read_text("utf-8").count('"ops.share"') >= 6
    with pytest.raises(InputError):
        share(ops_ws, number, "indicators", "x", out, fmt="hosts")
    with pytest.raises(InputError):
        share(ops_ws, "NO-SUCH", "freeze", "x", out)
