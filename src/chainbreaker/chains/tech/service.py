"""Services of the tech chain (技术链服务): the queries and jobs every face calls.

Findings' subjects and explanations can carry indicators that are personal data (phone numbers,
QQ and WeChat handles, bank cards found on a site): they come back as the caller's role may see
them (core/model/masking.py), and reads and model training are written to the audit log.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from chainbreaker.core.model.masking import mask_table
from chainbreaker.core.workspace import Workspace


def list_captures(ws: Workspace, *, host: str | None = None, limit: int = 50) -> list[dict[str, Any]] | None:
    """Captures (抓取记录), newest first; None when nothing was scanned yet."""
    if not ws.has_table("tech_captures"):
        return None
    con = ws.duck()
    try:
        where = "WHERE host = ?" if host else ""
        rows = con.execute(f"SELECT url, persona, status, final_url, error, capture_sha256 FROM tech_captures {where} "
                           "ORDER BY scanned_at DESC, url, persona LIMIT ?", ([host] if host else []) + [limit]).fetchall()
    finally:
        con.close()
    keys = ("url", "persona", "status", "final_url", "error", "capture_sha256")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def list_findings(ws: Workspace, *, rule: str | None = None, limit: int = 100, role: str = "analyst",
                  user: str = "local") -> list[dict[str, Any]] | None:
    """The tech chain's findings, strongest first, masked for ``role`` as an export would be (audited);
    None when there are none. ``facts`` and ``evidence`` come back decoded from their JSON."""
    if not ws.has_table("findings"):
        return None
    con = ws.duck()
    try:
        where = "WHERE chain = 'tech'" + (" AND rule_id = ?" if rule else "")
        table: pa.Table = con.execute(f"SELECT rule_id, subject_key, score, explanation_zh, explanation_en, facts, evidence "
                            f"FROM findings {where} ORDER BY score DESC, rule_id, subject_key LIMIT ?",
                            ([rule] if rule else []) + [limit]).to_arrow_table()
    finally:
        con.close()
    ws.audit("tech.findings.list", user=user, role=role, rows=table.num_rows, rule=rule)
    rows = mask_table(table, role).to_pylist()
    for r in rows:
        for key in ("facts", "evidence"):
            if isinstance(r[key], str):
                r[key] = json.loads(r[key])
    return rows


def train_pages(ws: Workspace, labels: Path, *, blend: float = 0.5, c: float = 1.0, role: str = "analyst",
                user: str = "local") -> dict[str, Any]:
    """Train the page model on analyst-labelled pages, save it in the workspace (audited)."""
    from chainbreaker.chains.tech.page_model import read_labels, train_page_model, workspace_model_path

    pages = read_labels(labels, ws)
    model = train_page_model(pages, blend=blend, c=c)
    path = workspace_model_path(ws)
    model.meta["labels_file"] = str(labels)
    model.save(path)
    ws.audit("tech.train_pages", user=user, role=role, labels=str(labels), pages=len(pages), path=str(path))
    return {"pages": len(pages), "gambling": model.meta["gambling"], "cv_accuracy": model.meta.get("cv_accuracy"),
            "path": path}
