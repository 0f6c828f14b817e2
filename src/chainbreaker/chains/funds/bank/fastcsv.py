"""A fast reader for large plain statement CSVs: Arrow's CSV parser plus vectorised cleaning.

The shared reader (``ingest/readers.py``) cleans every cell in Python (~3 µs each), which costs
about two minutes per million 34-column rows. Bank exports are usually simple (no quoting, one
line per row), and for those this reader produces exactly the same batches (same columns,
``_row``, ``_bad``, ``_extra``, ``_short``; tests compare them) at Arrow speed:

- Arrow splits the file's own bytes into binary columns; only the columns that hold non-ASCII
  bytes are decoded, once per distinct value (a statement's Chinese columns — names, banks,
  currency, 收付标志 — repeat a few values), so a GB18030 file is not decoded and re-encoded as a
  whole. Arrow needs valid UTF-8 only for the text of rows with a wrong number of fields (the
  text its invalid-row handler is given). ``plain=True`` serves the bytes as they are and has no
  handler: a row with a wrong number of fields stops it with :class:`OtherWidthRow`, and the
  caller reads the file again without ``plain``, where non-ASCII bytes reach Arrow as their
  Latin-1 characters (one byte → two, undone exactly before decoding) and such rows come to the
  handler. The plain pass parses ~20% fewer bytes and skips the Latin-1 pass in Python: about
  half the CPU of Arrow's parse. Each value is decoded followed by line feeds, the way it is
  followed in the file by a delimiter or a line end and more bytes: a damaged multi-byte sequence
  at the end of a cell becomes the same U+FFFD characters as when the whole stream is decoded
  (``errors="replace"``), and ``_bad`` is set where the shared reader sets it.
- batches hold exactly ``batch_rows`` parsed rows of the file (less the rows of nothing but nulls;
  the last batch fewer), so they are the same whichever way the bytes were served (a batch is
  what a statement's signed amounts are judged by, ``normalise._signed_sql``); rows with a wrong
  number of fields come in batches of their own.
- Where splitting bytes is not the same as splitting decoded text — GB18030 with ``|`` (0x7C is a
  GB18030 trail byte), or a file whose last bytes cut a GB18030 sequence (decoded with no byte
  after it, it swallows a final line feed) — the file is decoded as a whole and re-encoded as
  UTF-8 for Arrow, as before.
- cells are trimmed and null tokens mapped with Arrow compute kernels;
- rows with too few or too many fields come from Arrow's invalid-row handler, which reports
  their physical line numbers, so every row keeps its line number in the file; blank lines are
  parsed as rows of empty cells (dropped like rows of nulls), so they keep the numbering too;
- lines longer than the table's ``max_line_bytes`` are blanked by ``ingest/longlines.py`` before
  Arrow sees them (one such line would otherwise stop the whole file) and listed in ``long_lines``.

It declines (returns None, and the shared reader is used) when the file has any double quote
(quoted cells may hold delimiters or line breaks), or a header row whose field count differs
from the cleaned header.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from chainbreaker.chains.funds.bank.cellbytes import (
    Latin1Reader,
    Utf8Reader,
    decode_values,
    decoded,
    file_bytes,
    is_ascii,
    one_value,
    repeat_text,
)
from chainbreaker.core.ingest.longlines import guarded, has_long_line
from chainbreaker.core.ingest.readers import BAD_BYTES, NULL_TOKENS, TableFile, clean_value, unique_names

SMALL_FILE = 0  # bytes; below this the shared reader is used (set-up cost is ~1 ms, so: always try)
# Bytes decoded at a time, and Arrow's parse block (1 MiB parses fastest: 16 MiB blocks cost 2.5×).
# Parsed blocks are gathered into batches of up to ``batch_rows`` rows, so that a file is cleaned and
# normalised in few large batches (fixed costs per batch: ~60 Arrow kernels, a DuckDB query).
_DECODE_CHUNK = 1 << 22
_BLOCK = 1 << 20
_SCAN_CHUNK = 1 << 22
_LAST_LINE_CAP = 1 << 24  # bytes of an unguarded file's last line held to check its end
_TRIM = " \t\r\n\u3000\ufeff"
_NULLS = pa.array(sorted(NULL_TOKENS), pa.string())


def _open(path: Any) -> IO[bytes]:
    if str(path).lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


class OtherWidthRow(Exception):  # noqa: N818 - not an error: a signal to read the file the careful way
    """Raised by the batches of ``fast_batches(..., plain=True)`` at a row whose number of fields is
    not the header's: batches may have been yielded already; read the file again without ``plain``."""


