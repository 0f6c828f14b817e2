"""Casework edits made by hand (案件办理录入): create and update a case, set a task's status, record a
coercive measure. Every change is written to ``ops_history`` with who made it (the same history the
returns import writes), so the web forms and the monthly returns tell one story.

The listing of a case's measures names suspects by their ID numbers: :func:`case_measures` returns
them masked for the caller's role and records the read in the audit log.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from chainbreaker.core.errors import InputError
from chainbreaker.core.model.identifiers import ResidentID
from chainbreaker.core.model.masking import mask_text
from chainbreaker.core.workspace import Workspace
from chainbreaker.ops.casework import _case, _unit
from chainbreaker.ops.casework_models import (
    CASE_STATUSES,
    MEASURES,
    SUPERVISION_LEVELS,
    Case,
    History,
    Measure,
    Suspect,
    Task,
    Unit,
)
from chainbreaker.ops.db import engine_for, session_scope

TASK_STATUSES = ("待办", "进行中", "完成")
CASE_FIELDS = ("name", "supervision", "status", "opened_on", "closed_on", "unit")


def _choice(value: str, allowed: tuple[str, ...], what_zh: str, what_en: str) -> str:
    value = (value or "").strip()
    if value not in allowed:
        raise InputError(f"{what_zh}“{value}”无效，可选：{'、'.join(allowed)}。",
                         f"Invalid {what_en} '{value}'; choose one of: {', '.join(allowed)}.")
    return value


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _history(s: Any, entity: str, key: str, action: str, changes: dict[str, list[Any]], who: str) -> None:
    s.add(History(entity=entity, key=key, action=action, who=who, source="web",
                  changes=json.dumps({k: [_plain(a), _plain(b)] for k, (a, b) in changes.items()}, ensure_ascii=False)))


def create_case(ws: Workspace, number: str, name: str, *, supervision: str = "无", status: str = "初查",
                opened_on: dt.date | None = None, unit: str | None = None, who: str = "local") -> str:
    """立案录入: a new case; the number must be new. Returns the number."""
    number, name = (number or "").strip(), (name or "").strip()
    if not number or len(number) > 60:
        raise InputError("案件编号为空或超过 60 个字符。", "The case number is empty or longer than 60 characters.")
    if not name or len(name) > 200:
        raise InputError("案件名称为空或超过 200 个字符。", "The case name is empty or longer than 200 characters.")
    supervision = _choice(supervision, SUPERVISION_LEVELS, "督办级别", "supervision level")
    status = _choice(status, CASE_STATUSES, "案件状态", "case status")
    with session_scope(engine_for(ws)) as s:
        if s.scalars(select(Case).where(Case.number == number)).first() is not None:
            raise InputError(f"案件编号“{number}”已存在。", f"Case number '{number}' already exists.")
        unit_row = _unit(s, unit.strip()) if unit and unit.strip() else None
        s.add(Case(number=number, name=name, supervision=supervision, status=status, opened_on=opened_on,
                   unit_id=unit_row.id if unit_row else None, source="web"))
        _history(s, "case", number, "created", {"name": [None, name], "supervision": [None, supervision],
                                                "status": [None, status], "opened_on": [None, opened_on],
                                                "unit": [None, unit_row.name if unit_row else None]}, who)
    return number


def case_fields(ws: Workspace, number: str) -> dict[str, Any]:
    """The editable fields of one case as they are now (the edit form's values)."""
    with session_scope(engine_for(ws)) as s:
        case = _case(s, number)
        unit = s.get(Unit, case.unit_id).name if case.unit_id else None  # type: ignore[union-attr]
        return {"name": case.name, "supervision": case.supervision, "status": case.status,
                "opened_on": case.opened_on, "closed_on": case.closed_on, "unit": unit}


def update_case(ws: Workspace, number: str, changes: dict[str, Any], *, who: str = "local") -> dict[str, list[Any]]:
    """Change a case's fields (``name``, ``supervision``, ``status``, ``opened_on``, ``closed_on``,
    ``unit``); returns ``{field: [old, new]}`` of what really changed (also written to the history)."""
    unknown = set(changes) - set(CASE_FIELDS)
    if unknown:
        raise InputError(f"不能修改的字段：{'、'.join(sorted(unknown))}。", f"Fields that cannot be changed: {sorted(unknown)}.")
    if "supervision" in changes:
        changes["supervision"] = _choice(changes["supervision"], SUPERVISION_LEVELS, "督办级别", "supervision level")
    if "status" in changes:
        changes["status"] = _choice(changes["status"], CASE_STATUSES, "案件状态", "case status")
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()
        if not changes["name"] or len(changes["name"]) > 200:
            raise InputError("案件名称为空或超过 200 个字符。", "The case name is empty or longer than 200 characters.")
    with session_scope(engine_for(ws)) as s:
        case = _case(s, number)
        done: dict[str, list[Any]] = {}
        for field, new in changes.items():
            if field == "unit":
                old = s.get(Unit, case.unit_id).name if case.unit_id else None  # type: ignore[union-attr]
                new = (new or "").strip() or None
                if old != new:
                    case.unit_id = _unit(s, new).id if new else None
                    done["unit"] = [old, new]
                continue
            old = getattr(case, field)
            if old != new:
                setattr(case, field, new)
                done[field] = [old, new]
        if case.closed_on and case.opened_on and case.closed_on < case.opened_on:
            raise InputError("结案日期早于立案日期。", "The closing date is before the opening date.")
        if done:
            _history(s, "case", case.number, "updated", done, who)
    return done


def set_task_status(ws: Workspace, number: str, task_id: int, status: str, *, who: str = "local") -> bool:
    """任务状态 (待办 → 进行中 → 完成, or back); False when the task already had that status."""
    status = _choice(status, TASK_STATUSES, "任务状态", "task status")
    with session_scope(engine_for(ws)) as s:
        case = _case(s, number)
        task = s.get(Task, task_id)
        if task is None or task.case_id != case.id:
            raise InputError(f"案件“{number}”没有编号为 {task_id} 的任务。", f"Case '{number}' has no task {task_id}.")
        if task.status == status:
            return False
        _history(s, "task", f"{case.number}#{task.id}", "updated", {"status": [task.status, status]}, who)
        task.status = status
        return True


def add_measure(ws: Workspace, number: str, id_number: str, measure: str, taken_on: dt.date, *,
                name: str | None = None, who: str = "local") -> bool:
    """强制措施录入: a measure against the suspect with ``id_number`` in case ``number``; False when the
    same measure on the same day is already recorded. The history key is the case number (the ID
    number stays in the measure row, not in the history text)."""
    measure = _choice(measure, MEASURES, "强制措施", "measure")
    canonical = ResidentID.clean(id_number or "")
    if not canonical:
        raise InputError("身份证号无效（需 18 位且校验位正确）。", "Invalid resident ID number (18 characters, valid check digit).")
    if taken_on > dt.date.today() + dt.timedelta(days=1):
        raise InputError("措施日期在未来。", "The measure date is in the future.")
    with session_scope(engine_for(ws)) as s:
        case = _case(s, number)
        suspect = s.scalars(select(Suspect).where(Suspect.id_number == canonical)).first()
        if suspect is None:
            suspect = Suspect(id_number=canonical, name=(name or "").strip() or None)
            s.add(suspect)
            s.flush()
        exists = s.scalars(select(Measure).where(Measure.suspect_id == suspect.id, Measure.case_id == case.id,
                                                 Measure.measure == measure, Measure.taken_on == taken_on)).first()
        if exists is not None:
            return False
        m = Measure(suspect_id=suspect.id, case_id=case.id, measure=measure, taken_on=taken_on, source="web")
        s.add(m)
        s.flush()
        _history(s, "measure", f"{case.number}#M{m.id}", "created",
                 {"measure": [None, measure], "taken_on": [None, taken_on]}, who)
        return True


def case_measures(ws: Workspace, number: str, *, role: str = "analyst", user: str = "local") -> list[dict[str, Any]]:
    """The coercive measures of one case, suspects' ID numbers and names masked for ``role`` (audited)."""
    with session_scope(engine_for(ws)) as s:
        case = _case(s, number)
        rows = [(m.measure, m.taken_on, p.id_number, p.name)
                for m, p in s.execute(select(Measure, Suspect).join(Suspect, Suspect.id == Measure.suspect_id)
                                      .where(Measure.case_id == case.id).order_by(Measure.taken_on, Measure.id))]
    ws.audit("ops.case.measures", user=user, role=role, case=number, rows=len(rows))
    return [{"measure": m, "taken_on": d.isoformat(), "id_number": mask_text(i, role, "id_number"),
             "name": None if n is None else mask_text(n, role, "name")} for m, d, i, n in rows]
