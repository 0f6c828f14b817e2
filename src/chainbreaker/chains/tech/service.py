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

from chainbreaker.core.model.finding import query
from chainbreaker.core.model.masking import mask_table, mask_text
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
    table: pa.Table = query(ws, chain="tech", rule_id=rule, limit=limit,
                            columns=["rule_id", "subject_key", "score", "explanation_zh", "explanation_en", "facts",
                                     "evidence"])
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


def scan_sites(ws: Workspace, targets: list[str], *, role: str = "analyst", **options: Any) -> tuple[Any, list[dict[str, Any]]]:
    """Scan ``targets`` (``options`` as for ``chains.tech.scan.scan``); the result and its findings as
    ``role`` may see them (subjects and explanations can name phones, QQ handles, cards)."""
    from chainbreaker.chains.tech.scan import scan

    result = scan(ws, targets, **options)
    findings = [{"rule_id": f.rule_id, "subject_key": mask_text(f.subject_key, role),
                 "explanation_zh": mask_text(f.explanation_zh, role), "explanation_en": mask_text(f.explanation_en, role)}
                for f in result.findings]
    return result, findings


def classify_files(files: list[Path], *, workspace_root: Path, url: str = "", lexicon: Path | None = None,
                   model: bool = True) -> list[tuple[Path, Any]]:
    """Classify saved pages (赌博网页判定): each file with its verdict. ``model`` blends in the page
    model trained in the workspace at ``workspace_root`` when there is one (no folder is created)."""
    from chainbreaker.chains.tech import page_model
    from chainbreaker.chains.tech.classify import classify_page, load_lexicon
    from chainbreaker.core.errors import InputError

    lex = load_lexicon(str(lexicon)) if lexicon else None
    if model:
        trained = workspace_root / "config" / "models" / page_model.MODEL_FILE
        page_model.use_page_model(trained if trained.exists() else None)
    out = []
    for file in files:
        if not file.is_file():
            raise InputError(f"文件不存在：{file}", f"File not found: {file}")
        html = file.read_bytes()[:20_000_000].decode("utf-8", errors="replace")
        out.append((file, classify_page(html, "", url or file.name, lexicon=lex)))
    return out
