"""``chainbreaker ops export``: any ops table as CSV, JSONL, Parquet or XLSX through the core writers,
so ops tables get the same masking by role, audit, formula safety and Beijing-time display as lake
tables. Passphrase hashes never leave the database; the tipster's name and phone only for ``admin``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Table, select

from chainbreaker.core.errors import InputError
from chainbreaker.core.exports import FORMATS, default_name, masked, output_file, write_csv, write_jsonl
from chainbreaker.core.model.masking import columns_to_mask, personal_columns
from chainbreaker.core.timefmt import zone_name
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
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise InputError(f"不支持的导出格式 {fmt}，可选：{'、'.join(FORMATS)}", f"Unsupported format {fmt}; use {', '.join(FORMATS)}")
    table = read_ops_table(ws, name, role)
    zone = zone_name()
    masked_cols = sorted(columns_to_mask(table.column_names, role))
    table = masked(table, role)
    with output_file(ws, out, "ops.export", default_name=default_name(name, fmt), user=user, role=role, table=name,
                     format=fmt, rows=table.num_rows, personal_columns=personal_columns(table.column_names),
                     masked=masked_cols, timezone=zone) as o:
        if fmt == "parquet":
            pq.write_table(table, o.path)
        elif fmt == "csv":
            write_csv(table, o.path, tz=zone)
        elif fmt == "jsonl":
            write_jsonl(table, o.path, tz=zone)
        else:
            from chainbreaker.core.exports_xlsx import write_table_xlsx

            write_table_xlsx(table, o.path, name, tz=zone, lang=lang, note={"角色": role, "脱敏列": masked_cols})
    return table.num_rows
