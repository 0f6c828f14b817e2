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


# ------------------------------------------------------------------ views for the web face
def scanned_sites(ws: Workspace, *, limit: int = 500) -> list[dict[str, Any]]:
    """扫描过的网站: per host the personas fetched, rendered captures, screenshots, the best page score
    and whether a page was judged gambling (no personal data: hosts and counts)."""
    if not ws.has_table("tech_captures"):
        return []
    con = ws.duck()
    try:
        pages = ws.has_table("tech_pages")
        sql = f"""SELECT c.host, count(DISTINCT c.persona) AS personas, count(*) AS captures,
                         count(c.screenshot_sha256) AS screenshots, max(c.scanned_at) AS scanned_at,
                         {'max(p.score)' if pages else 'NULL'} AS score, {'bool_or(p.is_gambling)' if pages else 'NULL'} AS gambling
                  FROM tech_captures c {'LEFT JOIN tech_pages p ON p.capture_sha256 = c.capture_sha256 AND p.url = c.url AND p.persona = c.persona' if pages else ''}
                  GROUP BY c.host ORDER BY gambling DESC NULLS LAST, score DESC NULLS LAST, c.host LIMIT ?"""
        rows = con.execute(sql, [int(limit)]).fetchall()
    finally:
        con.close()
    cols = ("host", "personas", "captures", "screenshots", "scanned_at", "score", "gambling")
    return [dict(zip(cols, r, strict=True)) for r in rows]


def site_detail(ws: Workspace, host: str, *, role: str = "analyst", user: str = "local") -> dict[str, Any]:
    """One scanned site as each persona saw it (状态、跳转、标题、是否赌博、理由、截图), the decoded scripts
    (解码载荷: layers, remote URLs, redirects, titles set), the indicators found (phones, cards, QQ …
    masked for ``role``) and the tech findings on the host. The read is audited."""
    from chainbreaker.core.errors import InputError

    if not ws.has_table("tech_captures"):
        raise InputError("尚未扫描网站（chainbreaker tech scan）。", "No sites scanned yet (chainbreaker tech scan).")
    con = ws.duck()
    try:
        caps = con.sql("""SELECT url, persona, rendered, status, final_url, offsite_redirect, capture_sha256,
                                 screenshot_sha256, error, scanned_at FROM tech_captures WHERE host = ?
                          ORDER BY url, persona, rendered""", params=[host]).to_arrow_table().to_pylist()
        if not caps:
            raise InputError(f"没有扫描过网站 {host}。", f"The site {host} was not scanned.")
        pages = {(p["url"], p["persona"], p["capture_sha256"]): p for p in con.sql(
            """SELECT url, persona, capture_sha256, title, score, is_gambling, reasons, scripts, hidden_blocks,
                      offsite_hosts, meta_refresh FROM tech_pages WHERE host = ?""", params=[host]).to_arrow_table().to_pylist()} \
            if ws.has_table("tech_pages") else {}
        indicators = con.sql("""SELECT kind, value, count(*) AS seen, min(persona) AS persona FROM tech_indicators
                                WHERE host = ? GROUP BY kind, value ORDER BY kind, value LIMIT 500""",
                             params=[host]).to_arrow_table() if ws.has_table("tech_indicators") else None
        clusters = [r[0] for r in con.execute("SELECT DISTINCT cluster_id FROM tech_clusters WHERE host = ?",
                                              [host]).fetchall()] if ws.has_table("tech_clusters") else []
    finally:
        con.close()
    views = []
    payloads: list[dict[str, Any]] = []
    for c in caps:
        p = pages.get((c["url"], c["persona"], c["capture_sha256"]), {})
        views.append({**c, "title": mask_text(p.get("title"), role) if p.get("title") else "", "score": p.get("score"),
                      "gambling": p.get("is_gambling"), "reasons": _decoded(p.get("reasons"), role),
                      "hidden": _decoded(p.get("hidden_blocks"), role), "meta_refresh": p.get("meta_refresh")})
        for s in _decoded(p.get("scripts"), role) or []:
            payloads.append({"url": c["url"], "persona": c["persona"], **s})
    shown = [{**r, "value": mask_text(r["value"], role)} for r in mask_table(indicators, role).to_pylist()] \
        if indicators is not None else []
    findings = list_findings_for(ws, host, role=role)
    ws.audit("tech.site.view", user=user, role=role, host=host, indicators=len(shown), findings=len(findings))
    return {"host": host, "views": views, "payloads": payloads, "indicators": shown, "clusters": clusters,
            "findings": findings}


