"""Turn a seized platform export into raw tables of strings: a folder of CSV/XLSX, SQL dumps (MySQL,
SQL Server, PostgreSQL/SQLite text dumps) or SQLite files (原始数据读取).

Each raw table keeps the source row number of every value (``_row``) and is spooled to Parquet, so
memory stays bounded whatever the size of the input. One bad file never stops the run: a file that
cannot be read at all (empty, unreadable, not a database, damaged) is skipped with a
:class:`FileFailure`, which ingest turns into a row-0 quarantine record (``file_unusable``); the
other files are read. Dumps the streaming parser cannot fully read may be restored into MariaDB
instead (``mariadb`` = ``auto`` | ``always`` | ``never``; see :func:`_read_dump_file`).
"""

from __future__ import annotations

import csv
import sqlite3
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import duckdb
import pyarrow as pa

from chainbreaker.chains.promotion.dumpfile import dump_encoding, read_dump
from chainbreaker.chains.promotion.mariadb import Server, restore_dump, unavailable
from chainbreaker.chains.promotion.rawstore import RawStore, RawTable
from chainbreaker.chains.promotion.tabular import FAST_CSV_BYTES, read_sqlite, read_table_file
from chainbreaker.core.errors import ChainbreakerError, InputError
from chainbreaker.core.ingest.readers import expand_paths

__all__ = ["FAST_CSV_BYTES", "NoProgress", "Progress", "RawTable", "ReadOptions", "SourceSet", "platform_files",
           "read_sources"]

DUMP_SUFFIXES = (".sql", ".sql.gz")
SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
SQLITE_MAGIC = b"SQLite format 3\x00"
MARIADB_MODES = ("auto", "always", "never")
# What a damaged or hostile file may raise while it is read; anything else is a bug and propagates.
FILE_ERRORS = (ChainbreakerError, OSError, sqlite3.Error, csv.Error, UnicodeError, ValueError, zipfile.BadZipFile,
               pa.ArrowException, duckdb.Error, EOFError)


class Progress(Protocol):
    """Progress of reading the files (in bytes); the CLI draws it."""

    def start(self, total_bytes: int) -> None:
        """Called once with the size of all files to read."""

    def file(self, name: str) -> None:
        """The file being read now."""

    def advance(self, nbytes: int) -> None:
        """``nbytes`` more bytes were read."""

    def phase(self, zh: str, en: str) -> None:
        """A step after reading (casting, writing)."""


class NoProgress:
    """The library default: draws nothing."""

    def start(self, total_bytes: int) -> None:
        pass

    def file(self, name: str) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        pass

    def phase(self, zh: str, en: str) -> None:
        pass


@dataclass
class FileFailure:
    path: Path
    sha256: str
    zh: str
    en: str


@dataclass
class ReadOptions:
    mariadb: str = "auto"
    server: Server = field(default_factory=Server)
    progress: Progress = field(default_factory=NoProgress)


@dataclass
class SourceSet:
    tables: list[RawTable]
    files: list[tuple[Path, str, str, str]]  # (path, sha256, fmt, encoding) of every file read or skipped
    failures: list[FileFailure] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (zh, en) said to the user


def file_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(DUMP_SUFFIXES):
        return "dump"
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
        files += sorted(f for f in path.rglob("*") if f.is_file() and f.name.lower().endswith(DUMP_SUFFIXES + SQLITE_SUFFIXES)
                        and not f.name.startswith((".", "~$")))
        return sorted(set(files))
    return [path]


def read_sources(paths: list[Path], sha_of: Callable[[Path], str], skip: set[str], store: RawStore,
                 options: ReadOptions | None = None) -> SourceSet:
    """Open every file; files whose SHA-256 is in ``skip`` (already ingested) are left out."""
    options = options or ReadOptions()
    progress = options.progress
    out = SourceSet([], [])
    progress.start(sum(_size(p) for p in paths))
    for path in paths:
        progress.file(path.name)
        try:
            sha = sha_of(path)
            fmt = file_format(path)
        except OSError as exc:
            out.failures.append(FileFailure(path, "", f"文件无法读取（{exc.strerror or exc}）",
                                            f"cannot be read ({exc.strerror or exc})"))
            progress.advance(_size(path))
            continue
        if sha in skip:
            out.files.append((path, sha, fmt, ""))
            progress.advance(_size(path))
            continue
        mark = store.mark()
        try:
            tables, encoding = _read_file(path, sha, fmt, store, options, out.notes)
        except FILE_ERRORS as exc:
            store.discard_since(mark)
            store.problems.drop_file(sha)
            zh, en = (exc.zh, exc.en) if isinstance(exc, ChainbreakerError) else (
                f"文件无法读取或已损坏（{type(exc).__name__}: {exc}）", f"unreadable or damaged ({type(exc).__name__}: {exc})")
            out.failures.append(FileFailure(path, sha, zh, en))
            continue
        out.tables.extend(tables)
        out.files.append((path, sha, fmt, encoding))
    return out


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _read_file(path: Path, sha: str, fmt: str, store: RawStore, options: ReadOptions,
               notes: list[tuple[str, str]]) -> tuple[list[RawTable], str]:
    advance = options.progress.advance
    if fmt == "dump":
        return _read_dump_file(path, sha, store, options, notes)
    if fmt == "sqlite":
        return read_sqlite(path, sha, store, advance), "utf-8"
    raw = read_table_file(path, sha, store, advance)
    return [raw], raw.encoding


