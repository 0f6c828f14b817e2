"""Where the tech chain meets the funds chain: bank cards and crypto addresses shown on gambling pages.

Each payment indicator of ``tech_indicators`` seen on a page classified as gambling becomes a
lead row of the shared ``accounts`` table with ``origin="web_indicator"`` and
``requested=False`` (no statement was returned for it); the holder name is the page's payee name
when the page names exactly one. A bank card quoted on an honest page (a police notice listing
frozen cards, say) is not an operator's and is left out. Called by :mod:`chainbreaker.intel.link`.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from chainbreaker.chains.tech.indicators import ACCOUNT_KINDS
from chainbreaker.core.model.identifiers import BankCard
from chainbreaker.core.model.schemas import ACCOUNTS

ORIGIN = "web_indicator"


def _tables(con: Any) -> set[str]:
    return {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}


def web_indicator_rows(con: Any) -> list[tuple[str, str, str | None, str, str]]:
    """(kind, value, payee name, capture sha256, url) per payment indicator on a gambling page."""
    tables = _tables(con)
    if "tech_indicators" not in tables:
        return []
    gambling_only = ("AND i.capture_sha256 IN (SELECT capture_sha256 FROM tech_pages WHERE is_gambling)"
                     if "tech_pages" in tables else "")
    return [tuple(r) for r in con.sql(f"""
        WITH payees AS (
            SELECT url, min(value) AS payee FROM tech_indicators WHERE kind = 'payee_name'
            GROUP BY url HAVING count(DISTINCT value) = 1
        )
        SELECT i.kind, i.value, min(p.payee) AS payee, min(i.capture_sha256) AS sha, min(i.url) AS url
        FROM tech_indicators i LEFT JOIN payees p USING (url)
        WHERE list_contains(?, i.kind) AND i.value IS NOT NULL {gambling_only}
        GROUP BY i.kind, i.value ORDER BY i.kind, i.value
    """, params=[list(ACCOUNT_KINDS)]).fetchall()]


def web_account_rows(con: Any) -> pa.Table:
    """The ``accounts`` lead rows of origin ``web_indicator`` (one per card or address)."""
    rows = web_indicator_rows(con)
    n = len(rows)
    return pa.table({
        "account": [r[1] for r in rows],
        "account_raw": [r[1] for r in rows],
        "card_no": [r[1] if r[0] == "bank_card" else None for r in rows],
        "holder_name": [r[2] for r in rows],
        "holder_id": [None] * n,
        "bank": [BankCard.issuer(r[1]) if r[0] == "bank_card" else r[0].removeprefix("crypto_") for r in rows],
        "branch": [None] * n,
        "open_date": [None] * n,
        "close_date": [None] * n,
        "status": [None] * n,
        "balance": [None] * n,
        "last_login_ip": [None] * n,
        "requested": [False] * n,
        "origin": [ORIGIN] * n,
        "src_sha256": [r[3] for r in rows],
        "src_row": [None] * n,
    }, schema=ACCOUNTS)
