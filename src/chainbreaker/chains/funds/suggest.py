"""Suggested next requests (建议调单): counterparties of flagged accounts whose statements we lack.

An account counts as *requested* when any ``accounts`` row marks it ``requested`` (its statement
came back from 资金查控) or a transaction came from its own statement (``requested_side``).
Every other account seen in a transfer with a flagged account (``account_risk.flagged``) is a
candidate, ranked by how many flagged accounts it touches, then by the money exchanged with them.

Each suggestion carries the account's bank (开户行) and holder (户名, 证件号码) where anything says
them, because the request (调单) is addressed to that bank: ``accounts`` first (账户信息 or a
statement of the account; bank-origin rows before others), then ``persons`` by ID number for the
name, then what the flagged accounts' statements say about their counterparty (对手户名, 对手开户行).
"""

from __future__ import annotations

import pyarrow as pa

from chainbreaker.core.errors import InputError
from chainbreaker.core.workspace import Workspace

SUGGESTIONS = pa.schema([
    ("rank", pa.int64()), ("account", pa.string()), ("bank", pa.string()), ("holder_name", pa.string()),
    ("holder_id", pa.string()), ("n_flagged_linked", pa.int64()),
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


def _holder_sql(ws: Workspace) -> str:
    """``account, bank, holder_name, holder_id`` per account from ``accounts`` and ``persons`` (may be empty)."""
    if not ws.has_table("accounts"):
        return "SELECT NULL::VARCHAR AS account, NULL::VARCHAR AS bank, NULL::VARCHAR AS holder_name, " \
               "NULL::VARCHAR AS holder_id WHERE false"
    order = "(CASE WHEN origin = 'bank' THEN 0 ELSE 1 END, coalesce(src_sha256, ''), coalesce(src_row, 0))"
    acc = f"""SELECT account, arg_min(bank, {order}) FILTER (WHERE bank IS NOT NULL) AS bank,
                     arg_min(holder_name, {order}) FILTER (WHERE holder_name IS NOT NULL) AS holder_name,
                     arg_min(holder_id, {order}) FILTER (WHERE holder_id IS NOT NULL) AS holder_id
              FROM accounts GROUP BY account"""
    if not ws.has_table("persons"):
        return acc
    return f"""SELECT a.account, a.bank, coalesce(a.holder_name, p.name) AS holder_name, a.holder_id
               FROM ({acc}) a LEFT JOIN (
                 SELECT id_number, arg_min(name, (src_sha256, src_row)) AS name FROM persons
                 WHERE name IS NOT NULL GROUP BY id_number) p ON p.id_number = a.holder_id"""


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
        SELECT t.to_account AS cand, f.account AS flagged, f.score, t.amount, t.ts, 'from_flagged' AS dir,
               t.to_name AS cp_name, t.to_bank AS cp_bank, t.txn_id
        FROM transactions t JOIN flagged f ON t.from_account = f.account
        UNION ALL
        SELECT t.from_account, f.account, f.score, t.amount, t.ts, 'to_flagged', t.from_name, t.from_bank, t.txn_id
        FROM transactions t JOIN flagged f ON t.to_account = f.account
    ),
    holders AS ({_holder_sql(ws)}),
    cands AS (
        SELECT cand AS account, count(DISTINCT flagged) AS n_flagged_linked,
               CAST(sum(amount) AS DECIMAL(38,2)) AS amount_total,
               CAST(coalesce(sum(amount) FILTER (WHERE dir = 'from_flagged'), 0) AS DECIMAL(38,2)) AS amount_from_flagged,
               CAST(coalesce(sum(amount) FILTER (WHERE dir = 'to_flagged'), 0) AS DECIMAL(38,2)) AS amount_to_flagged,
               count(*) AS n_txns, max(score) AS max_linked_score,
               array_to_string(list_sort(list_distinct(list(flagged)))[1:5], ',') AS linked_accounts,
               min(ts) AS first_ts, max(ts) AS last_ts,
               arg_min(cp_name, (ts, txn_id)) FILTER (WHERE cp_name IS NOT NULL) AS seen_name,
               arg_min(cp_bank, (ts, txn_id)) FILTER (WHERE cp_bank IS NOT NULL) AS seen_bank
        FROM links
        WHERE cand IS NOT NULL AND cand <> ''
          AND cand NOT IN (SELECT account FROM requested WHERE account IS NOT NULL)
          AND cand NOT IN (SELECT account FROM flagged)
        GROUP BY cand
    )
    SELECT row_number() OVER (ORDER BY c.n_flagged_linked DESC, c.amount_total DESC, c.account) AS rank,
           c.* EXCLUDE (seen_name, seen_bank), coalesce(h.bank, c.seen_bank) AS bank,
           coalesce(h.holder_name, c.seen_name) AS holder_name, h.holder_id
    FROM cands c LEFT JOIN holders h USING (account) ORDER BY rank LIMIT {int(limit)}
    """
    rows = con.sql(sql).to_arrow_table().to_pylist()
    for r in rows:
        linked = r["linked_accounts"]
        more = "等" if r["n_flagged_linked"] > 5 else ""
        where = f"开户行：{r['bank'] or '未知'}" + (f"，户名：{r['holder_name']}" if r["holder_name"] else "")
        r["reason_zh"] = (f"与 {r['n_flagged_linked']} 个可疑账户（{linked}{more}）往来 {r['n_txns']} 笔，"
                          f"合计 {r['amount_total']} 元（收到 {r['amount_from_flagged']} 元，转给 {r['amount_to_flagged']} 元），"
                          f"尚未调取其流水，建议调单（{where}）。")
        r["reason_en"] = (f"{r['n_txns']} transfers with {r['n_flagged_linked']} flagged account(s) ({linked}"
                          f"{', ...' if more else ''}), total {r['amount_total']} (received {r['amount_from_flagged']}, "
                          f"sent {r['amount_to_flagged']}); statement not yet requested"
                          f"{' from ' + r['bank'] if r['bank'] else ' (bank unknown)'}"
                          f"{', holder ' + r['holder_name'] if r['holder_name'] else ''}.")
    table = pa.Table.from_pylist(rows, schema=SUGGESTIONS)
    if write:
        with ws.transaction("funds.suggest", settings={"limit": limit}) as tx:
            tx.write("funds_suggestions", table)
            tx.counts["suggestions"] = table.num_rows
    return table
