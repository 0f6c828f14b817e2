"""Compiled SQL kept across runs (SQL 编译缓存): an Ibis expression is compiled to DuckDB SQL once.

Compiling an Ibis expression (Ibis's rewrites, then sqlglot) costs 1–70 ms a statement; the funds
screen runs ~19 statements and compiles the same ones in every process. The compiler is
deterministic, so the SQL is a function of the expression graph. :func:`fingerprint` walks the graph
(~30x cheaper than compiling it) and hashes every node's type and every argument that is not a node:
literal values, column names, dtypes, schemas, sort orders, plus the library versions and the Ibis
option that changes compilation.

Table names are the exception. A run's staged tables carry its tag (``funds_codes_<tag>``) and a
memtable a random name, so a plain name (letters, digits, ``_``) stands in the key as a placeholder
numbered in walk order, the stored SQL carries the placeholder where the compiler put the table, and
a hit puts this statement's names back. A memtable's rows are not in the SQL (Ibis registers them
under the memtable's name before the statement runs), so its schema is in the key, not its rows.
Anything the walk does not know (a UDF, an unfamiliar argument type) is compiled every time.

Entries are files ``<key>.sql`` written atomically, each with a header carrying its key and a digest
of its text: an entry that does not check out is ignored and overwritten. The folder holds at most
:data:`MAX_ENTRIES` entries (the least recently used go first). Entries carry a statement's
literals, which may be account numbers, so the folder lives inside the workspace.

Recipes (:func:`recipe_key`) are the exception: a recipe's SQL is built from its input tables'
layouts, its parameters (rules) and the code, never from data (a builder that read anything else
would get a wrong SQL from its own workspace's cache too), so a second, *shared* folder in the
user's cache (:func:`shared_folder`) keeps them for every workspace of the installation: a new
workspace's first screen finds them there. Statements cached by :meth:`SqlCache.compile` (keyed by
their expression, literals included) never go there. The shared folder is used only when it is the
user's own and no one else can write to it: its SQL is run as it is.
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
import enum
import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import ibis.expr.schema as sch
import sqlglot
import sqlglot.expressions as sge
from ibis.backends import BaseBackend
from ibis.common.grounds import Concrete

FORMAT = "chainbreaker-sql-1"
MAX_ENTRIES = 512
MAX_ENTRY_BYTES = 1 << 20  # larger statements (long literal lists) are compiled every time
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOKEN = "__cbsql_"
_SLOT = re.compile(r'"__cbsql_(\d+)__"')
# tables that the compiler renders as a reference by name (sqlglot ``Table``): their name can be a placeholder
_NAMED = (ops.DatabaseTable, ops.InMemoryTable, ops.UnboundTable)
_SCALARS = frozenset({type(None), bool, int, float, str, bytes, decimal.Decimal, datetime.datetime,
                      datetime.date, datetime.time, datetime.timedelta, uuid.UUID})
_ENCODED: dict[Any, str] = {}  # dtypes and schemas (hold no nodes; equal only when alike, in order too)


class Uncacheable(Exception):
    """The walk met something whose effect on the SQL it cannot vouch for."""


@dataclass(frozen=True)
class Fingerprint:
    key: str                # hex digest of the graph, the versions and the options
    names: tuple[str, ...]  # the tables behind placeholders 0, 1, ... in this expression


def _versions() -> str:
    return f"{FORMAT}|ibis {ibis.__version__}|sqlglot {sqlglot.__version__}|duckdb {duckdb.__version__}"


class _Walk:
    """Encodes nodes of Ibis graphs as text (one walk, or several sharing their table placeholders)."""

    def __init__(self, backend: BaseBackend) -> None:
        self.index: dict[ops.Node, int] = {}
        self.names: dict[str, int] = {}
        self.refs: dict[Any, int] = {}
        self.parts: list[str] = [_versions(), f"{type(backend.compiler).__module__}.{type(backend.compiler).__qualname__}",
                                 f"fuse_selects={ibis.options.sql.fuse_selects!r}"]

    def value(self, v: Any) -> str:
        t = type(v)
        if t in _SCALARS:
            return f"{t.__name__}:{v!r}"
        if isinstance(v, ops.Node):
            return f"#{self.node(v)}"
        if t is tuple or t is list:
            return "(" + ",".join([self.value(x) for x in v]) + ")"
        if isinstance(v, enum.Enum):
            return f"{t.__module__}.{t.__qualname__}.{v.name}"
        if isinstance(v, (dt.DataType, sch.Schema)):
            known = _ENCODED.get(v)
            if known is None:
                known = f"{t.__module__}.{t.__qualname__}(" + ",".join([self.value(x) for x in v.__args__]) + ")"
                if len(_ENCODED) < 10_000:
                    _ENCODED[v] = known
            return known
        if isinstance(v, Concrete):  # a namespace, a window frame's parts
            return f"{t.__module__}.{t.__qualname__}(" + ",".join([self.value(x) for x in v.__args__]) + ")"
        if isinstance(v, Mapping):
            return "{" + ",".join([f"{self.value(k)}:{self.value(x)}" for k, x in v.items()]) + "}"
        if isinstance(v, frozenset):
            return "{" + ",".join(sorted(self.value(x) for x in v)) + "}"
        raise Uncacheable(t)

    def node(self, n: ops.Node) -> int:
        known = self.index.get(n)
        if known is not None:
            return known
        t = type(n)
        if isinstance(n, (ops.ScalarUDF, ops.AggUDF)):
            raise Uncacheable(t)  # compiled from class attributes, not from its arguments
        args = []
        for arg_name, arg in zip(n.__argnames__, n.__args__, strict=True):
            if isinstance(n, _NAMED) and arg_name == "name" and _PLAIN.fullmatch(arg):
                args.append(f"@{self.names.setdefault(arg, len(self.names))}")
            elif isinstance(arg, BaseBackend):
                args.append("backend")  # where the table lives: not in its SQL
            elif isinstance(n, ops.InMemoryTable) and arg_name == "data":
                args.append("rows")     # registered under the name before the statement runs: not in its SQL
            elif isinstance(n, ops.SelfReference) and arg_name == "identifier":
                # from a process-wide counter, to tell views of one table apart; not in the SQL: numbered in walk
                # order (a join's references are numbered by their place in the join: kept as they are)
                args.append(f"ref{self.refs.setdefault(arg, len(self.refs))}")
            else:
                args.append(self.value(arg))
        self.parts.append(f"{t.__module__}.{t.__qualname__}(" + ",".join(args) + ")")
        self.index[n] = len(self.index)
        return self.index[n]

    def fingerprint(self) -> Fingerprint:
        digest = hashlib.blake2b("\n".join(self.parts).encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()
        return Fingerprint(digest, tuple(self.names))


def fingerprint(expr: ibis.Expr, backend: BaseBackend) -> Fingerprint | None:
    """The key of ``expr``'s SQL on ``backend``; None when the walk cannot vouch for one."""
    walk = _Walk(backend)
    try:
        walk.node(expr.op())
    except (Uncacheable, RecursionError, TypeError):  # TypeError: an unhashable argument
        return None
    return walk.fingerprint()


