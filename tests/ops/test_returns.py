"""Monthly returns: template, import with quarantine, idempotent re-import, updates in history."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from chainbreaker.core.errors import InputError
from chainbreaker.ops.casework_models import Case, History, ImportQuarantine, Measure, Seizure, Suspect
from chainbreaker.ops.db import engine_for, session_scope
from chainbreaker.ops.importer import import_returns
from chainbreaker.ops.returns import write_template
from chainbreaker.ops.returns_spec import SHEETS

from .seed_workbook import BAD_ROWS, build


def test_template_has_the_issue_headers(tmp_path: Path) -> None:
    wb = load_workbook(write_template(tmp_path / "t.xlsx"))
    for spec in SHEETS:
        assert [c.value for c in wb[spec.name][1]] == [c.header for c in spec.columns]
    assert [c.value for c in wb["扣押冻结"][1]] == ["案件编号", "类型", "金额（元）", "日期"]


def test_seed_workbook_imports_with_quarantine_and_reimport_is_a_no_op(ops_ws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = build(tmp_path / "returns.xlsx")
    first = import_returns(ops_ws, path)
    assert first.sheets["案件"].created == 336
    assert first.sheets["团伙"].created == 261
    assert first.sheets["涉案平台"].created == 55
    assert first.sheets["扣押冻结"].created == 420
    assert len(first.quarantine) == BAD_ROWS
    assert set(first.reasons()) == {"date_invalid", "case_unknown", "id_invalid", "amount_fraction", "kind_invalid"}
    assert first.ignored_sheets == ["备注"]
    with session_scope(engine_for(ops_ws)) as s:
        assert s.scalar(select(func.count()).select_from(Suspect)) == 1578
        assert s.scalar(select(func.count()).select_from(Measure)) > 1578  # several measures for some persons
        assert s.scalar(select(func.sum(Seizure.amount))) == Decimal("2700000000.00")
        assert s.scalar(select(func.count()).select_from(Case).where(Case.supervision == "部督")) == 14
        history = s.scalar(select(func.count()).select_from(History))
        quarantined = s.scalar(select(func.count()).select_from(ImportQuarantine))
    assert quarantined == BAD_ROWS

    again = import_returns(ops_ws, path)
    assert sum(c.created + c.updated for c in again.sheets.values()) == 0
    with session_scope(engine_for(ops_ws)) as s:
        assert s.scalar(select(func.count()).select_from(History)) == history
        assert s.scalar(select(func.count()).select_from(ImportQuarantine)) == BAD_ROWS  # not doubled


def test_changed_row_is_an_update_recorded_in_history(ops_ws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def workbook(level: str, amount: str) -> Path:
        wb = Workbook()
        wb.active.title = "案件"
        wb["案件"].append(["案件编号", "案件名称", "督办级别", "立案日期", "主办单位"])
        wb["案件"].append(["A-1", "测试案", level, "2025-10-02", "昆明市公安局"])
        wb.create_sheet("扣押冻结").append(["案件编号", "类型", "金额（元）", "日期"])
        wb["扣押冻结"].append(["A-1", "冻结", amount, "2025-10-03"])
        path = tmp_path / f"r-{level}-{amount}.xlsx"
        wb.save(path)
        return path

    import_returns(ops_ws, workbook("市督", "100.10"))
    second = import_returns(ops_ws, workbook("省督", "200.20"))
    assert second.sheets["案件"].updated == 1 and second.sheets["扣押冻结"].updated == 1
    with session_scope(engine_for(ops_ws)) as s:
        case = s.scalars(select(Case)).one()
        assert case.supervision == "省督"
        assert s.scalar(select(Seizure.amount)) == Decimal("200.20")
        updates = s.scalars(select(History).where(History.action == "updated").order_by(History.id)).all()
    assert [(h.entity, json.loads(h.changes or "{}")) for h in updates] == [
        ("case", {"supervision": ["市督", "省督"]}), ("seizure", {"amount": ["100.10", "200.20"]})]


def test_missing_column_is_a_clear_error(ops_ws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wb = Workbook()
    wb.active.title = "案件"
    wb["案件"].append(["案件编号", "案件名称", "主办单位"])
    wb["案件"].append(["A-1", "测试案", "昆明市公安局"])
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(InputError) as err:
        import_returns(ops_ws, tmp_path / "bad.xlsx")
    assert "立案日期" in err.value.zh and "案件编号" in err.value.zh
    assert "lacks column" in err.value.en


def test_not_a_workbook_is_a_clear_error(ops_ws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "x.xlsx").write_bytes(b"not a zip at all")
    with pytest.raises(InputError, match="not a readable XLSX"):
        import_returns(ops_ws, tmp_path / "x.xlsx")
    for name in ("old.xls", "returns.csv"):
        (tmp_path / name).write_text("a,b\n1,2\n", "utf-8")
        with pytest.raises(InputError, match="save .xls or CSV as .xlsx"):
            import_returns(ops_ws, tmp_path / name)


def test_gang_members_from_the_measures_sheet(ops_ws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from chainbreaker.ops.casework_models import GangMember

    from .seed_workbook import resident_id

    wb = Workbook()
    wb.active.title = "案件"
    wb["案件"].append(["案件编号", "案件名称", "督办级别", "立案日期", "主办单位"])
    wb["案件"].append(["A-1", "测试案", "无", "2025-10-02", "昆明市公安局"])
    wb.create_sheet("团伙").append(["团伙编号", "案件编号", "团伙名称", "打掉日期"])
    wb["团伙"].append(["G-1", "A-1", "甲团伙", "2025-10-05"])
    wb.create_sheet("强制措施").append(["身份证号", "姓名", "案件编号", "措施", "日期", "团伙编号"])
    wb["强制措施"].append([resident_id(1), "甲", "A-1", "刑事拘留", "2025-10-06", "G-1"])
    wb["强制措施"].append([resident_id(1), "甲", "A-1", "逮捕", "2025-10-20", "G-1"])
    wb["强制措施"].append([resident_id(2), "乙", "A-1", "取保候审", "2025-10-06", ""])
    wb["强制措施"].append([resident_id(3), "丙", "A-1", "刑事拘留", "2025-10-06", "G-404"])
    wb.save(tmp_path / "g.xlsx")
    summary = import_returns(ops_ws, tmp_path / "g.xlsx")
    assert summary.reasons() == {"gang_unknown": 1}
    with session_scope(engine_for(ops_ws)) as s:
        assert s.scalar(select(func.count()).select_from(GangMember)) == 1
    import_returns(ops_ws, tmp_path / "g.xlsx")
    with session_scope(engine_for(ops_ws)) as s:
        assert s.scalar(select(func.count()).select_from(GangMember)) == 1


def test_oversized_sheet_is_refused(ops_ws, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from chainbreaker.ops import returns

    monkeypatch.setattr(returns, "MAX_ROWS", 5)
    wb = Workbook()
    wb.active.title = "案件"
    for i in range(10):
        wb["案件"].append([f"A-{i}", "案", "无", "2025-10-02", "单位"])
    wb.save(tmp_path / "big.xlsx")
    with pytest.raises(InputError, match="more than 5 rows"):
        import_returns(ops_ws, tmp_path / "big.xlsx")