def _decoded(text: Any, role: str) -> Any:
    """A JSON column as data, every string in it masked for ``role`` (scripts can name phones and cards)."""
    if not text:
        return []
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return [mask_text(text, role)]

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return mask_text(v, role)
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        return v

    return walk(value)


def list_findings_for(ws: Workspace, host: str, *, role: str = "analyst") -> list[dict[str, Any]]:
    """The tech findings whose subject is ``host`` (or a URL on it), masked for ``role``."""
    if not ws.has_table("findings"):
        return []
    table = query(ws, chain="tech", columns=["rule_id", "subject_key", "score", "explanation_zh", "explanation_en",
                                             "facts", "evidence"])
    rows = [r for r in table.to_pylist() if r["subject_key"] == host or f"//{host}/" in (r["subject_key"] or "")
            or (r["subject_key"] or "").endswith(f"//{host}")]
    out = mask_table(pa.Table.from_pylist(rows, schema=table.schema), role).to_pylist() if rows else []
    for r in out:
        for key in ("facts", "evidence"):
            if isinstance(r[key], str):
                r[key] = json.loads(r[key])
    return out


def site_clusters(ws: Workspace, *, role: str = "analyst", user: str = "local") -> list[dict[str, Any]]:
    """同一运营方的网站集群 (``tech clusters``): hosts, the indicators they share (masked for ``role``) and
    the template links between their pages; the read is audited."""
    if not ws.has_table("tech_clusters"):
        return []
    con = ws.duck()
    try:
        rows = con.execute("""SELECT cluster_id, any_value(cluster_size), any_value(hosts), list(shared_indicators),
                                     list(template_links) FROM tech_clusters GROUP BY cluster_id
                              ORDER BY any_value(cluster_size) DESC, cluster_id""").fetchall()
    finally:
        con.close()
    out = []
    for cid, size, hosts, shared, templates in rows:
        seen: dict[tuple[str, str], dict[str, Any]] = {}
        for part in shared:
            for e in json.loads(part or "[]"):
                seen[(e.get("kind", ""), e.get("value", ""))] = e
        links = {(t.get("a"), t.get("b")): t for part in templates for t in json.loads(part or "[]")}
        out.append({"cluster_id": cid, "size": size, "hosts": json.loads(hosts or "[]"),
                    "shared": [{"kind": k, "value": mask_text(v, role), "hosts": e.get("hosts", [])}
                               for (k, v), e in sorted(seen.items())],
                    "templates": list(links.values())})
    ws.audit("tech.clusters.view", user=user, role=role, clusters=len(out))
    return out


def screenshot_file(ws: Workspace, sha256: str) -> Path:
    """The stored screenshot ``sha256`` of a capture (only screenshots, never another evidence file)."""
    from chainbreaker.core.errors import InputError

    sha = (sha256 or "").strip().lower()
    if len(sha) != 64 or any(ch not in "0123456789abcdef" for ch in sha) or not ws.has_table("tech_captures"):
        raise InputError("无效的截图编号。", "Invalid screenshot id.")
    con = ws.duck()
    try:
        known = con.execute("SELECT count(*) FROM tech_captures WHERE screenshot_sha256 = ?", [sha]).fetchall()[0][0]
    finally:
        con.close()
    path = ws.evidence_path(sha)
    if not known or not path.is_file():
        raise InputError("找不到该截图。", "No such screenshot.")
    return path
