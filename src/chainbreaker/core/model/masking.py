"""Masking of personal data by role (个人信息脱敏): by what a value IS, not by a list of column names.

Which role sees which kind in clear (the role matrix; see docs/architecture.md):

| kind        | viewer | analyst | investigator | admin |
|-------------|--------|---------|--------------|-------|
| name        | masked | clear   | clear        | clear |
| card/account| masked | clear   | clear        | clear |
| id_number   | masked | masked  | clear        | clear |
| passport    | masked | masked  | clear        | clear |
| phone       | masked | masked  | clear        | clear |
| address     | masked | masked  | clear        | clear |

Analysts clear card and account numbers because screening, tracing (资金穿透) and requests for the
next statements (建议调单) are about accounts; an unknown role sees nothing in clear.

The caller says who is asking: every function takes the role (a ``Role`` or a plain role name)
from its caller and never reads CLI state, so the web face can pass roles from its own logins.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from chainbreaker.core.model.personal import (
    FREE_TEXT,
    FREE_TEXT_PREFILTER,
    KINDS,
    PASSES,
    column_kind,
    is_reference,
    kind_for_name,
    mask_free_text,
    sample_values,
    value_kind,
)
from chainbreaker.core.model.schemas import PERSONAL_COLUMNS

ROLE_CLEAR: dict[str, frozenset[str]] = {
    "viewer": frozenset(),
    "analyst": frozenset({"name", "card"}),
    "investigator": frozenset(KINDS),
    "admin": frozenset(KINDS),
}
ROLES = tuple(ROLE_CLEAR)
# Where a role came from. Anything but "login" is a claim the program cannot check.
ROLE_SOURCES = ("cli", "setting", "login")


class Role(str):
    """A role name with where it came from: ``--role`` on the command line and the ``role`` setting
    are claims (``claimed``), a login of the web face is not. A ``str`` so that it goes wherever a
    role name went before."""

    source: str
    claimed: bool

    def __new__(cls, name: str, source: str = "setting") -> Role:
        from chainbreaker.core.errors import InputError

        value = str(name or "").strip().lower()
        if value not in ROLE_CLEAR:
            raise InputError(f"角色“{name}”无效，可选：{'、'.join(ROLES)}。",
                             f"Unknown role '{name}'; use one of: {', '.join(ROLES)}.")
        if source not in ROLE_SOURCES:
            raise ValueError(f"unknown role source {source!r}")
        obj = super().__new__(cls, value)
        obj.source = source
        obj.claimed = source != "login"
        return obj


def hidden_kinds(role: str | None) -> frozenset[str]:
    """Kinds of personal data ``role`` must not see in clear (an unknown role: all of them)."""
    return frozenset(KINDS) - ROLE_CLEAR.get(str(role or ""), frozenset())


# ------------------------------------------------------------------ one value
_KEEP = {"id_number": (6, 4), "card": (4, 4), "phone": (3, 4), "passport": (2, 2), "name": (1, 0)}


def mask_value(kind: str, value: str | None) -> str | None:
    """Mask one whole value of a known kind, keeping its length (``530103********0005``, ``138****5678``)."""
    if value is None or value == "":
        return value
    if kind == "person_key":
        return mask_free_text(value, frozenset(KINDS))
    if kind == "address":
        keep = 6 if len(value) >= 12 else (2 if len(value) >= 4 else 0)
        return value[:keep] + "*" * (len(value) - keep)
    head, tail = _KEEP.get(kind, (0, 0))
    if kind == "card" and len(value) < 12:
        head, tail = 0, 0
    if len(value) < head + tail + (1 if kind in ("name", "card") else 2):
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail:]


def mask_text(value: Any, role: str | None, kind: str | None = None) -> str:
    """What ``role`` may see of one value printed anywhere (CLI, reports): its kind masked when
    known, identifiers inside it masked in any case."""
    if value is None:
        return ""
    text = str(value)
    hidden = hidden_kinds(role)
    if kind in hidden or (kind == "person_key" and hidden & {"id_number", "passport"}):
        text = mask_value(kind, text) or ""
    return mask_free_text(text, hidden) if hidden else text


_MASKED = re.compile(r"[*＊•●]|[Xx×]{4,}")


def looks_masked(text: str) -> bool:
    """A value someone copied from masked output (``530103********0005``, ``138****5678``)."""
    return bool(_MASKED.search(text or ""))


# ------------------------------------------------------------------ a table
def mask_table(table: pa.Table, role: str | None) -> pa.Table:
    """``table`` as ``role`` may see it: every column classified by name and values, masked per value."""
    return mask_table_except(table, ROLE_CLEAR.get(str(role or ""), frozenset()))


def mask_table_except(table: pa.Table, clear: frozenset[str] | set[str]) -> pa.Table:
    """``table`` with every kind of personal data masked except the kinds in ``clear`` (for a partner
    agency's profile rather than a role)."""
    hidden = frozenset(KINDS) - frozenset(clear)
    if not hidden:
        return table
    for i, name in enumerate(table.column_names):
        col = table.column(i)
        new = _mask_column(name, col, hidden)
        if new is not col:
            table = table.set_column(i, pa.field(name, new.type), new)
    return table


def mask_table_report(table: pa.Table, role: str | None) -> tuple[pa.Table, dict[str, str]]:
    """:func:`mask_table` plus what was masked: ``{column: kind}`` for each column whose values changed
    (the kind of the whole column, or ``free_text`` when identifiers were masked inside text). The
    audit record of an export lists it."""
    out = mask_table(table, role)
    report: dict[str, str] = {}
    if out is table:
        return out, report
    for i, name in enumerate(table.column_names):
        before, after = table.column(i), out.column(i)
        if before is after or before.equals(after):
            continue
        kind = kind_for_name(name)
        if kind is None and (pa.types.is_string(before.type) or pa.types.is_large_string(before.type)
                             or pa.types.is_integer(before.type)):
            kind = column_kind(name, sample_values(_sample(before)))
        report[name] = kind or "free_text"
    return out, report


def mask_record(record: dict[str, Any], role: str | None) -> tuple[dict[str, Any], dict[str, str]]:
    """One record (a summary sheet, a JSON header) as ``role`` may see it, with ``{key: kind}`` masked.

    A key that names a kind (姓名, 身份证号...) masks its whole value; any text has the identifiers of
    hidden kinds masked inside it."""
    hidden = hidden_kinds(role)
    if not hidden:
        return dict(record), {}
    out: dict[str, Any] = {}
    report: dict[str, str] = {}
    for key, value in record.items():
        if isinstance(value, str) and value:
            kind = kind_for_name(key) or value_kind(value)
            new = mask_text(value, role, kind)
            if new != value:
                report[key] = kind if kind in hidden else "free_text"
            out[key] = new
        else:
            out[key] = value
    return out, report


def _sample(col: pa.ChunkedArray | pa.Array) -> list[Any]:
    n = len(col)
    if n <= 4000:
        return col.drop_null().to_pylist()
    step = max(n // 2000, 1)
    return col.take(pa.array(range(0, n, step))).drop_null().to_pylist()


def _mask_column(name: str, col: pa.ChunkedArray, hidden: frozenset[str]) -> pa.ChunkedArray:
    typ = col.type
    if pa.types.is_dictionary(typ):
        col = pc.cast(col, typ.value_type)
        typ = col.type
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return _mask_strings(name, col, hidden)
    if pa.types.is_integer(typ):
        sample = sample_values(_sample(col))
        kind = column_kind("", sample)  # a count named *_accounts is not an account: values decide
        if kind in hidden:
            return _mask_strings(name, pc.cast(col, pa.string()), hidden, kind)
        return col
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        chunks = [_mask_list(name, c, hidden) for c in col.chunks]
        return pa.chunked_array(chunks, type=chunks[0].type if chunks else typ)
    if pa.types.is_map(typ):
        chunks = [_mask_map(name, c, hidden) for c in col.chunks]
        return pa.chunked_array(chunks, type=chunks[0].type if chunks else typ)
    if pa.types.is_struct(typ):
        chunks = [_mask_struct(name, c, hidden) for c in col.chunks]
        return pa.chunked_array(chunks, type=chunks[0].type if chunks else typ)
    return col


def _mask_list(name: str, arr: pa.Array, hidden: frozenset[str]) -> pa.Array:
    values = _mask_column(name, pa.chunked_array([arr.values]), hidden).combine_chunks()
    if values is arr.values:
        return arr
    cls = pa.LargeListArray if pa.types.is_large_list(arr.type) else pa.ListArray
    return cls.from_arrays(arr.offsets, values, mask=arr.is_null())


def _mask_map(name: str, arr: pa.Array, hidden: frozenset[str]) -> pa.Array:
    keys = _mask_column(f"{name}.key", pa.chunked_array([arr.keys]), hidden).combine_chunks()
    items = _mask_column(f"{name}.value", pa.chunked_array([arr.items]), hidden).combine_chunks()
    return pa.MapArray.from_arrays(arr.offsets, keys, items, mask=arr.is_null())


def _mask_struct(name: str, arr: pa.Array, hidden: frozenset[str]) -> pa.Array:
    fields = [arr.type.field(i) for i in range(arr.type.num_fields)]
    children = [_mask_column(f"{name}.{f.name}", pa.chunked_array([arr.field(i)]), hidden).combine_chunks()
                for i, f in enumerate(fields)]
    return pa.StructArray.from_arrays(children, fields=[pa.field(f.name, c.type) for f, c in zip(fields, children, strict=True)],
                                      mask=arr.is_null())


def _mask_strings(name: str, col: pa.ChunkedArray, hidden: frozenset[str], kind: str | None = None) -> pa.ChunkedArray:
    sample = sample_values(_sample(col))
    if kind is None:
        if is_reference(sample):
            return col
        kind = column_kind(name, sample)
    if kind in hidden:
        col = _whole(col, kind)  # type: ignore[arg-type]
        return _free_text(col, hidden)  # e.g. cards written in groups of four
    if kind in KINDS or (kind == "person_key" and not hidden & {"id_number", "passport"}):
        # a column of one kind the reader sees in clear: an 18-digit ID must not be taken for a card
        return col
    if sample and sum(1 for v in sample if v[:1] in "{[") >= 0.5 * len(sample):
        col = _mask_json(col, hidden)
    return _free_text(col, hidden)


def _stars(length: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
    return pc.binary_repeat("*", pc.max_element_wise(length, 0))


def _keep_ends(col: pa.ChunkedArray, length: pa.ChunkedArray, head: int, tail: int, min_hidden: int = 1) -> pa.ChunkedArray:
    """``head`` first and ``tail`` last characters kept, the rest as stars (all stars when too short)."""
    joined = pc.binary_join_element_wise(pc.utf8_slice_codeunits(col, 0, head),
                                         _stars(pc.subtract(length, head + tail)),
                                         pc.utf8_slice_codeunits(col, -tail) if tail else "", "")
    return pc.if_else(pc.less(length, head + tail + min_hidden), _stars(length), joined)


_LIST_SEPARATORS = r"[\s,;，；、]"


def _whole(col: pa.ChunkedArray, kind: str) -> pa.ChunkedArray:
    """Mask every value of a column of one kind, keeping head and tail (as ``mask_value``)."""
    if kind == "person_key":
        return _free_text(col, frozenset(KINDS))
    length = pc.utf8_length(col)
    if kind == "address":
        return pc.if_else(pc.greater_equal(length, 12), _keep_ends(col, length, 6, 0),
                          pc.if_else(pc.greater_equal(length, 4), _keep_ends(col, length, 2, 0), _stars(length)))
    if kind == "name":
        return _keep_ends(col, length, 1, 0)
    head, tail = _KEEP.get(kind, (0, 0))
    if kind != "card":
        return _keep_ends(col, length, head, tail, min_hidden=2)
    out = pc.if_else(pc.less(length, 12), _stars(length), _keep_ends(col, length, head, tail))
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    lists = pc.fill_null(pc.match_substring_regex(arr, _LIST_SEPARATORS), False)
    if not (pc.sum(lists).as_py() or 0):
        return out
    # several accounts in one value ("a,b"): each token of 12 or more characters keeps its ends
    sub = pc.replace_substring_regex(arr.filter(lists), r"([^\s,;，；、]{4})[^\s,;，；、]{4,56}?([^\s,;，；、]{4})(\s|,|;|，|；|、|$)",
                                     r"\1********\2\3")
    out = out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out
    return pa.chunked_array([pc.replace_with_mask(out, lists, sub)])


def _free_text(col: pa.ChunkedArray, hidden: frozenset[str]) -> pa.ChunkedArray:
    """Mask identifiers of hidden kinds inside text, only in the rows that may hold one."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    candidates = pc.fill_null(pc.match_substring_regex(arr, FREE_TEXT_PREFILTER), False)
    if "card" not in hidden:
        # a value that is one digit run can only be an ID (15/18), a phone (11, or 13 with 86) or a card:
        # with cards in clear, account numbers of other lengths need no pattern at all
        digits_only = pc.fill_null(pc.match_substring_regex(arr, "^[0-9]+$"), False)
        other_length = pc.invert(pc.is_in(pc.utf8_length(arr), value_set=pa.array([11, 13, 15, 18], pa.int32())))
        candidates = pc.and_(candidates, pc.invert(pc.and_(digits_only, pc.fill_null(other_length, False))))
    n = pc.sum(candidates).as_py() or 0
    if n == 0:
        return col
    sub = arr.filter(candidates)
    for kind, guard, pattern, repl in FREE_TEXT:
        if kind in hidden and pc.any(pc.match_substring_regex(sub, guard)).as_py():
            for _ in range(PASSES):
                sub = pc.replace_substring_regex(sub, pattern, repl)
    return pa.chunked_array([pc.replace_with_mask(arr, candidates, sub)])


_JSON_KEY = re.compile(r'"([^"\\]{1,40})"\s*:')


def _mask_json(col: pa.ChunkedArray, hidden: frozenset[str]) -> pa.ChunkedArray:
    """JSON objects (quarantine.raw, findings.facts): values under personal keys (姓名, 地址...) masked.

    Only rows that name such a key are parsed; identifiers inside any value are left to the
    free-text pass that follows."""
    keys = _personal_keys(col, hidden)
    if not keys:
        return col
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    pattern = "|".join(re.escape(f'"{k}"') for k in keys)
    rows = pc.fill_null(pc.match_substring_regex(arr, pattern), False)
    if not (pc.sum(rows).as_py() or 0):
        return col
    sub = [_mask_json_text(v, hidden) for v in arr.filter(rows).to_pylist()]
    return pa.chunked_array([pc.replace_with_mask(arr, rows, pa.array(sub, arr.type))])


def _personal_keys(col: pa.ChunkedArray, hidden: frozenset[str]) -> set[str]:
    keys: set[str] = set()
    for text in sample_values(_sample(col), 500):
        keys.update(k for k in _JSON_KEY.findall(text) if kind_for_name(k) in hidden)
    return keys


def _mask_json_text(text: str | None, hidden: frozenset[str]) -> str | None:
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return text
    return json.dumps(_mask_json_value(data, None, hidden), ensure_ascii=False)


def _mask_json_value(value: Any, kind: str | None, hidden: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {k: _mask_json_value(v, kind_for_name(str(k)), hidden) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_json_value(v, kind, hidden) for v in value]
    if kind in hidden and value is not None and not isinstance(value, bool):
        return mask_value(kind, str(value))  # type: ignore[arg-type]
    return value


# ------------------------------------------------------------ compatibility
def columns_to_mask(columns: list[str], role: str) -> dict[str, str]:
    """Columns whose NAME says they are personal and that ``role`` sees masked (a hint for the audit
    log; masking itself also looks at the values: ``mask_table``)."""
    hidden = hidden_kinds(role)
    return {c: k for c in columns if (k := kind_for_name(c)) is not None and k in hidden}


def personal_columns(columns: list[str]) -> list[str]:
    return [c for c in columns if c in PERSONAL_COLUMNS or kind_for_name(c) is not None]