@dataclass
class _Scan:
    """What one pass over a file's bytes tells (:func:`_scan`)."""

    unquoted: bool = True  # no double quote anywhere
    # the bytes after the last-but-one line feed (None: a line too long to hold, which only a
    # guarded file's blanking makes harmless)
    last_lines: bytes | None = b""
    long_lines: bool = False  # a line over the table's max_line_bytes (the line guard is needed)


def _scan(table: TableFile) -> _Scan:
    """One cheap pass over the bytes, safe for UTF-8 and GB18030 (neither has 0x22 or 0x0A inside a
    multi-byte character): a few C-level searches per 4 MiB, no Python step per line."""
    limit = table.max_line_bytes
    cap = limit or _LAST_LINE_CAP
    blank = b"\n" if limit else None  # what a line over ``cap`` bytes is read as
    prev: bytes | None = b""  # the last complete line with its line feed
    line = bytearray()  # the bytes after the last line feed
    too_long = False  # ``line`` is over ``cap``
    held = 0  # bytes of the current line before the chunk
    found_long = False
    with _open(table.path) as fh:
        while chunk := fh.read(_SCAN_CHUNK):
            if b'"' in chunk:
                return _Scan(unquoted=False, last_lines=None)
            if limit and not found_long:
                found_long = has_long_line(chunk, held, limit)
            end = chunk.rfind(b"\n")
            if end < 0:
                held += len(chunk)
                too_long = too_long or len(line) + len(chunk) > cap
                if not too_long:
                    line += chunk
                continue
            held = len(chunk) - end - 1
            start = chunk.rfind(b"\n", 0, end)
            if start >= 0:
                prev = chunk[start + 1 : end + 1]
            else:
                prev = blank if too_long or len(line) + end > cap else bytes(line) + chunk[: end + 1]
            line = bytearray(chunk[end + 1 :])
            too_long = len(line) > cap
    found_long = found_long or bool(limit and held > limit)
    if prev is None or (too_long and blank is None):
        return _Scan(last_lines=None, long_lines=found_long)
    return _Scan(last_lines=prev + (b"" if too_long else bytes(line)), long_lines=found_long)


def _decoder(encoding: str) -> str:
    """The codec for single values: a UTF-8 BOM can only be at the start of the file (the header)."""
    return "utf-8" if encoding == "utf-8-sig" else encoding


def _splits_as_bytes(table: TableFile, last_lines: bytes) -> bool:
    """Whether splitting the file's bytes gives the cells that decoding it first would give.

    The delimiter, line feed and carriage return are never part of a multi-byte character in
    UTF-8 or GB18030, except ``|`` (0x7C), a GB18030 trail byte. A value decoded with line feeds
    after it (:func:`decoded`) decodes as in the stream; only within the last three bytes of the
    file can the stream decoder, told that no more bytes come, turn a cut GB18030 sequence together
    with the bytes after it — even a final line feed — into one U+FFFD: checked on the last lines.
    """
    if table.encoding == "gb18030" and table.delimiter == "|":
        return False
    codec = _decoder(table.encoding)
    return last_lines.decode(codec, "replace") == decoded(last_lines, codec)


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


