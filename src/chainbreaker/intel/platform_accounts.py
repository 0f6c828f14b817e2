"""Where the promotion chain meets the funds chain: platform payee and withdrawal cards.

Deposits name the account the platform collected into (收款账号, often a 码商 card) and
withdrawals the member's own card (promotion's ``platform_payments``). Both become lead rows of
the shared ``accounts`` table (``origin = "platform_deposit"`` / ``"platform_withdrawal"``,
``requested = False``: nobody has asked the bank for them yet), so funds screening, tracing and
next-request suggestions see them. ``platform_payments.account`` uses the same cleaning as bank
ingest keys, so a card flagged by funds screening (findings ``subject_key``) joins it directly:
:func:`funds_flagged_payments` does that join. Called by :mod:`chainbreaker.intel.link` only.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from chainbreaker.core.model.finding import query
from chainbreaker.core.model.schemas import ACCOUNTS

ORIGINS = ("platform_deposit", "platform_withdrawal")


def _tables(con: Any) -> set[str]:
    return {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}


def platform_account_rows(con: Any) -> pa.Table:
    """One ``accounts`` row per (account, kind) of the platform payments (empty without payments)."""
    if "platform_payments" not in _tables(con):
        return ACCOUNTS.empty_table()
    return con.sql("""
        SELECT account, min(account_raw) AS account_raw,
               CASE WHEN regexp_matches(account, '^\\d{12,19}$') THEN account END AS card_no,
               NULL::VARCHAR AS holder_name, NULL::VARCHAR AS holder_id, NULL::VARCHAR AS bank,
               NULL::VARCHAR AS branch, NULL::DATE AS open_date, NULL::DATE AS close_date,
               NULL::VARCHAR AS status, NULL::DECIMAL(18,2) AS balance, NULL::VARCHAR AS last_login_ip,
               false AS requested,
               CASE kind WHEN 'deposit' THEN 'platform_deposit' ELSE 'platform_withdrawal' END AS origin,
               min(src_sha256) AS src_sha256, min(src_row) AS src_row
        FROM platform_payments GROUP BY account, kind ORDER BY origin, account
    """).to_arrow_table().cast(ACCOUNTS)


def funds_flagged_payments(con: Any) -> pa.Table:
    """Platform payments into/out of accounts that the funds chain flagged (findings chain='funds').

    ``con`` is a DuckDB connection with lake views (``ws.duck()`` or ``tx.con``).
    """
    if "platform_payments" not in _tables(con):
        return pa.table({"account": pa.array([], pa.string())})
    flagged = query(con, chain="funds", subject_type="account", columns=["subject_key", "rule_id", "score"])
    if not flagged.num_rows:
        return pa.table({"account": pa.array([], pa.string())})
    con.register("_funds_flagged", flagged)
    try:
        return con.sql("""
            WITH flagged AS (
                SELECT subject_key AS account, max(score) AS funds_score,
                       string_agg(DISTINCT rule_id, ',' ORDER BY rule_id) AS funds_rules
                FROM _funds_flagged GROUP BY 1)
            SELECT p.platform, p.account, p.kind, f.funds_score, f.funds_rules,
                   count(*) AS payments, count(DISTINCT p.member_id) AS members, sum(p.amount) AS amount,
                   min(p.ts) AS first_ts, max(p.ts) AS last_ts,
                   list(struct_pack(file_sha256 := p.src_sha256, file := p.src_file, row := p.src_row)
                        ORDER BY p.src_row)[1:20] AS sample_rows
            FROM platform_payments p JOIN flagged f USING (account)
            WHERE p.ok
            GROUP BY ALL ORDER BY amount DESC, p.platform, p.account, p.kind
        """).to_arrow_table()
    finally:
        con.unregister("_funds_flagged")
