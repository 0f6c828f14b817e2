"""Read a MySQL dump (``mysqldump`` output) without a MySQL server.

Understands ``CREATE TABLE`` (column names) and ``INSERT INTO ... VALUES (...),(...);`` with or
without a column list, MySQL string escapes (``\\'``, ``\\\\``, ``\\n``, ``\\0``, ``''``), ``NULL``,
numbers and hex literals. Other statements (``SET``, ``LOCK TABLES``, comments ...) are skipped.

A statement that does not parse is not fatal: the tuples read before the error are kept, the rest
of the statement is reported as a :class:`DumpProblem` (line, message, the unparsed text) and
reading resumes at the next statement. Nothing is lost silently.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"""\s*(?:(?P<str>'(?:[^'\\]|\\.|'')*')|(?P<null>NULL\b)|(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"""
    r"""|(?P<hex>0x[0-9A-Fa-f]*)|(?P<punct>[(),;]))""",
    re.S | re.I,
)
_ESCAPES = {"0": "\x00", "'": "'", '"': '"', "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a",
            "\\": "\\", "%": "\\%", "_": "\\_"}
_ESC = re.compile(r"\\(.)", re.S)
_STMT_START = re.compile(r"^(INSERT\s+(?:IGNORE\s+)?INTO|REPLACE\s+INTO|CREATE\s+TABLE|DROP\s+TABLE|LOCK\s+TABLES|"
                         r"UNLOCK\s+TABLES|SET\s|/\*!|--|ALTER\s+TABLE|USE\s)", re.I | re.M)
_INSERT = re.compile(r"(?:INSERT\s+(?:IGNORE\s+)?|REPLACE\s+)INTO\s+`?([^`\s(]+)`?\s*(\(([^)]*)\))?\s*VALUES\s*", re.I)
_CREATE = re.compile(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?([^`\s(]+)`?\s*\(", re.I)
_COLDEF = re.compile(r"^\s*`([^`]+)`\s+\w+", re.M)


@dataclass
class DumpProblem:
    line: int
    table: str
    message: str
    text: str


@dataclass
class DumpTable:
    name: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # 1-based line where each tuple starts


def _unescape(raw: str) -> str:
    body = raw[1:-1]
    if "\\" in body:
        body = _ESC.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)
    return body.replace("''", "'")


class _Lines:
    def __init__(self, text: str) -> None:
        self.starts = [m.end() for m in re.finditer("\n", text)]

    def line(self, pos: int) -> int:
        return bisect.bisect_right(self.starts, pos) + 1


def _statements(text: str) -> Iterator[int]:
    """Offsets of lines that start a statement (the parser re-synchronises on them)."""
    for m in _STMT_START.finditer(text):
        yield m.start()


def parse_dump(text: str) -> tuple[dict[str, DumpTable], list[DumpProblem]]:
    """Parse the whole dump text; returns tables by name and the problems met."""
    lines = _Lines(text)
    tables: dict[str, DumpTable] = {}
    problems: list[DumpProblem] = []
    starts = list(_statements(text))
    pos_idx = 0
    resume = 0
    while pos_idx < len(starts):
        start = starts[pos_idx]
        pos_idx += 1
        if start < resume:
            continue
        head = text[start:start + 12].upper()
        if head.startswith("CREATE"):
            m = _CREATE.match(text, start)
            if not m:
                continue
            end = text.find(";", m.end())
            body = text[m.end(): end if end >= 0 else len(text)]
            name = m.group(1)
            cols = [c for c in _COLDEF.findall(body)]
            tables.setdefault(name, DumpTable(name)).columns = cols
            resume = end + 1 if end >= 0 else len(text)
        elif head.startswith(("INSERT", "REPLACE")):
            m = _INSERT.match(text, start)
            if not m:
                end = text.find(";\n", start)
                end = len(text) if end < 0 else end + 1
                problems.append(DumpProblem(lines.line(start), "", "无法识别的 INSERT 语句", text[start:end]))
                resume = end
                continue
            name = m.group(1)
            table = tables.setdefault(name, DumpTable(name))
            columns = [c.strip().strip("`") for c in m.group(3).split(",")] if m.group(3) else table.columns
            if not table.columns:
                table.columns = columns
            resume = _parse_values(text, m.end(), table, columns, lines, problems)
    return tables, problems


def _parse_values(text: str, pos: int, table: DumpTable, columns: list[str], lines: _Lines,
                  problems: list[DumpProblem]) -> int:
    """Parse ``(...),(...);`` from ``pos``; return the offset after the statement."""
    match = _TOKEN.match
    width = len(table.columns)
    order = [table.columns.index(c) if c in table.columns else -1 for c in columns]
    stmt_start = pos

    def fail(at: int, message: str) -> int:
        # The statement ends at the next line that starts a new statement (or the end of file).
        nxt = _STMT_START.search(text, text.find("\n", at) + 1 if text.find("\n", at) >= 0 else len(text))
        end = nxt.start() if nxt else len(text)
        problems.append(DumpProblem(lines.line(at), table.name, message, text[at:end].rstrip()))
        return end

    if not columns:
        return fail(stmt_start, "缺少 CREATE TABLE 或列名，无法确定字段")
    while True:
        m = match(text, pos)
        if not m or m.group("punct") != "(":
            return fail(pos, "此处应为“(”")
        tuple_pos = m.end() - 1
        pos = m.end()
        values: list[str | None] = []
        while True:
            m = match(text, pos)
            if not m:
                return fail(tuple_pos, "值无法解析（引号未闭合或含非法字符）")
            pos = m.end()
            if m.group("str") is not None:
                values.append(_unescape(m.group("str")))
            elif m.group("null") is not None:
                values.append(None)
            elif m.group("num") is not None:
                values.append(m.group("num"))
            elif m.group("hex") is not None:
                values.append(m.group("hex"))
            else:
                return fail(tuple_pos, f"此处应为值，实际为“{m.group('punct')}”")
            m = match(text, pos)
            if not m or m.group("punct") not in (",", ")"):
                return fail(tuple_pos, "值之间应以逗号分隔")
            pos = m.end()
            if m.group("punct") == ")":
                break
        if len(values) != len(columns):
            return fail(tuple_pos, f"值的个数 {len(values)} 与列数 {len(columns)} 不符")
        row: list[str | None] = [None] * width
        for i, v in zip(order, values, strict=True):
            if i >= 0:
                row[i] = v
        table.rows.append(row)
        table.lines.append(lines.line(tuple_pos))
        m = match(text, pos)
        if not m or m.group("punct") not in (",", ";"):
            return fail(pos, "元组之后应为“,”或“;”")
        pos = m.end()
        if m.group("punct") == ";":
            return pos
