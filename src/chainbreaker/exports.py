"""Export of any lake table as CSV, JSONL, Parquet or XLSX, with masking by role and an audit line."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from chainbreaker.errors import InputError
from chainbreaker.model.masking import columns_to_mask, mask_table, personal_columns
from chainbreaker.workspace import Workspace

FORMATS = ("csv", "jsonl", "parquet", "xlsx")
XLSX_MAX_ROWS = 1_048_575


def masked(table: pa.Table, role: str) -> pa.Table:
    """``table`` as ``role`` may see it: personal data masked by what each value is (``model/masking.py``)."""
    return mask_table(table, role)


def export_table(ws: Workspace, name: str, fmt: str, out: Path, *, role: str = "analyst",
                 user: str = "local") -> int:
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise InputError(f"不支持的导出格式 {fmt}，可选：{'、'.join(FORMATS)}",
                         f"Unsupported export format {fmt}; use one of {', '.join(FORMATS)}")
    table = ws.read_arrow(name)
    if fmt == "xlsx" and table.num_rows > XLSX_MAX_ROWS:
        raise InputError(
            f"表 {name} 有 {table.num_rows:,} 行，超过 Excel 上限 {XLSX_MAX_ROWS:,} 行；请导出为 csv 或 parquet。",
            f"Table {name} has {table.num_rows:,} rows, more than Excel allows; export csv or parquet.",
        )
    table = masked(table, role)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    if fmt == "parquet":
        pq.write_table(table, tmp)
    elif fmt == "csv":
        _write_csv(table, tmp)
    elif fmt == "jsonl":
        _write_jsonl(table, tmp)
    else:
        _write_xlsx(table, tmp, name)
    tmp.replace(out)
    ws.audit("export", user=user, role=role, table=name, format=fmt, out=str(out), rows=table.num_rows,
             personal_columns=personal_columns(table.column_names),
             masked=sorted(columns_to_mask(table.column_names, role)))
    return table.num_rows


def _stringify(table: pa.Table) -> pa.Table:
    cols = []
    for col in table.columns:
        if pa.types.is_decimal(col.type) or pa.types.is_timestamp(col.type) or pa.types.is_date(col.type):
            cols.append(pc.cast(col, pa.string()))
        else:
            cols.append(col)
    return pa.Table.from_arrays(cols, names=table.column_names)


def _write_csv(table: pa.Table, path: Path) -> None:
    import pyarrow.csv as pacsv

    with open(path, "wb") as fh:
        fh.write("\ufeff".encode())  # Excel opens UTF-8 Chinese correctly only with a BOM
        pacsv.write_csv(_stringify(table), fh)


def _write_jsonl(table: pa.Table, path: Path) -> None:
    import json

    with open(path, "w", encoding="utf-8") as fh:
        for batch in _stringify(table).to_batches(65536):
            for row in batch.to_pylist():
                fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def _write_xlsx(table: pa.Table, path: Path, sheet: str) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    ws = wb.add_worksheet(sheet[:31])
    bold = wb.add_format({"bold": True})
    for j, name in enumerate(table.column_names):
        ws.write_string(0, j, name, bold)
    r = 1
    for batch in _stringify(table).to_batches(65536):
        for row in batch.to_pylist():
            for j, v in enumerate(row.values()):
                if v is None:
                    continue
                if isinstance(v, bool) or not isinstance(v, int | float):
                    ws.write_string(r, j, str(v))  # long account numbers stay text
                else:
                    ws.write_number(r, j, v)
            r += 1
    wb.close()
