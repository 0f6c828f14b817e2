"""Readers for the tabular files analysts are handed: CSV/TXT in any Chinese encoding, XLSX.

Shared by every chain's ingest. A reader turns a file into Arrow record batches whose columns are
the file's own (cleaned) header names, every value a string or null, plus ``_row``: the 1-based
line (CSV) or sheet row (XLSX) the values came from, so that every canonical row can point back at
its source.

Cleaning done here, and only here:
- encoding (``ingest/encodings.py``): BOM → UTF-8/UTF-16; UTF-16 without BOM; strict UTF-8; GB18030
  (a superset of GBK and GB2312) or Big5 only when the decoded text looks right; charset-normalizer
  as the fallback. Undecodable bytes become U+FFFD and the row is flagged.
- Excel-protecting padding: leading/trailing tabs, spaces, ``="..."`` wrappers and a leading ``'``.
- null tokens: ``\\N``, ``-``, ``--``, ``NULL``, ``null``, ``None``, empty.
- title rows above the header (XLSX and CSV): the header is the first of the top 30 rows that
  matches the most expected column names.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from chainbreaker.core.errors import InputError
from chainbreaker.core.ingest.encodings import is_utf16, sniff_encoding
from chainbreaker.core.ingest.longlines import LongLine, guarded
from chainbreaker.core.ingest.values import unwrap_excel_text

NULL_TOKENS = frozenset({"", "\\N", "-", "--", "—", "NULL", "null", "Null", "None", "none", "NaN", "nan", "N/A", "n/a"})
BATCH_ROWS = 65536
HEADER_SCAN_ROWS = 30
MAX_HEADER_CHARS = 1 << 16
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".csv.gz", ".txt.gz")
BAD_BYTES = "\ufffd"

csv.field_size_limit(1 << 24)


def clean_value(value: object) -> str | None:
    """Strip the padding banks add and map null tokens to None."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    text = text.strip(" \t\r\n\u3000\ufeff")
    text = unwrap_excel_text(text)
    if text.startswith("'") and len(text) > 1 and text[1:].replace(" ", "").isalnum():
        text = text[1:]
    if text in NULL_TOKENS:
        return None
    return text


def clean_header(value: object) -> str:
    text = clean_value(value) or ""
    return text.replace("\n", "").replace(" ", "")


@dataclass
class TableFile:
    """A tabular file opened for reading."""

    path: Path
    encoding: str
    header: list[str]
    header_row: int  # 1-based line/row of the header
    delimiter: str = ","
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)
    # Lines longer than this many bytes are set aside into ``long_lines`` (line number, size,
    # preview) instead of being parsed; None: no limit (see ``ingest/longlines.py``).
    max_line_bytes: int | None = None
    long_lines: list[LongLine] = field(default_factory=list)
    _rows: Callable[[], Iterator[tuple[int, list[str | None], bool]]] | None = None

    def rows(self) -> Iterator[tuple[int, list[str | None], bool]]:
        """Yield ``(row_number, cleaned values, had_bad_bytes)`` for every data row."""
        assert self._rows is not None
        return self._rows()

    def batches(self, batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
        """Arrow batches: one string column per header (made unique) plus ``_row`` and ``_bad``.

        Rows with more values than the header keep the extras in ``_extra`` (JSON-ish text) so
        that a caller can quarantine them; rows with fewer are padded with nulls and marked in
        ``_short``.
        """
        names = unique_names(self.header)
        width = len(names)
        cols: list[list[str | None]] = [[] for _ in range(width)]
        rownums: list[int] = []
        bad: list[bool] = []
        extra: list[str | None] = []
        short: list[bool] = []

        def flush() -> pa.RecordBatch:
            arrays = [pa.array(c, pa.string()) for c in cols]
            arrays += [pa.array(rownums, pa.int64()), pa.array(bad, pa.bool_()),
                       pa.array(extra, pa.string()), pa.array(short, pa.bool_())]
            batch = pa.RecordBatch.from_arrays(arrays, names=[*names, "_row", "_bad", "_extra", "_short"])
            for c in cols:
                c.clear()
            rownums.clear()
            bad.clear()
            extra.clear()
            short.clear()
            return batch

        for rownum, values, had_bad in self.rows():
            if all(v is None for v in values):
                continue
            n = len(values)
            for i in range(width):
                cols[i].append(values[i] if i < n else None)
            rownums.append(rownum)
            bad.append(had_bad)
            over = [v for v in values[width:] if v is not None]
            extra.append("\t".join(over) if over else None)
            short.append(n < width and any(v is not None for v in values))
            if len(rownums) >= batch_rows:
                yield flush()
        if rownums or (width and not cols[0]):  # an empty file still gives its (empty) columns
            yield flush()


def unique_names(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(header):
        name = name or f"column_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def is_table_file(path: Path) -> bool:
    name = path.name.lower()
    return not name.startswith(("~$", ".")) and name.endswith(TABLE_SUFFIXES)


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files under the given paths (folders are walked recursively), sorted for stable runs."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            raise InputError(f"找不到文件或文件夹：{p}", f"No such file or folder: {p}")
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and is_table_file(f)))
        else:
            out.append(p)
    return out


