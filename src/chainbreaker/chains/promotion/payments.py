"""``platform_payments``: the platform's deposits and withdrawals as one table of this chain.

Deposits name the account the platform collected into (收款账号, often a 码商 card) and
withdrawals the member's own card::

    platform, kind (deposit|withdrawal), order_id, member_id, account, account_raw, amount,
    ts, ok, status, channel, src_sha256, src_file, src_row

``account`` uses the same cleaning as bank ingest keys (digits, suffix ``_xxx`` removed), so
:mod:`chainbreaker.intel.link` can join it with the funds chain's accounts and findings. This
chain itself never reads the other chains' tables.
"""

from __future__ import annotations

from typing import Any

DEPOSITS_SQL = """
SELECT platform, 'deposit' AS kind, order_id, member_id, payee_account AS account,
       payee_account_raw AS account_raw, amount, ts, ok, status, channel, src_sha256, src_file, src_row
FROM platform_deposits WHERE payee_account IS NOT NULL
"""
WITHDRAWALS_SQL = """
SELECT platform, 'withdrawal' AS kind, order_id, member_id, bank_card AS account,
       bank_card_raw AS account_raw, amount, ts, ok, status, NULL AS channel, src_sha256, src_file, src_row
FROM platform_withdrawals WHERE bank_card IS NOT NULL
"""


def write_platform_payments(tx: Any) -> int:
    """Rebuild ``platform_payments`` from the deposits and withdrawals tables; return its rows."""
    parts = [sql for sql, table in ((DEPOSITS_SQL, "platform_deposits"), (WITHDRAWALS_SQL, "platform_withdrawals"))
             if tx.has_table(table)]
    if not parts:
        return 0
    return int(tx.write("platform_payments", " UNION ALL ".join(parts)))
