"""The key-person register (重点人员库): service functions behind ``chainbreaker people register``.

Roles are proposed automatically from findings of any chain and confirmed by an analyst:

- people chain: ``travel.stranded`` → 赌博劳务人员; ``travel.frequent``, ``travel.group`` (every
  member) and ``travel.companion`` → 出境参赌人员; ``travel.kin`` → 境内重点关系人;
- promotion chain: findings about agents whose ID number is known → 招赌人员 (other members → 涉赌重点人员);
- funds chain: flagged accounts (score ≥ 0.5) whose holder has a valid resident ID
  (``accounts.holder_id``) → 涉赌重点人员.

Every change (creation, role, status) is stored with who, when and why.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chainbreaker.core.errors import InputError
from chainbreaker.core.model.finding import query
from chainbreaker.core.model.identifiers import ResidentID
from chainbreaker.core.model.masking import looks_masked
from chainbreaker.core.workspace import Workspace
from chainbreaker.ops.db import engine_for, session_scope
from chainbreaker.ops.register_models import (
    DISPOSALS,
    ROLES,
    STATUSES,
    KeyPerson,
    PersonRole,
    RegisterChange,
    RoleProposal,
)

PEOPLE_RULE_ROLES = {
    "travel.stranded": "赌博劳务人员",
    "travel.frequent": "出境参赌人员",
    "travel.group": "出境参赌人员",
    "travel.companion": "出境参赌人员",
    "travel.kin": "境内重点关系人",
}
FUNDS_MIN_SCORE = 0.5
ID_FACT_KEYS = ("id_number", "holder_id", "id_no", "id_card", "身份证号")


@dataclass
class ProposeSummary:
    new: int = 0
    updated: int = 0
    skipped_invalid_id: int = 0
    by_role: dict[str, int] | None = None


def person_key_of(text: str) -> str:
    """Accept ``ID:…``/``DOC:…``/``BADID:…`` keys or a bare resident ID number."""
    text = text.strip()
    if looks_masked(text):
        raise InputError(
            f"“{text}”是脱敏后的号码，不能据此录入或查询重点人员。请输入完整的身份证号或人员主键"
            "（有权查看完整号码的角色：investigator、admin）。",
            f"'{text}' is a masked value and cannot identify a person; type the full resident ID or person key "
            "(roles that see them in clear: investigator, admin).")
    if text.startswith(("ID:", "DOC:", "BADID:")):
        return text
    cleaned = ResidentID.clean(text)
    if cleaned:
        return f"ID:{cleaned}"
    raise InputError(f"“{text}”不是有效的身份证号或人员主键（如 ID:530102…）。",
                     f"'{text}' is not a valid resident ID or person key (e.g. ID:530102…).")


def _check_choice(value: str, allowed: tuple[str, ...], what_zh: str, what_en: str) -> str:
    if value not in allowed:
        raise InputError(f"{what_zh}“{value}”无效，可选：{'、'.join(allowed)}。",
                         f"Invalid {what_en} '{value}'; choose one of: {', '.join(allowed)}.")
    return value


def _need_why(why: str | None) -> str:
    if not why or not why.strip():
        raise InputError("每次变更都必须说明理由（--why）。", "Every change needs a reason (--why).")
    return why.strip()


def _identity(ws: Workspace, person_key: str) -> tuple[str | None, str | None]:
    """Name and ID number of a person from the lake (travel metrics, persons, accounts)."""
    id_number = person_key[3:] if person_key.startswith("ID:") else None
    if ws.has_table("travel_person_metrics"):
        con = ws.duck()
        rows = con.execute("SELECT name, id_number FROM travel_person_metrics WHERE person_key = ? LIMIT 1",
                           [person_key]).fetchall()
        if rows:
            return rows[0][0], rows[0][1] or id_number
    if id_number and ws.has_table("persons"):
        rows = ws.duck().execute("SELECT name FROM persons WHERE id_number = ? LIMIT 1", [id_number]).fetchall()
        if rows:
            return rows[0][0], id_number
    return None, id_number


def _identities(ws: Workspace, keys: set[str]) -> dict[str, tuple[str | None, str | None]]:
    """Name and ID number for many person keys at once."""
    out: dict[str, tuple[str | None, str | None]] = {k: (None, k[3:] if k.startswith("ID:") else None) for k in keys}
    if keys and ws.has_table("travel_person_metrics"):
        import pyarrow as pa

        con = ws.duck()
        con.register("_keys", pa.table({"k": sorted(keys)}))
        for k, name, idn in con.sql("SELECT person_key, name, id_number FROM travel_person_metrics "
                                    "WHERE person_key IN (SELECT k FROM _keys)").fetchall():
            out[k] = (name, idn or out[k][1])
    return out


def _get_person(session: Session, person_key: str) -> KeyPerson | None:
    return session.scalars(select(KeyPerson).where(KeyPerson.person_key == person_key)).first()


def add_person(ws: Workspace, person: str, role: str, who: str, why: str | None,
               evidence: list[Any] | None = None) -> dict[str, Any]:
    """Put a person on the register with a confirmed role (confirming any matching proposal)."""
    key = person_key_of(person)
    _check_choice(role, ROLES, "角色", "role")
    reason = _need_why(why)
    name, id_number = _identity(ws, key)
    now = dt.datetime.now(dt.UTC)
    with session_scope(engine_for(ws)) as s:
        p = _get_person(s, key)
        if p is None:
            p = KeyPerson(person_key=key, id_number=id_number, name=name, status="线索", created_by=who,
                          created_at=now, updated_at=now)
            s.add(p)
            s.flush()
            s.add(RegisterChange(person_id=p.id, kind="created", old_value=None, new_value="线索", who=who, at=now,
                                 why=reason))
        if any(r.role == role for r in p.roles):
            raise InputError(f"该人员已有角色“{role}”。", f"The person already has the role '{role}'.")
        proposals = s.scalars(select(RoleProposal).where(RoleProposal.person_key == key, RoleProposal.role == role,
                                                         RoleProposal.state == "pending")).all()
        refs = list(evidence or []) + [{"proposal": pr.id, "finding": pr.finding_id, "rule": pr.rule_id} for pr in proposals]
        s.add(PersonRole(person_id=p.id, role=role, confirmed_by=who, confirmed_at=now, reason=reason,
                         evidence=json.dumps(refs, ensure_ascii=False)))
        s.add(RegisterChange(person_id=p.id, kind="role", old_value=None, new_value=role, who=who, at=now, why=reason))
        for pr in proposals:
            pr.state, pr.decided_by, pr.decided_at, pr.decision_reason = "confirmed", who, now, reason
        p.updated_at = now
        return {"person_key": key, "status": p.status, "role": role, "proposals_confirmed": len(proposals)}


def set_status(ws: Workspace, person: str, status: str, who: str, why: str | None,
               disposal: str | None = None) -> dict[str, Any]:
    """Move a person along 线索 → 核查 → 认定 → 处置 (one step forward, or one step back)."""
    key = person_key_of(person)
    _check_choice(status, STATUSES, "状态", "status")
    reason = _need_why(why)
    if status == "处置":
        if disposal is None:
            raise InputError(f"状态“处置”须注明处置方式（--disposal）：{'、'.join(DISPOSALS)}。",
                             f"Status 处置 needs a disposal (--disposal): {', '.join(DISPOSALS)}.")
        _check_choice(disposal, DISPOSALS, "处置方式", "disposal")
    elif disposal is not None:
        raise InputError("只有状态“处置”才能填写处置方式。", "Only status 处置 takes a disposal.")
    now = dt.datetime.now(dt.UTC)
    with session_scope(engine_for(ws)) as s:
        p = _get_person(s, key)
        if p is None:
            raise InputError(f"重点人员库中没有 {key}。请先用 register add 录入。",
                             f"{key} is not on the register; add it first with 'register add'.")
        old, new = STATUSES.index(p.status), STATUSES.index(status)
        if abs(new - old) != 1 and not (new == old == STATUSES.index("处置") and disposal != p.disposal):
            raise InputError(
                f"状态只能逐级变更（{' → '.join(STATUSES)}），不能从“{p.status}”直接变为“{status}”。",
                f"Status moves one step at a time ({' → '.join(STATUSES)}); cannot go from {p.status} to {status}.")
        old_label = p.status + (f"/{p.disposal}" if p.disposal else "")
        p.status, p.disposal, p.updated_at = status, disposal, now
        s.add(RegisterChange(person_id=p.id, kind="status", old_value=old_label,
                             new_value=status + (f"/{disposal}" if disposal else ""), who=who, at=now, why=reason))
        return {"person_key": key, "status": status, "disposal": disposal}


def reject_proposal(ws: Workspace, proposal_id: int, who: str, why: str | None) -> None:
    reason = _need_why(why)
    with session_scope(engine_for(ws)) as s:
        pr = s.get(RoleProposal, proposal_id)
        if pr is None or pr.state != "pending":
            raise InputError(f"没有待确认的建议 #{proposal_id}。", f"No pending proposal #{proposal_id}.")
        pr.state, pr.decided_by, pr.decided_at, pr.decision_reason = "rejected", who, dt.datetime.now(dt.UTC), reason


def list_persons(ws: Workspace, status: str | None = None, role: str | None = None) -> list[dict[str, Any]]:
    with session_scope(engine_for(ws)) as s:
        q = select(KeyPerson).order_by(KeyPerson.updated_at.desc())
        if status:
            q = q.where(KeyPerson.status == _check_choice(status, STATUSES, "状态", "status"))
        out = []
        for p in s.scalars(q).all():
            roles = [r.role for r in p.roles]
            if role and role not in roles:
                continue
            out.append({"person_key": p.person_key, "name": p.name, "id_number": p.id_number, "status": p.status,
                        "disposal": p.disposal, "roles": roles, "updated_at": p.updated_at})
        return out


def list_proposals(ws: Workspace, state: str = "pending") -> list[dict[str, Any]]:
    with session_scope(engine_for(ws)) as s:
        rows = s.scalars(select(RoleProposal).where(RoleProposal.state == state)
                         .order_by(RoleProposal.score.desc(), RoleProposal.id)).all()
        return [{"id": r.id, "person_key": r.person_key, "name": r.name, "id_number": r.id_number, "role": r.role,
                 "chain": r.chain, "rule_id": r.rule_id, "score": r.score, "reason": r.reason, "state": r.state}
                for r in rows]


def show_person(ws: Workspace, person: str, user: str, role: str) -> dict[str, Any]:
    """Everything about one person; the read is written to the audit log."""
    key = person_key_of(person)
    ws.audit("people.register.show", user=user, role=role, person_key=key)
    with session_scope(engine_for(ws)) as s:
        p = _get_person(s, key)
        proposals = s.scalars(select(RoleProposal).where(RoleProposal.person_key == key)).all()
        if p is None and not proposals:
            raise InputError(f"重点人员库中没有 {key}，也没有针对该人员的建议。",
                             f"{key} is neither on the register nor proposed.")
        out: dict[str, Any] = {"person_key": key, "on_register": p is not None}
        if p is not None:
            out.update(name=p.name, id_number=p.id_number, status=p.status, disposal=p.disposal,
                       roles=[{"role": r.role, "by": r.confirmed_by, "at": r.confirmed_at, "why": r.reason,
                               "evidence": json.loads(r.evidence or "[]")} for r in p.roles],
                       history=[{"kind": c.kind, "from": c.old_value, "to": c.new_value, "who": c.who, "at": c.at,
                                 "why": c.why} for c in p.changes])
        else:
            out.update(name=proposals[0].name, id_number=proposals[0].id_number)
        out["proposals"] = [{"id": r.id, "role": r.role, "rule_id": r.rule_id, "score": r.score, "state": r.state,
                             "reason": r.reason} for r in proposals]
    cols = ["rule_id", "score", "explanation_zh", "explanation_en"]
    about = query(ws, subject=key, columns=cols).to_pylist()
    # a group finding names its members in its facts
    groups = query(ws, subject_type="group", columns=[*cols, "facts"]).to_pylist()
    about += [{c: g[c] for c in cols} for g in groups if f'"{key}"' in (g["facts"] or "")]
    if ws.has_table("findings"):
        out["findings"] = sorted(about, key=lambda r: -(r["score"] or 0))
    return out


# ---------------------------------------------------------------- proposals
def _candidates(ws: Workspace) -> list[dict[str, Any]]:
    """(person_key, role, chain, rule_id, finding_id, score, reason, evidence) from every chain's findings."""
    if not ws.has_table("findings"):
        return []
    con = ws.duck()
    out: list[dict[str, Any]] = []
    cols = ["id", "rule_id", "subject_type", "subject_key", "score", "facts", "explanation_zh"]
    for fid, rule, stype, skey, score, facts, zh in _tuples(
            query(con, chain="people", rule_id=list(PEOPLE_RULE_ROLES), columns=cols)):
        keys = [skey] if stype == "person" else list(json.loads(facts or "{}").get("members") or [])
        for k in keys:
            out.append({"person_key": k, "role": PEOPLE_RULE_ROLES[rule], "chain": "people", "rule_id": rule,
                        "finding_id": fid, "score": score, "reason": zh})
    promotion = query(con, chain="promotion", columns=cols)
    for fid, rule, stype, _skey, score, facts, zh in _tuples(promotion):
        data = json.loads(facts or "{}")
        id_raw = next((data[k] for k in ID_FACT_KEYS if data.get(k)), None)
        if id_raw is None:
            continue
        agent = "agent" in (rule or "").lower() or "agent" in (stype or "").lower() or bool(data.get("is_agent"))
        out.append({"person_key": None, "id_raw": str(id_raw), "role": "招赌人员" if agent else "涉赌重点人员",
                    "chain": "promotion", "rule_id": rule, "finding_id": fid, "score": score, "reason": zh})
    con.register("_promotion_findings", promotion)
    out.extend(_promotion_member_candidates(con, ws))
    if ws.has_table("accounts"):
        con.register("_funds_findings", query(con, chain="funds", subject_type="account", min_score=FUNDS_MIN_SCORE,
                                              columns=["id", "rule_id", "subject_key", "score", "explanation_zh"]))
        for fid, rule, account, score, holder, zh in con.sql("""
                SELECT f.id, f.rule_id, f.subject_key, f.score, any_value(a.holder_id), any_value(f.explanation_zh)
                FROM _funds_findings f JOIN accounts a ON a.account = f.subject_key
                WHERE a.holder_id IS NOT NULL
                GROUP BY 1, 2, 3, 4 ORDER BY 1""").fetchall():
            out.append({"person_key": None, "id_raw": holder, "role": "涉赌重点人员", "chain": "funds", "rule_id": rule,
                        "finding_id": fid, "score": score,
                        "reason": f"资金链：账户 {account} 被标记（{rule}）。{zh or ''}".strip()})
    return out


