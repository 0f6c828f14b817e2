"""One transfer, stored once, however many statements show it (去重).

When both parties of a transfer were requested, the payer's bank shows it as 出 and the payee's
bank as 进. After normalisation both rows (legs) say ``from → to`` with the same amount, and they
must become one row of ``transactions`` with both source rows in ``transaction_sources``.

Two keys per leg; legs sharing either key are the same transfer (connected components):

- ``k_serial`` = 交易流水号 + from + to + amount + local date, only when the bank gave a serial.
  Serial numbers are unique per bank at best (some restart daily), so a serial alone would join
  unrelated transfers of two banks; with the pair, the amount and the day a collision needs the
  same two accounts moving the same amount on the same day under the same serial.
- ``k_time`` = from + to + amount + time (to the microsecond as the source gave it) + *occurrence*:
  the n-th leg with that (from, to, amount, time) **within its own file**. Two identical transfers
  in the same second on one statement are two transfers (occurrences 1 and 2), never merged with
  each other; the other party's statement shows them as occurrences 1 and 2 as well and they pair
  up one to one. The pair is directed: after normalisation both sides agree on who paid, and an
  unordered pair would merge a payment with its refund in the same second.

Keys are stored with each source row, so a statement ingested later (the counterparty's bank
answering a second request) merges into transfers already in the lake. Limits: both banks must
report the same second (banks that stamp posting time instead of transaction time are not
matched; their transfers stay as two rows with requested_side from/to), and an account must be
written the same way on both sides (card vs. account number is resolved through 账户信息 and
statements that carry both 交易卡号 and 交易账号).

How: the keys are computed in DuckDB on a narrow projection of the staged legs; the connected
components are computed on the key strings' dictionary indices (Arrow) with ``scipy.sparse.csgraph``
in linear time, whatever the length of a chain; DuckDB then reads the legs from the memory-mapped
staging files with their keys, ``txn_id`` and ``n_legs`` attached batch by batch (no join or copy of
the wide legs). Memory in Python is about 130 bytes per leg (the two keys and the ``txn_id``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass
class DedupResult:
    legs: str  # name of a relation on the connection: legs with k_serial, k_time, txn_id, n_legs
    absorbed: dict[str, str]  # existing txn_id -> surviving txn_id (a new leg bridged two old transfers)
    touched_existing: set[str]  # existing txn_ids that received new legs
    new_transfers: int
    merged: int  # legs that did not create a transfer of their own
    table: pa.Table | None = None  # the relation ``legs`` as an Arrow table (what DuckDB scans)


# The local (Asia/Shanghai) date of ``ts`` as text. Since 1992 the zone is UTC+8 all year (no daylight
# saving, no change of offset), so the date is integer arithmetic on the epoch; earlier instants go
# through the time zone database. Same text as ``CAST(CAST(timezone('Asia/Shanghai', ts) AS DATE) AS
# VARCHAR)`` for every instant; ~5% of the keys query's CPU less (the ICU conversion).
_UTC8_SINCE = "TIMESTAMPTZ '1992-01-01 00:00:00+00'"
LOCAL_DATE = f"""CASE WHEN ts >= {_UTC8_SINCE}
               THEN CAST(DATE '1970-01-01' + CAST((epoch_us(ts) + 28800000000) // 86400000000 AS INTEGER) AS VARCHAR)
               ELSE CAST(CAST(timezone('Asia/Shanghai', ts) AS DATE) AS VARCHAR) END"""


def keys_sql(legs: str, occurrence: str | None = None) -> str:
    """``lid`` (the leg's ``__pos`` in relation ``legs``), ``k_serial`` and ``k_time`` of every leg.

    ``occurrence``: a column of ``legs`` holding each leg's occurrence (see :func:`occurrences`);
    by default it is computed with a window over all legs."""
    occ = occurrence or """row_number() OVER (PARTITION BY src_sha256, from_account, to_account, amount, ts
                                      ORDER BY src_row)"""
    return f"""
        SELECT __pos AS lid,
          CASE WHEN serial_no IS NOT NULL THEN md5(concat_ws('|', 'sn', serial_no,
               coalesce(from_account, ''), coalesce(to_account, ''), CAST(amount AS VARCHAR),
               {LOCAL_DATE})) END AS k_serial,
          md5(concat_ws('|', 'tm', coalesce(from_account, ''), coalesce(to_account, ''),
              CAST(amount AS VARCHAR), CAST(epoch_us(ts) AS VARCHAR),
              CAST({occ} AS VARCHAR))) AS k_time
        FROM {legs}"""


def _group_codes(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Equal values get equal codes, null its own code (-1)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return pc.fill_null(pc.dictionary_encode(column).indices, -1).to_numpy().astype(np.int64)


def occurrences(legs: pa.Table) -> np.ndarray:
    """1 for the first leg with its (from_account, to_account, amount, ts), 2 for the next in
    ``src_row`` order, ...: the window ``row_number() OVER (PARTITION BY from_account, to_account,
    amount, ts ORDER BY src_row)`` over the legs of one file, computed with one sort in numpy.

    The four columns' dictionary codes are one number per leg when their product of distinct
    counts fits in 63 bits (always when no column has more than ~46k distinct values: 46341⁴ < 2⁶²), so the
    sort has two keys (that number, ``src_row``) instead of five: ~40% of this function's CPU."""
    n = legs.num_rows
    if n == 0:
        return np.zeros(0, np.int64)
    parts = [_group_codes(legs.column(c)) for c in ("from_account", "to_account", "amount", "ts")]
    row = pc.fill_null(legs.column("src_row"), np.iinfo(np.int64).max).to_numpy()
    group = _one_code(parts)
    if group is not None:
        order = np.lexsort((row, group))
        sorted_group = group[order]
        new_group = np.empty(n, bool)
        new_group[0] = True
        new_group[1:] = sorted_group[1:] != sorted_group[:-1]
    else:
        order = np.lexsort((row, *reversed(parts)))
        new_group = np.ones(n, bool)
        for p in parts:
            sorted_p = p[order]
            new_group[1:] &= sorted_p[1:] == sorted_p[:-1]
        new_group = ~new_group
        new_group[0] = True
    starts = np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
    occ = np.empty(n, np.int64)
    occ[order] = np.arange(n) - starts + 1
    return occ


def _one_code(parts: list[np.ndarray]) -> np.ndarray | None:
    """The codes ``parts`` (each -1 for null, else 0..k-1) as one mixed-radix number per row, equal
    exactly where all parts are equal; None when the number would not fit in 63 bits."""
    sizes = [int(p.max()) + 2 for p in parts]  # the null code -1 shifted to 0
    if float(np.prod(np.array(sizes, dtype=np.float64))) >= 2.0**62:
        return None
    code = np.zeros(len(parts[0]), np.int64)
    for p, size in zip(parts, sizes, strict=True):
        code = code * size + (p + 1)
    return code


KEY_COLUMNS = ("k_serial", "k_time", "txn_id", "n_legs")
# the leg columns the keys are made of, and the keys
KEY_INPUTS = ("serial_no", "from_account", "to_account", "amount", "ts", "src_sha256", "src_row")
KEYS = pa.schema([("k_serial", pa.string()), ("k_time", pa.string())])


def leg_keys(con: duckdb.DuckDBPyConnection, legs: pa.Table) -> pa.Table:
    """``k_serial, k_time`` (:data:`KEYS`) of ``legs`` (all of one source file), row for row.

    The occurrence in ``k_time`` counts within a source file, so the keys of a file's legs depend
    on that file alone (and on account aliases, which the ingest process applies afterwards): the
    worker that normalised the file computes them (``files.py``), in parallel with the other files.
    """
    bounds = pc.min_max(legs.column("src_sha256")).as_py()  # cheaper than counting distinct values
    if bounds["min"] != bounds["max"]:
        raise ValueError("leg_keys takes the legs of one source file")
    positioned = legs.select(list(KEY_INPUTS)).append_column(
        "__pos", pa.array(np.arange(legs.num_rows, dtype=np.int64))).append_column(
        "__occ", pa.array(occurrences(legs)))
    con.register("cb_key_legs", positioned)
    try:
        keys = con.sql(keys_sql("cb_key_legs", occurrence="__occ")).to_arrow_table()
    finally:
        con.unregister("cb_key_legs")
    lid = keys.column("lid").to_numpy()
    if len(lid) > 1 and not bool(np.all(lid[1:] > lid[:-1])):  # DuckDB keeps the order here; if not, sort
        keys = keys.take(pa.array(np.argsort(lid, kind="stable")))
    return keys.select(KEYS.names).cast(KEYS)


def assign_transfers(con: duckdb.DuckDBPyConnection, open_legs: Callable[[], Iterator[pa.RecordBatch]],
                     schema: pa.Schema, existing_sources: str | None, keys: pa.Table | None = None) -> DedupResult:
    """Give every leg a ``txn_id``; the legs with their keys become the relation ``cb_legs`` on ``con``.

    ``open_legs()`` yields the legs' batches (account aliases applied), the same ones in the same
    order each time it is called: Arrow IPC files of the scratch folder, memory-mapped.
    ``existing_sources`` is a query over the stored keyed sources (``txn_id, k_serial, k_time``),
    or None. ``keys``: the legs' ``k_serial, k_time`` in stream order when already known (computed
    per file by :func:`leg_keys`); otherwise they are computed here on a narrow projection of the
    legs. The legs are then read into an Arrow table of the mapped batches with ``k_serial, k_time,
    txn_id, n_legs`` attached, registered as ``cb_legs``: nothing joins or copies the wide legs.
    """
    if keys is None:
        positioned = schema.append(pa.field("__pos", pa.int64()))
        con.register("cb_legs_files", pa.RecordBatchReader.from_batches(positioned, _with_positions(open_legs())))
        try:
            keys = con.sql(keys_sql("cb_legs_files")).to_arrow_table()
        finally:
            con.unregister("cb_legs_files")
        keys = keys.take(pc.sort_indices(keys.column("lid")))  # stream order
    stored = _stored_matches(con, keys, existing_sources) if existing_sources else None
    txn_id, n_legs, absorbed, touched = components(keys.column("k_time"), keys.column("k_serial"), stored)
    extra = pa.table({"k_serial": keys.column("k_serial"), "k_time": keys.column("k_time"), "txn_id": txn_id,
                      "n_legs": pa.array(n_legs, pa.int64())})
    full = schema
    for f in extra.schema:
        full = full.append(f)
    table = pa.Table.from_batches(list(_with_columns(open_legs(), extra)), schema=full)
    con.register("cb_legs", table)
    new_transfers = _transfers(txn_id, n_legs, stored is not None and stored.num_rows > 0) - len(touched)
    return DedupResult("cb_legs", absorbed, touched, new_transfers, len(keys) - new_transfers, table)


def _transfers(txn_id: pa.Array, n_legs: np.ndarray, stored: bool) -> int:
    """Distinct ``txn_id`` of the legs. Without stored transfers every component's id is a ``k_time``
    of its own legs, so ids and components correspond one to one: counted from the component sizes
    (a component of k legs has k legs of size k), ~0.15 CPU s per million legs cheaper than hashing
    the ids. With stored transfers the ids are counted."""
    if stored:
        return int(pc.count_distinct(txn_id).as_py())
    legs_by_size = np.bincount(n_legs)
    return int((legs_by_size[1:] // np.arange(1, len(legs_by_size))).sum())


def _with_positions(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    start = 0
    for batch in batches:
        n = batch.num_rows
        yield pa.RecordBatch.from_arrays([*batch.columns, pa.array(np.arange(start, start + n, dtype=np.int64))],
                                         names=[*batch.schema.names, "__pos"])
        start += n


def _with_columns(batches: Iterator[pa.RecordBatch], extra: pa.Table) -> Iterator[pa.RecordBatch]:
    start = 0
    for batch in batches:
        n = batch.num_rows
        part = extra.slice(start, n)
        if part.num_rows != n:
            raise RuntimeError("the staged legs changed between two reads")
        yield pa.RecordBatch.from_arrays([*batch.columns, *(c.combine_chunks() for c in part.columns)],
                                         names=[*batch.schema.names, *extra.schema.names])
        start += n
    if start != extra.num_rows:
        raise RuntimeError("the staged legs changed between two reads")


def _stored_matches(con: duckdb.DuckDBPyConnection, keys: pa.Table, existing_sources: str) -> pa.Table:
    """``pos, ex_serial, ex_time``: the stored transfer the keys of the leg at position ``pos`` of
    ``keys`` already belong to (legs that match none are left out)."""
    con.register("cb_keys_new", keys.select(["k_serial", "k_time"]).append_column(
        "pos", pa.array(np.arange(keys.num_rows, dtype=np.int64))))
    try:
        return con.sql(f"""
          SELECT k.pos, es.txn_id AS ex_serial, et.txn_id AS ex_time FROM cb_keys_new k
          LEFT JOIN (SELECT k_serial, min(txn_id) AS txn_id FROM ({existing_sources})
                     WHERE k_serial IS NOT NULL GROUP BY 1) es ON es.k_serial = k.k_serial
          LEFT JOIN (SELECT k_time, min(txn_id) AS txn_id FROM ({existing_sources}) GROUP BY 1) et
                 ON et.k_time = k.k_time
          WHERE es.txn_id IS NOT NULL OR et.txn_id IS NOT NULL""").to_arrow_table()
    finally:
        con.unregister("cb_keys_new")


def connected(n_nodes: int, u: np.ndarray, v: np.ndarray) -> tuple[int, np.ndarray]:
    """``(n_components, label)`` of the undirected graph with edges ``u[i] — v[i]`` (labels 0..n-1).

    Vectorised union-find: every round hooks the larger root of each edge whose ends have different
    roots onto the smaller one, then jumps pointers until every node points at its root. A chain of
    any length collapses in a few rounds (pointer jumping halves paths); there is no round limit
    because every round merges at least one pair of roots. (``scipy.sparse.csgraph`` did the same in
    C, but importing it cost ~0.2 CPU s per run, as much as the components of 300k legs.)
    """
    parent = np.arange(n_nodes, dtype=np.int64)
    u, v = u.astype(np.int64, copy=False), v.astype(np.int64, copy=False)
    while len(u):
        pu, pv = parent[u], parent[v]
        cross = pu != pv
        if not cross.any():
            break
        u, v, pu, pv = u[cross], v[cross], pu[cross], pv[cross]
        np.minimum.at(parent, np.maximum(pu, pv), np.minimum(pu, pv))
        while True:
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped
    is_root = parent == np.arange(n_nodes)
    compact = np.cumsum(is_root) - 1  # roots numbered in node order: no sort
    return int(is_root.sum()), compact[parent]


def _codes(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Dictionary indices (-1 for null) and the dictionary of a string column."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    enc = pc.dictionary_encode(arr)
    return pc.fill_null(enc.indices, -1).to_numpy().astype(np.int64), enc.dictionary


def _ranks(dictionary: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(order, rank): ``dictionary[order]`` is sorted (bytewise, as DuckDB compares VARCHAR)."""
    order = pc.sort_indices(dictionary).to_numpy().astype(np.int64)
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    return order, rank


def _smallest_k_time(k_time: pa.Array | pa.ChunkedArray, t_idx: np.ndarray, t_dict: pa.Array,
                     leg_comp: np.ndarray, n_comp: int) -> pa.Array:
    """Per leg, the smallest ``k_time`` of its component (bytewise, as DuckDB compares VARCHAR).

    A leg alone keeps its own; the two legs of a pair are compared with one vectorised ``less``;
    only the legs of larger components rank their keys by a sort (sorting every distinct key cost
    ~0.35 CPU s per million legs)."""
    k = k_time.combine_chunks() if isinstance(k_time, pa.ChunkedArray) else k_time
    size = np.bincount(leg_comp, minlength=n_comp)[leg_comp]
    chosen = t_idx.copy()  # dictionary code of the chosen key per leg
    in_pair = np.nonzero(size == 2)[0]
    if len(in_pair):
        by_comp = in_pair[np.argsort(leg_comp[in_pair], kind="stable")]
        a, b = by_comp[0::2], by_comp[1::2]
        first_smaller = pc.less_equal(k.take(pa.array(a)), k.take(pa.array(b))).to_numpy(zero_copy_only=False)
        smaller = np.where(first_smaller, t_idx[a], t_idx[b])
        chosen[a] = smaller
        chosen[b] = smaller
    larger = np.nonzero(size > 2)[0]
    if len(larger):
        codes = np.unique(t_idx[larger])
        order = pc.sort_indices(t_dict.take(pa.array(codes))).to_numpy().astype(np.int64)
        rank = np.empty(len(t_dict), np.int64)
        rank[codes[order]] = np.arange(len(codes))
        comp_min = np.full(n_comp, len(codes), np.int64)
        np.minimum.at(comp_min, leg_comp[larger], rank[t_idx[larger]])
        chosen[larger] = codes[order][comp_min[leg_comp[larger]]]
    return pc.take(t_dict, pa.array(chosen))


def components(k_time: pa.Array | pa.ChunkedArray, k_serial: pa.Array | pa.ChunkedArray,
               stored: pa.Table | None = None) -> tuple[pa.Array, np.ndarray, dict[str, str], set[str]]:
    """``(txn_id, n_legs, absorbed, touched)`` of legs given their keys (see the module docstring).

    Legs sharing a ``k_time``, a ``k_serial`` or a stored transfer are one transfer (connected
    components of the graph leg — key). Its ``txn_id`` is the smallest stored ``txn_id`` it
    reaches, else the smallest ``k_time`` of its legs. ``stored`` (``pos, ex_serial, ex_time``)
    says which legs (by position) match stored transfers.
    """
    n = len(k_time)
    if n == 0:
        return pa.array([], pa.string()), np.zeros(0, np.int64), {}, set()
    t_idx, t_dict = _codes(k_time)
    s_idx, s_dict = _codes(k_serial)
    n_t, n_s = len(t_dict), len(s_dict)
    rows = [np.arange(n, dtype=np.int64)]
    cols = [n + t_idx]
    has_serial = s_idx >= 0
    rows.append(np.nonzero(has_serial)[0])
    cols.append(n + n_t + s_idx[has_serial])
    e_dict = pa.array([], pa.string())
    e_idx = np.empty(0, np.int64)
    if stored is not None and stored.num_rows:
        pos = stored.column("pos").to_numpy().astype(np.int64)
        ex = pa.chunked_array([stored.column("ex_serial"), stored.column("ex_time")]).combine_chunks()
        ex_legs = np.concatenate([pos, pos])
        e_idx, e_dict = _codes(ex)
        keep = e_idx >= 0
        rows.append(ex_legs[keep])
        cols.append(n + n_t + n_s + e_idx[keep])
    n_nodes = n + n_t + n_s + len(e_dict)
    n_comp, label = connected(n_nodes, np.concatenate(rows), np.concatenate(cols))
    leg_comp = label[:n]
    txn_id = _smallest_k_time(k_time, t_idx, t_dict, leg_comp, n_comp)
    absorbed: dict[str, str] = {}
    touched: set[str] = set()
    if len(e_dict):
        # a stored txn_id wins over any k_time (the old label '0' || txn_id < '1' || k_time)
        e_order, e_rank = _ranks(e_dict)
        e_comp = label[n + n_t + n_s:]
        comp_e = np.full(n_comp, len(e_dict), np.int64)
        np.minimum.at(comp_e, e_comp, e_rank)
        has_e = comp_e[leg_comp] < len(e_dict)
        from_e = pc.take(e_dict, pa.array(e_order[np.minimum(comp_e[leg_comp], len(e_dict) - 1)]))
        txn_id = pc.if_else(pa.array(has_e), from_e, txn_id)
        names = e_dict.to_pylist()
        for i, name in enumerate(names):
            winner = names[e_order[comp_e[e_comp[i]]]]
            touched.add(winner)
            if winner != name:
                absorbed[name] = winner
    n_legs = np.bincount(leg_comp, minlength=n_comp)[leg_comp]
    return txn_id, n_legs, absorbed, touched
