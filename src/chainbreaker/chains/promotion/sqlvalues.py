"""Literals and table definitions of SQL dumps, per dialect (SQL 转储的字面量与建表语句).

Three dialects are understood:

* ``mysql`` — mysqldump / MariaDB / Navicat: backticks, ``\\'`` and ``''`` escapes, ``_binary``
  and ``_utf8mb4`` introducers, ``X'..'``, ``0x..``, ``b'..'``, ``COMMENT '...'`` on columns and
  tables;
* ``tsql`` — SQL Server scripts (SSMS "Generate Scripts"): ``[dbo].[t]``, ``N'...'`` (backslash is
  an ordinary character), ``CAST(N'2025-03-01T12:00:00.000' AS DateTime)``, binary
  ``CAST(0x0000A9E100C5C100 AS DateTime)``, ``CAST(12.50 AS Decimal(18, 2))``;
* ``ansi`` — SQLite ``.dump``, ``pg_dump --inserts``: double-quoted names, ``''`` escapes only.

A value is returned as text (``None`` for NULL) exactly as written, numbers included: casting
happens later in SQL, where bad values are quarantined with a reason.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field

IDENT = r"(?:`(?:[^`]|``)+`|\[[^\]]+\]|\"(?:[^\"]|\"\")+\"|[\w$\u0080-\uffff]+)"
QNAME = rf"{IDENT}(?:\s*\.\s*{IDENT})*"
_STRING = {
    "mysql": r"(?:_\w+\s*)?[NnXxBb]?'(?:[^'\\]++|\\.|'')*+'",
    "tsql": r"[NnXxBb]?'(?:[^']++|'')*+'",
    "ansi": r"[EeNnXxBb]?'(?:[^']++|'')*+'",
}
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_PLAIN_STRING = {"mysql": r"'(?:[^'\\]++|\\.|'')*+'", "tsql": r"'(?:[^']++|'')*+'", "ansi": r"'(?:[^']++|'')*+'"}
_BARE = r"(?:[-+]?(?:\d[\w.+-]*+|\.\d++)|NULL|\\N|TRUE|FALSE|null|true|false)"
_WORD = r"(?i:NULL|TRUE|FALSE)\b|\\N|(?:_\w+\s+)?0[xX][0-9A-Fa-f]*|0b[01]+"


@dataclass(frozen=True)
class Dialect:
    name: str
    string: str  # regex of one string literal
    value: re.Pattern[str]  # one value (group 1)
    values: re.Pattern[str]  # a whole tuple body: value (, value)*
    tuple: re.Pattern[str]  # whitespace then "(" body ")", the body in group 1
    token: re.Pattern[str]  # one value anywhere (findall over a validated statement)
    value_src: str = ""
    simple_src: str = ""  # plain literals only: strings and numbers/NULL (most statements of most dumps)

    @functools.cache  # noqa: B019  (a few dialect objects, alive for the whole process)
    def statement(self, width: int, simple: bool = False) -> re.Pattern[str]:
        """A whole ``(v, ...), (v, ...) ;`` list whose tuples all hold exactly ``width`` values, ending
        at ``;`` or (SQL Server scripts) at a line break followed by the next statement."""
        v = self.simple_src if simple else self.value_src
        one = rf"\(\s*{v}\s*(?:,\s*{v}\s*){{{width - 1}}}\)" if width > 1 else rf"\(\s*{v}\s*\)"
        return re.compile(rf"\s*{one}(?:\s*,\s*{one})*+\s*(?:;|(?=\r?\n[ \t]*[^\s,]))", re.S)

    @functools.cache  # noqa: B019
    def simple_token(self) -> re.Pattern[str]:
        return re.compile(self.simple_src, re.S)

    @functools.cache  # noqa: B019
    def one_tuple(self, width: int) -> re.Pattern[str]:
        v = self.value_src
        return re.compile(rf"\(\s*{v}\s*(?:,\s*{v}\s*){{{width - 1}}}\)" if width > 1 else rf"\(\s*{v}\s*\)", re.S)


def _dialect(name: str) -> Dialect:
    s = _STRING[name]
    inner = rf"(?:[^'()]|{s})*+"
    nested = rf"\((?:[^'()]|{s}|\({inner}\))*+\)"
    func = rf"[A-Za-z_]\w*\s*{nested}"
    value = rf"(?:{s}|{func}|{_WORD}|{_NUMBER})"
    return Dialect(
        name, s,
        re.compile(rf"\s*({value})\s*(?:,|$)", re.S),
        re.compile(rf"\s*{value}\s*(?:,\s*{value}\s*)*", re.S),
        re.compile(rf"\s*\(((?:[^'()]++|{s}|{nested})*+)\)", re.S),
        re.compile(value, re.S),
        value,
        rf"(?:{'[Nn]?' if name == 'tsql' else ''}{_PLAIN_STRING[name]}|{_BARE})",
    )


DIALECTS = {name: _dialect(name) for name in _STRING}
_MYSQL_ESCAPES = {"0": "\x00", "'": "'", '"': '"', "b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a",
                  "\\": "\\", "%": "\\%", "_": "\\_"}
_CAST = re.compile(r"(?is)\s*(.+?)\s+AS\s+([A-Za-z]+)\s*(?:\([\d\s,]*\))?\s*$")
_CONVERT_TSQL = re.compile(r"(?is)\s*[A-Za-z]+\s*(?:\([\d\s,]*\))?\s*,\s*(.+?)\s*(?:,\s*\d+\s*)?$")
_CONVERT_MYSQL = re.compile(r"(?is)\s*(.+?)\s+USING\s+\w+\s*$")


class UnsupportedValue(ValueError):
    """A value the streaming parser does not evaluate (a function call such as ``NOW()``)."""


def unquote(ident: str) -> str:
    """``\\`a\\```, ``[a]``, ``"a"`` → ``a``; a qualified name keeps its last part."""
    parts = re.findall(IDENT, ident)
    last = parts[-1] if parts else ident.strip()
    if last[:1] == "`":
        return last[1:-1].replace("``", "`")
    if last[:1] == "[":
        return last[1:-1]
    if last[:1] == '"':
        return last[1:-1].replace('""', '"')
    return last


_MYSQL_UNESCAPE = re.compile(r"\\(.)|''", re.S)
_INTRODUCER = re.compile(r"^_\w+\s*")


def _mysql_escape(m: re.Match[str]) -> str:
    c = m.group(1)
    return "'" if c is None else _MYSQL_ESCAPES.get(c, c)


def string_value(token: str, dialect: str) -> str:
    """The text of a string literal token (prefix and quotes removed, escapes resolved)."""
    if token[0] == "_":  # MySQL character-set introducer: _binary '...', _utf8mb4'...'
        token = _INTRODUCER.sub("", token, count=1)
    q = token.index("'")
    prefix = token[:q].upper()
    body = token[q + 1:-1]
    if prefix == "X":
        return "0x" + body.upper()
    if prefix == "B":
        return str(int(body, 2)) if body else ""
    if dialect == "mysql":
        return _MYSQL_UNESCAPE.sub(_mysql_escape, body) if ("\\" in body or "''" in body) else body
    return body.replace("''", "'") if "''" in body else body


def value(token: str, dialect: str) -> str | None:
    """One literal as text; raises :class:`UnsupportedValue` for expressions it does not know."""
    c = token[0]
    if c == "'":
        body = token[1:-1]
        if "\\" not in body and "''" not in body:
            return body
        return string_value(token, dialect)
    if token[1:2] == "'" or c == "_":
        if c == "_" and "'" not in token:
            return _INTRODUCER.sub("", token, count=1)
        return string_value(token, dialect)
    if "(" in token:
        return _function(token, dialect)
    if token in ("NULL", "null", "Null", "\\N"):
        return None
    return token


def _function(token: str, dialect: str) -> str | None:
    name, _, rest = token.partition("(")
    name = name.strip().upper()
    args = rest[:-1]
    inner: str | None = None
    m = None
    if name == "CAST":
        m = _CAST.match(args)
        if m:
            inner_token, type_name = m.group(1), m.group(2).upper()
            inner = _single(inner_token, dialect)
            if inner is not None and inner.startswith("0x") and type_name in ("DATETIME", "SMALLDATETIME"):
                return tsql_binary_datetime(inner)
            return inner
    elif name == "CONVERT":
        m = _CONVERT_MYSQL.match(args) or _CONVERT_TSQL.match(args)
        if m:
            return _single(m.group(1), dialect)
    elif name in ("FROM_UNIXTIME", "UNHEX", "BINARY", "TRIM"):
        return _single(args.split(",")[0] if name == "FROM_UNIXTIME" else args, dialect, unhex=name == "UNHEX")
    raise UnsupportedValue(f"不支持的表达式 {token[:60]}")


def _single(text: str, dialect: str, unhex: bool = False) -> str | None:
    d = DIALECTS[dialect]
    if not d.values.fullmatch(text):
        raise UnsupportedValue(f"不支持的表达式 {text[:60]}")
    out = value(d.value.match(text).group(1), dialect)  # type: ignore[union-attr]
    if unhex and out is not None:
        return "0x" + out.upper()
    return out


def tsql_binary_datetime(hextext: str) -> str:
    """SQL Server ``datetime`` (8 bytes: days since 1900-01-01, 1/300 s ticks) or ``smalldatetime``
    (4 bytes: days, minutes) written as hex by older SSMS scripts, as ``YYYY-MM-DD HH:MM:SS.fff``."""
    raw = bytes.fromhex(hextext[2:])
    base = dt.datetime(1900, 1, 1)
    if len(raw) == 8:
        days = int.from_bytes(raw[:4], "big", signed=True)
        ticks = int.from_bytes(raw[4:], "big")
        when = base + dt.timedelta(days=days, milliseconds=round(ticks * 10 / 3))
    elif len(raw) == 4:
        when = base + dt.timedelta(days=int.from_bytes(raw[:2], "big"), minutes=int.from_bytes(raw[2:], "big"))
    else:
        return hextext
    return when.strftime("%Y-%m-%d %H:%M:%S.%f")[:23]


_NUMBER_START = frozenset("0123456789-+.")


def convert(tokens: list[str], dialect: str) -> list[str | None]:
    """Value tokens to text; the common cases (plain strings, numbers) without a function call."""
    return [t[1:-1] if t[0] == "'" and "\\" not in t and "''" not in t
            else t if t[0] in _NUMBER_START else value(t, dialect) for t in tokens]


def split_values(body: str, d: Dialect) -> list[str | None] | None:
    """The values of one tuple body, or None when the body is not a plain list of literals."""
    if not d.values.fullmatch(body):
        return None
    return [value(t, d.name) for t in d.value.findall(body)]


# ------------------------------------------------------------------ CREATE TABLE
_SKIP_DEFS = {"PRIMARY", "KEY", "UNIQUE", "INDEX", "CONSTRAINT", "FOREIGN", "FULLTEXT", "SPATIAL", "CHECK",
              "PERIOD", "LIKE", "EXCLUDE"}
_COMMENT = {
    "mysql": re.compile(r"(?is)\bCOMMENT\s+('(?:[^'\\]|\\.|'')*')"),
    "tsql": re.compile(r"(?!x)x"),
    "ansi": re.compile(r"(?!x)x"),
}
_TABLE_COMMENT = re.compile(r"(?is)\bCOMMENT\s*=?\s*('(?:[^'\\]|\\.|'')*')")


@dataclass
class TableDef:
    """Columns of one dumped table, with the Chinese COMMENTs that often say what they mean."""

    name: str
    columns: list[str] = field(default_factory=list)
    comments: dict[str, str] = field(default_factory=dict)
    comment: str = ""


def split_top(body: str) -> list[str]:
    """``body`` split at commas outside quotes and parentheses."""
    parts: list[str] = []
    depth = 0
    quote = ""
    start = 0
    i = 0
    n = len(body)
    while i < n:
        c = body[i]
        if quote:
            if c == "\\" and quote == "'":
                i += 2
                continue
            if c == quote or (quote == "[" and c == "]"):
                quote = ""
        elif c in "'\"`[":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
        i += 1
    parts.append(body[start:])
    return [p.strip() for p in parts if p.strip()]


def parse_create(name: str, body: str, options: str, dialect: str) -> TableDef:
    """A :class:`TableDef` from the text between the parentheses of ``CREATE TABLE`` and after them."""
    tdef = TableDef(name)
    for part in split_top(body):
        m = re.match(IDENT, part)
        if not m:
            continue
        word = m.group(0)
        if word[0] not in "`[\"" and word.upper() in _SKIP_DEFS:
            continue
        col = unquote(word)
        tdef.columns.append(col)
        c = _COMMENT[dialect].search(part, m.end())
        if c:
            tdef.comments[col] = string_value(c.group(1), dialect).strip()
    if dialect == "mysql":
        c = _TABLE_COMMENT.search(options)
        if c:
            tdef.comment = string_value(c.group(1), dialect).strip()
    return tdef


def matching_paren(text: str, start: int, string: str) -> int:
    """Index of the ``)`` closing the ``(`` at ``start`` (quotes respected), or -1 if not in ``text``."""
    token = re.compile(rf"{string}|`(?:[^`])*`|\[[^\]]*\]|\"(?:[^\"])*\"|[()]", re.S)
    depth = 0
    for m in token.finditer(text, start):
        t = m.group(0)
        if t == "(":
            depth += 1
        elif t == ")":
            depth -= 1
            if depth == 0:
                return m.start()
    return -1


_EXTPROP_ARG = re.compile(r"(?is)@(\w+)\s*=\s*N?'((?:[^']|'')*)'")


def extended_property(statement: str) -> tuple[str, str, str] | None:
    """``(table, column or "", text)`` of ``EXEC sp_addextendedproperty @name=N'MS_Description' ...``."""
    args = {k.lower(): v.replace("''", "'") for k, v in _EXTPROP_ARG.findall(statement)}
    if args.get("name", "MS_Description").lower() != "ms_description" or "value" not in args:
        return None
    table = args.get("level1name")
    if not table:
        return None
    return table, args.get("level2name", ""), args["value"].strip()
