"""XLSX without formulas from data (安全的 Excel 文件): one cell writer for exports and workbooks.

xlsxwriter's defaults turn a string starting with ``=`` into a live formula and strings that look
like URLs into hyperlinks; here both are off, numbers are written as numbers only when they are
numbers in the data (amounts with a two-decimal format, integers up to 15 digits), times as Excel
datetimes in the configured zone (Excel has no zones: the zone is named in the header and in the
hidden sheet ``字段说明``), long identifiers as text, lists as JSON text, and formula-like text
neutralised with a leading ``'`` (:func:`chainbreaker.core.cells.neutralise`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from chainbreaker.core.cells import json_default, neutralise, plain_json
from chainbreaker.core.model.labels import column_label
from chainbreaker.core.timefmt import (
    EXCEL_DATE,
    EXCEL_DATETIME,
    local_naive,
    now_local,
    zone_label,
    zone_name,
)

SAFE_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
EXCEL_MAX_TEXT = 32_767
EXACT_DIGITS = 10**15  # Excel keeps 15 significant digits: larger integers are written as text
CUT_NOTE = "……（超出 Excel 单元格长度，已截断；完整内容见 CSV/Parquet 导出）"
COLUMNS_SHEET = "字段说明"


def safe_workbook(path: Path | str, *, constant_memory: bool = False) -> Any:
    """An xlsxwriter Workbook that never writes data as a formula or a hyperlink."""
    import xlsxwriter

    return xlsxwriter.Workbook(str(path), {**SAFE_OPTIONS, "constant_memory": constant_memory})


@dataclass
class CellFormats:
    """The formats cells need, created once per workbook."""

    bold: Any
    money: Any
    datetime: Any
    date: Any
    wrap: Any

    @classmethod
    def add(cls, wb: Any) -> CellFormats:
        return cls(bold=wb.add_format({"bold": True}),
                   money=wb.add_format({"num_format": "#,##0.00"}),
                   datetime=wb.add_format({"num_format": EXCEL_DATETIME}),
                   date=wb.add_format({"num_format": EXCEL_DATE}),
                   wrap=wb.add_format({"text_wrap": True, "valign": "top"}))


def safe_text(value: str) -> str:
    text = neutralise(value)
    if len(text) > EXCEL_MAX_TEXT:
        text = text[: EXCEL_MAX_TEXT - len(CUT_NOTE)] + CUT_NOTE
    return text


def write_cell(sheet: Any, row: int, col: int, value: Any, fmts: CellFormats, tz: str | None = None,
               fmt: Any = None) -> None:
    """Write one value by what it is (see the module doc); ``fmt`` is the format for text and plain numbers."""
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, Decimal):
        if value.is_finite():
            sheet.write_number(row, col, float(value), fmts.money)
        else:
            sheet.write_string(row, col, str(value), fmt)
    elif isinstance(value, int):
        if abs(value) < EXACT_DIGITS:
            sheet.write_number(row, col, value, fmt)
        else:
            sheet.write_string(row, col, str(value), fmt)
    elif isinstance(value, float):
        if math.isfinite(value):
            sheet.write_number(row, col, value, fmt)
        else:
            sheet.write_string(row, col, str(value), fmt)
    elif isinstance(value, dt.datetime):
        local = local_naive(value, tz or zone_name())
        if local.year >= 1900:
            sheet.write_datetime(row, col, local, fmts.datetime)
        else:
            sheet.write_string(row, col, local.isoformat(sep=" "), fmt)
    elif isinstance(value, dt.date):
        if value.year >= 1900:
            sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), fmts.date)
        else:
            sheet.write_string(row, col, value.isoformat(), fmt)
    elif isinstance(value, list | tuple | dict):
        zone = tz or zone_name()
        text = json.dumps(plain_json(list(value) if isinstance(value, tuple) else value), ensure_ascii=False,
                          default=lambda x: json_default(x, zone))
        sheet.write_string(row, col, safe_text(text), fmt)
    elif isinstance(value, bytes):
        sheet.write_string(row, col, value.hex(), fmt)
    else:
        sheet.write_string(row, col, safe_text(str(value)), fmt)


def _local_values(arr: pa.Array, zone: str) -> list[Any]:
    """Python values of a column; timestamps already as wall-clock time of ``zone`` (vectorised)."""
    if pa.types.is_timestamp(arr.type):
        aware = arr if arr.type.tz else pc.assume_timezone(arr, "UTC")
        return pc.local_timestamp(aware.cast(pa.timestamp(arr.type.unit, tz=zone))).to_pylist()
    return arr.to_pylist()


def _column_writer(sheet: Any, t: pa.DataType, fmts: CellFormats, zone: str) -> Callable[[int, int, Any], None]:
    """A cell writer for one column's type (the same rules as :func:`write_cell`, without per-value checks)."""
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return lambda r, c, v: sheet.write_string(r, c, safe_text(v))
    if pa.types.is_decimal(t):
        return lambda r, c, v: sheet.write_number(r, c, float(v), fmts.money)
    if pa.types.is_timestamp(t):  # values come from _local_values: naive wall-clock times of the zone
        def write_time(r: int, c: int, v: Any) -> None:
            if v.year >= 1900:
                sheet.write_datetime(r, c, v, fmts.datetime)
            else:
                sheet.write_string(r, c, v.isoformat(sep=" "))
        return write_time
    return lambda r, c, v: write_cell(sheet, r, c, v, fmts, zone)


