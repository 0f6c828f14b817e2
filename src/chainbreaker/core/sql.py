"""SQL literals and identifiers (SQL 字面量与标识符): the one place that quotes values into SQL text.

Prefer bound parameters (``con.execute(sql, [value])``). Where DuckDB needs text (views, ``COPY``,
macros, column lists built from a file's header), use these helpers rather than ad-hoc
``replace("'", "''")``:

* :func:`lit` a string literal (``NULL`` for ``None``), :func:`ident` a double-quoted identifier;
* :func:`read_path` / :func:`read_paths` the literal of one file (or a list of files) **read** by a
  DuckDB table function (``read_parquet``, ``read_csv``). DuckDB expands ``*``, ``?`` and ``[...]``
  in such paths, so ``a[1].parquet`` would read ``a1.parquet``: the glob characters are escaped
  (``[[]``, ``[*]``, ``[?]``) so the named file, and only it, is read;
* :func:`glob_lit` a literal folder (escaped) followed by a glob pattern (kept).

Paths **written** (``COPY ... TO``) are not globbed: quote them with :func:`lit`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

_GLOB_CHARS = re.compile(r"([\[*?])")


def lit(value: object) -> str:
    """A SQL string literal of ``value`` (``str()`` of non-strings; ``NULL`` for ``None``)."""
    if value is None:
        return "NULL"
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    """A double-quoted SQL identifier (a column or table named by data, e.g. a file's header)."""
    return '"' + str(name).replace('"', '""') + '"'


def glob_escape(path: str | os.PathLike[str]) -> str:
    """``path`` with DuckDB's glob characters made literal (``[`` → ``[[]``, ``*`` → ``[*]``, ``?`` → ``[?]``)."""
    return _GLOB_CHARS.sub(r"[\1]", os.fspath(path))


def read_path(path: str | os.PathLike[str]) -> str:
    """The literal of one file read by a DuckDB table function, exactly that file."""
    return lit(glob_escape(path))


def read_paths(paths: Iterable[str | os.PathLike[str]]) -> str:
    """A DuckDB list literal of files read by a table function (``read_parquet([...])``)."""
    return "[" + ", ".join(read_path(p) for p in paths) + "]"


def glob_lit(folder: str | os.PathLike[str], pattern: str) -> str:
    """The literal of ``pattern`` (a glob such as ``*.parquet``) inside ``folder`` (taken literally)."""
    return lit(glob_escape(folder).rstrip("/") + "/" + pattern)


__all__ = ["glob_escape", "glob_lit", "ident", "lit", "read_path", "read_paths"]
