"""Export of any lake table as CSV, JSONL, Parquet or XLSX (导出), with masking by role and audit.

What each format holds (docs/exports.md):

* **Parquet**: the table as stored: native types, lists as lists, times as the UTC instant
  (time-zone aware), amounts as DECIMAL(18,2).
* **CSV** (UTF-8 with BOM, for Excel): canonical column names; times as text in the configured
  zone with its offset (``2024-03-01 08:00:00+08:00``); amounts as plain decimals; lists, structs
  and maps as JSON text; text cells that spreadsheet programs would run as a formula neutralised.
* **JSONL**: one JSON object per row, canonical names; times ISO 8601 in the configured zone with
  its offset; amounts as decimal strings (exact); lists/structs/maps as JSON arrays/objects.
* **XLSX**: Chinese column labels (``model/labels.yaml``) in the header, the canonical names in the
  hidden sheet ``字段说明``; amounts are numbers with two decimals, times Excel datetimes in the
  configured zone, long identifiers text, lists JSON text, formula-like text neutralised.

Every output file of the product is written through :func:`output_file`: the audit intent line
first, then a temporary file in the target's folder, then the completion line, then the rename.
Nothing is left behind when any step fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from chainbreaker.core.cells import FORMULA_TRIGGERS, json_default, neutralise, neutralise_array, plain_json
from chainbreaker.core.errors import ChainbreakerError, InputError, WorkspaceError
from chainbreaker.core.model.masking import columns_to_mask, mask_table, mask_table_report, personal_columns
from chainbreaker.core.timefmt import zone_name
from chainbreaker.core.workspace import Workspace

FORMATS = ("csv", "jsonl", "parquet", "xlsx")
XLSX_MAX_ROWS = 1_048_575
STALE_PARTIAL_SECONDS = 600

def masked(table: pa.Table, role: str) -> pa.Table:
    """``table`` as ``role`` may see it: personal data masked by what each value is (``model/masking.py``)."""
    return mask_table(table, role)


# ------------------------------------------------------------------ output files (输出文件)
def resolve_output(out: Path | str, default_name: str | None) -> Path:
    """Where ``--out`` writes: a file path as given; an existing folder gets ``default_name`` inside it."""
    out = Path(out).expanduser()
    if out.is_dir():
        if not default_name:
            raise InputError(f"--out 指向一个文件夹：{out}。请给出输出文件名。",
                             f"--out points at a folder: {out}. Give a file name.")
        out = out / default_name
        if out.is_dir():
            raise InputError(f"输出位置 {out} 是一个文件夹，无法写成文件。请换一个 --out。",
                             f"The output {out} is a folder and cannot be written as a file; choose another --out.")
    if out.parent.exists() and not out.parent.is_dir():
        raise InputError(f"输出文件夹 {out.parent} 是一个文件。请换一个 --out。",
                         f"The output folder {out.parent} is a file; choose another --out.")
    return out


def resolve_output_dir(out: Path | str) -> Path:
    """A folder output (report, demo): created if missing; an existing *file* is a clear error."""
    out = Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise InputError(f"--out 须为文件夹，但 {out} 是一个文件。请换一个文件夹名。",
                         f"--out must be a folder, but {out} is a file; choose a folder name.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise InputError(f"无法创建输出文件夹 {out}：路径中有同名文件。",
                         f"Cannot create the output folder {out}: a file is in the way.") from exc
    except OSError as exc:
        raise InputError(f"无法创建输出文件夹 {out}（{exc.strerror or exc}）。",
                         f"Cannot create the output folder {out} ({exc.strerror or exc}).") from exc
    return out


@dataclass
class OutputFile:
    """What a writer gets from :func:`output_file`: write ``path``; it becomes ``target`` at the end."""

    path: Path
    target: Path
    result: dict[str, Any] = field(default_factory=dict)


def _sweep_partials(target: Path) -> None:
    """Temporary files of the same target left by a killed process (older than a few minutes)."""
    cutoff = time.time() - STALE_PARTIAL_SECONDS
    for stale in target.parent.glob(f".{target.name}.*.partial"):
        with contextlib.suppress(OSError):
            if stale.stat().st_mtime < cutoff:
                stale.unlink()


@contextlib.contextmanager
def output_file(ws: Workspace, out: Path | str, action: str, *, default_name: str | None = None,
                user: str = "local", role: str = "analyst", **detail: Any) -> Iterator[OutputFile]:
    """Write one output file safely (all writers of the product use this).

    Order: resolve ``out`` (an existing folder gets ``default_name`` inside it) → audit intent line
    → the caller writes the temporary file ``.<name>.<id>.partial`` beside the target → audit
    completion line → atomic rename. On any failure the temporary file is removed, the audit log
    gets a ``failed`` line, and a file already at the target stays as it was.
    """
    target = resolve_output(out, default_name)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"无法创建输出文件夹 {target.parent}（{exc.strerror or exc}）。",
                         f"Cannot create the output folder {target.parent} ({exc.strerror or exc}).") from exc
    _sweep_partials(target)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex[:8]}.partial"
    handle = OutputFile(tmp, target)
    try:
        with ws.audited(action, user=user, role=role, out=str(target), **detail) as result:
            try:
                yield handle
            except OSError as exc:
                raise InputError(f"无法写入 {target}（{exc.strerror or exc}）。",
                                 f"Cannot write {target} ({exc.strerror or exc}).") from exc
            if not tmp.exists():
                raise InputError(f"没有写出任何内容：{target}", f"Nothing was written: {target}")
            result.update(handle.result)
        try:
            os.replace(tmp, target)
        except OSError as exc:
            with contextlib.suppress(WorkspaceError):
                ws.audit(action, user=user, role=role, phase="failed", out=str(target), error="rename")
            raise InputError(f"无法写入 {target}（{exc.strerror or exc}）。",
                             f"Cannot write {target} ({exc.strerror or exc}).") from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


# ------------------------------------------------------------------ export (导出)
def default_name(table: str, fmt: str) -> str:
    return f"{table}.{fmt.lower()}"


def export_table(ws: Workspace, name: str, fmt: str, out: Path, *, role: str = "analyst",
                 user: str = "local", tz: str | None = None, lang: str = "zh") -> int:
    """Export lake table ``name``; returns the rows written. ``out`` may be an existing folder."""
    check_format(fmt)
    return write_export(ws, ws.read_arrow(name), name, fmt, out, role=role, user=user, tz=tz, lang=lang)


def check_format(fmt: str) -> str:
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise InputError(f"不支持的导出格式 {fmt}，可选：{'、'.join(FORMATS)}",
                         f"Unsupported export format {fmt}; use one of {', '.join(FORMATS)}")
    return fmt


def write_export(ws: Workspace, table: pa.Table, name: str, fmt: str, out: Path, *, role: str = "analyst",
                 user: str = "local", tz: str | None = None, lang: str = "zh", action: str = "export") -> int:
    """Write ``table`` (called ``name``) as ``fmt``: masked for ``role``, audited as ``action`` before the
    file exists, formula-safe, times in the zone. The one export writer of lake and ops tables."""
    fmt = check_format(fmt)
    if fmt == "xlsx" and table.num_rows > XLSX_MAX_ROWS:
        raise InputError(
            f"表 {name} 有 {table.num_rows:,} 行，超过 Excel 上限 {XLSX_MAX_ROWS:,} 行；请导出为 csv 或 parquet。",
            f"Table {name} has {table.num_rows:,} rows, more than Excel allows; export csv or parquet.",
        )
    zone = tz or zone_name()
    masked_cols = sorted(columns_to_mask(table.column_names, role))
    table, masked_kinds = mask_table_report(table, role)
    with output_file(ws, out, action, default_name=default_name(name, fmt), user=user, role=role, table=name,
                     format=fmt, rows=table.num_rows, personal_columns=personal_columns(table.column_names),
                     masked=masked_cols, masked_kinds=masked_kinds, timezone=zone) as o:
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


def dumps_local(value: Any, tz: str | None = None, **kwargs: Any) -> str:
    """JSON for a user (``--json``, ``--out *.json``): times ISO 8601 in the configured zone with
    its offset (``2024-03-01T08:00:00+08:00``), amounts as exact decimal strings."""
    zone = tz or zone_name()
    return json.dumps(value, ensure_ascii=False, default=lambda x: json_default(x, zone), **kwargs)


def is_nested(t: pa.DataType) -> bool:
    return pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t) \
        or pa.types.is_struct(t) or pa.types.is_map(t)


def json_text(arr: pa.ChunkedArray, tz: str) -> pa.Array:
    """A list/struct/map column as JSON text (null stays null)."""
    return pa.array([None if v is None else json.dumps(plain_json(v), ensure_ascii=False, default=lambda x: json_default(x, tz))
                     for v in arr.to_pylist()], pa.string())


def _decoded(col: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(col.type):
        return col.cast(col.type.value_type)
    return col


def text_columns(table: pa.Table, tz: str, *, sep: str = " ", neutral: bool = True) -> pa.Table:
    """The table with times as zoned text, decimals and dates as text, nested values as JSON text,
    and (``neutral``) formula-like text neutralised. Numbers and booleans keep their type."""
    from chainbreaker.core.timefmt import arrow_local_text

    cols = []
    for raw in table.columns:
        col = _decoded(raw)
        t = col.type
        if pa.types.is_timestamp(t):
            cols.append(arrow_local_text(col, tz, sep=sep))
        elif pa.types.is_decimal(t) or pa.types.is_date(t) or pa.types.is_time(t):
            cols.append(pc.cast(col, pa.string()))
        elif is_nested(t):
            cols.append(json_text(col, tz))
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            cols.append(neutralise_array(col) if neutral else col)
        elif pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_null(t):
            cols.append(pa.array([None if v is None else (v.hex() if isinstance(v, bytes) else str(v))
                                  for v in col.to_pylist()], pa.string()))
        else:
            cols.append(col)
    return pa.Table.from_arrays(cols, names=table.column_names)


def write_csv(table: pa.Table, path: Path, *, tz: str | None = None) -> None:
    """CSV with a BOM (Excel opens UTF-8 Chinese correctly only with one); see the module doc."""
    import pyarrow.csv as pacsv

    zone = tz or zone_name()
    schema = text_columns(table.schema.empty_table(), zone).schema
    with open(path, "wb") as fh:
        fh.write("\ufeff".encode())
        with pacsv.CSVWriter(fh, schema) as writer:
            for batch in table.to_batches(65536):
                writer.write_table(text_columns(pa.Table.from_batches([batch], schema=table.schema), zone).cast(schema))


def write_jsonl(table: pa.Table, path: Path, *, tz: str | None = None) -> None:
    zone = tz or zone_name()
    default = (lambda x: json_default(x, zone))  # noqa: E731
    with open(path, "w", encoding="utf-8") as fh:
        for batch in table.to_batches(65536):
            part = pa.Table.from_batches([batch], schema=table.schema)
            cols = []
            for raw in part.columns:
                col = _decoded(raw)
                if pa.types.is_timestamp(col.type):
                    cols.append(_arrow_text(col, zone))
                elif pa.types.is_decimal(col.type):
                    cols.append(pc.cast(col, pa.string()))
                else:
                    cols.append(col)
            rows = pa.Table.from_arrays(cols, names=part.column_names).to_pylist()
            maps = [f.name for f in table.schema if _has_map(f.type)]  # maps come back as lists of pairs
            for row in rows:
                for k in maps:
                    row[k] = plain_json(row[k])
                fh.write(json.dumps(row, ensure_ascii=False, default=default) + "\n")


def _has_map(t: pa.DataType) -> bool:
    if pa.types.is_map(t):
        return True
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _has_map(t.value_type)
    if pa.types.is_struct(t):
        return any(_has_map(t.field(i).type) for i in range(t.num_fields))
    return False


def _arrow_text(col: pa.ChunkedArray, tz: str) -> pa.ChunkedArray:
    from chainbreaker.core.timefmt import arrow_local_text

    return arrow_local_text(col, tz, sep="T")


__all__ = [
    "FORMATS", "FORMULA_TRIGGERS", "ChainbreakerError", "OutputFile", "dumps_local", "export_table", "masked", "neutralise",
    "neutralise_array", "output_file", "resolve_output", "resolve_output_dir", "write_csv", "write_jsonl",
]