def _tuples(table: Any) -> list[tuple[Any, ...]]:
    return list(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))


def _promotion_member_candidates(con: Any, ws: Workspace) -> list[dict[str, Any]]:
    """Promotion findings name a platform member; the member table holds the ID number.

    A member who has a downline (a row in ``agent_metrics``) is proposed as 招赌人员, others as
    涉赌重点人员. Tree-structure findings (TREE-*) describe the data, not a person's conduct.
    """
    if not (ws.has_table("platform_members") and ws.has_table("agent_metrics")):
        return []
    id_keys = "|".join(ID_FACT_KEYS)  # findings that carry the ID themselves were handled above
    rows = con.sql(f"""
        SELECT f.id, f.rule_id, f.score, f.explanation_zh, any_value(m.id_number),
               bool_or(am.member_id IS NOT NULL)
        FROM _promotion_findings f
        JOIN platform_members m
          ON m.platform = json_extract_string(f.facts, '$.platform')
         AND m.member_id = json_extract_string(f.facts, '$.member_id')
        LEFT JOIN agent_metrics am ON am.platform = m.platform AND am.member_id = m.member_id
        WHERE f.subject_type = 'member' AND f.rule_id NOT LIKE 'TREE-%'
          AND m.id_number IS NOT NULL
          AND NOT regexp_matches(f.facts, '"({id_keys})"')
        GROUP BY 1, 2, 3, 4 ORDER BY 1""").fetchall()
    return [{"person_key": None, "id_raw": str(id_raw), "role": "招赌人员" if agent else "涉赌重点人员",
             "chain": "promotion", "rule_id": rule, "finding_id": fid, "score": score, "reason": zh}
            for fid, rule, score, zh, id_raw, agent in rows]


