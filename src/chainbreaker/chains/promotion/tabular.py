"""CSV/XLSX exports and SQLite files of a seized platform, read into the raw store (表格与 SQLite).

Bounded in time and memory whatever the file holds: a physical line longer than ``MAX_LINE_CHARS``
(a 10 MB line of garbage, a binary blob pasted into a cell) is skipped and quarantined with its
line number and length (``line_too_long``) while the file's other rows are kept; a quote that is
never closed ends in a quarantined ``csv_syntax`` record for the lines it swallowed, and reading
resumes after them. Clean UTF-8 CSVs of ``FAST_CSV_BYTES`` and more, whose lines are all short,
are read by DuckDB's CSV reader instead (no per-row Python loop).
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import gzip
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import duckdb
import numpy as np

from chainbreaker.chains.promotion.rawstore import (
    Problem,
    RawStore,
    RawTable,
    TableBuffer,
    safe_names,
    truncate,
)
from chainbreaker.chains.promotion.spec import FIELDS
from chainbreaker.core.errors import InputError
from chainbreaker.core.ingest.mapping import header_matcher
from chainbreaker.core.ingest.readers import BAD_BYTES, TableFile, clean_value, open_table
from chainbreaker.core.sql import ident, lit, read_path

FAST_CSV_BYTES = 8 * 1024 * 1024
MAX_LINE_CHARS = 1 << 20
CHUNK = 1 << 22
SQLITE_FETCH = 20_000

Advance = Callable[[int], None]


def _open(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")  # type: ignore[return-value]


class BoundedLines:
    """Decoded lines of a file; a line longer than the limit is replaced by an empty line (so line
    numbers stay right) and recorded in ``too_long`` as (line, length, first characters)."""

    def __init__(self, fh: IO[bytes], encoding: str, limit: int = MAX_LINE_CHARS, advance: Advance | None = None):
        self.fh = fh
        self.decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self.limit = limit
        self.advance = advance
        self.lineno = 0
        self.too_long: list[tuple[int, int, str]] = []

    def __iter__(self) -> Iterator[str]:
        pending: list[str] = []
        pending_len = 0
        dropping = False
        head = ""
        eof = False
        while not eof:
            raw = self.fh.read(CHUNK)
            eof = not raw
            if self.advance and raw:
                self.advance(len(raw))
            text = self.decoder.decode(raw, final=eof)
            start = 0
            while True:
                nl = text.find("\n", start)
                if nl < 0:
                    piece = text[start:]
                    if dropping:
                        pending_len += len(piece)
                    elif piece:
                        pending.append(piece)
                        pending_len += len(piece)
                        if pending_len > self.limit:
                            dropping, head = True, "".join(pending)[:200]
                            pending = []
                    break
                piece = text[start:nl + 1]
                start = nl + 1
                self.lineno += 1
                if dropping or pending_len + len(piece) > self.limit:
                    self.too_long.append((self.lineno, pending_len + len(piece),
                                          head if dropping else ("".join(pending) + piece)[:200]))
                    dropping, pending, pending_len = False, [], 0
                    yield "\n"
                    continue
                line = "".join(pending) + piece if pending else piece
                pending, pending_len = [], 0
                yield line
        if dropping or pending:
            self.lineno += 1
            if dropping:
                self.too_long.append((self.lineno, pending_len, head))
            else:
                yield "".join(pending)


def read_table_file(path: Path, sha: str, store: RawStore, advance: Advance) -> RawTable:
    """A CSV/TXT/XLSX export as one raw table."""
    known = header_matcher({f"{k}.{f}": syns for k, spec in FIELDS.items() for f, syns in spec.items()})
    tf = open_table(path, expected=known)
    if not any(tf.header):
        raise InputError(f"{path.name} 中没有表头（空白文件或只有空行）", f"{path.name} has no header (blank lines only)")
    fmt = "xlsx" if tf.encoding == "xlsx" else "csv"
    header = safe_names(tf.header)
    raw = RawTable(path.stem, path.name, path, sha, fmt, header, tf.encoding)
    if fmt == "csv" and tf.encoding in ("utf-8", "utf-8-sig") and tf.delimiter == "," and tf.header_row == 1 \
            and path.stat().st_size >= FAST_CSV_BYTES and not path.name.lower().endswith(".gz"):
        utf8, longest = scan_text(path)
        if utf8 and longest <= MAX_LINE_CHARS:
            advance(path.stat().st_size)
            raw.register = _duckdb_csv(path, header, longest)
            raw.notes.append("duckdb_csv")
            return raw
    buf = store.table(raw.file_name, header)
    if fmt == "csv":
        _stream_csv(tf, path, sha, buf, store, advance)
    else:
        for batch in tf.batches():
            buf.add_batch(batch)
        advance(path.stat().st_size)
    store.close(buf)
    raw.rows = buf.rows
    raw.register = buf.register()
    return raw


def _stream_csv(tf: TableFile, path: Path, sha: str, buf: TableBuffer, store: RawStore, advance: Advance) -> None:
    """Rows after the header through :class:`BoundedLines`; csv errors end in quarantine, not a crash."""
    with _open(path) as fh:
        lines = BoundedLines(fh, tf.encoding, advance=advance)
        it = iter(lines)

        def rows() -> Iterator[tuple[int, list[str | None], bool]]:
            while True:
                reader = csv.reader(it, delimiter=tf.delimiter)
                while True:
                    start = lines.lineno + 1
                    try:
                        values = next(reader)
                    except StopIteration:
                        return
                    except csv.Error as exc:  # e.g. a quote never closed swallowed lines up to the field limit
                        store.problems.add(Problem(path.name, sha, start, "csv_syntax",
                                                   f"第 {start:,}–{lines.lineno:,} 行：{exc}",
                                                   {"from_line": start, "to_line": lines.lineno}))
                        break
                    if lines.lineno <= tf.header_row:
                        continue
                    yield lines.lineno, [clean_value(v) for v in values], any(BAD_BYTES in v for v in values)

        for batch in dataclasses.replace(tf, _rows=rows).batches():
            buf.add_batch(batch)
        for line, length, head in lines.too_long:
            store.problems.add(Problem(path.name, sha, line, "line_too_long", f"{length:,} 个字符",
                                       {"length": length, "head": truncate(head, 200, length)}))


def scan_text(path: Path) -> tuple[bool, int]:
    """(whole file is UTF-8, longest line in bytes), in one pass of 16 MiB blocks."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    longest = 0
    carry = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 24):
            if utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
            nl = np.flatnonzero(np.frombuffer(block, np.uint8) == 10)
            if nl.size:
                longest = max(longest, carry + int(nl[0]), int(np.diff(nl).max()) if nl.size > 1 else 0)
                carry = len(block) - int(nl[-1]) - 1
            else:
                carry += len(block)
        longest = max(longest, carry)
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return utf8, longest