_SOURCES: dict[tuple[str, ...], str] = {}


def source_digest(packages: tuple[str, ...]) -> str:
    """A digest of the Python source of ``packages`` (importable names; their folders, recursively), once a process."""
    known = _SOURCES.get(packages)
    if known is not None:
        return known
    import importlib

    digest = hashlib.blake2b(digest_size=20)
    for package in packages:
        folder = Path(importlib.import_module(package).__file__ or "").parent
        for path in sorted(folder.rglob("*.py")):
            digest.update(f"{package}/{path.relative_to(folder).as_posix()}\0".encode())
            digest.update(path.read_bytes())
            digest.update(b"\0")
    _SOURCES[packages] = digest.hexdigest()
    return _SOURCES[packages]


def recipe_key(kind: str, inputs: tuple[ibis.Table | None, ...], backend: BaseBackend, params: str,
               code: str) -> Fingerprint | None:
    """The key of a statement by what it is made from, not by its expression (a *recipe*).

    ``kind`` names the statement; ``inputs`` are the tables its builder reads (each a table of the
    backend by a plain name, or None), ``params`` the builder's parameters as text and ``code`` the
    digest of the source that builds it (:func:`source_digest`). The inputs' names are placeholders
    in input order, their schemas part of the key. None when an input is not a plain named table.
    """
    walk = _Walk(backend)
    walk.parts += ["recipe", kind, params, code]
    try:
        for table in inputs:
            if table is None:
                walk.parts.append("input:none")
                continue
            op = table.op()
            if not (isinstance(op, ops.DatabaseTable) and _PLAIN.fullmatch(op.name)):
                return None
            walk.parts.append(f"input:#{walk.node(op)}")
    except (Uncacheable, RecursionError, TypeError):
        return None
    return walk.fingerprint()


