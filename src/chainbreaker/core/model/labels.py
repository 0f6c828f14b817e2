"""Column labels (中文列名): one dictionary, ``labels.yaml``, for every canonical and result column.

Exports and workbooks show these labels; the canonical name stays available beside them (the
hidden sheet of an XLSX export). A column nobody labelled shows its canonical name.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from chainbreaker.core.config import read_yaml

LABELS_FILE = Path(__file__).with_name("labels.yaml")


@lru_cache(maxsize=1)
def _labels() -> dict[str, Any]:
    data = read_yaml(LABELS_FILE, "列标签文件", "column labels file")
    return {"columns": dict(data.get("columns") or {}), "tables": dict(data.get("tables") or {})}


def has_label(table: str | None, column: str) -> bool:
    d = _labels()
    return column in (d["tables"].get(table or "") or {}) or column in d["columns"]


def column_label(table: str | None, column: str, lang: str = "zh") -> str:
    """The label users read for ``table.column`` (Chinese), or the canonical name (English/unknown)."""
    if lang == "en":
        return column
    d = _labels()
    specific = d["tables"].get(table or "") or {}
    return str(specific.get(column) or d["columns"].get(column) or column)