def fast_batches(table: TableFile, batch_rows: int = 1 << 16, plain: bool = False) -> Iterator[pa.RecordBatch] | None:
    """Batches like ``table.batches()``, or None when this reader cannot guarantee the same result.

    ``plain``: serve the file's bytes to Arrow as they are (where it splits bytes at all), and
    raise :class:`OtherWidthRow` at the first row with a wrong number of fields (see the module
    docstring): the same batches, or that exception."""
    if table.encoding not in ("utf-8", "utf-8-sig", "gb18030") or table.delimiter in ('"', "\n", "\r"):
        return None
    if table.path.stat().st_size < SMALL_FILE:
        return None
    scan = _scan(table)
    if not scan.unquoted or _header_width(table) != len(table.header):
        return None
    as_bytes = scan.last_lines is not None and _splits_as_bytes(table, scan.last_lines)
    return _batches(table, batch_rows, as_bytes, guard=scan.long_lines, plain=plain and as_bytes)


def _batches(table: TableFile, batch_rows: int, as_bytes: bool, guard: bool = True,
             plain: bool = False) -> Iterator[pa.RecordBatch]:
    names = unique_names(table.header)
    width = len(names)
    internal = [f"c{i}" for i in range(width)]
    invalid: list[tuple[int, str]] = []
    codec = _decoder(table.encoding) if as_bytes else None  # None: Arrow reads decoded text

    def on_invalid(row: Any) -> str:
        invalid.append((int(row.number), decoded(file_bytes(row.text), codec) if codec else row.text))
        return "skip"

    read = pacsv.ReadOptions(skip_rows=table.header_row, column_names=internal, use_threads=False,
                             block_size=_BLOCK, encoding="utf8")
    # blank lines (and over-long lines, blanked) become rows of empty cells: numbered, then dropped
    parse = pacsv.ParseOptions(delimiter=table.delimiter, quote_char=False, escape_char=False,
                               newlines_in_values=False, ignore_empty_lines=False,
                               invalid_row_handler=None if plain else on_invalid)
    convert = pacsv.ConvertOptions(column_types=dict.fromkeys(internal, pa.binary() if as_bytes else pa.string()),
                                   strings_can_be_null=False, quoted_strings_can_be_null=False)
    next_line = table.header_row + 1
    skipped: set[int] = set()
    table.long_lines.clear()
    with _open(table.path) as raw:
        # over-long lines arrive as empty lines and are listed in table.long_lines; without one, the
        # guard would only copy the bytes
        source = guarded(raw, table.encoding, table.long_lines, table.max_line_bytes) if guard else raw
        text: Any = source if plain else (Latin1Reader(source, _DECODE_CHUNK) if as_bytes
                                          else Utf8Reader(source, table.encoding, _DECODE_CHUNK))
        blocks = _parsed(text, read, parse, convert, plain)
        group: list[pa.RecordBatch] = []  # parsed blocks (1 MiB parses fastest) gathered up to batch_rows
        group_lines: list[pa.Array] = []
        group_invalid: list[tuple[int, str]] = []
        rows = 0

        def flush() -> Iterator[pa.RecordBatch]:
            if group:
                batch = pa.Table.from_batches(group).combine_chunks().to_batches()[0]
                # Arrow has only been served decoded text so far: no U+FFFD in it, none in the batch
                yield from _emit(batch, names, pa.concat_arrays(group_lines), width,
                                 codec=codec, check_bad=bool(getattr(text, "replaced", False)),
                                 latin1=not plain)
            if group_invalid:
                yield _invalid_batch(group_invalid, names, width, table.delimiter)
            group.clear()
            group_lines.clear()
            group_invalid.clear()

        for block in blocks:
            for number, _ in invalid:
                skipped.add(number)
            lines, next_line = _line_numbers(block.num_rows, next_line, skipped)
            group_invalid.extend(invalid)
            invalid.clear()
            # exactly batch_rows parsed rows per batch, however many rows a block of bytes held
            start = 0
            while start < block.num_rows:
                take = min(batch_rows - rows, block.num_rows - start)
                group.append(block.slice(start, take))
                group_lines.append(lines.slice(start, take))
                rows += take
                start += take
                if rows == batch_rows:
                    yield from flush()
                    rows = 0
        yield from flush()
    if invalid:
        yield _invalid_batch(invalid, names, width, table.delimiter)


