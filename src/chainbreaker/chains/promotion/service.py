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