def propose(ws: Workspace) -> ProposeSummary:
    """Turn findings of every chain into pending role proposals (idempotent per person, role and rule)."""
    summary = ProposeSummary(by_role={})
    cands = _candidates(ws)
    ident = _identities(ws, {c["person_key"] for c in cands if c["person_key"]}
                        | {f"ID:{ResidentID.clean(c['id_raw'])}" for c in cands
                           if c["person_key"] is None and ResidentID.clean(c["id_raw"])})
    with session_scope(engine_for(ws)) as s:
        existing = {(r.person_key, r.role, r.rule_id): r for r in s.scalars(select(RoleProposal)).all()}
        confirmed = {(p.person_key, r.role) for p in s.scalars(select(KeyPerson)).all() for r in p.roles}
        for c in cands:
            key = c["person_key"]
            if key is None:
                ok, _ = ResidentID.validate(c["id_raw"])
                if not ok:
                    summary.skipped_invalid_id += 1
                    continue
                key = f"ID:{ResidentID.clean(c['id_raw'])}"
            if (key, c["role"]) in confirmed:
                continue
            evidence = json.dumps({"finding": c["finding_id"], "chain": c["chain"]}, ensure_ascii=False)
            row = existing.get((key, c["role"], c["rule_id"]))
            if row is not None:
                if row.state == "pending" and row.finding_id != c["finding_id"]:
                    row.finding_id, row.score, row.reason, row.evidence = c["finding_id"], c["score"], c["reason"], evidence
                    summary.updated += 1
                continue
            name, id_number = ident.get(key, (None, None))
            row = RoleProposal(person_key=key, id_number=id_number, name=name, role=c["role"], chain=c["chain"],
                               rule_id=c["rule_id"], finding_id=c["finding_id"], score=c["score"], reason=c["reason"],
                               evidence=evidence)
            s.add(row)
            existing[(key, c["role"], c["rule_id"])] = row
            summary.new += 1
            assert summary.by_role is not None
            summary.by_role[c["role"]] = summary.by_role.get(c["role"], 0) + 1
    return summary
