"""Rejected rows, each with the file, the row and the reason. Nothing is dropped silently."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from chainbreaker.core.ingest.values import reason_zh
from chainbreaker.core.model.schemas import QUARANTINE


@dataclass
class Quarantine:
    """Collects rejected rows during one ingest run."""

    source_kind: str
    run_id: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    by_reason: Counter[str] = field(default_factory=Counter)

    def add(self, file_name: str, file_sha256: str, row: int, reason_code: str,
            raw: dict[str, Any] | None = None, detail: str | None = None) -> None:
        reason = reason_zh(reason_code) + (f"：{detail}" if detail else "")
        self.rows.append({
            "source_kind": self.source_kind,
            "file_name": file_name,
            "file_sha256": file_sha256,
            "row": row,
            "reason_code": reason_code,
            "reason": reason,
            "raw": json.dumps(raw or {}, ensure_ascii=False, default=str),
            "run_id": self.run_id,
        })
        self.by_reason[reason_code] += 1

    def table(self) -> pa.Table:
        return pa.Table.from_pylist(self.rows, schema=QUARANTINE)

    def __len__(self) -> int:
        return len(self.rows)
