"""Exact pivots (精确关联): records that share an ID number, a mobile or a bank card.

Each shared value links its records as a star from the smallest record id (n-1 edges, not n²).
A value shared by records carrying more than ``max_names`` different names (pinyin) is not taken
as proof of one person: a family phone, a card lent to a 跑分 team or a reused number would chain
strangers together. Such values are reported in ``person_pivot_skipped`` and left to the model.

A phone or card is not proof either between two records whose ID numbers both pass the check digit
and differ: those are two people (GB 11643's check digit catches every single typo), e.g. a couple
sharing a family phone or a number reassigned to a new subscriber. Such an edge keeps ``conflict``
true and is not used (``status = different_ids`` in ``person_matches``).
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
            SELECT {kind} AS value, record_id, name_py, id_number, id_valid FROM person_records
            WHERE {kind} IS NOT NULL AND {guard}
        ), g AS (
            SELECT value, min(record_id) AS anchor, count(*) AS n, count(DISTINCT name_py) AS names
            FROM v GROUP BY value HAVING count(*) > 1
        ), a AS (
            SELECT g.*, v.id_number AS anchor_id, v.id_valid AS anchor_valid
            FROM g JOIN v ON v.value = g.value AND v.record_id = g.anchor
        )
        SELECT a.anchor AS record_l, v.record_id AS record_r, '{kind}' AS method, a.value AS pivot_value,
               a.names <= {int(max_names)} AS usable,
               coalesce(a.anchor_valid AND v.id_valid AND a.anchor_id <> v.id_number, false) AS conflict
        FROM v JOIN a USING (value) WHERE v.record_id <> a.anchor
    """


def pivot_edges(con: Any, max_names: int = MAX_NAMES) -> Any:
    """All pivot edges as a DuckDB relation (``usable`` false where the value is too widely shared)."""
    return con.sql(" UNION ALL ".join(f"({pivot_sql(k, max_names)})" for k in PIVOT_KINDS))
