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
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass
class DedupResult:
    legs: str  # name of a view on the connection: legs with txn_id, k_serial, k_time
    absorbed: dict[str, str]  # existing txn_id -> surviving txn_id (a new leg bridged two old transfers)
    touched_existing: set[str]  # existing txn_ids that received new legs
    new_transfers: int
    merged: int  # legs that did not create a transfer of their own


def assign_transfers(con: duckdb.DuckDBPyConnection, legs_sql: str, existing_sources: str | None,
                     workdir: Path) -> DedupResult:
    """Give every leg a ``txn_id``.

    ``legs_sql`` is a query over the normalised legs; ``existing_sources`` a query over the stored
    keyed sources. The keyed legs are staged as Parquet in ``workdir`` (DuckDB spills to disk
    rather than holding every leg in Python memory); the result names a view on ``con``.
    """
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE cb_keyed AS
          SELECT l.*,
            CASE WHEN serial_no IS NOT NULL THEN md5(concat_ws('|', 'sn', serial_no,
                 coalesce(from_account, ''), coalesce(to_account, ''), CAST(amount AS VARCHAR),
                 CAST(CAST(timezone('Asia/Shanghai', ts) AS DATE) AS VARCHAR))) END AS k_serial,
            md5(concat_ws('|', 'tm', coalesce(from_account, ''), coalesce(to_account, ''),
                CAST(amount AS VARCHAR), CAST(epoch_us(ts) AS VARCHAR),
                CAST(row_number() OVER (PARTITION BY src_sha256, from_account, to_account, amount, ts
                                        ORDER BY src_row) AS VARCHAR))) AS k_time
          FROM ({legs_sql}) l
    """)
    keyed = "cb_keyed"
    if existing_sources:
        ex_sql = f"""
          SELECT k_serial, min(txn_id) AS txn_id FROM ({existing_sources}) WHERE k_serial IS NOT NULL GROUP BY 1"""
        ex_time = f"SELECT k_time, min(txn_id) AS txn_id FROM ({existing_sources}) GROUP BY 1"
    else:
        ex_sql = "SELECT NULL::VARCHAR AS k_serial, NULL::VARCHAR AS txn_id WHERE false"
        ex_time = "SELECT NULL::VARCHAR AS k_time, NULL::VARCHAR AS txn_id WHERE false"
    # Only legs that share a key with another leg or with a stored transfer need components.
    # Label propagation: every involved leg starts with its own label (the stored txn_id it
    # matches, prefixed "0" so that it wins, else "1" + k_time) and takes the smallest label of
    # any leg sharing a key, until nothing changes (components are pairs, rarely chains).
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE cb_lab AS
        WITH c AS (
          SELECT src_sha256, src_row, k_serial, k_time,
                 CASE WHEN k_serial IS NULL THEN 1 ELSE count(*) OVER (PARTITION BY k_serial) END AS n_serial,
                 count(*) OVER (PARTITION BY k_time) AS n_time
          FROM {keyed}
        )
        SELECT c.src_sha256, c.src_row, c.k_serial, c.k_time, es.txn_id AS ex_serial, et.txn_id AS ex_time,
               least(coalesce('0' || es.txn_id, '2'), coalesce('0' || et.txn_id, '2'), '1' || c.k_time) AS label
        FROM c
        LEFT JOIN ({ex_sql}) es ON es.k_serial = c.k_serial
        LEFT JOIN ({ex_time}) et ON et.k_time = c.k_time
        WHERE c.n_serial > 1 OR c.n_time > 1 OR es.txn_id IS NOT NULL OR et.txn_id IS NOT NULL
    """)
    for _ in range(64):
        con.execute("""CREATE OR REPLACE TEMP TABLE cb_next AS SELECT src_sha256, src_row, k_serial, k_time, ex_serial, ex_time,
              least(min(label) OVER (PARTITION BY k_time),
                    CASE WHEN k_serial IS NULL THEN label ELSE min(label) OVER (PARTITION BY k_serial) END,
                    CASE WHEN ex_serial IS NULL THEN label ELSE min(label) OVER (PARTITION BY ex_serial) END,
                    CASE WHEN ex_time IS NULL THEN label ELSE min(label) OVER (PARTITION BY ex_time) END) AS label,
              label AS old_label
            FROM cb_lab""")
        changed = con.execute("SELECT count(*) FROM cb_next WHERE label <> old_label").fetchall()[0][0]
        con.execute("CREATE OR REPLACE TEMP TABLE cb_lab AS SELECT * EXCLUDE (old_label) FROM cb_next")
        if not changed:
            break
    con.execute("DROP TABLE IF EXISTS cb_next")
    absorbed: dict[str, str] = {}
    touched: set[str] = set()
    for ex, label in con.execute("""
            SELECT DISTINCT ex, label FROM (
              SELECT ex_serial AS ex, label FROM cb_lab WHERE ex_serial IS NOT NULL
              UNION ALL SELECT ex_time, label FROM cb_lab WHERE ex_time IS NOT NULL)""").fetchall():
        name = label[1:]
        touched.add(name)
        if name != ex:
            absorbed[ex] = name
    con.execute(f"""CREATE OR REPLACE TEMP TABLE cb_new_legs AS
        SELECT *, count(*) OVER (PARTITION BY txn_id) AS n_legs FROM (
          SELECT k.*, coalesce(substr(l.label, 2), k.k_time) AS txn_id
          FROM {keyed} k LEFT JOIN cb_lab l USING (src_sha256, src_row))""")
    con.execute("DROP TABLE IF EXISTS cb_lab")
    con.execute("DROP TABLE IF EXISTS cb_keyed")
    n_legs, n_ids = con.execute("SELECT count(*), count(DISTINCT txn_id) FROM cb_new_legs").fetchall()[0]
    new_transfers = int(n_ids) - len(touched)
    return DedupResult("cb_new_legs", absorbed, touched, new_transfers, int(n_legs) - new_transfers)
