"""Services of the web face beyond search and dossier: login, table listing and export downloads.

Routes call these; they hold the calls into core/ops, masking by the caller's role and the audit.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from chainbreaker.core.errors import InputError
from chainbreaker.core.exports import FORMATS, default_name, export_table
from chainbreaker.core.timefmt import show_time
from chainbreaker.core.workspace import Workspace
from chainbreaker.faces.web.access import mask_role
from chainbreaker.ops.accounts import Principal

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson",
               "parquet": "application/vnd.apache.parquet",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class NotFound(InputError):
    """Asked for a table, entity or record that is not there (404)."""


def list_tables(ws: Workspace) -> list[dict[str, Any]]:
    return [{"name": name, "rows": int(entry.get("rows") or 0), "updated": show_time(entry.get("updated"))}
            for name, entry in sorted(ws.tables().items())]


def export_download(ws: Workspace, name: str, fmt: str, principal: Principal, lang: str = "zh") -> tuple[Path, str, str]:
    """Export table ``name`` masked for the caller's role (audited by ``export_table``) into a temporary
    folder; returns (file, download name, media type). The caller deletes the folder when sent."""
    fmt = (fmt or "").lower()
    if fmt not in FORMATS:
        raise InputError(f"不支持的导出格式 {fmt}，可选：{'、'.join(FORMATS)}",
                         f"Unsupported export format {fmt}; use one of {', '.join(FORMATS)}")
    if not ws.has_table(name):
        raise NotFound(f"没有表“{name}”。", f"No table '{name}'.")
    folder = Path(tempfile.mkdtemp(prefix="cb-web-export-"))
    try:
        out = folder / default_name(name, fmt)
        export_table(ws, name, fmt, out, role=mask_role(principal), user=principal.username, lang=lang)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return out, default_name(name, fmt), MEDIA_TYPES[fmt]
