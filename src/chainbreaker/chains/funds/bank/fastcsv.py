"""A fast reader for large plain statement CSVs: Arrow's CSV parser plus vectorised cleaning.

The shared reader (``ingest/readers.py``) cleans every cell in Python (~3 µs each), which costs
about two minutes per million 34-column rows. Bank exports are usually simple (no quoting, one
line per row), and for those this reader produces exactly the same batches (same columns,
``_row``, ``_bad``, ``_extra``, ``_short``; a test compares them) at Arrow speed:

- the bytes are decoded with the encoding the shared reader detected (``errors="replace"``, so
  undecodable bytes become U+FFFD as there) and re-encoded as UTF-8 for Arrow, chunk by chunk;
- cells are trimmed and null tokens mapped with Arrow compute kernels;
- rows with too few or too many fields come from Arrow's invalid-row handler, which reports
  their physical line numbers, so every row keeps its line number in the file;
- lines longer than the table's ``max_line_bytes`` are blanked by ``ingest/longlines.py`` before
  Arrow sees them (one such line would otherwise stop the whole file) and listed in ``long_lines``.

It declines (returns None, and the shared reader is used) when the file has any double quote
(quoted cells may hold delimiters or line breaks), blank lines (line numbers would shift), or a
header row whose field count differs from the cleaned header.
"""

from __future__ import annotations

import codecs
import gzip
import io
from collections.abc import Iterator
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from chainbreaker.core.ingest.longlines import guarded
from chainbreaker.core.ingest.readers import BAD_BYTES, NULL_TOKENS, TableFile, clean_value, unique_names

SMALL_FILE = 0  # bytes; below this the shared reader is used (set-up cost is ~1 ms, so: always try)
# Bytes decoded at a time, and Arrow's parse block (1 MiB parses fastest: 16 MiB blocks cost 2.5×).
# Parsed blocks are gathered into batches of up to ``batch_rows`` rows, so that a file is cleaned and
# normalised in few large batches (fixed costs per batch: ~60 Arrow kernels, a DuckDB query).
_DECODE_CHUNK = 1 << 22
_BLOCK = 1 << 20
_TRIM = " \t\r\n\u3000\ufeff"
_NULLS = pa.array(sorted(NULL_TOKENS), pa.string())


class _Utf8Reader(io.RawIOBase):
    """Decode ``raw`` with ``encoding`` (bad bytes → U+FFFD) and serve it as UTF-8 bytes.

    ``replaced`` becomes true once any decoded text holds U+FFFD (a replaced byte, or the
    character itself): until then no cell served so far can hold one.
    """

    def __init__(self, raw: IO[bytes] | io.BufferedIOBase, encoding: str) -> None:
        self.raw = raw
        self.decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self.buffer = bytearray()
        self.pos = 0
        self.eof = False
        self.replaced = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while len(self.buffer) - self.pos < len(b) and not self.eof:
            chunk = self.raw.read(_DECODE_CHUNK)
            if not chunk:
                self.eof = True
                text = self.decoder.decode(b"", final=True)
            else:
                text = self.decoder.decode(chunk)
            if not self.replaced and BAD_BYTES in text:
                self.replaced = True
            if self.pos:
                del self.buffer[: self.pos]
                self.pos = 0
            self.buffer += text.encode("utf-8")
        n = min(len(b), len(self.buffer) - self.pos)
        with memoryview(self.buffer) as view:
            b[:n] = view[self.pos : self.pos + n]
        self.pos += n
        return n


def _open(path: Any) -> IO[bytes]:
    if str(path).lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _simple(table: TableFile) -> bool:
    """No quotes and no blank lines anywhere (cheap byte scans; safe for UTF-8 and GB18030)."""
    tail = b""
    with _open(table.path) as fh:
        while chunk := fh.read(1 << 22):
            seam = tail + chunk[:2]  # a blank line across the chunk boundary
            if (b'"' in chunk or b"\n\n" in chunk or b"\n\r\n" in chunk
                    or b"\n\n" in seam or b"\n\r\n" in seam):
                return False
            tail = (tail + chunk)[-2:] if len(chunk) < 2 else chunk[-2:]
    return True


