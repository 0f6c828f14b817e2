"""Monthly returns (月报) as workbooks: ``ops template`` writes the blank workbook, ``ops import``
reads a filled one into the casework tables.

Import rules: rows that cannot be used go to ``ops_import_quarantine`` with the reason and nothing
else of theirs is written; the whole workbook is one transaction (a failure leaves the database as it
was); re-importing the same workbook changes nothing; a row that changes an existing record updates it
and the change (field, old, new) is kept in ``ops_history``. The workbook itself is kept unchanged in
the evidence store and every record points at its sheet and row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chainbreaker.core.errors import InputError
from chainbreaker.core.exports_xlsx import CellFormats, safe_workbook
from chainbreaker.ops.casework_models import (
    MEASURES,
    SEIZURE_KINDS,
    SUPERVISION_LEVELS,
)
from chainbreaker.ops.returns_spec import (
    KIND_SYNONYMS,
    LEVEL_SYNONYMS,
    MEASURE_SYNONYMS,
    REASONS,
    SHEETS,
    SheetSpec,
    cell_text,
    norm_header,
    parse_choice,
    parse_day,
    parse_id,
    parse_text,
    parse_yuan,
)

HEADER_SCAN_ROWS = 10  # units often put a title row or two above the headers
MAX_ROWS = 200_000  # per sheet: a monthly return is thousands of rows; more is a damaged or hostile file
MAX_FILE_BYTES = 100 * 1024 * 1024


@dataclass
class SheetCounts:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0


@dataclass
class ImportSummary:
    file_sha256: str
    sheets: dict[str, SheetCounts] = field(default_factory=dict)
    ignored_sheets: list[str] = field(default_factory=list)
    quarantine: list[tuple[str, int, str]] = field(default_factory=list)  # sheet, row, reason code

    def reasons(self) -> Counter[str]:
        return Counter(code for _, _, code in self.quarantine)


def reason_text(code: str, lang: str = "zh") -> str:
    zh, en = REASONS.get(code, (code, code))
    return zh if lang == "zh" else en


# ------------------------------------------------------------------------------------------ template
def write_template(path: Path) -> Path:
    """The blank return workbook: the five sheets with their headers, drop-down lists and a 说明 sheet."""
    if path.suffix.lower() != ".xlsx":
        raise InputError(f"模板须写成 .xlsx 文件：{path.name}", f"The template must be an .xlsx file: {path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = safe_workbook(path)
    fmts = CellFormats.add(wb)
    text_fmt = wb.add_format({"num_format": "@"})
    choices = {"督办级别": SUPERVISION_LEVELS, "措施": MEASURES, "类型": SEIZURE_KINDS}
    for spec in SHEETS:
        sheet = wb.add_worksheet(spec.name)
        for j, col in enumerate(spec.columns):
            sheet.write_string(0, j, col.header, fmts.bold)
            sheet.set_column(j, j, 18, text_fmt if col.field in ("id_number", "case_number", "gang_number") else None)
            if col.header in choices:
                sheet.data_validation(1, j, 5000, j, {"validate": "list", "source": list(choices[col.header])})
        sheet.freeze_panes(1, 0)
    notes = wb.add_worksheet("说明")
    lines = [
        "每月战果统计表（chainbreaker ops import 导入）",
        "日期写作 2025-10-01；金额以元为单位，最多两位小数；身份证号写 18 位（文本格式）。",
        "督办级别：部督、省督、市督、无。措施：" + "、".join(MEASURES) + "。类型：扣押、冻结。",
        "团伙、强制措施、涉案平台、扣押冻结各页的案件编号须在“案件”页或库中已有。",
        "同一人有多项强制措施时每项一行；重复导入同一文件不会重复计数，修改后的行按更新记录。",
    ]
    for i, line in enumerate(lines):
        notes.write_string(i, 0, line)
    notes.set_column(0, 0, 100)
    wb.close()
    return path


# ------------------------------------------------------------------------------------------- reading
def _find_sheet(names: list[str], spec: SheetSpec) -> str | None:
    wanted = {norm_header(n) for n in (spec.name, *spec.synonyms)}
    return next((n for n in names if norm_header(n) in wanted), None)


def _header_map(rows: list[tuple[Any, ...]], spec: SheetSpec, sheet: str, file_name: str) -> tuple[int, dict[str, int]]:
    """The header row (0-based) and column index of each field; InputError naming what is missing."""
    best: tuple[int, dict[str, int]] = (-1, {})
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cells = [norm_header(c) for c in row]
        found: dict[str, int] = {}
        for col in spec.columns:
            names = {norm_header(n) for n in (col.header, *col.synonyms)}
            idx = next((j for j, c in enumerate(cells) if c in names), None)
            if idx is not None:
                found[col.field] = idx
        if len(found) > len(best[1]):
            best = (i, found)
    missing = [c.header for c in spec.columns if c.required and c.field not in best[1]]
    if missing:
        present = [cell_text(c) for c in rows[best[0]]] if best[0] >= 0 and rows else []
        raise InputError(
            f"{file_name} 的“{sheet}”页缺少列：{'、'.join(missing)}；该页表头为：{'、'.join(p for p in present if p) or '（空）'}。"
            "可用 chainbreaker ops template 生成标准模板。",
            f"Sheet '{sheet}' of {file_name} lacks column(s): {', '.join(missing)}; its headers are: "
            f"{', '.join(p for p in present if p) or '(none)'}. `chainbreaker ops template` writes the standard template.")
    return best


def read_workbook(path: Path) -> tuple[dict[str, list[tuple[int, dict[str, Any]]]], list[str]]:
    """Rows of each known sheet as ``(excel row number, {field: raw cell})``, and the sheets ignored."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if not path.is_file():
        raise InputError(f"找不到文件：{path}", f"File not found: {path}")
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise InputError(f"{path.name} 不是 XLSX 工作簿：月报须为 .xlsx（旧版 .xls 或 CSV 请在 Excel/WPS 中另存为 .xlsx）。",
                         f"{path.name} is not an XLSX workbook: returns must be .xlsx (save .xls or CSV as .xlsx first).")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"{path.name} 超过 {MAX_FILE_BYTES // 2**20} MB，不像一份月报；请拆分后导入。",
                         f"{path.name} is over {MAX_FILE_BYTES // 2**20} MB, too large for a monthly return; split it.")
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise InputError(f"{path.name} 不是可读取的 XLSX 工作簿（{type(exc).__name__}）。",
                         f"{path.name} is not a readable XLSX workbook ({type(exc).__name__}).") from exc
    try:
        out: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        used: set[str] = set()
        for spec in SHEETS:
            sheet = _find_sheet(wb.sheetnames, spec)
            if sheet is None:
                continue
            used.add(sheet)
            rows = []
            for r in wb[sheet].iter_rows(values_only=True):
                rows.append(tuple(r))
                if len(rows) > MAX_ROWS:
                    raise InputError(
                        f"{path.name} 的“{sheet}”页超过 {MAX_ROWS:,} 行（文件可能已损坏）；请拆分后导入。",
                        f"Sheet '{sheet}' of {path.name} has more than {MAX_ROWS:,} rows (damaged?); split it.")
            if not any(any(cell_text(c) for c in r) for r in rows):
                continue
            header_row, cols = _header_map(rows, spec, sheet, path.name)
            records = []
            for i, row in enumerate(rows[header_row + 1:], start=header_row + 2):
                values = {f: (row[j] if j < len(row) else None) for f, j in cols.items()}
                if any(cell_text(v) for v in values.values()):
                    records.append((i, values))
            out[spec.entity] = records
    finally:
        wb.close()
    ignored = [n for n in wb.sheetnames if n not in used and n != "说明"]
    if not out and not used:
        raise InputError(
            f"{path.name} 中没有可识别的工作表（应有：{'、'.join(s.name for s in SHEETS)}）；现有：{'、'.join(wb.sheetnames)}。",
            f"{path.name} has none of the sheets {', '.join(s.name for s in SHEETS)}; it has: {', '.join(wb.sheetnames)}.")
    return out, ignored


# ------------------------------------------------------------------------------------------- parsing
def parse_row(entity: str, raw: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """Typed values of one row, or the reason it is quarantined."""
    spec = next(s for s in SHEETS if s.entity == entity)
    out: dict[str, Any] = {}
    for col in spec.columns:
        value = raw.get(col.field)
        parsed: Any
        if col.required and not cell_text(value) and col.field != "supervision":
            return None, "required_missing"
        if col.field in ("opened_on", "broken_on", "taken_on", "taken_down_on", "on_date"):
            parsed, err = parse_day(value)
        elif col.field == "amount":
            parsed, err = parse_yuan(value)
        elif col.field == "id_number":
            parsed, err = parse_id(value)
        elif col.field == "supervision":
            parsed, err = parse_choice(value, LEVEL_SYNONYMS, "level_invalid")
        elif col.field == "measure":
            parsed, err = parse_choice(value, MEASURE_SYNONYMS, "measure_invalid")
        elif col.field == "kind":
            parsed, err = parse_choice(value, KIND_SYNONYMS, "kind_invalid")
        else:
            parsed, err = parse_text(value, 200 if col.field == "name" else 60)
        if err:
            return None, err
        out[col.field] = parsed
    return out, None