def header_label(table: str, field: pa.Field, tz: str, lang: str = "zh") -> str:
    """The Chinese label; time columns name their zone (``交易时间（北京时间）``)."""
    label = column_label(table, field.name, lang)
    if pa.types.is_timestamp(field.type):
        zone = zone_label(tz, lang)
        return f"{label}（{zone}）" if lang == "zh" else f"{label} ({zone})"
    return label


def _type_note(field: pa.Field, tz: str) -> tuple[str, str]:
    t = field.type
    if pa.types.is_timestamp(t):
        return "时间", f"Excel 日期时间，时区 {tz}（{zone_label(tz)}）；湖中与 Parquet 导出保存 UTC 时刻"
    if pa.types.is_decimal(t):
        return "金额", "数值，两位小数（元）"
    if pa.types.is_date(t):
        return "日期", "Excel 日期"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_struct(t) or pa.types.is_map(t):
        return "列表/结构", "JSON 文本"
    if pa.types.is_boolean(t):
        return "是/否", "TRUE/FALSE"
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return "数值", ""
    return "文本", "以 = + - @ 开头的文本前加 ' 以防被当作公式执行"


def _column_letter(j: int) -> str:
    letters = ""
    j += 1
    while j:
        j, rem = divmod(j - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def write_table_xlsx(table: pa.Table, path: Path, name: str, *, tz: str | None = None, lang: str = "zh",
                     note: dict[str, Any] | None = None) -> None:
    """One data sheet (Chinese header row, frozen, filter) plus the hidden sheet ``字段说明``."""
    zone = tz or zone_name()
    wb = safe_workbook(path, constant_memory=True)
    fmts = CellFormats.add(wb)
    sheet = wb.add_worksheet(name[:31])
    fields = list(table.schema)
    for j, f in enumerate(fields):
        label = header_label(name, f, zone, lang)
        sheet.write_string(0, j, safe_text(label), fmts.bold)
        sheet.set_column(j, j, min(max(len(label) * 2, 10), 40))
    sheet.freeze_panes(1, 0)
    if fields:
        sheet.autofilter(0, 0, max(table.num_rows, 1), len(fields) - 1)
    writers = [_column_writer(sheet, f.type, fmts, zone) for f in fields]
    r = 1
    for batch in table.to_batches(65536):
        columns = [_local_values(batch.column(j), zone) for j in range(batch.num_columns)]
        for i in range(batch.num_rows):
            for j, col in enumerate(columns):
                v = col[i]
                if v is not None:
                    writers[j](r, j, v)
            r += 1
    _columns_sheet(wb, fmts, name, fields, zone, lang, table.num_rows, note or {})
    wb.close()


def _columns_sheet(wb: Any, fmts: CellFormats, name: str, fields: list[pa.Field], zone: str, lang: str,
                   rows: int, note: dict[str, Any]) -> None:
    """Hidden sheet: column letter, Chinese label, canonical name, kind, note; then the export facts."""
    info = wb.add_worksheet(COLUMNS_SHEET)
    info.write_row(0, 0, ["列", "中文列名", "字段名", "类型", "说明"], fmts.bold)
    for j, f in enumerate(fields, start=1):
        kind, text = _type_note(f, zone)
        for k, v in enumerate([_column_letter(j - 1), column_label(name, f.name, "zh"), f.name, kind, text]):
            info.write_string(j, k, safe_text(v))
    r = len(fields) + 2
    facts: list[tuple[str, str]] = [("表", name), ("行数", str(rows)), ("时区", f"{zone}（{zone_label(zone)}）"),
             ("导出时间", now_local(zone).strftime("%Y-%m-%d %H:%M:%S")),
             *((k, json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v) for k, v in note.items())]
    for key, val in facts:
        info.write_string(r, 0, safe_text(key), fmts.bold)
        info.write_string(r, 1, safe_text(val))
        r += 1
    info.set_column(0, 0, 8)
    info.set_column(1, 2, 24)
    info.set_column(4, 4, 60)
    info.hide()
