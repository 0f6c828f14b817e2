"""Turn a seized platform export into raw tables of strings: a folder of CSV/XLSX, a MySQL dump or a
SQLite file. Each raw table keeps the source row number of every value (``_row``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from chainbreaker.errors import InputError
from chainbreaker.ingest.mapping import header_matcher
from chainbreaker.ingest.readers import expand_paths, open_table, unique_names
from chainbreaker.promotion.mysqldump import DumpProblem, parse_dump
from chainbreaker.promotion.spec import FIELDS

# Clean UTF-8 CSVs above this size are read by DuckDB's CSV reader (no per-row Python loop).
FAST_CSV_BYTES = 8 * 1024 * 1024
DUMP_SUFFIXES = (".sql",)
SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
SQLITE_MAGIC = b"SQLite format 3\x00"


@dataclass
class RawTable:
    """One source table: its name, the file it came from and a way to expose it to DuckDB."""

    name: str  # table name in the dump/SQLite, or the file stem
    file_name: str  # shown to users; dump/SQLite tables as "file#table"
    path: Path
    sha256: str
    fmt: str  # csv | xlsx | mysql | sqlite
    header: list[str]
    encoding: str = ""
    register: Callable[[duckdb.DuckDBPyConnection, str], None] | None = None
    rows: int = -1
    notes: list[str] = field(default_factory=list)


@dataclass
class SourceSet:
    tables: list[RawTable]
    files: list[tuple[Path, str, str]]  # (path, sha256, fmt)
    problems: list[tuple[str, str, DumpProblem]]  # (file_name, sha256, problem)


def _arrow_register(table: pa.Table) -> Callable[[duckdb.DuckDBPyConnection, str], None]:
    def reg(con: duckdb.DuckDBPyConnection, view: str) -> None:
        con.register(view, table)

    return reg


def _strings_table(header: list[str], rows: list[list[str | None]], lines: list[int]) -> pa.Table:
    names = unique_names(header)
    cols = {n: pa.array([r[i] for r in rows], pa.string()) for i, n in enumerate(names)}
    cols["_row"] = pa.array(lines, pa.int64())
    cols["_bad"] = pa.array([False] * len(rows))
    cols["_extra"] = pa.array([None] * len(rows), pa.string())
    cols["_short"] = pa.array([False] * len(rows))
    cols["_ord"] = pa.array(range(len(rows)), pa.int64())
    return pa.table(cols)


def _is_utf8(path: Path) -> bool:
    """The whole file decodes as UTF-8 (checked in chunks; DuckDB's reader would stop on bad bytes)."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 24):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _csv_or_xlsx(path: Path, sha: str) -> RawTable:
    known = header_matcher({f"{k}.{f}": syns for k, spec in FIELDS.items() for f, syns in spec.items()})
    tf = open_table(path, expected=known)
    fmt = "xlsx" if tf.encoding == "xlsx" else "csv"
    raw = RawTable(path.stem, path.name, path, sha, fmt, unique_names(tf.header), tf.encoding)
    fast = (fmt == "csv" and tf.encoding in ("utf-8", "utf-8-sig") and tf.delimiter == "," and tf.header_row == 1
            and path.stat().st_size >= FAST_CSV_BYTES and _is_utf8(path))
    if fast:
        names = raw.header
        cols = ", ".join(f"'{n}': 'VARCHAR'" for n in [n.replace("'", "''") for n in names])
        src = str(path)

        def reg(con: duckdb.DuckDBPyConnection, view: str) -> None:
            # Line numbers: the header is line 1 and clean exports have no embedded newlines.
            # The path is a parameter (never pasted into SQL); the relation becomes the view.
            con.sql(
                "SELECT *, _ord + 1 AS _row FROM (SELECT *, "
                "false AS _bad, NULL::VARCHAR AS _extra, false AS _short, (row_number() OVER ())::BIGINT AS _ord "
                "FROM read_csv($1, header=true, "
                f"columns={{{cols}}}, all_varchar=true, nullstr=['', '\\N', 'NULL'], quote='\"', escape='\"', "
                "strict_mode=false, null_padding=true, parallel=true))", params=[src]
            ).create_view(view, replace=True)

        raw.register = reg
        raw.notes.append("duckdb_csv")
        return raw
    batches = list(tf.batches())
    if batches:
        table = pa.Table.from_batches(batches)
        table = table.rename_columns(raw.header + [c for c in table.column_names[len(raw.header):]])
        table = table.append_column("_ord", pa.array(range(table.num_rows), pa.int64()))
    else:
        table = _strings_table(raw.header, [], [])
    raw.rows = table.num_rows
    raw.register = _arrow_register(table)
    return raw


def _dump(path: Path, sha: str, problems: list[tuple[str, str, DumpProblem]]) -> list[RawTable]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("gb18030", errors="replace")
    tables, probs = parse_dump(text)
    problems.extend((path.name, sha, p) for p in probs)
    out = []
    for t in tables.values():
        header = unique_names(t.columns)
        raw = RawTable(t.name, f"{path.name}#{t.name}", path, sha, "mysql", header, "utf-8")
        raw.rows = len(t.rows)
        raw.register = _arrow_register(_strings_table(header, t.rows, t.lines))
        out.append(raw)
    return out


def _sqlite(path: Path, sha: str) -> list[RawTable]:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path.name} 不是有效的 SQLite 数据库（{exc}）", f"{path.name} is not a valid SQLite database ({exc})") from exc
    out = []
    try:
        for name in names:
            q = name.replace('"', '""')
            cols = [r[1] for r in con.execute(f'PRAGMA table_info("{q}")')]
            sel = ", ".join(f'CAST("{c.replace(chr(34), chr(34) * 2)}" AS TEXT)' for c in cols)
            rows: list[list[str | None]] = []
            lines: list[int] = []
            for r in con.execute(f'SELECT rowid, {sel} FROM "{q}"'):
                lines.append(int(r[0]))
                rows.append(list(r[1:]))
            header = unique_names(cols)
            raw = RawTable(name, f"{path.name}#{name}", path, sha, "sqlite", header, "utf-8")
            raw.rows = len(rows)
            raw.register = _arrow_register(_strings_table(header, rows, lines))
            out.append(raw)
    finally:
        con.close()
    return out