def _parsed(text: Any, read: pacsv.ReadOptions, parse: pacsv.ParseOptions, convert: pacsv.ConvertOptions,
            plain: bool) -> Iterator[pa.RecordBatch]:
    """Arrow's parsed blocks; with ``plain`` (no invalid-row handler) a row with a wrong number of
    fields, which Arrow reports as ArrowInvalid, becomes :class:`OtherWidthRow`."""
    try:
        yield from pacsv.open_csv(text, read_options=read, parse_options=parse, convert_options=convert)
    except pa.ArrowInvalid as exc:
        if not plain:
            raise
        raise OtherWidthRow(str(exc)[:200]) from None


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
          codec: str | None = None, check_bad: bool = True, latin1: bool = True) -> Iterator[pa.RecordBatch]:
    """The cleaned batch; ``codec``: the columns are the file's bytes, to be decoded with it (as
    served by :class:`Latin1Reader` when ``latin1``, else as they are); else they are text, checked
    for U+FFFD when ``check_bad``."""
    if batch.num_rows == 0:
        return
    falses = pa.array(np.zeros(batch.num_rows, dtype=bool))
    bad = falses
    cols = []
    for i in range(width):
        if codec is None:
            c = _clean(batch.column(i))
            has_bad = pc.fill_null(pc.match_substring(c, BAD_BYTES), False) if check_bad else None
        else:
            c, has_bad = _clean_bytes(batch.column(i), codec, latin1)
        cols.append(c)
        if has_bad is not None:
            bad = pc.or_(bad, has_bad)
    any_null = None
    for c in cols:
        if c.null_count == len(c) and any_null is not None:
            continue
        valid = pc.is_valid(c)
        any_null = valid if any_null is None else pc.or_(any_null, valid)
    out = pa.RecordBatch.from_arrays(
        [*cols, lines, bad, pa.nulls(batch.num_rows, pa.string()), falses],
        names=[*names, "_row", "_bad", "_extra", "_short"])
    # rows with no value at all are skipped, as the shared reader does; a filter copies every
    # column (~15% of reading a statement), so only when there is such a row
    if any_null is not None and not pc.all(any_null).as_py():
        out = out.filter(any_null)
    if out.num_rows:
        yield out


def _clean_bytes(arr: pa.Array, codec: str, latin1: bool = True) -> tuple[pa.Array, pa.Array | None]:
    """A binary column (served by :class:`Latin1Reader` when ``latin1``, else the file's bytes) as
    cleaned text, and where it holds U+FFFD (None: nowhere). A column of one repeated value (an
    unused column of ``\\N``) is cleaned once; ASCII columns are their own text (no copy); the
    others are decoded and cleaned once per distinct value."""
    if len(arr) > 1 and one_value(arr):
        cleaned, bad = _clean_bytes(arr.slice(0, 1), codec, latin1)
        many = repeat_text(cleaned[0].as_py(), len(arr))
        return many, None if bad is None or not bad[0].as_py() else pa.array(np.ones(len(arr), dtype=bool))
    if is_ascii(arr):
        return _clean(pa.Array.from_buffers(pa.string(), len(arr), arr.buffers(), offset=arr.offset)), None
    enc = pc.dictionary_encode(arr)
    text = decode_values(enc.dictionary, codec, latin1)
    cleaned = pc.take(_clean(text), enc.indices)
    if not pc.any(pc.match_substring(text, BAD_BYTES)).as_py():
        return cleaned, None
    return cleaned, pc.take(pc.match_substring(text, BAD_BYTES), enc.indices)


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
