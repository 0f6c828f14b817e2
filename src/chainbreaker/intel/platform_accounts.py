"""Links from the promotion chain to the funds chain.

Deposits name the account the platform collected into (收款账号, often a 码商 card) and
withdrawals the member's own card. Both become rows of the shared ``accounts`` table
(``origin = "platform_deposit"`` / ``"platform_withdrawal"``, ``requested = False``: nobody has
asked the bank for them yet), so funds screening, tracing and next-request suggestions see them.
The payments themselves go to the lake table ``platform_payments``::

    platform, kind (deposit|withdrawal), order_id, member_id, account, account_raw, amount,
    ts, ok, status, channel, src_sha256, src_file, src_row

``account`` uses the same cleaning as bank ingest keys (digits, suffix ``_xxx`` removed), so a
card flagged by funds screening (``account_risk.account`` / findings ``subject_key``) joins
``platform_payments.account`` directly: :func:`funds_flagged_payments` does that join.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from chainbreaker.core.model.schemas import ACCOUNTS

PAYMENTS_SQL = """
SELECT platform, 'deposit' AS kind, order_id, member_id, payee_account AS account,
       payee_account_raw AS account_raw, amount, ts, ok, status, channel, src_sha256, src_file, src_row
FROM platform_deposits WHERE payee_account IS NOT NULL
UNION ALL
SELECT platform, 'withdrawal' AS kind, order_id, member_id, bank_card AS account,
       bank_card_raw AS account_raw, amount, ts, ok, status, NULL AS channel, src_sha256, src_file, src_row
FROM platform_withdrawals WHERE bank_card IS NOT NULL
"""

ORIGINS = ("platform_deposit", "platform_withdrawal")


def write_platform_accounts(tx: Any) -> int:
    """Rebuild ``platform_payments`` and the platform rows of ``accounts`` (other origins kept)."""
    parts = [p for p, t in (("deposit", "platform_deposits"), ("withdrawal", "platform_withdrawals")) if tx.has_table(t)]
    if not parts:
        return 0
    sql = PAYMENTS_SQL
    if len(parts) == 1:
        sql = PAYMENTS_SQL.split("UNION ALL")[0 if parts[0] == "deposit" else 1]
    tx.write("platform_payments", sql)
    cols = ", ".join(f'"{f.name}"' for f in ACCOUNTS)
    new = tx.con.sql("""
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
    tx.con.register("_platform_accounts", new)
    if tx.has_table("accounts"):
        keep = ", ".join(f"'{o}'" for o in ORIGINS)
        merged = tx.con.sql(f"SELECT {cols} FROM accounts WHERE origin IS NULL OR origin NOT IN ({keep}) "
                            f"UNION ALL SELECT {cols} FROM _platform_accounts").to_arrow_table()
    else:
        merged = new
    tx.write("accounts", merged.cast(ACCOUNTS))
    tx.con.unregister("_platform_accounts")
    return new.num_rows


def funds_flagged_payments(con: Any) -> pa.Table:
    """Platform payments into/out of accounts that the funds chain flagged (findings chain='funds').

    ``con`` is a DuckDB connection with lake views (``ws.duck()`` or ``tx.con``).
    """
    tables = {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
    if "findings" not in tables or "platform_payments" not in tables:
        return pa.table({"account": pa.array([], pa.string())})
    return con.sql("""
        WITH flagged AS (
            SELECT subject_key AS account, max(score) AS funds_score,
                   string_agg(DISTINCT rule_id, ',' ORDER BY rule_id) AS funds_rules
            FROM findings WHERE chain = 'funds' AND subject_type = 'account' GROUP BY 1)
        SELECT p.platform, p.account, p.kind, f.funds_score, f.funds_rules,
               count(*) AS payments, count(DISTINCT p.member_id) AS members, sum(p.amount) AS amount,
               min(p.ts) AS first_ts, max(p.ts) AS last_ts,
               list(struct_pack(file_sha256 := p.src_sha256, file := p.src_file, row := p.src_row)
                    ORDER BY p.src_row)[1:20] AS sample_rows
        FROM platform_payments p JOIN flagged f USING (account)
        WHERE p.ok
        GROUP BY ALL ORDER BY amount DESC
    """).to_arrow_table()