# ------------------------------------------------------------------ encodings
# Encoding detection (BOMs, UTF-16 without BOM, strict UTF-8, GB18030 or Big5 only when the text
# looks right, charset-normalizer as the fallback) lives in ``ingest/encodings.py``.


def _open_bytes(path: Path) -> io.BufferedIOBase:
    if path.name.lower().endswith(".gz"):
        import gzip

        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


DELIMITERS = (",", "\t", "|", ";")
_GROUPED_NUMBER = re.compile(r"[-+(]?[¥$]?\d{1,3}(?:,\d{3})+(?:\.\d+)?\)?")


def _delimiter_score(lines: list[str], delimiter: str) -> float:
    """How well ``delimiter`` splits ``lines`` into one table (0..1).

    Consistency: the share of lines that have the most common number of fields (at least two).
    Cleanliness: the share of cells (padding stripped) that hold no other candidate delimiter; a
    grouped amount (``1,234.50``) is not held against another delimiter than the comma (a tab file
    of two columns whose every cell is such an amount, under a header without commas, is a tab file).
    A tab file whose amounts read ``1,234.50`` splits consistently on tabs only (the header has
    no commas); a comma file whose cells end in a padding tab splits consistently on both, but
    only its comma cells are clean (tab-split cells each carry a comma).
    """
    rows = list(csv.reader(lines, delimiter=delimiter))
    counts = Counter(len(r) for r in rows if len(r) > 1)
    if not counts:
        return 0.0
    modal = max(counts, key=lambda n: (counts[n], n))
    consistency = counts[modal] / len(rows)
    others = [d for d in DELIMITERS if d != delimiter]
    cells = [c.strip(" \t") for r in rows for c in r]
    cells = [c for c in cells if c]

    def is_dirty(cell: str) -> bool:  # a grouped amount (1,000.00) is a value, not a split it missed
        return any(d in cell for d in others) and not (delimiter != "," and _GROUPED_NUMBER.fullmatch(cell))

    dirty = sum(1 for c in cells if is_dirty(c)) / len(cells) if cells else 1.0
    return consistency * (1.0 - dirty)


