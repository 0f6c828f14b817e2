"""A SQL dump file read by the streaming parser into the raw store (转储文件读取)."""

from __future__ import annotations

import codecs
import gzip
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from chainbreaker.chains.promotion.rawstore import (
    Problem,
    RawStore,
    RawTable,
    TableBuffer,
    safe_names,
    truncate,
)
from chainbreaker.chains.promotion.sqldump import DumpParser, DumpProblem
from chainbreaker.chains.promotion.sqlvalues import TableDef
from chainbreaker.core.errors import InputError
from chainbreaker.core.ingest.encodings import is_utf16, sniff_encoding

CHUNK = 1 << 23


class DumpReader:
    """The bytes of a dump, gunzipped when it ends in ``.gz``; ``consumed`` counts bytes of the file
    itself (compressed), for progress."""

    def __init__(self, path: Path) -> None:
        self.raw = open(path, "rb")  # noqa: SIM115  (closed by __exit__)
        self.fh: io.BufferedIOBase = gzip.GzipFile(fileobj=self.raw) if path.name.lower().endswith(".gz") else self.raw
        self.consumed = 0

    def __enter__(self) -> DumpReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.fh.close()
        self.raw.close()

    def read(self, n: int) -> tuple[bytes, int]:
        """Up to ``n`` bytes of text and how many bytes of the file that took."""
        data = self.fh.read(n)
        pos = self.raw.tell()
        step, self.consumed = pos - self.consumed, pos
        return data, step


@dataclass
class DumpResult:
    tables: list[RawTable] = field(default_factory=list)
    dialect: str = ""
    encoding: str = ""
    problems: int = 0
    rows: int = 0


def dump_encoding(path: Path) -> str:
    """The text encoding of a dump (SQL Server saves scripts as UTF-16; Taiwan platforms use Big5)."""
    with DumpReader(path) as reader:
        sample, _ = reader.read(1 << 20)
    if not sample.strip():
        raise InputError(f"文件为空：{path.name}", f"File is empty: {path.name}")
    encoding = sniff_encoding(sample)
    if b"\x00" in sample[:4096] and not is_utf16(encoding):
        raise InputError(f"{path.name} 不是文本格式的 SQL 转储（含有二进制内容）。",
                         f"{path.name} is not a text SQL dump (binary content).")
    return encoding


def read_dump(path: Path, sha: str, store: RawStore, advance: Callable[[int], None]) -> DumpResult:
    """Stream ``path`` through :class:`DumpParser`; rows and problems go to ``store``."""
    encoding = dump_encoding(path)
    result = DumpResult(encoding=encoding)
    buffers: dict[str, TableBuffer] = {}

    def on_rows(tdef: TableDef, columns: list[list[str | None]], lines: list[int], bad: list[bool]) -> None:
        buf = buffers.get(tdef.name)
        if buf is None:
            buf = buffers[tdef.name] = store.table(f"{path.name}#{tdef.name}", tdef.columns)
        buf.add_columns(columns, lines, bad)
        result.rows += len(lines)

    def on_problem(p: DumpProblem) -> None:
        limit = store.problems.text_limit(sha)
        store.problems.add(Problem(f"{path.name}#{p.table}" if p.table else path.name, sha, p.line, "dump_syntax",
                                   p.message, {"sql": truncate(p.text, limit, max(p.length, len(p.text)))}))
        result.problems += 1

    parser = DumpParser(on_rows, on_problem, text_limit=lambda: store.problems.text_limit(sha))
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with DumpReader(path) as reader:
        while True:
            chunk, step = reader.read(CHUNK)
            if not chunk:
                break
            parser.feed(decoder.decode(chunk))
            advance(step)
    parser.feed(decoder.decode(b"", final=True))
    parser.close()
    result.dialect = parser.dialect or "mysql"
    for name, tdef in parser.tables.items():
        if not tdef.columns:
            continue
        buf = buffers.get(name) or store.table(f"{path.name}#{name}", tdef.columns)
        store.close(buf)
        header = buf.names
        comments = {h: tdef.comments[c] for c, h in zip(tdef.columns, safe_names(tdef.columns), strict=True)
                    if tdef.comments.get(c)}
        raw = RawTable(name, f"{path.name}#{name}", path, sha, result.dialect, header, encoding,
                       comments=comments, table_comment=tdef.comment)
        raw.rows = buf.rows
        raw.register = buf.register()
        result.tables.append(raw)
    return result
