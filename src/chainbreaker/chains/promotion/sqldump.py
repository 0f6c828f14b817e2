"""Read a SQL dump as a stream, in bounded memory, without a database server (SQL 转储流式解析).

Text is fed in chunks (:meth:`DumpParser.feed`); complete statements are parsed as they arrive
and rows are handed on in batches, so a multi-GB dump needs no more memory than one chunk plus
the longest statement being read (capped: see ``MAX_PENDING``). Understood: ``CREATE TABLE``
(column names, column and table ``COMMENT``s), ``INSERT``/``REPLACE [INTO] t [(cols)] VALUES
(...),(...)`` with or without ``;`` (SQL Server scripts end statements with a line break or
``GO``), SQL Server ``sp_addextendedproperty`` descriptions, PostgreSQL ``COMMENT ON`` and
``COPY ... FROM stdin`` blocks. ``SET``, ``LOCK TABLES``, ``/*!40101 ... */``, comments,
``DELIMITER`` blocks (triggers, procedures) and other statements are skipped.

A statement that does not parse is not fatal: tuples read before the error are kept, the rest
of the statement is reported as a :class:`DumpProblem` (line, message, the unparsed text, cut at
``PROBLEM_TEXT`` characters; the original file is in the evidence store) and reading resumes at
the next line that starts a statement. Nothing is lost silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from chainbreaker.chains.promotion.sqlcursor import (
    MAX_PENDING,
    STATEMENT_KEYWORDS,
    DumpCursor,
    DumpProblem,
    after_ws,
)
from chainbreaker.chains.promotion.sqlvalues import (
    DIALECTS,
    IDENT,
    QNAME,
    TableDef,
    UnsupportedValue,
    convert,
    extended_property,
    matching_paren,
    parse_create,
    split_values,
    string_value,
    unquote,
)

ROWS_PER_CALL = 5000
DIALECT_SAMPLE = 1 << 18
_STATEMENT = re.compile(rf"(?:{STATEMENT_KEYWORDS})", re.I)
_INSERT = re.compile(
    rf"(?is)(?:INSERT|REPLACE)(?:\s+(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY|IGNORE))*\s+(?:INTO\s+)?(?P<name>{QNAME})"
    rf"\s*(?:\((?P<cols>[^)]*)\))?\s*VALUES?\s*(?=\()")
_CREATE = re.compile(rf"(?is)CREATE\s+(?:TEMPORARY\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{QNAME})\s*\(")
_COPY = re.compile(rf"(?is)COPY\s+(?P<name>{QNAME})\s*(?:\((?P<cols>[^)]*)\))?\s*FROM\s+stdin[^\n]*\n")
_COMMENT_ON = re.compile(rf"(?is)COMMENT\s+ON\s+(TABLE|COLUMN)\s+(?P<name>{QNAME})\s+IS\s+('(?:[^']|'')*')")
_GO = re.compile(r"(?im)GO(?:[ \t]+\d+)?[ \t]*(?:\r?\n|$)")
_DELIMITER = re.compile(r"(?im)^DELIMITER[ \t]+(\S+)[ \t\r]*$")
_TSQL_MODULE = re.compile(r"(?is)(?:CREATE|ALTER)\s+(?:OR\s+ALTER\s+)?(?:PROC|PROCEDURE|FUNCTION|TRIGGER|VIEW)\b")
_GO_LINE = re.compile(r"(?im)^[ \t]*GO[ \t]*\r?$")
_ON_DUPLICATE = re.compile(r"(?i)ON\s+DUPLICATE\s+KEY\s+UPDATE\b")
_COPY_ESC = re.compile(r"\\(.)")
_COPY_MAP = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def detect_dialect(head: str) -> str:
    """``mysql``, ``tsql`` or ``ansi`` from the first part of a dump (``mysql`` when unsure)."""
    upper = head.upper()
    if (re.search(r"(?im)^\s*GO\s*$", head) or "[DBO]." in upper or "SET IDENTITY_INSERT" in upper
            or "SP_ADDEXTENDEDPROPERTY" in upper):
        return "tsql"
    if "`" in head or "/*!" in head or "ENGINE=" in upper or "-- MYSQL DUMP" in upper or "-- MARIADB DUMP" in upper:
        return "mysql"
    if re.search(r'(?i)(INSERT\s+INTO|CREATE\s+TABLE)\s+"', head) or "PRAGMA " in upper or "PG_DUMP" in upper \
            or re.search(r"(?im)^COPY\s", head):
        return "ansi"
    return "mysql"


@dataclass
class _Insert:
    table: TableDef
    order: list[int] | None  # target index per listed column (None: same order as the table)
    width: int
    line: int
    expect_tuple: bool = True
    rows: list[list[str | None]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    bad: list[bool] = field(default_factory=list)


# (table, columns: one list of values per column of the table, source line of each row, bad-bytes flags)
RowsCallback = Callable[[TableDef, list[list[str | None]], list[int], list[bool]], None]


def _columns(rows: list[list[str | None]], width: int) -> list[list[str | None]]:
    return [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


class DumpParser(DumpCursor):
    """Incremental parser: ``feed()`` text chunks, then ``close()``."""

    def __init__(self, on_rows: RowsCallback, on_problem: Callable[[DumpProblem], None],
                 dialect: str | None = None, text_limit: Callable[[], int] = lambda: 1 << 20,
                 max_pending: int = MAX_PENDING) -> None:
        super().__init__(on_problem, dialect, text_limit, max_pending)
        self.on_rows = on_rows
        self.tables: dict[str, TableDef] = {}
        self._insert: _Insert | None = None
        self._copy: _Insert | None = None

    # ------------------------------------------------------------------ driving
    def feed(self, text: str) -> None:
        self.buf = self.buf[self.pos:] + text if self.pos < len(self.buf) else text
        self.pos = 0
        if self.dialect is None:
            if len(self.buf) < DIALECT_SAMPLE:
                return
            self.dialect = detect_dialect(self.buf[:DIALECT_SAMPLE])
        self._run()

    def close(self) -> None:
        if self.dialect is None:
            self.dialect = detect_dialect(self.buf[self.pos:self.pos + DIALECT_SAMPLE])
        self.final = True
        self._run()
        if self._skipping is not None:
            self._emit_skipped()
        for st in (self._insert, self._copy):
            if st is not None:
                self._flush(st)

    def _run(self) -> None:
        while True:
            if self._skipping is not None and not self._skip_broken():
                return
            if self._delimiter_block and not self._skip_delimiter_block():
                return
            if self._copy is not None:
                if not self._copy_rows():
                    return
                continue
            if self._insert is not None:
                if not self._tuples():
                    return
                continue
            self._advance(after_ws(self.buf, self.pos))
            if self.pos >= len(self.buf):
                return
            if not self._statement():
                return

    # ------------------------------------------------------------------ statements
    def _statement(self) -> bool:
        """Read one statement at ``pos``; False when more text is needed first."""
        buf, pos = self.buf, self.pos
        if self._short(pos):
            return False
        c = buf[pos]
        if c == ";":
            self._advance(pos + 1)
            return True
        if buf.startswith("--", pos) or c == "#":
            return self._skip_past("\n", pos)
        if buf.startswith("/*", pos):
            return self._skip_past("*/", pos)
        head = buf[pos:pos + 32].upper()
        if head.startswith(("INSERT", "REPLACE")):
            return self._insert_head()
        if re.match(r"CREATE\s+(TEMPORARY\s+)?TABLE", head):
            return self._create()
        if head.startswith("GO") and _GO.match(buf, pos):
            self._advance(_GO.match(buf, pos).end())  # type: ignore[union-attr]
            return True
        if head.startswith("DELIMITER"):
            m = _DELIMITER.match(buf, pos)
            if m is None:
                return self._need(pos, 256) if not self.final else self._skip_statement(pos)
            self._advance(m.end())
            self._delimiter_block = m.group(1) != ";"
            return True
        if head.startswith("COPY"):
            return self._copy_head()
        if not _STATEMENT.match(buf, pos):
            self._problem(pos, "", "无法识别的语句", self._boundary(pos))
            return True
        if self.dialect == "tsql" and _TSQL_MODULE.match(buf, pos):
            go = _GO_LINE.search(buf, pos)
            if go is None:
                return self._need(pos) if not self.final else self._skip_statement(pos)
            self._advance(go.end())
            return True
        end = self._statement_end(pos)
        if end < 0:
            return self._need(pos)
        text = buf[pos:end]
        if head.startswith(("EXEC", "EXECUTE")):
            prop = extended_property(text)
            if prop:
                self._describe(*prop)
        elif head.startswith("COMMENT"):
            self._comment_on(text)
        self._advance(end)
        return True

    def _create(self) -> bool:
        m = _CREATE.match(self.buf, self.pos)
        if m is None:
            return self._need(self.pos, 4096) if not self.final else self._skip_statement(self.pos)
        d = DIALECTS[self.dialect or "mysql"]
        close = matching_paren(self.buf, m.end() - 1, d.string)
        if close < 0:
            if not self.final:
                return self._need(self.pos)
            self._problem(self.pos, unquote(m.group("name")), "CREATE TABLE 语句不完整", len(self.buf))
            return True
        end = self._statement_end(close + 1)
        if end < 0:
            return self._need(self.pos)
        name = unquote(m.group("name"))
        tdef = parse_create(name, self.buf[m.end():close], self.buf[close + 1:end], self.dialect or "mysql")
        old = self.tables.get(name)
        if old is None or not old.columns:
            if old is not None:
                tdef.comments = {**old.comments, **tdef.comments}
                tdef.comment = tdef.comment or old.comment
            self.tables[name] = tdef
        self._advance(end)
        return True

    def _describe(self, table: str, column: str, text: str) -> None:
        tdef = self.tables.setdefault(table, TableDef(table))
        if column:
            tdef.comments[column] = text
        else:
            tdef.comment = text

    def _comment_on(self, text: str) -> None:
        m = _COMMENT_ON.match(text)
        if not m:
            return
        parts = [unquote(p) for p in re.findall(IDENT, m.group("name"))]
        words = string_value(m.group(3), "ansi")
        if m.group(1).upper() == "TABLE":
            self._describe(parts[-1], "", words)
        elif len(parts) >= 2:
            self._describe(parts[-2], parts[-1], words)

    # ------------------------------------------------------------------ INSERT
    def _insert_head(self) -> bool:
        m = _INSERT.match(self.buf, self.pos)
        if m is None:
            if not self.final and len(self.buf) - self.pos < 1 << 16:
                return False
            end = self._boundary(self.pos)
            if end < 0:
                return self._need(self.pos)
            self._problem(self.pos, "", "无法识别的 INSERT 语句", end)
            return True
        name = unquote(m.group("name"))
        table = self.tables.setdefault(name, TableDef(name))
        listed = [unquote(c.strip()) for c in m.group("cols").split(",")] if m.group("cols") else None
        if not table.columns and listed:
            table.columns = list(listed)
        if not table.columns:
            end = self._boundary(self.pos)
            if end < 0:
                return self._need(self.pos)
            self._problem(self.pos, name, "缺少 CREATE TABLE 或列名，无法确定字段", end)
            return True
        order = None
        if listed is not None and listed != table.columns:
            index = {c: i for i, c in enumerate(table.columns)}
            order = [index.get(c, -1) for c in listed]
        width = len(listed) if listed is not None else len(table.columns)
        self._insert = _Insert(table, order, width, self.line)
        self._advance(m.end())
        return True

    def _tuples(self) -> bool:
        st = self._insert
        assert st is not None
        d = DIALECTS[self.dialect or "mysql"]
        buf = self.buf
        tuple_re = d.tuple
        if st.expect_tuple and not st.rows and self._whole_statement(st):
            return True
        while True:
            if not st.expect_tuple:
                nxt = after_ws(buf, self.pos)
                if nxt >= len(buf) and not self.final:
                    self._advance(nxt)
                    self._flush(st)
                    return False
                c = buf[nxt] if nxt < len(buf) else ""
                if c == ",":
                    self._advance(nxt + 1)
                    st.expect_tuple = True
                    continue
                if c != ";" and self._short(nxt):
                    self._advance(nxt)
                    self._flush(st)
                    return False
                if _ON_DUPLICATE.match(buf, nxt):
                    end = self._statement_end(nxt)
                    if end < 0:
                        self._advance(nxt)
                        self._flush(st)
                        return self._need(nxt)
                    nxt = end - 1
                    c = ";"
                self._advance(nxt + 1 if c == ";" else nxt)
                self._end_insert()
                return True
            m = tuple_re.match(buf, self.pos)
            if m is None:
                return self._broken_tuple(st)
            body = m.group(1)
            try:
                values = split_values(body, d)
            except (UnsupportedValue, ValueError) as exc:
                return self._fail_tuple(st, m.start(1) - 1, str(exc) if isinstance(exc, UnsupportedValue) else
                                        "值无法解析（引号未闭合或含非法字符）")
            if values is None:
                return self._fail_tuple(st, m.start(1) - 1, "值无法解析（引号未闭合或含非法字符）")
            if len(values) != st.width:
                return self._fail_tuple(st, m.start(1) - 1, f"值的个数 {len(values)} 与列数 {st.width} 不符")
            tuple_line = self.line + buf.count("\n", self.pos, m.start(1))
            if st.order is not None:
                row: list[str | None] = [None] * len(st.table.columns)
                for i, v in zip(st.order, values, strict=True):
                    if i >= 0:
                        row[i] = v
                values = row
            st.rows.append(values)
            st.lines.append(tuple_line)
            st.bad.append("\ufffd" in body)
            self._advance(m.end())
            st.expect_tuple = False
            if len(st.rows) >= ROWS_PER_CALL:
                self._flush(st)

    def _whole_statement(self, st: _Insert) -> bool:
        """The fast path: a complete, regular VALUES list read with a few C-level regex calls instead of
        one Python step per tuple. False (nothing consumed) sends the statement to the tuple loop."""
        d = DIALECTS[self.dialect or "mysql"]
        buf, pos, width = self.buf, self.pos, st.width
        if width < 1 or width > 400:
            return False
        token = d.simple_token()
        m = d.statement(width, simple=True).match(buf, pos)
        if m is None:
            token = d.token
            m = d.statement(width).match(buf, pos)
            if m is None:
                return False
        end = m.end()
        try:
            values = convert(token.findall(buf, pos, end), d.name)
        except (UnsupportedValue, ValueError):
            return False
        n = len(values) // width
        first = buf.find("(", pos, end)
        line = self.line + buf.count("\n", pos, first)
        if buf.find("\n", first, end) < 0:
            lines = [line] * n
        else:  # one tuple per line (phpMyAdmin, synthetic dumps): the line of each tuple
            lines = []
            at = first
            for t in d.one_tuple(width).finditer(buf, first, end):
                line += buf.count("\n", at, t.start())
                at = t.start()
                lines.append(line)
        listed = [values[j::width] for j in range(width)]
        if buf.find("\ufffd", pos, end) >= 0:
            bad = [any(v is not None and "\ufffd" in v for v in values[i * width:(i + 1) * width]) for i in range(n)]
        else:
            bad = [False] * n
        if st.order is None:
            columns = listed
        else:
            source = {i: j for j, i in enumerate(st.order) if i >= 0}
            columns = [listed[source[i]] if i in source else [None] * n for i in range(len(st.table.columns))]
        self.on_rows(st.table, columns, lines, bad)
        self._advance(end)
        self._insert = None
        return True

    def _broken_tuple(self, st: _Insert) -> bool:
        """No complete tuple at ``pos``: either more text is needed or the statement is broken."""
        at = self.pos
        if not self.final and self._boundary(at) < 0 and len(self.buf) - at <= self.max_pending:
            self._flush(st)
            return False
        start = after_ws(self.buf, at)
        message = "此处应为“(”" if not self.buf.startswith("(", start) else "值无法解析（引号未闭合或含非法字符）"
        return self._fail_tuple(st, start, message)

    def _fail_tuple(self, st: _Insert, at: int, message: str) -> bool:
        self._flush(st)
        self._insert = None
        self._advance(at)
        end = self._boundary(at)
        self._problem(at, st.table.name, message, end)
        return True

    def _end_insert(self) -> None:
        if self._insert is not None:
            self._flush(self._insert)
        self._insert = None

    def _flush(self, st: _Insert) -> None:
        if st.rows:
            self.on_rows(st.table, _columns(st.rows, len(st.table.columns)), st.lines, st.bad)
            st.rows, st.lines, st.bad = [], [], []

    # ------------------------------------------------------------------ COPY (PostgreSQL)
    def _copy_head(self) -> bool:
        m = _COPY.match(self.buf, self.pos)
        if m is None:
            if not self.final and len(self.buf) - self.pos < 1 << 16:
                return False
            return self._skip_statement(self.pos)
        name = unquote(m.group("name"))
        table = self.tables.setdefault(name, TableDef(name))
        listed = [unquote(c.strip()) for c in m.group("cols").split(",")] if m.group("cols") else table.columns
        if not table.columns:
            table.columns = list(listed)
        order = None if listed == table.columns else [table.columns.index(c) if c in table.columns else -1
                                                       for c in listed]
        self._advance(m.end())
        self._copy = _Insert(table, order, len(listed), self.line)
        return True

    def _copy_rows(self) -> bool:
        st = self._copy
        assert st is not None
        while True:
            end = self.buf.find("\n", self.pos)
            if end < 0:
                if not self.final:
                    self._flush(st)
                    return self._need(self.pos)
                end = len(self.buf)
            line = self.buf[self.pos:end].rstrip("\r")
            if line == "\\." or (self.final and end == len(self.buf) and not line):
                self._advance(min(len(self.buf), end + 1))
                self._flush(st)
                self._copy = None
                return True
            fields = [None if f == "\\N" else (_COPY_ESC.sub(lambda x: _COPY_MAP.get(x.group(1), x.group(1)), f)
                                                if "\\" in f else f) for f in line.split("\t")]
            if len(fields) != st.width:
                self._problem(self.pos, st.table.name, f"值的个数 {len(fields)} 与列数 {st.width} 不符", end)
            else:
                row: list[str | None] = fields
                if st.order is not None:
                    row = [None] * len(st.table.columns)
                    for i, v in zip(st.order, fields, strict=True):
                        if i >= 0:
                            row[i] = v
                st.rows.append(row)
                st.lines.append(self.line)
                st.bad.append("\ufffd" in line)
                if len(st.rows) >= ROWS_PER_CALL:
                    self._flush(st)
            self._advance(min(len(self.buf), end + 1))
