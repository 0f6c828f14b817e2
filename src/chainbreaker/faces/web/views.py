"""Data of the pages (看板、资金、推广、人员、技术、案件、任务、线索、奖励、考核、通报): each function calls
the chain or ops services, masks by the caller's role and audits reads of personal data. Routes only
render what these return."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pyarrow as pa
from sqlalchemy import select

from chainbreaker.core.model.masking import mask_table
from chainbreaker.core.timefmt import now_local, show_time
from chainbreaker.core.workspace import Workspace
from chainbreaker.faces.web.dossier import _plain_rows
from chainbreaker.ops.db import engine_for, session_scope

TOP = 50


def _rows(ws: Workspace, sql: str, params: list[Any], role: str) -> list[dict[str, Any]]:
    table: pa.Table = ws.duck().sql(sql, params=params or None).to_arrow_table()
    return _plain_rows(mask_table(table, role))


def recent_months(n: int = 6, today: dt.date | None = None) -> str:
    today = today or now_local().date()
    y, m = today.year, today.month
    for _ in range(n - 1):
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return f"{y:04d}-{m:02d}..{today:%Y-%m}"


def dashboard(ws: Workspace, role: str, user: str) -> dict[str, Any]:
    """Campaign figures and monthly trends (ops bulletin model), newest findings, tasks due."""
    from chainbreaker.ops.bulletin import build_bulletin
    from chainbreaker.ops.casework_models import Case, Task

    bulletin = build_bulletin(ws, recent_months()).as_json()
    findings: list[dict[str, Any]] = []
    if ws.has_table("findings"):
        findings = _rows(ws, "SELECT chain, rule_id, subject_type, subject_key, score, severity, explanation_zh, "
                             "explanation_en FROM findings ORDER BY score DESC, id LIMIT 20", [], role)
        ws.audit("web.dashboard", user=user, role=role, findings=len(findings))
    with session_scope(engine_for(ws)) as s:
        tasks = [{"case": n, "title": t.title, "due": t.due_on.isoformat() if t.due_on else "", "status": t.status}
                 for t, n in s.execute(select(Task, Case.number).join(Case, Case.id == Task.case_id)
                                       .where(Task.status != "完成").order_by(Task.due_on.is_(None), Task.due_on).limit(20))]
    return {"bulletin": bulletin, "findings": findings, "tasks": tasks}


def trend_series(bulletin: dict[str, Any]) -> dict[str, Any]:
    """The monthly series for the ECharts trend chart (served as JSON, no inline script)."""
    months = bulletin.get("months", [])
    return {"months": [m["month"] for m in months],
            "series": {k: [str(m[k]) if isinstance(m[k], Decimal) else m[k] for m in months]
                       for k in ("cases", "gangs", "persons_measures", "platforms", "funds_seized_frozen")}}


def table_rows(ws: Workspace, table: str, role: str, user: str, order: str = "", limit: int = TOP) -> list[dict[str, Any]]:
    """The first rows of a result table, masked (pages of chains without their own view model)."""
    if not ws.has_table(table):
        return []
    rows = _rows(ws, f'SELECT * FROM "{table}" {order} LIMIT {int(limit)}', [], role)
    ws.audit("web.table.read", user=user, role=role, table=table, rows=len(rows))
    return rows


def agent_children(ws: Workspace, platform: str | None, member: str | None, role: str, user: str,
                   limit: int = 200) -> list[dict[str, Any]]:
    """Direct downline of one agent (the roots when ``member`` is empty), each with its own direct and
    total downline from ``agent_metrics`` (伞下) when promotion analyze has run; a level at a time so that
    a platform of a million members opens as fast as a small one."""
    if not ws.has_table("platform_members"):
        return []
    con = ws.duck()
    have = {r[0] for r in con.execute("DESCRIBE platform_members").fetchall()}
    shown = ", ".join(f"m.{c}" for c in ("username", "real_name", "level") if c in have)
    where = "(m.upline_id IS NULL OR m.upline_id = '')" if not member else "m.upline_id = $2"
    params: list[Any] = [platform or ""]
    if member:
        params.append(member)
    if ws.has_table("agent_metrics"):
        extra = ("coalesce(a.direct_downline, 0) AS direct, a.downline_accounts, a.downline_persons, "
                 "a.downline_stake FROM platform_members m LEFT JOIN agent_metrics a "
                 "ON a.platform = m.platform AND a.member_id = m.member_id")
    else:
        extra = ("(SELECT count(*) FROM platform_members k WHERE k.platform = m.platform AND k.upline_id = m.member_id) "
                 "AS direct FROM platform_members m")
    sql = (f"SELECT m.platform, m.member_id{', ' + shown if shown else ''}, {extra} "
           f"WHERE ($1 = '' OR m.platform = $1) AND {where} ORDER BY direct DESC, m.member_id LIMIT {int(limit)}")
    table = con.sql(sql, params=params).to_arrow_table()
    ws.audit("web.promotion.children", user=user, role=role, platform=platform, member=member, rows=table.num_rows)
    return _plain_rows(mask_table(table, role))


def cases(ws: Workspace) -> list[dict[str, Any]]:
    from chainbreaker.ops.casework_models import Case, Unit

    with session_scope(engine_for(ws)) as s:
        return [{"number": c.number, "name": c.name, "supervision": c.supervision, "status": c.status,
                 "opened_on": c.opened_on.isoformat() if c.opened_on else "", "unit": u or ""}
                for c, u in s.execute(select(Case, Unit.name).outerjoin(Unit, Unit.id == Case.unit_id)
                                      .order_by(Case.opened_on.desc(), Case.number).limit(500))]


def tasks(ws: Workspace) -> list[dict[str, Any]]:
    from chainbreaker.ops.casework_models import Case, Task, User

    with session_scope(engine_for(ws)) as s:
        return [{"case": n, "title": t.title, "owner": u or "", "due": t.due_on.isoformat() if t.due_on else "",
                 "status": t.status}
                for t, n, u in s.execute(select(Task, Case.number, User.username).join(Case, Case.id == Task.case_id)
                                         .outerjoin(User, User.id == Task.owner_id).order_by(Task.id.desc()).limit(500))]


def rewards(ws: Workspace) -> list[dict[str, Any]]:
    from chainbreaker.ops.rewards_models import Reward
    from chainbreaker.ops.tips_models import Tip

    with session_scope(engine_for(ws)) as s:
        return [{"tip": code, "amount": str(r.amount), "status": r.status, "proposed_by": r.proposed_by,
                 "proposed_at": show_time(r.proposed_at), "decided_by": r.decided_by or ""}
                for r, code in s.execute(select(Reward, Tip.receipt_code).join(Tip, Tip.id == Reward.tip_id)
                                         .order_by(Reward.id.desc()).limit(500))]


def assessment(ws: Workspace, month: str) -> dict[str, Any]:
    from chainbreaker.ops.assess import compute_scores, load_scheme, metric_label
    from chainbreaker.ops.figures import month_period

    month_period(month)  # a clear error for a bad month
    scheme = load_scheme(ws)
    with session_scope(engine_for(ws)) as s:
        scores = compute_scores(s, month, scheme)
    return {"month": month, "scheme": scheme.version,
            "rows": [{"rank": u.rank, "unit": u.unit, "score": str(u.score),
                      "trend": "" if u.trend is None else str(u.trend),
                      "metrics": {metric_label(k): str(v) for k, v in u.metrics.items()}} for u in scores]}


def shares(ws: Workspace, partner: str | None) -> list[dict[str, Any]]:
    """Sharing packages: all of them for staff, a partner agency's own only (``partner`` set)."""
    from chainbreaker.ops.casework_models import Case
    from chainbreaker.ops.sharing_models import SharePackage

    with session_scope(engine_for(ws)) as s:
        q = select(SharePackage, Case.number).join(Case, Case.id == SharePackage.case_id).order_by(SharePackage.id.desc())
        if partner is not None:
            q = q.where(SharePackage.recipient == partner)
        return [{"id": p.id, "kind": p.kind, "recipient": p.recipient, "case": n, "rows": p.rows,
                 "shared_by": p.shared_by, "shared_at": show_time(p.shared_at)} for p, n in s.execute(q.limit(500))]


