"""Casework services beyond the returns: users with roles, tasks with owners and due dates,
coordinated takedowns across units (集群战役), and one case's full picture."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from chainbreaker.core.errors import InputError
from chainbreaker.core.workspace import Workspace
from chainbreaker.ops.casework_models import (
    USER_ROLES,
    Case,
    CaseLink,
    CaseUnit,
    Gang,
    History,
    Measure,
    Platform,
    Seizure,
    Task,
    Unit,
    User,
)
from chainbreaker.ops.db import engine_for, session_scope


def _case(s: Any, number: str) -> Case:
    case = s.scalars(select(Case).where(Case.number == number)).first()
    if case is None:
        raise InputError(f"找不到案件“{number}”。", f"No case '{number}'.")
    return case


def _unit(s: Any, name: str) -> Unit:
    unit = s.scalars(select(Unit).where(Unit.name == name)).first()
    if unit is None:
        unit = Unit(name=name)
        s.add(unit)
        s.flush()
    return unit


def add_user(ws: Workspace, username: str, *, role: str, unit: str | None = None, display_name: str | None = None,
             who: str = "local") -> None:
    if role not in USER_ROLES:
        raise InputError(f"角色“{role}”无效，可选：{'、'.join(USER_ROLES)}。", f"Invalid role '{role}'; choose {', '.join(USER_ROLES)}.")
    if not username.strip():
        raise InputError("用户名为空。", "The user name is empty.")
    with session_scope(engine_for(ws)) as s:
        user = s.scalars(select(User).where(User.username == username.strip())).first()
        before = None if user is None else {"role": user.role, "unit_id": user.unit_id}
        if user is None:
            user = User(username=username.strip())
            s.add(user)
        user.role, user.display_name = role, display_name or user.display_name
        user.unit_id = _unit(s, unit).id if unit else user.unit_id
        s.flush()
        after = {"role": user.role, "unit_id": user.unit_id}
        if before != after:
            s.add(History(entity="user", key=user.username, action="created" if before is None else "updated", who=who,
                          changes=json.dumps({k: [None if before is None else before[k], v] for k, v in after.items()
                                              if before is None or before[k] != v}, ensure_ascii=False)))


def add_case_task(ws: Workspace, case_number: str, title: str, *, owner: str | None = None, due: dt.date | None = None,
             unit: str | None = None, who: str = "local") -> int:
    if not title.strip():
        raise InputError("任务内容为空。", "The task title is empty.")
    with session_scope(engine_for(ws)) as s:
        case = _case(s, case_number)
        owner_row = None
        if owner:
            owner_row = s.scalars(select(User).where(User.username == owner)).first()
            if owner_row is None:
                raise InputError(f"没有用户“{owner}”（先用 ops user add 添加）。", f"No user '{owner}' (add one with ops user add).")
        task = Task(case_id=case.id, title=title.strip(), owner_id=owner_row.id if owner_row else None, due_on=due,
                    unit_id=_unit(s, unit).id if unit else None)
        s.add(task)
        s.flush()
        s.add(History(entity="task", key=f"{case.number}#{task.id}", action="created", who=who,
                      changes=json.dumps({"title": [None, task.title], "owner": [None, owner], "due": [None, str(due) if due else None]},
                                         ensure_ascii=False)))
        return task.id


def join_case(ws: Workspace, case_number: str, unit: str, *, role: str = "协办", who: str = "local") -> bool:
    """Add a unit to a coordinated takedown; False when it already takes part."""
    with session_scope(engine_for(ws)) as s:
        case = _case(s, case_number)
        u = _unit(s, unit)
        if u.id == case.unit_id or s.scalars(select(CaseUnit).where(CaseUnit.case_id == case.id, CaseUnit.unit_id == u.id)).first():
            return False
        s.add(CaseUnit(case_id=case.id, unit_id=u.id, role=role))
        s.add(History(entity="case", key=case.number, action="updated", who=who,
                      changes=json.dumps({"units": [None, f"+{unit}（{role}）"]}, ensure_ascii=False)))
        return True


def case_detail(ws: Workspace, number: str) -> dict[str, Any]:
    """One case: fields, units, figures, linked findings, tasks and history (no personal data)."""
    with session_scope(engine_for(ws)) as s:
        c = _case(s, number)
        units = [(n, r) for n, r in s.execute(select(Unit.name, CaseUnit.role).join(CaseUnit, CaseUnit.unit_id == Unit.id)
                                              .where(CaseUnit.case_id == c.id).order_by(Unit.name))]
        lead = s.get(Unit, c.unit_id).name if c.unit_id else None  # type: ignore[union-attr]
        funds = sum((Decimal(a).quantize(Decimal("0.01")) for a in s.scalars(select(Seizure.amount).where(Seizure.case_id == c.id))),
                    Decimal("0.00"))
        tasks = [{"id": t.id, "title": t.title, "owner": u, "due": t.due_on, "status": t.status}
                 for t, u in s.execute(select(Task, User.username).outerjoin(User, User.id == Task.owner_id)
                                       .where(Task.case_id == c.id).order_by(Task.id))]
        history = [{"entity": h.entity, "action": h.action, "changes": json.loads(h.changes or "{}"), "who": h.who, "at": h.at}
                   for h in s.scalars(select(History).where(History.key.in_([c.number]) | History.key.like(f"{c.number}#%"))
                                      .order_by(History.id))]
        return {
            "number": c.number, "name": c.name, "supervision": c.supervision, "status": c.status, "opened_on": c.opened_on,
            "lead_unit": lead, "units": units,
            "gangs": s.scalar(select(func.count()).select_from(Gang).where(Gang.case_id == c.id)),
            "persons_measures": s.scalar(select(func.count(func.distinct(Measure.suspect_id))).where(Measure.case_id == c.id)),
            "platforms": s.scalar(select(func.count()).select_from(Platform).where(Platform.case_id == c.id)),
            "funds_seized_frozen": funds,
            "links": [{"kind": x.kind, "ref": x.ref, "chain": x.chain, "rule_id": x.rule_id}
                      for x in s.scalars(select(CaseLink).where(CaseLink.case_id == c.id).order_by(CaseLink.id))],
            "tasks": tasks, "history": history,
        }
