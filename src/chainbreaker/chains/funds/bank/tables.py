"""Writing the canonical tables: merge new rows with what the lake holds, never drop others' rows.

- ``transactions``: existing transfers untouched by this run are kept as they are; a transfer that
  received a new source row is rebuilt from its stored row plus the new legs, by the same rule as
  in one run: the payer's own row first (a stored row built from the payer's statement counts as
  the payer's), then by source file and row; the others fill gaps. So the payer's row is the
  provenance whichever statement arrived first.
- ``transaction_sources``: one row per source row with the de-duplication keys.
- ``accounts``: rows of other origins are kept; rows of origin ``bank`` are merged per account
  (账户信息 of this run > stored > statement subject > counterparty), ``requested`` is true when any
  statement or 账户信息 was returned for the account.
- ``persons``: appended, one row per new 证件号码.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chainbreaker.chains.funds.bank.dedup import DedupResult
from chainbreaker.chains.funds.bank.normalise import PERSON_ROWS
from chainbreaker.core.model.schemas import ACCOUNTS, PERSONS, TRANSACTIONS
from chainbreaker.core.workspace import Transaction

_TXN_VALUE_COLS = [f.name for f in TRANSACTIONS if f.name not in ("txn_id", "requested_side")]


def _first(col: str) -> str:
    """The first non-null value by priority (arg_min skips nulls; much cheaper than ordered aggregates).

    ``o`` is the row's :func:`_order_key`: the order of (prio, src_sha256, src_row) as one BIGINT
    (arg_min over that struct cost ~2.5× as much)."""
    return f'arg_min("{col}", o) AS "{col}"'


def _sha_ranks(con: Any, sources: list[str]) -> None:
    """Table ``cb_sha_rank(src_sha256, r)``: the rank of every src_sha256 of ``sources`` (queries)."""
    union = " UNION ".join(f"SELECT DISTINCT src_sha256 FROM ({q})" for q in sources)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE cb_sha_rank AS
        SELECT src_sha256, row_number() OVER (ORDER BY src_sha256) - 1 AS r
        FROM ({union}) WHERE src_sha256 IS NOT NULL""")


def _order_key(rel: str) -> str:
    """SELECT over ``rel`` (with ``prio``, ``src_sha256``, ``src_row``) adding ``o``: ordered as the
    struct (prio, src_sha256, src_row) with NULLs last (``cb_sha_rank`` must cover the shas).
    Bits: prio 60+, file rank 32–59, row 0–31."""
    return f"""SELECT c.*, c.prio * {1 << 60} + coalesce(k.r, {(1 << 28) - 1}) * {1 << 32}
                      + coalesce(least(c.src_row, {(1 << 32) - 1}), {(1 << 32) - 1}) AS o
               FROM ({rel}) c LEFT JOIN cb_sha_rank k ON k.src_sha256 = c.src_sha256"""


def _cols(schema: pa.Schema) -> str:
    return ", ".join(f'"{f.name}"' for f in schema)


def _cast_select(schema: pa.Schema, source: str) -> str:
    cols = ", ".join(f'CAST("{f.name}" AS {_duck_type(f.type)}) AS "{f.name}"' for f in schema)
    return f"SELECT {cols} FROM ({source})"


def _duck_type(t: pa.DataType) -> str:
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision}, {t.scale})"  # type: ignore[attr-defined]
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ"
    if pa.types.is_int64(t):
        return "BIGINT"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_date32(t):
        return "DATE"
    return "VARCHAR"


