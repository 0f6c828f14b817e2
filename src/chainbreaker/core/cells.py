"""Cell values shared by every export writer (单元格取值): formula neutralisation and JSON text.

Kept out of :mod:`chainbreaker.core.exports` so that :mod:`chainbreaker.core.exports_xlsx` and the
exports module both use it without importing each other.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from chainbreaker.core.timefmt import iso_local

# OWASP "CSV injection": a cell starting with one of these is run as a formula by spreadsheet
# programs (tab and carriage return too; the full-width forms are turned into formulas by some
# CJK input setups). Plain numbers (``-12.50``, ``+86138…``) are not formulas and stay as they are.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_PLAIN_NUMBER_RE = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


# ------------------------------------------------------------------ formula injection (公式注入)
def neutralise(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula (``=HYPERLINK(…)``, ``+cmd|…``, ``-1+1``)."""
    if text and text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


_TRIGGER_SET = pa.array(list(FORMULA_TRIGGERS), pa.string())


def neutralise_array(arr: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """:func:`neutralise` over a string column, vectorised (a column without a trigger is returned as is)."""
    starts = pc.is_in(pc.utf8_slice_codeunits(arr, 0, 1), value_set=_TRIGGER_SET)
    if not pc.any(starts).as_py():
        return arr
    risky = pc.and_(starts, pc.invert(pc.match_substring_regex(arr, _PLAIN_NUMBER_RE)))
    return pc.if_else(pc.fill_null(risky, False), pc.binary_join_element_wise("'", arr, ""), arr)


def json_default(value: Any, tz: str) -> Any:
    if isinstance(value, dt.datetime):
        return iso_local(value, tz)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def plain_json(value: Any) -> Any:
    """Arrow maps come back as lists of pairs: make them objects, recursively."""
    if isinstance(value, list):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return {str(k): plain_json(v) for k, v in value}
        return [plain_json(v) for v in value]
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    return value


__all__ = ["FORMULA_TRIGGERS", "json_default", "neutralise", "neutralise_array", "plain_json"]
