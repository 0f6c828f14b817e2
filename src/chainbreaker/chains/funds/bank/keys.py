"""Identifier keys of a whole column at once (账号、证件号码、IP、MAC 的规范化键), for bank ingest.

The rules are those of :mod:`chainbreaker.core.model.identifiers` (``clean()``/``split()``); a test runs
both on generated text and requires the same key. Account numbers are the hot path (three columns
of every statement row), so they are computed with Arrow kernels on the column's distinct values:
NFKC, invisible characters and spaces removed, dashes unified, digit groups joined
(``6222-0000-1234-5678``), sub-account suffixes split off (``…_001``). The other kinds have few
distinct values per file and call the Python ``clean()`` once per distinct value.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc

from chainbreaker.core.model.identifiers import (
    ACCOUNT_GROUPS,
    ACCOUNT_SUFFIX,
    ACCOUNT_TRIM,
    DASHES,
    INVISIBLE,
    WHITESPACE,
    IPAddress,
    MACAddress,
    Mobile,
    ResidentID,
    squash,
)

_DROP = f"[{INVISIBLE}{WHITESPACE}]+"
_NAMED_SUFFIX = ACCOUNT_SUFFIX.replace("^(", "^(?P<base>", 1).replace("]([", "](?P<suffix>[", 1)


def _account_keys_dense(values: pa.Array) -> pa.Array:
    s = pc.replace_substring_regex(values, _DROP, "")
    s = pc.utf8_normalize(s, form="NFKC")
    s = pc.replace_substring_regex(s, _DROP, "")
    s = pc.replace_substring_regex(s, f"[{DASHES}]", "-")
    s = pc.utf8_trim(s, characters=ACCOUNT_TRIM)
    joined = pc.replace_substring(s, "-", "")
    n_digits = pc.utf8_length(joined)
    grouped = pc.and_(pc.match_substring_regex(s, ACCOUNT_GROUPS),
                      pc.and_(pc.greater_equal(n_digits, 12), pc.less_equal(n_digits, 25)))
    base = pc.struct_field(pc.extract_regex(s, _NAMED_SUFFIX), "base")
    key = pc.if_else(grouped, joined, pc.coalesce(base, s))
    return pc.if_else(pc.equal(key, ""), pa.scalar(None, pa.string()), key)


# Letters and digits only: no separator, invisible or full-width character, so the value is its own key.
PLAIN_ACCOUNT = r"^[0-9A-Za-z]+$"


def account_keys(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``AccountNumber.split(v)[0]`` for every value of ``arr`` (nulls stay null).

    Only distinct values that are not plain letters and digits (the usual bank export) go through
    the full pipeline.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count == len(arr):
        return pa.nulls(len(arr), pa.string())
    enc = pc.dictionary_encode(arr.cast(pa.string()))
    distinct = enc.dictionary
    odd = pc.invert(pc.fill_null(pc.match_substring_regex(distinct, PLAIN_ACCOUNT), False))
    if pc.any(odd).as_py():
        fixed = _account_keys_dense(distinct.filter(odd))
        distinct = pc.replace_with_mask(distinct, odd, fixed)
    return pc.take(distinct, enc.indices)


def _per_distinct(arr: pa.Array | pa.ChunkedArray, fn: Callable[[str], str | None],
                  canonical: str | None = None) -> pa.Array:
    """``fn`` once per distinct value; values matching the ``canonical`` regex are their own key
    (``fn`` returns them unchanged: a test checks it), so only the odd spellings reach Python."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count == len(arr):
        return pa.nulls(len(arr), pa.string())
    enc = pc.dictionary_encode(arr.cast(pa.string()))
    distinct = enc.dictionary
    if canonical is None:
        keys = pa.array([None if v is None else fn(v) for v in distinct.to_pylist()], pa.string())
    else:
        done = pc.fill_null(pc.match_substring_regex(distinct, canonical), False)
        odd = pc.indices_nonzero(pc.invert(done))
        fixed = [None if v is None else fn(v) for v in distinct.take(odd).to_pylist()]
        keys = pc.replace_with_mask(distinct, pc.invert(done), pa.array(fixed, pa.string())) if fixed else distinct
    return pc.take(keys, enc.indices)


# 证件类型 values that say the number is not a resident ID (passports, permits, company licences);
# any other or no type lets a number that validates as a resident ID become its canonical 18 digits.
_NOT_RESIDENT = re.compile(r"护照|通行证|台胞|回乡|军官|士兵|警官|外国|居留|营业执照|组织机构|信用代码|passport|permit|licen",
                           re.IGNORECASE)


def id_key(number: str, id_type: str | None = None) -> str | None:
    """The key of one 证件号码 given its 证件类型 (see :data:`_NOT_RESIDENT`)."""
    if id_type and _NOT_RESIDENT.search(id_type):
        return ResidentID.normalise(number) or None
    return ResidentID.key(number)


def id_keys(arr: pa.Array | pa.ChunkedArray, types: pa.Array | pa.ChunkedArray | None = None) -> pa.Array:
    """证件号码 keys: the canonical resident ID (15 digits → 18) when valid, else the squashed text.

    ``types`` (the 证件类型 column, optional) keeps passport and permit numbers as written.
    """
    if types is None:
        return _per_distinct(arr, id_key)
    pairs = pc.binary_join_element_wise(pc.fill_null(arr.cast(pa.string()), "\x00"),
                                        pc.fill_null(types.cast(pa.string()), ""), "\x01")
    pairs = pc.if_else(pc.is_null(arr), pa.scalar(None, pa.string()), pairs)
    return _per_distinct(pairs, lambda v: id_key(*v.split("\x01", 1)))


_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
CANONICAL_IPV4 = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"
CANONICAL_MAC = r"^[0-9A-F]{2}(:[0-9A-F]{2}){5}$"  # placeholders (all 0 / all F) also map to themselves
CANONICAL_MOBILE = r"^1[3-9][0-9]{9}$"


def ip_keys(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """IP addresses in canonical form; text that is no address is kept squashed (never lost)."""
    return _per_distinct(arr, lambda v: IPAddress.clean(v) or squash(v) or None, CANONICAL_IPV4)


def mac_keys(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """MAC addresses as ``AA:BB:CC:DD:EE:FF``; placeholders and other text are kept squashed, upper case."""
    return _per_distinct(arr, lambda v: MACAddress.clean(v) or squash(v).upper() or None, CANONICAL_MAC)


def phone_keys(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Mobile numbers as 11 digits (no +86, separators or invisible characters); other phones squashed."""
    return _per_distinct(arr, lambda v: Mobile.clean(v) or squash(v) or None, CANONICAL_MOBILE)
