"""Suggested next requests (建议调单): counterparties of flagged accounts whose statements we lack.

An account counts as *requested* when any ``accounts`` row marks it ``requested`` (its statement
came back from 资金查控) or a transaction came from its own statement (``requested_side``).
Every other account seen in a transfer with a flagged account (``account_risk.flagged``) is a
candidate, ranked by how many flagged accounts it touches, then by the money exchanged with them.
"""

from __future__ import annotations

import pyarrow as pa

from chainbreaker.errors import InputError
from chainbreaker.workspace import Workspace

SUGGESTIONS = pa.schema([
    ("rank", pa.int64()), ("account", pa.string()), ("n_flagged_linked", pa.int64()),
    ("amount_total", pa.decimal128(38, 2)), ("amount_from_flagged", pa.decimal128(38, 2)),
    ("amount_to_flagged", pa.decimal128(38, 2)), ("n_txns", pa.int64()), ("max_linked_score", pa.float64()),
    ("linked_accounts", pa.string()), ("first_ts", pa.timestamp("us", tz="UTC")),
    ("last_ts", pa.timestamp("us", tz="UTC")), ("reason_zh", pa.string()), ("reason_en", pa.string()),
])


def _requested_sql(ws: Workspace) -> str:
    parts = ["""SELECT from_account AS account FROM transactions WHERE requested_side IN ('from', 'both')
                UNION SELECT to_account FROM transactions WHERE requested_side IN ('to', 'both')"""]
    if ws.has_table("accounts"):
        parts.append("SELECT account FROM accounts WHERE coalesce(requested, false)")
    return " UNION ".join(parts)


def suggest(ws: Workspace, limit: int = 50, write: bool = True) -> pa.Table:
    """Rank not-yet-requested counterparties of flagged accounts; optionally store ``funds_suggestions``."""
    if not ws.has_table("account_risk"):
        raise InputError("尚无筛查结果，请先运行 chainbreaker funds screen。",
                         "No screening results yet; run `chainbreaker funds screen` first.")
    if limit < 1:
        raise InputError("--limit 必须大于 0", "--limit must be positive")
    con = ws.duck()
    sql = f"""
    WITH flagged AS (SELECT account, score FROM account_risk WHERE flagged),
    requested AS ({_requested_sql(ws)}),
    links AS (
        SELECT t.to_account AS cand, f.account AS flagged, f.score, t.amount, t.ts, 'from_flagged' AS dir
        FROM transactions t JOIN flagged f ON t.from_account = f.account
        UNION ALL
        SELECT t.from_account, f.account, f.score, t.amount, t.ts, 'to_flagged'
        FROM transactions t JOIN flagged f ON t.to_account = f.account
    ),
    cands AS (
        SELECT cand AS account, count(DISTINCT flagged) AS n_flagged_linked,
               CAST(sum(amount) AS DECIMAL(38,2)) AS amount_total,
               CAST(coalesce(sum(amount) FILTER (WHERE dir = 'from_flagged'), 0) AS DECIMAL(38,2)) AS amount_from_flagged,
               CAST(coalesce(sum(amount) FILTER (WHERE dir = 'to_flagged'), 0) AS DECIMAL(38,2)) AS amount_to_flagged,
               count(*) AS n_txns, max(score) AS max_linked_score,
               array_to_string(list_sort(list_distinct(list(flagged)))[1:5], ',') AS linked_accounts,
               min(ts) AS first_ts, max(ts) AS last_ts
        FROM links
        WHERE cand IS NOT NULL AND cand <> ''
          AND cand NOT IN (SELECT account FROM requested WHERE account IS NOT NULL)
          AND cand NOT IN (SELECT account FROM flagged)
        GROUP BY cand
    )
    SELECT row_number() OVER (ORDER BY n_flagged_linked DESC, amount_total DESC, account) AS rank, *
    FROM cands ORDER BY rank LIMIT {int(limit)}
    """
    rows = con.sql(sql).to_arrow_table().to_pylist()
    for r in rows:
        linked = r["linked_accounts"]
        more = "等" if r["n_flagged_linked"] > 5 else ""
        r["reason_zh"] = (f"与 {r['n_flagged_linked']} 个可疑账户（{linked}{more}）往来 {r['n_txns']} 笔，"
                          f"合计 {r['amount_total']} 元（收到 {r['amount_from_flagged']} 元，转给 {r['amount_to_flagged']} 元），"
                          "尚未调取其流水，建议调单。")
        r["reason_en"] = (f"{r['n_txns']} transfers with {r['n_flagged_linked']} flagged account(s) ({linked}"
                          f"{', ...' if more else ''}), total {r['amount_total']} (received {r['amount_from_flagged']}, "
                          f"sent {r['amount_to_flagged']}); statement not yet requested.")
    table = pa.Table.from_pylist(rows, schema=SUGGESTIONS)
    if write:
        with ws.transaction("funds.suggest", settings={"limit": limit}) as tx:
            tx.write("funds_suggestions", table)
            tx.counts["suggestions"] = table.num_rows
    return table