def fill(template: str, names: tuple[str, ...]) -> str:
    """``template`` with each placeholder replaced by its table's (plain, quoted) name."""
    return _SLOT.sub(lambda m: f'"{names[int(m[1])]}"', template)


def compile_with_template(backend: Any, expr: ibis.Expr, names: tuple[str, ...]) -> tuple[str, str | None]:
    """``expr``'s SQL as ``backend.compile`` gives it, and the text to keep: the same SQL with placeholders
    for ``names``, or None when a placeholder could not stand for a name (it also appears elsewhere in
    the statement) or the SQL holds the placeholders' own spelling."""
    query = backend.compiler.to_sqlglot(expr)
    try:
        # not copied (as Ibis does): the generator's rewrites are done once, the template is generated from their result
        sql = query.sql(dialect=backend.dialect, copy=False, unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.UnsupportedError:
        return backend.compile(expr), None  # raises Ibis's own error for it
    if _TOKEN in sql:
        return sql, None
    if not names:
        return sql, sql
    slots = {name: i for i, name in enumerate(names)}
    idents: list[Any] = list(query.find_all(sge.Identifier))
    for ident in idents:
        if ident.this not in slots:
            continue
        parent = ident.parent
        names_table = isinstance(parent, sge.Table) and parent.args.get("this") is ident
        if not (names_table and ident.quoted):
            return sql, None  # the name also as a column, alias or schema: no placeholder for it
        ident.set("this", f"{_TOKEN}{slots[ident.this]}__")
    template = query.sql(dialect=backend.dialect, copy=False, unsupported_level=sqlglot.ErrorLevel.RAISE)
    return sql, template if fill(template, names) == sql else None


def shared_folder(root: Path) -> Path | None:
    """``root/sql-recipes``, created private when missing; None when it is not a folder of this user's that
    only this user can write to (anyone who could write there could make every workspace run their SQL)."""
    folder = root / "sql-recipes"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return None
    import stat

    if not stat.S_ISDIR(info.st_mode) or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return None
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return None
    return folder


class SqlCache:
    """Compiled SQL of one backend kind, kept as files in ``folder`` (see the module docstring);
    recipes also in ``shared`` (a :func:`shared_folder`), for other workspaces."""

    def __init__(self, folder: Path, max_entries: int = MAX_ENTRIES, shared: Path | None = None) -> None:
        self.folder = folder
        self.max_entries = max_entries
        self.shared = SqlCache(shared, max_entries) if shared is not None else None
        self.hits = self.misses = self.uncached = 0
        self.shared_hits = 0  # of the statements' hits, those found in the shared folder only

    def compile(self, backend: Any, expr: ibis.Expr) -> str:
        """``backend.compile(expr)``, from the folder when an earlier run compiled the same statement."""
        fp = fingerprint(expr, backend)
        if fp is None:
            self.uncached += 1
            return str(backend.compile(expr))
        template = self._load(fp)
        if template is not None:
            self.hits += 1
            return fill(template, fp.names)
        self.misses += 1
        sql, template = compile_with_template(backend, expr, fp.names)
        if template is not None:
            self._store(fp, template)
        return sql

    def recipe(self, backend: Any, fp: Fingerprint, build: Callable[[], ibis.Expr]) -> tuple[str, ibis.Expr | None]:
        """The SQL of the statement ``fp`` (a :func:`recipe_key`) and, when it had to be built, its expression.

        A hit gives the stored SQL with this run's names without calling ``build``. A miss builds the
        expression and compiles it; its SQL is stored only when the expression reads no table but the
        recipe's inputs (a memtable or another table would not be in the key).
        """
        template = self._load_recipe(fp, count=True)
        if template is not None:
            self.hits += 1
            return fill(template, fp.names), None
        expr = build()
        own = fingerprint(expr, backend)
        if own is None or not set(own.names) <= set(fp.names):
            self.uncached += 1
            return str(backend.compile(expr)), expr
        self.misses += 1
        sql, template = compile_with_template(backend, expr, fp.names)
        if template is not None:
            self._store_recipe(fp, template)
        return sql, expr

    def load_text(self, key: str) -> str | None:
        """The text stored under ``key`` by :meth:`store_text` (None when absent or damaged)."""
        return self._load_recipe(Fingerprint(key, ()))

    def store_text(self, key: str, text: str) -> None:
        """Keep ``text`` (no table names in it) under ``key``: text derived from a recipe only (it is shared)."""
        self._store_recipe(Fingerprint(key, ()), text)

    def _load_recipe(self, fp: Fingerprint, count: bool = False) -> str | None:
        """From the workspace's folder, else the shared one (``count``: a statement's, for ``shared_hits``)."""
        text = self._load(fp)
        if text is None and self.shared is not None:
            text = self.shared._load(fp)
            if text is not None:
                self.shared_hits += count
                self._store(fp, text)  # the workspace keeps what it ran
        return text

    def _store_recipe(self, fp: Fingerprint, text: str) -> None:
        self._store(fp, text)
        if self.shared is not None:
            self.shared._store(fp, text)

    def _path(self, fp: Fingerprint) -> Path:
        return self.folder / f"{fp.key}.sql"

    @staticmethod
    def _header(fp: Fingerprint, text: str) -> str:
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
        return f"-- {FORMAT} {fp.key} {len(fp.names)} {digest}\n"

    def _load(self, fp: Fingerprint) -> str | None:
        path = self._path(fp)
        try:  # bytes: a literal may hold a carriage return, which text mode would turn into a newline
            raw = path.read_bytes().decode("utf-8", "surrogatepass")
        except (OSError, UnicodeDecodeError):
            return None
        header, _, text = raw.partition("\n")
        # a table of the graph may be missing from the SQL (the compiler dropped it), never one more
        if header + "\n" != self._header(fp, text) or any(int(i) >= len(fp.names) for i in _SLOT.findall(text)):
            return None  # damaged, or not written by this version: compiled again and overwritten
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: kept when the folder is trimmed
        return text

    def _store(self, fp: Fingerprint, text: str) -> None:
        body = (self._header(fp, text) + text).encode("utf-8", "surrogatepass")
        if len(body) > MAX_ENTRY_BYTES:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(body)
                os.replace(tmp, self._path(fp))
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
            self._trim()
        except OSError:
            return  # a read-only or full disk: the statement was compiled, the run goes on

    def _trim(self) -> None:
        entries = []
        for entry in os.scandir(self.folder):
            if entry.name.endswith(".sql"):
                with contextlib.suppress(OSError):
                    entries.append((entry.stat().st_mtime, entry.path))
        if len(entries) <= self.max_entries:
            return
        entries.sort()
        for _, path in entries[: len(entries) - self.max_entries * 3 // 4]:
            with contextlib.suppress(OSError):
                os.unlink(path)
