"""Raw source tables of one platform ingest, spooled to Parquet so memory stays bounded (原始表暂存).

Readers (SQL dumps, SQLite, MariaDB, CSV/XLSX) hand rows of strings to a :class:`RawStore`; each
table's rows are buffered a few thousand at a time and written as Parquet parts in the run's
scratch folder. DuckDB later reads the parts as one view per table, with the bookkeeping columns
the staging SQL expects: ``_row`` (source line or row), ``_bad`` (undecodable bytes), ``_extra``,
``_short`` and ``_ord`` (order within the table). Problems met while reading (statements that do
not parse, lines too long, unreadable tables) are spooled the same way as quarantine records.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from chainbreaker.core.ingest.readers import unique_names
from chainbreaker.core.sql import ident, read_paths

BOOKKEEPING = ("_row", "_bad", "_extra", "_short", "_ord")
FLUSH_ROWS = 20_000  # rows buffered per table before a Parquet part is written
FLUSH_CELLS = 1_500_000  # values buffered over all tables before every buffer is written
PROBLEM_TEXT = 1 << 20  # characters of an unparsed statement kept in quarantine (the original is in evidence)
PROBLEM_TEXT_MANY = 4096  # ... once more than PROBLEMS_FULL problems were recorded for a file
PROBLEMS_FULL = 100


def safe_names(header: list[str]) -> list[str]:
    """Unique column names that cannot collide with the bookkeeping columns."""
    names = unique_names([("x" + h if h in BOOKKEEPING else h) for h in header])
    return names


@dataclass
class RawTable:
    """One source table: its name, the file it came from and a way to expose it to DuckDB."""

    name: str  # table name in the dump/SQLite, or the file stem
    file_name: str  # shown to users; dump/SQLite tables as "file#table"
    path: Path
    sha256: str
    fmt: str  # csv | xlsx | mysql | tsql | ansi | sqlite | mariadb
    header: list[str]
    encoding: str = ""
    register: Callable[[duckdb.DuckDBPyConnection, str], None] | None = None
    rows: int = -1
    notes: list[str] = field(default_factory=list)
    comments: dict[str, str] = field(default_factory=dict)  # column (as in header) -> COMMENT text
    table_comment: str = ""


class TableBuffer:
    """Rows of one raw table on their way to Parquet parts."""

    def __init__(self, store: RawStore, key: str, header: list[str]) -> None:
        self.store = store
        self.key = key
        self.names = safe_names(header)
        self.width = len(self.names)
        self.parts: list[Path] = []
        self.rows = 0
        self._cols: list[list[str | None]] = [[] for _ in range(self.width)]
        self._lines: list[int] = []
        self._bad: list[bool] = []

    @property
    def pending(self) -> int:
        """Rows buffered, not written yet."""
        return len(self._lines)

    def add(self, values: list[str | None], line: int, bad: bool = False) -> None:
        """One row; ``values`` must have ``width`` entries."""
        for col, v in zip(self._cols, values, strict=True):
            col.append(v)
        self._lines.append(line)
        self._bad.append(bad)
        self._grew(1)

    def add_columns(self, columns: list[list[str | None]], lines: list[int], bad: list[bool]) -> None:
        """Many rows at once, column by column (``width`` lists of equal length)."""
        for col, values in zip(self._cols, columns, strict=True):
            col.extend(values)
        self._lines.extend(lines)
        self._bad.extend(bad)
        self._grew(len(lines))

    def _grew(self, n: int) -> None:
        self.store.buffered += n * self.width
        if len(self._lines) >= FLUSH_ROWS:
            self.flush()
        elif self.store.buffered >= FLUSH_CELLS:
            self.store.flush_all()

    def add_batch(self, batch: pa.RecordBatch) -> None:
        """A batch from the shared readers (string columns + ``_row``/``_bad``/``_extra``/``_short``)."""
        self.flush()
        if not batch.num_rows:
            return
        arrays = list(batch.columns[: self.width]) + [batch.column(c) for c in ("_row", "_bad", "_extra", "_short")]
        arrays.append(pa.array(range(self.rows, self.rows + batch.num_rows), pa.int64()))
        self._write(pa.Table.from_arrays(arrays, schema=self.schema()))

    def schema(self) -> pa.Schema:
        return pa.schema([*[(n, pa.string()) for n in self.names], ("_row", pa.int64()), ("_bad", pa.bool_()),
                          ("_extra", pa.string()), ("_short", pa.bool_()), ("_ord", pa.int64())])

    def flush(self) -> None:
        n = len(self._lines)
        if not n:
            return
        arrays: list[pa.Array] = [pa.array(c, pa.string()) for c in self._cols]
        arrays += [pa.array(self._lines, pa.int64()), pa.array(self._bad, pa.bool_()), pa.nulls(n, pa.string()),
                   pa.array([False] * n, pa.bool_()), pa.array(range(self.rows, self.rows + n), pa.int64())]
        self._clear()
        self._write(pa.Table.from_arrays(arrays, schema=self.schema()))

    def _clear(self) -> None:
        self.store.buffered -= len(self._lines) * self.width
        self._cols = [[] for _ in range(self.width)]
        self._lines, self._bad = [], []

    def _write(self, table: pa.Table) -> None:
        part = self.store.folder / f"t{self.store.next_id()}.parquet"
        pq.write_table(table, part, compression="snappy")
        self.parts.append(part)
        self.rows += table.num_rows

    def discard(self) -> None:
        self._clear()
        for part in self.parts:
            part.unlink(missing_ok=True)
        self.parts = []

    def register(self) -> Callable[[duckdb.DuckDBPyConnection, str], None]:
        """A function exposing the finished table to DuckDB as a view (call after :meth:`flush`)."""
        parts = list(self.parts)
        schema = self.schema()

        def reg(con: duckdb.DuckDBPyConnection, view: str) -> None:
            if parts:
                con.execute(f"CREATE OR REPLACE TEMP VIEW {ident(view)} AS SELECT * FROM read_parquet({read_paths(parts)})")
            else:
                con.register(view, schema.empty_table())

        return reg


class RawStore:
    """The scratch folder holding every raw table and problem of one ingest run."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.buffered = 0
        self._ids = 0
        self._open: dict[str, TableBuffer] = {}
        self.created: list[TableBuffer] = []
        self.problems = ProblemLog(self)

    def next_id(self) -> int:
        self._ids += 1
        return self._ids

    def table(self, key: str, header: list[str]) -> TableBuffer:
        buf = TableBuffer(self, key, header)
        self._open[key] = buf
        self.created.append(buf)
        return buf

    def mark(self) -> int:
        """A point to roll back to with :meth:`discard_since` (every table created after it)."""
        return len(self.created)

    def discard_since(self, mark: int, until: int | None = None) -> None:
        for buf in self.created[mark:until]:
            buf.discard()
            if self._open.get(buf.key) is buf:
                del self._open[buf.key]

    def flush_all(self) -> None:
        for buf in self._open.values():
            buf.flush()

    def close(self, buf: TableBuffer) -> None:
        buf.flush()
        self._open.pop(buf.key, None)