def blocklist_download(ws: Workspace, fmt: str, role: str, user: str) -> tuple[Any, str]:
    """The tech chain's blocklist written (masked, audited) into a temporary folder."""
    import tempfile
    from pathlib import Path

    from chainbreaker.chains.tech.blocklist import blocklist_file_name, write_blocklist

    folder = Path(tempfile.mkdtemp(prefix="cb-web-blocklist-"))
    out = folder / blocklist_file_name(fmt if isinstance(fmt, str) else "domains")
    try:
        write_blocklist(ws, fmt, out, role=role, user=user)
    except BaseException:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        raise
    return out, out.name


def tips_queue(ws: Workspace, user_role: str, role: str, user: str) -> list[dict[str, Any]]:
    """Tips waiting for triage (ops/tips.triage masks and audits); the tipster only for admin."""
    from dataclasses import asdict

    from chainbreaker.ops.tips import triage

    # the tipster's identity is for the role that pays rewards: a web admin is that role
    return [asdict(r) for r in triage(ws, role=role, user=user)]


def tip_attachment(ws: Workspace, code: str, number: int, user: str, user_role: str) -> tuple[Any, str]:
    """Path and display name of the ``number``-th stored attachment (1-based) of tip ``code``; audited."""
    from chainbreaker.faces.web.services import NotFound
    from chainbreaker.ops.tips_models import Tip, TipAttachment

    with session_scope(engine_for(ws)) as s:
        atts = s.scalars(select(TipAttachment).join(Tip, Tip.id == TipAttachment.tip_id)
                         .where(Tip.receipt_code == code.strip().upper()).order_by(TipAttachment.id)).all()
        if not 1 <= number <= len(atts) or atts[number - 1].sha256 is None:
            raise NotFound("找不到该附件（或附件已被拒收）。", "No such attachment (or it was refused).")
        att = atts[number - 1]
        sha, name = att.sha256, att.name
    path = ws.evidence_path(sha)  # type: ignore[arg-type]
    if not path.is_file():
        raise NotFound("附件文件不在证据库中。", "The attachment file is missing from the evidence store.")
    ws.audit("web.tip.attachment", user=user, role=user_role, receipt=code, sha256=sha)
    return path, name
