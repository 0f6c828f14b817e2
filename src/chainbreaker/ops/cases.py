"""Cases from findings (由线索立案): one step from a finding of any chain to a case, carrying its evidence.

The finding is read from the workspace's ``findings`` table by its stable id (a prefix of at least 8
characters is enough when it is unique); the case keeps the finding's chain, rule, explanation and
evidence references in ``ops_case_link``. Opening a case from a finding that is already linked to
one returns that case instead of opening a second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from chainbreaker.core.errors import InputError
from chainbreaker.core.model.finding import query
from chainbreaker.core.timefmt import now_local
from chainbreaker.core.workspace import Workspace
from chainbreaker.ops.casework_models import SUPERVISION_LEVELS, Case, CaseLink, History, Unit
from chainbreaker.ops.db import engine_for, session_scope

MIN_PREFIX = 8


@dataclass
class OpenedCase:
    number: str
    name: str
    created: bool
    finding_id: str
    evidence_count: int


def find_finding(ws: Workspace, ref: str) -> dict[str, Any]:
    """The finding whose id is ``ref`` (or starts with it, when unique)."""
    ref = ref.strip()
    if not ws.has_table("findings"):
        raise InputError("工作区中还没有线索（findings 表）：请先运行各链的分析。",
                         "The workspace has no findings yet: run a chain's analysis first.")
    if len(ref) < MIN_PREFIX:
        raise InputError(f"线索编号“{ref}”过短：至少输入 {MIN_PREFIX} 位。",
                         f"Finding id '{ref}' is too short: type at least {MIN_PREFIX} characters.")
    rows = query(ws, id_prefix=ref, limit=3, columns=["id", "chain", "rule_id", "subject_type", "score", "explanation_zh",
                                                      "explanation_en", "evidence", "period_start"]).to_pylist()
    exact = [r for r in rows if r["id"] == ref]
    if exact:
        return exact[0]
    if not rows:
        raise InputError(f"找不到线索“{ref}”（见 chainbreaker export findings）。",
                         f"No finding '{ref}' (see chainbreaker export findings).")
    if len(rows) > 1:
        raise InputError(f"线索编号前缀“{ref}”不唯一：请输入更多位。",
                         f"Finding id prefix '{ref}' is ambiguous: type more characters.")
    return rows[0]


def open_case_from_finding(ws: Workspace, ref: str, *, number: str | None = None, name: str | None = None,
                           unit: str | None = None, level: str = "无", user: str = "local",
                           role: str = "analyst") -> OpenedCase:
    """Open a case (初查) from a finding, or return the case already opened from it."""
    if level not in SUPERVISION_LEVELS:
        raise InputError(f"督办级别“{level}”无效，可选：{'、'.join(SUPERVISION_LEVELS)}。",
                         f"Invalid supervision level '{level}'; choose one of: {', '.join(SUPERVISION_LEVELS)}.")
    f = find_finding(ws, ref)
    evidence = json.loads(f["evidence"] or "[]") if isinstance(f["evidence"], str) else list(f["evidence"] or [])
    ws.audit("ops.case_open", user=user, role=role, finding=f["id"])
    with session_scope(engine_for(ws)) as s:
        link = s.scalars(select(CaseLink).where(CaseLink.kind == "finding", CaseLink.ref == f["id"])).first()
        if link is not None:
            case = s.get(Case, link.case_id)
            assert case is not None
            return OpenedCase(case.number, case.name, False, f["id"], len(json.loads(link.evidence or "[]")))
        today = now_local().date()
        number = (number or f"CB-{today:%Y%m%d}-{f['id'][:8].upper()}").strip()
        if s.scalars(select(Case).where(Case.number == number)).first() is not None:
            raise InputError(f"案件编号“{number}”已存在：请用 --number 指定另一个编号。",
                             f"Case number '{number}' already exists: give another with --number.")
        unit_row = None
        if unit:
            unit_row = s.scalars(select(Unit).where(Unit.name == unit)).first()
            if unit_row is None:
                unit_row = Unit(name=unit)
                s.add(unit_row)
                s.flush()
        # the default name names the rule, not the subject: case names travel further than findings
        case = Case(number=number, name=name or f"{f['chain']}链线索 {f['rule_id']} 初查", supervision=level,
                    unit_id=unit_row.id if unit_row else None, opened_on=today, status="初查",
                    source=f"finding:{f['id']}")
        s.add(case)
        s.flush()
        s.add(CaseLink(case_id=case.id, kind="finding", ref=f["id"], chain=f["chain"], rule_id=f["rule_id"],
                       summary=f["explanation_zh"], evidence=json.dumps(evidence, ensure_ascii=False, default=str),
                       linked_by=user))
        s.add(History(entity="case", key=number, action="created", who=user, source=f"finding:{f['id']}",
                      changes=json.dumps({"status": [None, "初查"], "finding": [None, f["id"]]}, ensure_ascii=False)))
        return OpenedCase(number, case.name, True, f["id"], len(evidence))


def case_links(ws: Workspace, number: str) -> list[dict[str, Any]]:
    """The findings and entities linked to a case, with their evidence references."""
    with session_scope(engine_for(ws)) as s:
        case = s.scalars(select(Case).where(Case.number == number)).first()
        if case is None:
            raise InputError(f"找不到案件“{number}”。", f"No case '{number}'.")
        links = s.scalars(select(CaseLink).where(CaseLink.case_id == case.id).order_by(CaseLink.id)).all()
        return [{"kind": x.kind, "ref": x.ref, "chain": x.chain, "rule_id": x.rule_id,
                 "evidence": json.loads(x.evidence or "[]"), "linked_at": x.linked_at} for x in links]




def link_to_case(ws: Workspace, number: str, *, finding: str | None = None, entity: str | None = None,
                 user: str = "local", role: str = "analyst") -> bool:
    """Link one more finding (with its evidence) or an intel entity/operation reference to a case.

    ``entity`` is ``kind:key`` as intel names it (``account:6222…``, ``operation:OP-2025-07``).
    Returns False when the link already exists.
    """
    if bool(finding) == bool(entity):
        raise InputError("请给出 --finding 或 --entity 之一。", "Give exactly one of --finding or --entity.")
    if entity is not None:
        kind_text, _, key = entity.partition(":")
        if not kind_text or not key:
            raise InputError(f"实体引用“{entity}”应写成 类型:键（如 account:6222…）。",
                             f"Entity reference '{entity}' must be kind:key (e.g. account:6222…).")
    f = find_finding(ws, finding) if finding else None
    ws.audit("ops.case_link", user=user, role=role, case=number, finding=f["id"] if f else None)
    with session_scope(engine_for(ws)) as s:
        case = s.scalars(select(Case).where(Case.number == number)).first()
        if case is None:
            raise InputError(f"找不到案件“{number}”。", f"No case '{number}'.")
        kind = "finding" if f else ("operation" if entity and entity.startswith("operation:") else "entity")
        ref = f["id"] if f else str(entity)
        if s.scalars(select(CaseLink).where(CaseLink.case_id == case.id, CaseLink.kind == kind, CaseLink.ref == ref)).first():
            return False
        evidence = (json.loads(f["evidence"] or "[]") if isinstance(f["evidence"], str) else list(f["evidence"] or [])) if f else []
        s.add(CaseLink(case_id=case.id, kind=kind, ref=ref, chain=f["chain"] if f else None,
                       rule_id=f["rule_id"] if f else None, summary=f["explanation_zh"] if f else None,
                       evidence=json.dumps(evidence, ensure_ascii=False, default=str), linked_by=user))
        s.add(History(entity="case", key=number, action="updated", who=user,
                      changes=json.dumps({"links": [None, f"+{kind}:{ref}"]}, ensure_ascii=False)))
        return True