def _read_dump_file(path: Path, sha: str, store: RawStore, options: ReadOptions,
                    notes: list[tuple[str, str]]) -> tuple[list[RawTable], str]:
    """The streaming parser, MariaDB, or both.

    * ``never``: the streaming parser only.
    * ``always``: restore into MariaDB only (an error when the server or client is missing).
    * ``auto`` (default): the streaming parser; when it met statements it could not read (they are
      quarantined as ``dump_syntax``) and the dump is MySQL/MariaDB SQL, the dump is also restored
      into MariaDB if one is reachable, and the reading that yields more rows is kept (the
      streaming one on a tie, since it keeps source line numbers). The summary says which.
    """
    if options.mariadb not in MARIADB_MODES:
        raise InputError(f"--via-mariadb 只能是 {'、'.join(MARIADB_MODES)}", f"--via-mariadb must be one of {MARIADB_MODES}")
    progress = options.progress
    if options.mariadb == "always":
        encoding = dump_encoding(path)
        return restore_dump(path, sha, encoding, store, options.server, progress.advance), encoding
    mark = store.mark()
    result = read_dump(path, sha, store, progress.advance)
    if options.mariadb == "never" or not result.problems:
        return result.tables, result.encoding
    n = result.problems
    if result.dialect != "mysql":
        notes.append((f"{path.name}：{n} 处语句无法解析（已隔离）；该转储不是 MySQL 语法，不能用 MariaDB 还原",
                      f"{path.name}: {n} statements could not be read (quarantined); not MySQL syntax, so no MariaDB restore"))
        return result.tables, result.encoding
    why = unavailable(options.server)
    if why:
        notes.append((f"{path.name}：{n} 处语句无法解析（已隔离）；MariaDB 兜底不可用（{why}），保留流式解析结果",
                      f"{path.name}: {n} statements could not be read (quarantined); MariaDB fallback unavailable "
                      f"({why}); kept the streaming result"))
        return result.tables, result.encoding
    progress.phase(f"在 MariaDB 中还原 {path.name}", f"Restoring {path.name} into MariaDB")
    mid = store.mark()
    problems_before = store.problems.parts_snapshot()
    try:
        tables = restore_dump(path, sha, result.encoding, store, options.server, lambda _n: None)
    except Exception as exc:  # noqa: BLE001  best effort: the streaming result stands whatever the server did
        store.discard_since(mid)
        store.problems.drop_file(sha, keep_before=problems_before)
        notes.append((f"{path.name}：{n} 处语句无法解析（已隔离）；MariaDB 还原失败（{type(exc).__name__}: {exc}），"
                      f"保留流式解析结果", f"{path.name}: {n} statements could not be read (quarantined); the MariaDB "
                      f"restore failed ({type(exc).__name__}: {exc}); kept the streaming result"))
        return result.tables, result.encoding
    restored = sum(t.rows for t in tables)
    if restored > result.rows:
        store.discard_since(mark, mid)
        store.problems.drop_file(sha, keep_after=problems_before)
        notes.append((f"{path.name}：流式解析读出 {result.rows:,} 行、{n} 处语句无法解析；在 MariaDB 中还原读出 "
                      f"{restored:,} 行，采用 MariaDB 结果（行号为表内顺序）",
                      f"{path.name}: the streaming parser read {result.rows:,} rows with {n} unreadable statements; "
                      f"MariaDB restored {restored:,} rows, which were kept (rows numbered in table order)"))
        return tables, result.encoding
    store.discard_since(mid)
    store.problems.drop_file(sha, keep_before=problems_before)
    notes.append((f"{path.name}：{n} 处语句无法解析（已隔离）；MariaDB 还原只读出 {restored:,} 行，保留流式解析的 "
                  f"{result.rows:,} 行",
                  f"{path.name}: {n} statements could not be read (quarantined); MariaDB restored only {restored:,} rows, "
                  f"kept the {result.rows:,} rows of the streaming parser"))
    return result.tables, result.encoding
