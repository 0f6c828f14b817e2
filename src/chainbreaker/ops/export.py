"""``chainbreaker ops export``: any ops table as CSV, JSONL, Parquet or XLSX through the core writers,
so ops tables get the same masking by role, audit, formula safety and Beijing-time display as lake
tables. Passphrase hashes never leave the database; the tipster's name and phone only for ``admin``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import Table, select

from chainbreaker.core.errors import InputError
from chainbreaker.core.exports import check_format, write_export
from chainbreaker.core.workspace import Workspace
from chainbreaker.ops.db import Base, engine_for

NEVER = {"ops_tip": {"passphrase_hash"}}
PAYER_ONLY = {"ops_tip": {"tipster_name", "tipster_phone"}}
PAYER_ROLE = "admin"


def ops_tables() -> dict[str, Table]:
    import chainbreaker.ops.casework_models  # noqa: F401
    import chainbreaker.ops.register_models  # noqa: F401
    import chainbreaker.ops.rewards_models  # noqa: F401
    import chainbreaker.ops.sharing_models  # noqa: F401
    import chainbreaker.ops.tips_models  # noqa: F401

    return {n: t for n, t in sorted(Base.metadata.tables.items()) if n.startswith(("ops_", "register_"))}


def _utc(value: Any) -> Any:
    # SQLite keeps no zone: the stored value is UTC by contract (ops models write UTC)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def read_ops_table(ws: Workspace, name: str, role: str) -> pa.Table:
    tables = ops_tables()
    if name not in tables:
        raise InputError(f"没有案件库表 {name}。可导出：{'、'.join(tables)}", f"No ops table {name}. Tables: {', '.join(tables)}")
    table = tables[name]
    drop = NEVER.get(name, set()) | (set() if role == PAYER_ROLE else PAYER_ONLY.get(name, set()))
    cols = [c for c in table.columns if c.name not in drop]
    with engine_for(ws).connect() as con:
        rows = [{c.name: _utc(v) for c, v in zip(cols, r, strict=True)} for r in con.execute(select(*cols))]
    if not rows:
        return pa.table({c.name: pa.array([], pa.string()) for c in cols})
    return pa.Table.from_pylist(rows)


def export_ops_table(ws: Workspace, name: str, fmt: str, out: Path, *, role: str = "analyst", user: str = "local",
                     lang: str = "zh") -> int:
    check_format(fmt)
    return write_export(ws, read_ops_table(ws, name, role), name, fmt, out, role=role, user=user, lang=lang,
                        action="ops.export")