def _duckdb_csv(path: Path, header: list[str], longest: int) -> Callable[[duckdb.DuckDBPyConnection, str], None]:
    cols = ", ".join(f"{lit(n)}: 'VARCHAR'" for n in header)
    src = read_path(path)
    max_line = max(2 << 20, longest + 1024)

    def reg(con: duckdb.DuckDBPyConnection, view: str) -> None:
        # Line numbers: the header is line 1 and clean exports have no embedded newlines.
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {ident(view)} AS SELECT *, _ord + 1 AS _row FROM (SELECT *, "
            f"false AS _bad, NULL::VARCHAR AS _extra, false AS _short, (row_number() OVER ())::BIGINT AS _ord "
            f"FROM read_csv({src}, header=true, columns={{{cols}}}, all_varchar=true, "
            f"nullstr=['', '\\N', 'NULL'], quote='\"', escape='\"', strict_mode=false, null_padding=true, "
            f"max_line_size={max_line}, parallel=true))")

    return reg


def read_sqlite(path: Path, sha: str, store: RawStore, advance: Advance) -> list[RawTable]:
    """Every table of a SQLite file, streamed; a table that fails mid-way (a damaged page) is kept up to
    the failure and quarantined as ``table_unreadable``; a file whose schema cannot be read is unusable."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path.name} 不是有效的 SQLite 数据库或已损坏（{exc}）",
                         f"{path.name} is not a valid SQLite database or is damaged ({exc})") from exc
    out = []
    try:
        for name in names:
            q = ident(name)
            try:
                cols = [r[1] for r in con.execute(f"PRAGMA table_info({q})")]
            except sqlite3.DatabaseError as exc:
                store.problems.add(Problem(f"{path.name}#{name}", sha, 0, "table_unreadable", str(exc), {"table": name}))
                continue
            header = safe_names(cols)
            raw = RawTable(name, f"{path.name}#{name}", path, sha, "sqlite", header, "utf-8")
            buf = store.table(raw.file_name, header)
            sel = "".join(f', CAST("{c.replace(chr(34), chr(34) * 2)}" AS TEXT)' for c in cols)
            read = 0
            try:
                try:  # the rowid is the row's locator; WITHOUT ROWID tables are numbered in order
                    cur = con.execute(f"SELECT rowid{sel} FROM {q}")
                except sqlite3.OperationalError:
                    cur = con.execute(f"SELECT NULL{sel} FROM {q}")
                while batch := cur.fetchmany(SQLITE_FETCH):
                    for r in batch:
                        read += 1
                        buf.add(list(r[1:]), int(r[0]) if r[0] is not None else read)
            except sqlite3.DatabaseError as exc:
                store.problems.add(Problem(raw.file_name, sha, 0, "table_unreadable",
                                           f"读取 {read:,} 行后出错：{exc}", {"table": name, "rows_read": read}))
            store.close(buf)
            raw.rows = buf.rows
            raw.register = buf.register()
            out.append(raw)
    finally:
        con.close()
    advance(path.stat().st_size)
    return out
