"""Services of the promotion chain (推广链服务): queries every face calls, masked for the role and audited.

Member ids are often phone numbers or names, so what a face shows of them goes through the masking
of core/model/masking.py for the caller's role, and the read is written to the audit log.
"""

from __future__ import annotations

from typing import Any

from chainbreaker.core.errors import InputError
from chainbreaker.core.model.masking import mask_text
from chainbreaker.core.workspace import Workspace

TOP_COLUMNS = ("platform", "member_id", "level", "downline_accounts", "downline_persons", "downline_stake",
               "own_commission")

MEMBER_COLUMNS = ("member_id", "username", "real_name", "phone", "level", "register_time", "status")


def top_agents(ws: Workspace, *, platform: str | None = None, by: str = "downline_persons", limit: int = 20,
               role: str = "analyst", user: str = "local") -> list[dict[str, Any]]:
    """Agents ranked by the downline metric ``by`` (伞下指标), as ``role`` may see them (audited)."""
    from chainbreaker.chains.promotion.metrics import AGENT_METRICS_COLUMNS

    if by not in AGENT_METRICS_COLUMNS:
        raise InputError(f"无效的排序列 {by}，可选：{'、'.join(AGENT_METRICS_COLUMNS)}", f"Unknown column {by}")
    con = ws.duck()
    try:
        where = "WHERE platform = ?" if platform else ""
        rows = con.execute(f'SELECT {", ".join(TOP_COLUMNS)} FROM agent_metrics {where} ORDER BY "{by}" DESC LIMIT ?',
                           ([platform] if platform else []) + [int(limit)]).fetchall()
    finally:
        con.close()
    ws.audit("promotion.top", user=user, role=role, rows=len(rows), by=by, platform=platform)
    return [{c: v if isinstance(v, int) and not isinstance(v, bool) or v is None else mask_text(v, role)
             for c, v in zip(TOP_COLUMNS, r, strict=True)} for r in rows]


def agent_card(ws: Workspace, member_id: str, *, platform: str | None = None, role: str = "analyst",
               user: str = "local") -> dict[str, Any]:
    """代理卡片: one agent's (or member's) tree position, downline figures (伞下), the legal assessment
    against the threshold rules (定罪量刑标准, with the value of this case and whether it is met) and the
    findings with their facts and evidence — the summary and threshold sheets of the evidence workbook,
    as ``role`` may see them (the read is audited)."""
    import datetime as dt
    import json

    from chainbreaker.chains.promotion.thresholds import load_rules
    from chainbreaker.chains.promotion.workbook import member_totals, threshold_rows
    from chainbreaker.core.model.finding import query
    from chainbreaker.core.model.masking import mask_record
    from chainbreaker.core.timefmt import show_time

    member_id = (member_id or "").strip()
    if not member_id:
        raise InputError("请给出会员ID。", "Give a member id.")
    if not ws.has_table("agent_metrics") or not ws.has_table("promotion_member_totals"):
        raise InputError("尚未进行代理层级分析。请先运行 chainbreaker promotion analyze。",
                         "No agent analysis yet. Run 'chainbreaker promotion analyze' first.")
    con = ws.duck()
    try:
        me = member_totals(con, member_id, platform, role)
        plat = me["platform"]
        am_rows = con.sql("SELECT * FROM agent_metrics WHERE platform = ? AND member_id = ?",
                          params=[plat, member_id]).to_arrow_table().to_pylist()
        member = [{k: v for k, v in r.items() if k in MEMBER_COLUMNS}
                  for r in con.sql("SELECT * FROM platform_members WHERE platform = ? AND member_id = ?",
                                   params=[plat, member_id]).to_arrow_table().to_pylist()]
        findings = query(con, chain="promotion", subject=f"{plat}:{member_id}",
                         columns=["id", "rule_id", "severity", "score", "explanation_zh", "explanation_en", "facts",
                                  "evidence"]).to_pylist()
    finally:
        con.close()
    rules = load_rules(ws.config_dir)
    basis = rules["rules"]["AMT"].get("default_basis", "stake")
    am = am_rows[0] if am_rows else None
    findings.sort(key=lambda f: f["rule_id"])
    thresholds = threshold_rows(rules, findings, am, basis)
    shown_member, masked = mask_record({k: show_time(v) if isinstance(v, dt.datetime) else v
                                        for k, v in (member[0] if member else {"member_id": member_id}).items()}, role)
    path = [mask_text(p, role) for p in (am["upline_path"].split(">") if am and am.get("upline_path") else [])]
    for f in findings:
        f["explanation_zh"] = mask_text(f["explanation_zh"], role)
        f["explanation_en"] = mask_text(f["explanation_en"], role)
        for key in ("facts", "evidence"):
            if isinstance(f[key], str):
                f[key] = json.loads(f[key])
    ws.audit("promotion.agent_card", user=user, role=role, platform=plat, member=mask_text(member_id, role),
             findings=len(findings), masked_kinds=masked)
    metrics = {k: show_time(v) if isinstance(v, dt.datetime) else v for k, v in (am or {}).items()
               if k not in ("platform", "member_id", "upline_path")}
    return {"platform": plat, "member_id": mask_text(member_id, role), "member": shown_member, "metrics": metrics,
            "totals": {k: me.get(k) for k in ("level", "tree_status", "bets", "stake", "deposit", "withdrawal", "active")},
            "upline_path": path, "findings": findings, "thresholds": thresholds, "basis": basis,
            "rules_version": rules["version"], "met": [r["rule_id"] for r in thresholds if r["status"] == "达到"]}
