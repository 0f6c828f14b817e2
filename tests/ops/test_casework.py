"""Users with roles, tasks with owners and due dates, coordinated takedowns, a case's full picture."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from chainbreaker.core.errors import InputError
from chainbreaker.ops.casework import add_case_task, add_user, case_detail, join_case
from chainbreaker.ops.importer import import_returns


def test_tasks_units_and_case_detail(ops_ws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wb = Workbook()
    wb.active.title = "案件"
    wb["案件"].append(["案件编号", "案件名称", "督办级别", "立案日期", "主办单位"])
    wb["案件"].append(["K-1", "集群案", "省督", "2025-10-02", "昆明市公安局"])
    wb.create_sheet("扣押冻结").append(["案件编号", "类型", "金额（元）", "日期"])
    wb["扣押冻结"].append(["K-1", "冻结", "0.10", "2025-10-03"])
    wb["扣押冻结"].append(["K-1", "冻结", "0.20", "2025-10-03"])
    wb.save(tmp_path / "r.xlsx")
    import_returns(ops_ws, tmp_path / "r.xlsx")
    add_user(ops_ws, "zhang", role="investigator", unit="昆明市公安局")
    with pytest.raises(InputError, match="Invalid role"):
        add_user(ops_ws, "x", role="boss")
    with pytest.raises(InputError, match="No user"):
        add_case_task(ops_ws, "K-1", "调取流水", owner="nobody")
    add_case_task(ops_ws, "K-1", "调取流水", owner="zhang", due=dt.date(2025, 10, 15), unit="昆明市公安局")
    assert join_case(ops_ws, "K-1", "西双版纳州公安局")
    assert not join_case(ops_ws, "K-1", "西双版纳州公安局")
    assert not join_case(ops_ws, "K-1", "昆明市公安局")  # the lead unit already takes part
    d = case_detail(ops_ws, "K-1")
    assert d["supervision"] == "省督" and d["lead_unit"] == "昆明市公安局"
    assert d["units"] == [("西双版纳州公安局", "协办")]
    assert d["funds_seized_frozen"] == Decimal("0.30")  # exact, not 0.30000000000000004
    assert d["tasks"][0]["owner"] == "zhang" and d["tasks"][0]["due"] == dt.date(2025, 10, 15)
    assert [h["entity"] for h in d["history"]] == ["case", "task", "case"]
