"""Tip rewards (举报奖励): proposed from the outcomes of the tip's case under a versioned schedule,
approved by a second person, paid by the role that pays (``admin``), every step recorded.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select

from chainbreaker.core.errors import ConfigError, InputError
from chainbreaker.core.timefmt import now_local
from chainbreaker.core.workspace import Workspace
from chainbreaker.ops.casework_models import Case, Gang, Measure, Platform, Seizure
from chainbreaker.ops.db import engine_for, session_scope
from chainbreaker.ops.rewards_models import Reward, RewardPayout
from chainbreaker.ops.tips import PAYER_ROLE
from chainbreaker.ops.tips_models import Tip

SCHEDULE_FILE = "rewards.yaml"
PER = {"case": "cases", "gang": "gangs", "platform": "platforms", "person": "persons"}
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Schedule:
    version: str
    outcomes: dict[str, dict[str, Any]]
    max_per_tip: Decimal | None


def _dec(value: Any, where: str, path: Path) -> Decimal:
    try:
        d = Decimal(str(value))
    except Exception as exc:  # noqa: BLE001
        raise ConfigError(f"{path}：{where} 应为数字。", f"{path}: {where} must be a number.") from exc
    if not d.is_finite() or d < 0:
        raise ConfigError(f"{path}：{where} 不能为负。", f"{path}: {where} must not be negative.")
    return d


def load_schedule(ws: Workspace | None = None, path: Path | None = None) -> Schedule:
    if path is None and ws is not None and (ws.config_dir / SCHEDULE_FILE).exists():
        path = ws.config_dir / SCHEDULE_FILE
    path = path or Path(__file__).with_name(SCHEDULE_FILE)
    try:
        raw = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"无法读取奖励标准 {path}：{exc}", f"Cannot read the reward schedule {path}: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("outcomes"), dict):
        raise ConfigError(f"奖励标准 {path} 须有 outcomes 段。", f"The reward schedule {path} needs an outcomes section.")
    outcomes: dict[str, dict[str, Any]] = {}
    for name, spec in raw["outcomes"].items():
        if not isinstance(spec, dict) or not (("per" in spec and "yuan" in spec) or "rate" in spec):
            raise ConfigError(f"{path}：{name} 须写成 {{per, yuan}} 或 {{rate}}。", f"{path}: {name} needs {{per, yuan}} or {{rate}}.")
        if "per" in spec and spec["per"] not in PER:
            raise ConfigError(f"{path}：{name}.per 只能是 {'、'.join(PER)}。", f"{path}: {name}.per must be one of {', '.join(PER)}.")
        outcomes[str(name)] = {k: (_dec(v, f"{name}.{k}", path) if k in ("yuan", "rate") else v) for k, v in spec.items()}
    cap = raw.get("max_per_tip")
    return Schedule(str(raw.get("version", "?")), outcomes, None if cap is None else _dec(cap, "max_per_tip", path))


def _outcomes_of_case(s: Any, case_id: int) -> dict[str, Any]:
    def count(model: Any, col: Any = None) -> int:
        q = select(func.count(func.distinct(col)) if col is not None else func.count()).select_from(model)
        return int(s.scalar(q.where(model.case_id == case_id)) or 0)

    funds = sum((Decimal(a).quantize(CENT) for a in s.scalars(select(Seizure.amount).where(Seizure.case_id == case_id))),
                Decimal("0.00"))
    return {"cases": 1, "gangs": count(Gang), "platforms": count(Platform),
            "persons": count(Measure, Measure.suspect_id), "funds": funds}


def compute_reward(schedule: Schedule, outcome: dict[str, Any]) -> tuple[Decimal, dict[str, Any]]:
    total = Decimal("0.00")
    basis: dict[str, Any] = {}
    for name, spec in schedule.outcomes.items():
        if "rate" in spec:
            yuan = (outcome["funds"] * spec["rate"]).quantize(CENT, rounding=ROUND_HALF_UP)
            basis[name] = {"amount": str(outcome["funds"]), "rate": str(spec["rate"]), "yuan": str(yuan)}
        else:
            n = outcome[PER[spec["per"]]]
            yuan = (spec["yuan"] * n).quantize(CENT)
            basis[name] = {"count": n, "yuan": str(yuan)}
        total += yuan
    if schedule.max_per_tip is not None and total > schedule.max_per_tip:
        basis["capped_at"] = str(schedule.max_per_tip)
        total = schedule.max_per_tip
    return total, basis


def _tip(s: Any, code: str) -> Tip:
    tip = s.scalars(select(Tip).where(Tip.receipt_code == code.strip().upper())).first()
    if tip is None:
        raise InputError(f"找不到举报：{code}", f"No tip: {code}")
    return tip


def propose_reward(ws: Workspace, code: str, *, user: str, schedule_path: Path | None = None) -> tuple[Decimal, dict[str, Any]]:
    """Propose (or re-propose, while not yet decided) the reward of a tip from its case's outcomes."""
    schedule = load_schedule(ws, schedule_path)
    with session_scope(engine_for(ws)) as s:
        tip = _tip(s, code)
        if tip.case_id is None or s.get(Case, tip.case_id) is None:
            raise InputError("该举报尚未关联案件，无成果可计奖励（先用 ops tip link）。",
                             "The tip is not linked to a case, so there is no outcome to reward (use ops tip link).")
        amount, basis = compute_reward(schedule, _outcomes_of_case(s, tip.case_id))
        reward = s.scalars(select(Reward).where(Reward.tip_id == tip.id)).first()
        if reward is not None and reward.status != "待审批":
            raise InputError(f"该举报的奖励已{reward.status}，不能重新计算。", f"The reward is already {reward.status}; it cannot be recomputed.")
        if reward is None:
            reward = Reward(tip_id=tip.id, proposed_by=user)
            s.add(reward)
        reward.amount, reward.basis, reward.schedule_version = amount, json.dumps(basis, ensure_ascii=False), schedule.version
        reward.proposed_by, reward.status = user, "待审批"
    ws.audit("ops.reward.propose", user=user, receipt=code, amount=str(amount))
    return amount, basis