def _header_width(table: TableFile) -> int:
    with _open(table.path) as fh:
        head = fh.read(1 << 20)
    # the first 64 KiB hold the header line unless a title block is huge; a line followed by another
    # is complete, so it reads the same as in the whole MiB (which the shared reader split)
    for size in (1 << 16, len(head)):
        lines = head[:size].decode(table.encoding, errors="replace").splitlines()
        if len(lines) > table.header_row:
            break
    if len(lines) < table.header_row:
        return -1
    return len(lines[table.header_row - 1].split(table.delimiter))


def _clean(arr: pa.Array) -> pa.Array:
    s = pc.utf8_trim(arr, characters=_TRIM)
    if pc.any(pc.starts_with(s, "'")).as_py():
        s = pc.replace_substring_regex(s, r"^'([\p{L}\p{N} ]*[\p{L}\p{N}][\p{L}\p{N} ]*)$", r"\1")
    return _null_where(s, pc.is_in(s, value_set=_NULLS))


def _null_where(s: pa.Array, mask: pa.BooleanArray) -> pa.Array:
    """``s`` with the values where ``mask`` is true made null: the mask becomes the validity bitmap
    over the same offsets and bytes (``if_else`` copied every value of the column)."""
    if not pc.any(mask).as_py():
        return s
    keep = pc.invert(mask)
    if s.null_count:
        keep = pc.and_(keep, pc.is_valid(s))
    if s.offset or keep.offset or keep.null_count:
        return pc.if_else(mask, pa.scalar(None, s.type), s)
    return pa.Array.from_buffers(s.type, len(s), [keep.buffers()[1], *s.buffers()[1:]])


def fast_batches(table: TableFile, batch_rows: int = 1 << 16) -> Iterator[pa.RecordBatch] | None:
    """Batches like ``table.batches()``, or None when this reader cannot guarantee the same result."""
    if table.encoding not in ("utf-8", "utf-8-sig", "gb18030") or table.delimiter in ('"', "\n"):
        return None
    if table.path.stat().st_size < SMALL_FILE or not _simple(table):
        return None
    if _header_width(table) != len(table.header):
        return None
    return _batches(table, batch_rows)