def _sniff_delimiter(lines: list[str]) -> str:
    """The delimiter of the first lines of a text table (``,`` when nothing splits them).

    Scored over up to 20 non-empty lines by :func:`_delimiter_score`; counting characters is not
    enough (an amount ``1,234.50`` in a tab-separated file, tabs that pad comma-separated cells).
    On a tie the earlier candidate of :data:`DELIMITERS` wins.
    """
    sample = [line for line in lines if line.strip()][:20]
    if not sample:
        return ","
    scores = {d: _delimiter_score(sample, d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (scores[d], -DELIMITERS.index(d)))
    return best if scores[best] > 0 else ","


def _line_score(values: list[str], expected: Callable[[str], bool] | None) -> float:
    cleaned = [clean_header(v) for v in values]
    nonempty = [c for c in cleaned if c]
    if not nonempty:
        return 0.0
    if expected is None:
        return len(nonempty) * 0.01
    hits = sum(1 for c in nonempty if expected(c))
    return hits + len(nonempty) * 0.001


def open_table(path: Path, expected: Callable[[str], bool] | None = None,
               max_line_bytes: int | None = None) -> TableFile:
    """Open a CSV/TXT/XLSX file; ``expected(header_name)`` helps find the header row.

    ``max_line_bytes``: text lines longer than this are not parsed but listed in the table's
    ``long_lines`` for the caller to quarantine (bounded memory on damaged files).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"找不到文件：{path}", f"No such file: {path}")
    if path.stat().st_size == 0:
        raise InputError(f"文件为空：{path.name}", f"File is empty: {path.name}")
    suffix = path.name.lower()
    table = _open_xlsx(path, expected) if suffix.endswith((".xlsx", ".xlsm")) else _open_csv(path, expected, max_line_bytes)
    if not any(table.header):
        where = f"（工作表 {table.sheet}）" if table.sheet else ""
        raise InputError(f"{path.name}{where} 没有表头：文件或工作表为空，或只有空行。",
                         f"{path.name}{f' (sheet {table.sheet})' if table.sheet else ''} has no header: "
                         "the file or sheet is empty or holds blank rows only.")
    return table


def _open_csv(path: Path, expected: Callable[[str], bool] | None, max_line_bytes: int | None = None) -> TableFile:
    with _open_bytes(path) as fh:
        sample = fh.read(1 << 20)
    encoding = sniff_encoding(sample)
    if b"\x00" in sample[:4096] and not is_utf16(encoding):
        raise InputError(
            f"{path.name} 不是文本表格（含有二进制内容）。请提供 CSV/TXT 或 XLSX 文件。",
            f"{path.name} is not a text table (binary content). Provide a CSV/TXT or XLSX file.",
        )
    head_text = sample.decode(encoding, errors="replace")
    head_lines = head_text.splitlines()[: HEADER_SCAN_ROWS + 1]
    delimiter = _sniff_delimiter([line for line in head_lines if len(line) <= MAX_HEADER_CHARS])
    # A line of megabytes (garbage, a pasted blob) is never the header: not parsed, scored as empty.
    parsed = list(csv.reader([ln if len(ln) <= MAX_HEADER_CHARS else "" for ln in head_lines[:HEADER_SCAN_ROWS]],
                             delimiter=delimiter))
    if not parsed:
        raise InputError(f"文件为空：{path.name}", f"File is empty: {path.name}")
    scores = [_line_score(r, expected) for r in parsed]
    header_idx = max(range(len(parsed)), key=lambda i: (scores[i], -i))
    header = [clean_header(v) for v in parsed[header_idx]]
    while header and not header[-1]:
        header.pop()

    def rows() -> Iterator[tuple[int, list[str | None], bool]]:
        table.long_lines.clear()
        with _open_bytes(path) as raw:
            source = guarded(raw, encoding, table.long_lines, max_line_bytes)
            text = io.TextIOWrapper(source, encoding=encoding, errors="replace", newline="")  # type: ignore[type-var]
            reader = csv.reader(text, delimiter=delimiter)
            for i, values in enumerate(reader):
                if i <= header_idx:
                    continue
                # csv's line_num counts physical lines; rows are numbered by line in the file.
                had_bad = any(BAD_BYTES in v for v in values)
                yield reader.line_num, [clean_value(v) for v in values], had_bad

    table = TableFile(path, encoding, header, header_idx + 1, delimiter, max_line_bytes=max_line_bytes, _rows=rows)
    return table


def _open_xlsx(path: Path, expected: Callable[[str], bool] | None) -> TableFile:
    try:
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError(
            f"{path.name} 不是有效的 XLSX 文件（{exc}）。文件可能已截断或损坏。",
            f"{path.name} is not a valid XLSX file ({exc}); it may be truncated or damaged.",
        ) from exc
    # Pick the sheet whose best header row matches the most expected names.
    best: tuple[float, str, int, list[str]] | None = None
    for ws in wb.worksheets:
        top = [list(r) for r in ws.iter_rows(max_row=HEADER_SCAN_ROWS, values_only=True)]
        for i, r in enumerate(top):
            values = ["" if v is None else str(v) for v in r]
            s = _line_score(values, expected)
            if best is None or s > best[0]:
                best = (s, ws.title, i, [clean_header(v) for v in values])
    if best is None:
        raise InputError(f"{path.name} 中没有数据。", f"{path.name} holds no data.")
    _, sheet, header_idx, header = best
    while header and not header[-1]:
        header.pop()

    def rows() -> Iterator[tuple[int, list[str | None], bool]]:
        wb2 = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            ws = wb2[sheet]
            for i, r in enumerate(ws.iter_rows(values_only=True)):
                if i <= header_idx:
                    continue
                yield i + 1, [_xlsx_value(v) for v in r], False
        finally:
            wb2.close()

    wb.close()
    return TableFile(path, "xlsx", header, header_idx + 1, sheet=sheet, _rows=rows)


def _xlsx_value(v: object) -> str | None:
    import datetime as dt

    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return clean_value(v)