def write_transactions(tx: Transaction, dd: DedupResult) -> dict[str, int]:
    """Stage ``transactions`` and ``transaction_sources`` for the legs of ``dd`` (see the module docstring).

    The new rows are assembled in Arrow and written as Arrow tables (pyarrow's Parquet writer costs
    about a third of the CPU of a DuckDB ``COPY`` of the same rows), each on a thread of its own
    (:meth:`Transaction.write_in_background`: ``transaction_sources`` while the transfers are
    assembled, ``transactions`` while the caller goes on, e.g. with the accounts): legs that are a transfer by
    themselves are copied through, transfers of exactly two new legs are merged by position
    (:func:`_pairs`), and only transfers with more legs or a stored row are aggregated in DuckDB.
    A run that touches stored transfers rewrites the table in DuckDB (stored rows + new rows).
    """
    con = tx.con
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"CREATE OR REPLACE TEMP VIEW new_legs AS SELECT * FROM {dd.legs}")
    legs = dd.table if dd.table is not None else con.sql(f"SELECT * FROM {dd.legs}").to_arrow_table()
    rewrite_sources = bool(dd.absorbed) and tx.has_table("transaction_sources")
    if not rewrite_sources:  # the new source rows as they are: written while the transfers are assembled
        tx.write_in_background("transaction_sources", legs.select(list(SOURCE_COLUMNS)).cast(SOURCES), mode="append",
                               plain=SOURCES_PLAIN)
    touched = pa.table({"txn_id": pa.array(sorted(dd.touched_existing | set(dd.absorbed)), pa.string())})
    con.register("touched_ids", touched)
    remap = pa.table({"old": pa.array(list(dd.absorbed), pa.string()),
                      "new": pa.array(list(dd.absorbed.values()), pa.string())})
    con.register("remap", remap)
    has_old = tx.has_table("transactions")
    old_touched = ""
    old_shas = "SELECT NULL::VARCHAR AS src_sha256 WHERE false"
    if has_old and touched.num_rows:
        old_shas = "SELECT src_sha256 FROM transactions JOIN touched_ids USING (txn_id)"
        old_touched = f"""
          UNION ALL
          SELECT coalesce(r.new, t.txn_id) AS txn_id, {", ".join(f't."{c}"' for c in _TXN_VALUE_COLS)},
                 CASE t.requested_side WHEN 'to' THEN 2 ELSE 1 END AS prio, t.requested_side AS side
          FROM transactions t JOIN touched_ids USING (txn_id) LEFT JOIN remap r ON r.old = t.txn_id"""
    agg = f"""
      WITH c0 AS (
        SELECT txn_id, {", ".join(f'"{c}"' for c in _TXN_VALUE_COLS)},
               CASE side WHEN 'to' THEN 2 ELSE 1 END AS prio, side
        FROM new_legs WHERE n_legs > 2 OR txn_id IN (SELECT txn_id FROM touched_ids)
        {old_touched}
      ), c AS ({_order_key("SELECT * FROM c0")})
      SELECT txn_id, {", ".join(_first(c) for c in _TXN_VALUE_COLS)},
             CASE WHEN bool_or(side = 'both') OR (bool_or(side = 'from') AND bool_or(side = 'to')) THEN 'both'
                  WHEN bool_or(side = 'from') THEN 'from' ELSE 'to' END AS requested_side
      FROM c GROUP BY txn_id
    """
    _sha_ranks(con, ["SELECT src_sha256 FROM new_legs", old_shas])
    merged = con.sql(_cast_select(TRANSACTIONS, agg)).to_arrow_table().cast(TRANSACTIONS)
    new_rows = pa.concat_tables([merged, _singles(legs, touched.column("txn_id")),
                                 _pairs(legs, touched.column("txn_id")).select(TRANSACTIONS.names)])
    if has_old and touched.num_rows:
        con.register("cb_new_txn", new_rows)
        keep = f"SELECT {_cols(TRANSACTIONS)} FROM transactions WHERE txn_id NOT IN (SELECT txn_id FROM touched_ids)"
        tx.write("transactions", f"{keep} UNION ALL SELECT {_cols(TRANSACTIONS)} FROM cb_new_txn", mode="replace")
        con.unregister("cb_new_txn")
    else:
        tx.write_in_background("transactions", new_rows, mode="append",  # while the accounts are merged
                               plain=TRANSACTIONS_PLAIN)

    if rewrite_sources:
        src = """SELECT txn_id, side, src_sha256, src_file, src_row, k_serial, k_time FROM new_legs"""
        old = """SELECT coalesce(r.new, s.txn_id) AS txn_id, s.side, s.src_sha256, s.src_file, s.src_row,
                        s.k_serial, s.k_time FROM transaction_sources s LEFT JOIN remap r ON r.old = s.txn_id"""
        tx.write("transaction_sources", f"{old} UNION ALL {src}", mode="replace")
    for name in ("touched_ids", "remap"):
        con.unregister(name)
    return {"transfers_new": dd.new_transfers, "transfers_updated": len(dd.touched_existing)}


# columns of ``transaction_sources``: the source row and its de-duplication keys
SOURCE_COLUMNS = ("txn_id", "side", "src_sha256", "src_file", "src_row", "k_serial", "k_time")
# Columns of (nearly) one value per row, written without Parquet dictionaries: pyarrow builds a
# dictionary for each until its 1 MiB page is full and then writes them plain anyway. Hash keys
# (~4% of those writes' CPU); in ``transactions`` also the serial, time, amount and source row
# (0.156 -> 0.131 CPU s for 191,623 transfers, 8.2 -> 7.6 MB; DuckDB reads them as fast).
SOURCES_PLAIN = ("txn_id", "k_serial", "k_time", "src_row")
TRANSACTIONS_PLAIN = ("txn_id", "serial_no", "ts", "amount", "src_row")
SOURCES = pa.schema([pa.field(c, pa.int64() if c == "src_row" else pa.string()) for c in SOURCE_COLUMNS])


