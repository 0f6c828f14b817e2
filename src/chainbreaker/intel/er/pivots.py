"""Exact pivots (精确关联): records that share an ID number, a mobile or a bank card.

Each shared value links its records as a star from the smallest record id (n-1 edges, not n²).
A value shared by records carrying more than ``max_names`` different names (pinyin) is not taken
as proof of one person: a family phone, a card lent to a 跑分 team or a reused number would chain
strangers together. Such values are reported in ``person_pivot_skipped`` and left to the model.
"""

from __future__ import annotations

from typing import Any

PIVOT_KINDS = ("id_number", "phone", "bank_card")
MAX_NAMES = 3


def pivot_sql(kind: str, max_names: int = MAX_NAMES) -> str:
    if kind not in PIVOT_KINDS:
        raise ValueError(kind)
    # ID numbers that failed validation still pivot (the same damaged number twice is strong), but
    # a bare region code or a few digits do not.
    guard = "length(id_number) >= 15" if kind == "id_number" else "true"
    return f"""
        WITH v AS (
            SELECT {kind} AS value, record_id, name_py FROM person_records WHERE {kind} IS NOT NULL AND {guard}
        ), g AS (
            SELECT value, min(record_id) AS anchor, count(*) AS n, count(DISTINCT name_py) AS names
            FROM v GROUP BY value HAVING count(*) > 1
        )
        SELECT g.anchor AS record_l, v.record_id AS record_r, '{kind}' AS method, g.value AS pivot_value,
               g.names <= {int(max_names)} AS usable
        FROM v JOIN g USING (value) WHERE v.record_id <> g.anchor
    """


def pivot_edges(con: Any, max_names: int = MAX_NAMES) -> Any:
    """All pivot edges as a DuckDB relation (``usable`` false where the value is too widely shared)."""
    return con.sql(" UNION ALL ".join(f"({pivot_sql(k, max_names)})" for k in PIVOT_KINDS))