def file_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(DUMP_SUFFIXES):
        return "mysql"
    with open(path, "rb") as fh:
        if fh.read(16) == SQLITE_MAGIC:
            return "sqlite"
    if name.endswith(SQLITE_SUFFIXES):
        return "sqlite"
    return "table"


def platform_files(path: Path) -> list[Path]:
    path = Path(path)
    if not path.exists():
        raise InputError(f"找不到文件或文件夹：{path}", f"No such file or folder: {path}")
    if path.is_dir():
        files = expand_paths([path])
        files += sorted(f for f in path.rglob("*") if f.is_file() and f.name.lower().endswith(DUMP_SUFFIXES + SQLITE_SUFFIXES))
        return sorted(set(files))
    return [path]


def read_sources(paths: list[Path], sha_of: Callable[[Path], str], skip: set[str]) -> SourceSet:
    """Open every file; files whose SHA-256 is in ``skip`` (already ingested) are left out."""
    tables: list[RawTable] = []
    files: list[tuple[Path, str, str]] = []
    problems: list[tuple[str, str, DumpProblem]] = []
    for path in paths:
        sha = sha_of(path)
        fmt = file_format(path)
        files.append((path, sha, fmt))
        if sha in skip:
            continue
        if fmt == "mysql":
            tables.extend(_dump(path, sha, problems))
        elif fmt == "sqlite":
            tables.extend(_sqlite(path, sha))
        else:
            tables.append(_csv_or_xlsx(path, sha))
    return SourceSet(tables, files, problems)