def _singles(legs: pa.Table, touched: pa.Array | pa.ChunkedArray) -> pa.Table:
    """Legs that are a transfer by themselves (one leg, no stored row), as ``transactions`` rows."""
    mask = legs.column("n_legs").to_numpy() == 1
    if len(touched):
        mask &= ~pc.is_in(legs.column("txn_id"), value_set=touched).to_numpy(zero_copy_only=False)
    # only the columns a transfer keeps are filtered (a filter copies each one; the keys, raw
    # account texts and ID numbers of the legs were ~40% of the bytes)
    names = [("side" if c == "requested_side" else c) for c in TRANSACTIONS.names]
    rows = legs.select(names).filter(pa.array(mask))
    return pa.Table.from_arrays(rows.columns, names=TRANSACTIONS.names).cast(TRANSACTIONS)


def _rank_codes(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Each string's rank among the column's distinct values (bytewise, as DuckDB orders VARCHAR);
    nulls rank last."""
    enc = pc.dictionary_encode(values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values)
    rank = np.empty(len(enc.dictionary) + 1, np.int64)
    rank[pc.sort_indices(enc.dictionary).to_numpy()] = np.arange(len(enc.dictionary))
    rank[-1] = len(enc.dictionary)
    return rank[pc.fill_null(enc.indices, -1).to_numpy().astype(np.int64)]


def _pairs_schema() -> pa.Schema:
    """Columns of the merged rows in the order of the SQL branches: txn_id, values, requested_side."""
    return pa.schema([TRANSACTIONS.field("txn_id"), *(TRANSACTIONS.field(c) for c in _TXN_VALUE_COLS),
                      TRANSACTIONS.field("requested_side")])


def _pairs(legs: pa.Table, touched: pa.Array | pa.ChunkedArray) -> pa.Table:
    """Transfers of exactly two new legs and no stored row, merged as the SQL aggregate would.

    Per column the first non-null value in the order (prio, src_sha256, src_row), prio 1 unless the
    leg is the payee's (``side = 'to'``): with two legs that is ``coalesce(first, second)``. The
    side is the shared one, or ``both`` when the legs differ. Gathering by position costs a
    fraction of a hash aggregate holding 20 string states per transfer.
    """
    n_legs = legs.column("n_legs").to_numpy()
    mask = n_legs == 2
    if len(touched):
        mask &= ~pc.is_in(legs.column("txn_id"), value_set=touched).to_numpy(zero_copy_only=False)
    idx = pa.array(np.nonzero(mask)[0])
    side = legs.column("side").take(idx)
    prio = np.where(pc.fill_null(pc.equal(side, "to"), False).to_numpy(zero_copy_only=False), 2, 1)
    sha_key = _rank_codes(legs.column("src_sha256").take(idx))
    row = pc.fill_null(legs.column("src_row").take(idx), np.iinfo(np.int64).max).to_numpy()
    # legs of one transfer only need to sit together: dictionary codes group them without sorting the ids
    txn = pc.dictionary_encode(legs.column("txn_id").take(idx).combine_chunks()).indices.to_numpy().astype(np.int64)
    order = np.lexsort((row, sha_key, prio, txn))
    first, second = order[0::2], order[1::2]
    if not np.array_equal(txn[first], txn[second]):
        raise RuntimeError("a transfer counted as two legs does not have two legs")
    a, b = pc.take(idx, pa.array(first)), pc.take(idx, pa.array(second))  # positions in ``legs``
    cols = {"txn_id": legs.column("txn_id").take(a)}
    for c in _TXN_VALUE_COLS:
        first_values = legs.column(c).take(a)
        # the second leg only fills gaps: not gathered for a column the first legs fill completely
        cols[c] = pc.coalesce(first_values, legs.column(c).take(b)) if first_values.null_count else first_values
    s1, s2 = legs.column("side").take(a), legs.column("side").take(b)
    cols["requested_side"] = pc.if_else(pc.equal(s1, s2), s1, pa.scalar("both"))
    return pa.table(cols).cast(_pairs_schema())


def write_accounts(tx: Transaction, account_rows: pa.Table, legs: str | None, persons: pa.Table | None = None) -> int:
    """Merge bank-origin accounts: 账户信息 rows, statement subjects and counterparties.

    ``legs`` is a relation (view name) of the run's legs on ``tx.con``, or None. Holders are joined
    to accounts by 证件号码: an account whose rows give an ID number but no name takes the name
    that 人员信息 gives for it (``persons`` of this run, then the stored ``persons``).
    """
    con = tx.con
    con.register("acct_rows", account_rows)
    con.register("acct_persons", persons if persons is not None else PERSON_ROWS.empty_table())
    cols = ("from_account, to_account, from_raw, to_raw, from_name, to_name, from_id, to_id, from_bank, to_bank, "
            "side, own_card, src_sha256, src_row")
    source = f"SELECT {cols} FROM {legs}" if legs else f"SELECT {cols} FROM (SELECT " + ", ".join(
        f"NULL::{'BIGINT' if c == 'src_row' else 'VARCHAR'} AS {c}" for c in cols.split(", ")) + ") WHERE false"
    con.execute(f"CREATE OR REPLACE TEMP VIEW acct_legs AS {source}")
    fields = ["account_raw", "card_no", "holder_name", "holder_id", "bank", "branch", "open_date", "close_date",
              "status", "balance", "last_login_ip", "src_sha256", "src_row"]
    null_tail = ("NULL::VARCHAR AS branch, NULL::DATE AS open_date, NULL::DATE AS close_date, "
                 "NULL::VARCHAR AS status, NULL::DECIMAL(18,2) AS balance, NULL::VARCHAR AS last_login_ip")
    old = ""
    shas = ["SELECT src_sha256 FROM acct_rows", "SELECT src_sha256 FROM acct_legs"]
    if tx.has_table("accounts"):
        shas.append("SELECT src_sha256 FROM accounts WHERE origin = 'bank'")
        old = f"""UNION ALL SELECT account, {", ".join(fields)}, requested, 1 AS prio
                  FROM accounts WHERE origin = 'bank'"""
    _sha_ranks(con, shas)
    sql = f"""
      WITH c0 AS (
        SELECT account, {", ".join(fields)}, true AS requested, 0 AS prio FROM acct_rows
        {old}
        UNION ALL
        SELECT from_account, from_raw, CASE WHEN side = 'from' THEN own_card END, from_name, from_id, from_bank,
               {null_tail}, src_sha256, src_row, side IN ('from', 'both'),
               CASE WHEN side IN ('from', 'both') THEN 2 ELSE 3 END
        FROM acct_legs WHERE from_account IS NOT NULL
        UNION ALL
        SELECT to_account, to_raw, CASE WHEN side = 'to' THEN own_card END, to_name, to_id, to_bank,
               {null_tail}, src_sha256, src_row, side IN ('to', 'both'),
               CASE WHEN side IN ('to', 'both') THEN 2 ELSE 3 END
        FROM acct_legs WHERE to_account IS NOT NULL
      ), c AS ({_order_key("SELECT * FROM c0")})
      SELECT account, {", ".join(_first(f) for f in fields)}, bool_or(requested) AS requested,
             'bank' AS origin
      FROM c GROUP BY account
    """
    stored_persons = "UNION ALL SELECT id_number, name, 0, src_sha256, src_row FROM persons" \
        if tx.has_table("persons") else ""
    sql = f"""
      WITH m AS ({sql}), p AS (
        SELECT id_number, arg_min(name, (prio, src_sha256, src_row)) AS name FROM (
          SELECT id_number, name, 1 AS prio, src_sha256, src_row FROM acct_persons {stored_persons}
        ) WHERE id_number IS NOT NULL AND name IS NOT NULL GROUP BY id_number
      )
      SELECT m.* REPLACE (coalesce(m.holder_name, p.name) AS holder_name)
      FROM m LEFT JOIN p ON p.id_number = m.holder_id
    """
    merged = _cast_select(ACCOUNTS, sql)
    if tx.has_table("accounts"):
        keep = f"SELECT {_cols(ACCOUNTS)} FROM accounts WHERE origin IS DISTINCT FROM 'bank'"
        rows = tx.write("accounts", f"{keep} UNION ALL {merged}", mode="replace")
    else:
        rows = tx.write("accounts", merged, mode="replace")
    con.unregister("acct_rows")
    con.unregister("acct_persons")
    return rows


def write_persons(tx: Transaction, persons: pa.Table) -> int:
    """Append persons whose 证件号码 is not in the lake yet (first row of this run wins)."""
    if persons.num_rows == 0:
        return 0
    con = tx.con
    con.register("new_persons", persons)
    existing = "SELECT id_number FROM persons" if tx.has_table("persons") else \
        "SELECT NULL::VARCHAR AS id_number WHERE false"
    sql = f"""
      SELECT {_cols(PERSONS)} FROM (
        SELECT *, row_number() OVER (PARTITION BY id_number ORDER BY src_sha256, src_row) AS n FROM new_persons
      ) WHERE n = 1 AND id_number NOT IN ({existing})
    """
    count = int(con.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0])
    if count:
        tx.write("persons", _cast_select(PERSONS, sql), mode="append")
    con.unregister("new_persons")
    return count
