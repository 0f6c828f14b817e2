"""Rewards: computed from the linked case's outcomes under the schedule, approved by a second person,
paid only by the paying role."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from chainbreaker.core.errors import InputError
from chainbreaker.ops.importer import import_returns
from chainbreaker.ops.rewards import decide_reward, pay_reward, propose_reward
from chainbreaker.ops.tips import link_tip, submit_tip

from .seed_workbook import resident_id


def _case(ops_ws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wb = Workbook()
    wb.active.title = "案件"
    wb["案件"].append(["案件编号", "案件名称", "督办级别", "立案日期", "主办单位"])
    wb["案件"].append(["A-1", "举报线索案", "市督", "2025-10-02", "昆明市公安局"])
    wb.create_sheet("团伙").append(["团伙编号", "案件编号", "团伙名称", "打掉日期"])
    wb["团伙"].append(["G-1", "A-1", "甲团伙", "2025-10-09"])
    wb.create_sheet("强制措施").append(["身份证号", "姓名", "案件编号", "措施", "日期"])
    for n in range(3):
        wb["强制措施"].append([resident_id(n), f"人{n}", "A-1", "刑事拘留", "2025-10-10"])
    wb["强制措施"].append([resident_id(0), "人0", "A-1", "逮捕", "2025-10-20"])  # same person again
    wb.create_sheet("扣押冻结").append(["案件编号", "类型", "金额（元）", "日期"])
    wb["扣押冻结"].append(["A-1", "冻结", "1234567.89", "2025-10-11"])
    wb.save(tmp_path / "r.xlsx")
    import_returns(ops_ws, tmp_path / "r.xlsx")


def test_reward_propose_approve_by_another_and_pay(ops_ws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _case(ops_ws, tmp_path)
    tip = submit_tip(ops_ws, "https://bet.example.com 有人开赌场", name="赵六", phone="13600136000")
    with pytest.raises(InputError, match="not linked"):
        propose_reward(ops_ws, tip.receipt_code, user="wang")
    link_tip(ops_ws, tip.receipt_code, "A-1")
    amount, basis = propose_reward(ops_ws, tip.receipt_code, user="wang")
    # 2000 (case) + 5000 (gang) + 0 (platforms) + 3 × 500 (persons, not measures) + 1234567.89 × 0.001
    assert amount == Decimal("2000") + Decimal("5000") + Decimal("1500") + Decimal("1234.57")
    assert basis["person_measured"]["count"] == 3
    with pytest.raises(InputError, match="someone other"):
        decide_reward(ops_ws, tip.receipt_code, user="wang", approve=True, why="ok")
    with pytest.raises(InputError, match="not approved"):
        pay_reward(ops_ws, tip.receipt_code, user="cashier", role="admin", reference="PZ-1")
    assert decide_reward(ops_ws, tip.receipt_code, user="li", approve=True, why="成果属实") == "已批准"
    with pytest.raises(InputError, match="Only the role"):
        pay_reward(ops_ws, tip.receipt_code, user="li", role="investigator", reference="PZ-1")
    paid = pay_reward(ops_ws, tip.receipt_code, user="cashier", role="admin", reference="PZ-1")
    assert paid["tipster_name"] == "赵六" and paid["amount"] == amount
    with pytest.raises(InputError):
        propose_reward(ops_ws, tip.receipt_code, user="wang")  # paid: no recomputation