def _batches(table: TableFile, batch_rows: int) -> Iterator[pa.RecordBatch]:
    names = unique_names(table.header)
    width = len(names)
    internal = [f"c{i}" for i in range(width)]
    invalid: list[tuple[int, str]] = []

    def on_invalid(row: Any) -> str:
        invalid.append((int(row.number), row.text))
        return "skip"

    read = pacsv.ReadOptions(skip_rows=table.header_row, column_names=internal, use_threads=False,
                             block_size=_BLOCK, encoding="utf8")
    parse = pacsv.ParseOptions(delimiter=table.delimiter, quote_char=False, escape_char=False,
                               newlines_in_values=False, ignore_empty_lines=True, invalid_row_handler=on_invalid)
    convert = pacsv.ConvertOptions(column_types=dict.fromkeys(internal, pa.string()),
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
    next_line = table.header_row + 1
    skipped: set[int] = set()
    table.long_lines.clear()
    with _open(table.path) as raw:
        # over-long lines arrive as empty lines (skipped by Arrow) and are listed in table.long_lines
        source = guarded(raw, table.encoding, table.long_lines, table.max_line_bytes)
        text = _Utf8Reader(source, table.encoding)
        reader = pacsv.open_csv(text, read_options=read, parse_options=parse, convert_options=convert)
        group: list[pa.RecordBatch] = []  # parsed blocks (1 MiB parses fastest) gathered up to batch_rows
        group_lines: list[pa.Array] = []
        group_invalid: list[tuple[int, str]] = []
        rows = 0

        def flush() -> Iterator[pa.RecordBatch]:
            nonlocal rows
            if group:
                batch = pa.Table.from_batches(group).combine_chunks().to_batches()[0]
                # Arrow has only been served decoded text so far: no U+FFFD in it, none in the batch
                yield from _emit(batch, names, pa.concat_arrays(group_lines), width, batch_rows,
                                 check_bad=text.replaced)
            if group_invalid:
                yield _invalid_batch(group_invalid, names, width, table.delimiter)
            group.clear()
            group_lines.clear()
            group_invalid.clear()
            rows = 0

        for batch in reader:
            for number, _ in invalid:
                skipped.add(number)
            skipped.update(long.line for long in table.long_lines)
            lines, next_line = _line_numbers(batch.num_rows, next_line, skipped)
            group_invalid.extend(invalid)
            invalid.clear()
            if batch.num_rows:
                group.append(batch)
                group_lines.append(lines)
                rows += batch.num_rows
            if rows + batch.num_rows > batch_rows:  # another block like this one would not fit
                yield from flush()
        yield from flush()
    if invalid:
        yield _invalid_batch(invalid, names, width, table.delimiter)


def _line_numbers(n: int, next_line: int, skipped: set[int]) -> tuple[pa.Array, int]:
    """Line numbers of ``n`` parsed rows from ``next_line`` on, passing over the ``skipped`` lines
    (invalid rows and over-long lines, which Arrow does not return); and the next line after them."""
    ahead = sorted(x for x in skipped if x >= next_line)
    if not ahead or ahead[0] >= next_line + n:
        return pa.array(np.arange(next_line, next_line + n, dtype=np.int64)), next_line + n
    lines = []
    for _ in range(n):
        while next_line in skipped:
            next_line += 1
        lines.append(next_line)
        next_line += 1
    return pa.array(lines, pa.int64()), next_line


def _emit(batch: pa.RecordBatch, names: list[str], lines: pa.Array, width: int,
          batch_rows: int, check_bad: bool = True) -> Iterator[pa.RecordBatch]:
    if batch.num_rows == 0:
        return
    cols = [_clean(batch.column(i)) for i in range(width)]
    falses = pa.array(np.zeros(batch.num_rows, dtype=bool))
    bad = falses
    any_null = None
    for c in cols:
        if check_bad:
            has_bad = pc.fill_null(pc.match_substring(c, BAD_BYTES), False)
            bad = pc.or_(bad, has_bad)
        valid = pc.is_valid(c)
        any_null = valid if any_null is None else pc.or_(any_null, valid)
    out = pa.RecordBatch.from_arrays(
        [*cols, lines, bad, pa.nulls(batch.num_rows, pa.string()), falses],
        names=[*names, "_row", "_bad", "_extra", "_short"])
    if any_null is not None:
        out = out.filter(any_null)  # rows with no value at all are skipped, as the shared reader does
    for start in range(0, out.num_rows, batch_rows):
        yield out.slice(start, batch_rows)


def _invalid_batch(invalid: list[tuple[int, str]], names: list[str], width: int, delimiter: str) -> pa.RecordBatch:
    cols: list[list[str | None]] = [[] for _ in range(width)]
    rows, bad, extra, short = [], [], [], []
    for number, text in invalid:
        values = [clean_value(v) for v in text.split(delimiter)]
        if all(v is None for v in values):
            continue
        for i in range(width):
            cols[i].append(values[i] if i < len(values) else None)
        over = [v for v in values[width:] if v is not None]
        rows.append(number)
        bad.append(BAD_BYTES in text)
        extra.append("\t".join(over) if over else None)
        short.append(len(values) < width and any(v is not None for v in values))
    return pa.RecordBatch.from_arrays(
        [*(pa.array(c, pa.string()) for c in cols), pa.array(rows, pa.int64()), pa.array(bad),
         pa.array(extra, pa.string()), pa.array(short)],
        names=[*names, "_row", "_bad", "_extra", "_short"])