def decide_reward(ws: Workspace, code: str, *, user: str, approve: bool, why: str) -> str:
    """Approve or reject; the person deciding must not be the one who proposed (双人审批)."""
    if not why.strip():
        raise InputError("请写明审批理由（--why）。", "Give the reason of the decision (--why).")
    with session_scope(engine_for(ws)) as s:
        reward = s.scalars(select(Reward).where(Reward.tip_id == _tip(s, code).id)).first()
        if reward is None or reward.status != "待审批":
            raise InputError("没有待审批的奖励。", "There is no reward waiting for approval.")
        if reward.proposed_by == user:
            raise InputError("奖励须由提出人以外的另一人审批。", "A reward must be approved by someone other than its proposer.")
        reward.status = "已批准" if approve else "已驳回"
        reward.decided_by, reward.decided_at, reward.decision_reason = user, dt.datetime.now(dt.UTC), why
        status = reward.status
    ws.audit("ops.reward.decide", user=user, receipt=code, status=status)
    return status


def pay_reward(ws: Workspace, code: str, *, user: str, role: str, reference: str) -> dict[str, Any]:
    """Record the payout of an approved reward; returns the tipster's contact for the payer only."""
    if role != PAYER_ROLE:
        raise InputError(f"只有负责发放奖励的角色（{PAYER_ROLE}）可以登记发放。",
                         f"Only the role that pays rewards ({PAYER_ROLE}) may record a payout.")
    if not reference.strip():
        raise InputError("请填写发放凭证号（--reference）。", "Give the payout voucher number (--reference).")
    with session_scope(engine_for(ws)) as s:
        tip = _tip(s, code)
        reward = s.scalars(select(Reward).where(Reward.tip_id == tip.id)).first()
        if reward is None or reward.status != "已批准":
            raise InputError("该奖励尚未批准，不能发放。", "The reward is not approved; it cannot be paid.")
        s.add(RewardPayout(reward_id=reward.id, amount=reward.amount, paid_on=now_local().date(), paid_by=user,
                           reference=reference.strip()))
        reward.status = "已发放"
        out = {"amount": reward.amount, "tipster_name": tip.tipster_name, "tipster_phone": tip.tipster_phone,
               "anonymous": tip.anonymous}
    ws.audit("ops.reward.pay", user=user, role=role, receipt=code, amount=str(out["amount"]))
    return out