@dataclass
class Problem:
    """A quarantine record for something that is not a row of a recognised table."""

    file_name: str
    sha256: str
    row: int
    reason_code: str
    detail: str
    raw: dict[str, Any]


class ProblemLog:
    """Quarantine records met while reading, spooled to Parquet like the tables."""

    SCHEMA = pa.schema([("file_name", pa.string()), ("file_sha256", pa.string()), ("row", pa.int64()),
                        ("reason_code", pa.string()), ("_detail", pa.string()), ("raw", pa.string())])

    def __init__(self, store: RawStore) -> None:
        self.store = store
        self.parts: list[Path] = []
        self._rows: list[dict[str, Any]] = []
        self._chars = 0
        self.count = 0
        self.per_file: dict[str, int] = {}

    def add(self, p: Problem) -> None:
        raw = json.dumps(p.raw, ensure_ascii=False)
        self._rows.append({"file_name": p.file_name, "file_sha256": p.sha256, "row": p.row,
                           "reason_code": p.reason_code, "_detail": p.detail, "raw": raw})
        self.count += 1
        self.per_file[p.sha256] = self.per_file.get(p.sha256, 0) + 1
        self._chars += len(raw)
        if len(self._rows) >= 10_000 or self._chars >= 16 << 20:
            self.flush()

    def text_limit(self, sha256: str) -> int:
        """How much unparsed text to keep for the next problem of this file."""
        return PROBLEM_TEXT if self.per_file.get(sha256, 0) < PROBLEMS_FULL else PROBLEM_TEXT_MANY

    def parts_snapshot(self) -> int:
        """Flush and return a position separating the problems recorded so far from later ones."""
        self.flush()
        return len(self.parts)

    def drop_file(self, sha256: str, keep_before: int = 0, keep_after: int | None = None) -> None:
        """Forget the problems of a file (those recorded between the two snapshot positions): the file
        turned out unusable, or was read again another way."""
        self.flush()
        stop = len(self.parts) if keep_after is None else keep_after
        kept: list[Path] = []
        for i, part in enumerate(self.parts):
            if not keep_before <= i < stop:
                kept.append(part)
                continue
            t = pq.read_table(part)
            rest = t.filter(pc.not_equal(t.column("file_sha256"), sha256))
            dropped = t.num_rows - rest.num_rows
            if dropped:
                part.unlink()
                self.count -= dropped
                self.per_file[sha256] = self.per_file.get(sha256, 0) - dropped
                if rest.num_rows:
                    pq.write_table(rest, part)
                    kept.append(part)
            else:
                kept.append(part)
        self.parts = kept

    def flush(self) -> None:
        if not self._rows:
            return
        part = self.store.folder / f"p{self.store.next_id()}.parquet"
        pq.write_table(pa.Table.from_pylist(self._rows, schema=self.SCHEMA), part)
        self.parts.append(part)
        self._rows, self._chars = [], 0

    def sql(self) -> str | None:
        """A SELECT over every problem (file_name, file_sha256, row, reason_code, _detail, raw)."""
        self.flush()
        if not self.parts:
            return None
        return f"SELECT file_name, file_sha256, row, reason_code, _detail, raw FROM read_parquet({read_paths(self.parts)})"


def truncate(text: str, limit: int, total: int | None = None) -> str:
    """``text`` cut to ``limit`` characters with a note saying how long the original was."""
    total = len(text) if total is None else total
    if total <= limit and len(text) <= limit:
        return text
    return text[:limit] + f"\n…（已截断：原文共 {total:,} 个字符，完整内容见证据文件）"
