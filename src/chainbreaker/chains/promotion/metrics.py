"""Per-member totals and per-agent downline metrics (伞下统计) over the closure table.

Definitions (the synthetic ground truth uses the same):
* ``downline_*`` cover the strict subtree (all descendants, not the member);
* an account is *active* when it placed a bet or made a successful deposit;
* ``own_commission`` = commissions (佣金) + dividends (分红) paid to the member; 返水/洗码 excluded;
* ``sub_agents_with_downline`` = direct downline members who themselves have a downline;
* ``first_activity``/``last_activity`` = first/last bet or successful deposit of the member or
  anyone in the subtree.
"""

from __future__ import annotations

import duckdb

AGENT_METRICS_COLUMNS = [
    "platform", "member_id", "level", "upline_path", "direct_downline", "downline_accounts", "downline_persons",
    "downline_active", "downline_stake", "downline_payout", "downline_deposit", "own_commission",
    "sub_agents_with_downline", "first_activity", "last_activity",
]

_EMPTY = {
    "platform_bets": "platform VARCHAR, member_id VARCHAR, stake DECIMAL(18,2), payout DECIMAL(18,2), ts TIMESTAMPTZ",
    "platform_deposits": "platform VARCHAR, member_id VARCHAR, amount DECIMAL(18,2), ts TIMESTAMPTZ, ok BOOLEAN, "
                         "payee_account VARCHAR, src_sha256 VARCHAR, src_file VARCHAR, src_row BIGINT",
    "platform_withdrawals": "platform VARCHAR, member_id VARCHAR, amount DECIMAL(18,2), ts TIMESTAMPTZ, ok BOOLEAN",
    "platform_rebates": "platform VARCHAR, member_id VARCHAR, amount DECIMAL(18,2), kind_class VARCHAR",
}


def ensure_activity_views(con: duckdb.DuckDBPyConnection) -> None:
    """Empty stand-ins for activity tables a platform export did not contain."""
    present = {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
    for name, cols in _EMPTY.items():
        if name not in present:
            con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" ({cols})')


def member_totals(con: duckdb.DuckDBPyConnection) -> None:
    """Temp table ``mt``: one row per member (node) with its own activity."""
    ensure_activity_views(con)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE mt AS
        WITH b AS (SELECT platform, member_id, count(*) AS bets, sum(stake) AS stake, sum(payout) AS payout,
                          min(ts) AS f, max(ts) AS l FROM platform_bets GROUP BY ALL),
             d AS (SELECT platform, member_id, count(*) AS deposits, sum(amount) AS deposit, min(ts) AS f, max(ts) AS l
                   FROM platform_deposits WHERE ok GROUP BY ALL),
             w AS (SELECT platform, member_id, sum(amount) AS withdrawal FROM platform_withdrawals WHERE ok GROUP BY ALL),
             r AS (SELECT platform, member_id,
                          sum(amount) FILTER (WHERE kind_class = 'commission') AS rake,
                          sum(amount) FILTER (WHERE kind_class = 'dividend') AS dividend,
                          sum(amount) FILTER (WHERE kind_class = 'rebate') AS rebate
                   FROM platform_rebates GROUP BY ALL)
        SELECT n.idx, n.platform, n.member_id,
               coalesce(b.bets, 0) AS bets,
               coalesce(b.stake, 0)::DECIMAL(18,2) AS stake, coalesce(b.payout, 0)::DECIMAL(18,2) AS payout,
               coalesce(d.deposit, 0)::DECIMAL(18,2) AS deposit, coalesce(w.withdrawal, 0)::DECIMAL(18,2) AS withdrawal,
               coalesce(r.rake, 0)::DECIMAL(18,2) AS rake, coalesce(r.dividend, 0)::DECIMAL(18,2) AS dividend,
               coalesce(r.rebate, 0)::DECIMAL(18,2) AS rebate_received,
               least(b.f, d.f) AS first_own, greatest(b.l, d.l) AS last_own,
               (coalesce(b.bets, 0) > 0 OR coalesce(d.deposits, 0) > 0) AS active
        FROM nodes n
        LEFT JOIN b ON b.platform = n.platform AND b.member_id = n.member_id
        LEFT JOIN d ON d.platform = n.platform AND d.member_id = n.member_id
        LEFT JOIN w ON w.platform = n.platform AND w.member_id = n.member_id
        LEFT JOIN r ON r.platform = n.platform AND r.member_id = n.member_id
    """)


def agent_metrics_sql() -> str:
    """Create temp tables ``closure`` and ``am`` (agent metrics plus helper columns)."""
    return """
        CREATE OR REPLACE TEMP TABLE closure AS
        SELECT idx AS d, unnest(list_slice(path, 1, len(path) - 1)) AS a FROM tree WHERE len(path) > 1;

        CREATE OR REPLACE TEMP TABLE kids AS
        SELECT parent AS idx, count(*) AS direct FROM nodes WHERE parent IS NOT NULL GROUP BY 1;

        CREATE OR REPLACE TEMP TABLE sub AS
        SELECT c.a AS idx, count(*) AS accounts, count(DISTINCT p.person_idx) AS persons,
               count(*) FILTER (WHERE m.active) AS active,
               sum(m.stake) AS stake, sum(m.payout) AS payout, sum(m.deposit) AS deposit,
               min(m.first_own) AS f, max(m.last_own) AS l
        FROM closure c JOIN mt m ON m.idx = c.d JOIN person_of p ON p.idx = c.d
        GROUP BY 1;

        CREATE OR REPLACE TEMP TABLE paths AS
        SELECT c.d AS idx, string_agg(n.member_id, '>' ORDER BY t.level) AS upline_path
        FROM closure c JOIN kids k ON k.idx = c.d JOIN tree t ON t.idx = c.a JOIN nodes n ON n.idx = c.a
        GROUP BY 1;

        CREATE OR REPLACE TEMP TABLE am AS
        SELECT n.idx, n.platform, n.member_id, t.level::BIGINT AS level, coalesce(pa.upline_path, '') AS upline_path,
               k.direct::BIGINT AS direct_downline, s.accounts::BIGINT AS downline_accounts,
               s.persons::BIGINT AS downline_persons, s.active::BIGINT AS downline_active,
               s.stake::DECIMAL(18,2) AS downline_stake, s.payout::DECIMAL(18,2) AS downline_payout,
               s.deposit::DECIMAL(18,2) AS downline_deposit, (m.rake + m.dividend)::DECIMAL(18,2) AS own_commission,
               coalesce(sa.n, 0)::BIGINT AS sub_agents_with_downline,
               least(m.first_own, s.f) AS first_activity, greatest(m.last_own, s.l) AS last_activity,
               coalesce(sa.taking_bets, 0)::BIGINT AS sub_agents_taking_bets
        FROM kids k JOIN nodes n ON n.idx = k.idx JOIN tree t ON t.idx = k.idx JOIN sub s ON s.idx = k.idx
        JOIN mt m ON m.idx = k.idx LEFT JOIN paths pa ON pa.idx = k.idx
        LEFT JOIN (SELECT c.parent AS idx, count(*) AS n, count(*) FILTER (WHERE s2.active > 0) AS taking_bets
                   FROM nodes c JOIN kids k2 ON k2.idx = c.idx JOIN sub s2 ON s2.idx = c.idx
                   WHERE c.parent IS NOT NULL GROUP BY 1) sa ON sa.idx = k.idx
        ORDER BY n.platform, n.member_id;
    """


def minors_sql() -> str:
    """Temp table ``minors``: per upline, direct recruits under 18 when they registered (or first acted)."""
    return """
        CREATE OR REPLACE TEMP TABLE minors AS
        WITH x AS (
            SELECT n.parent AS idx, n.member_id,
                   try_strptime(substr(m.id_number, 7, 8), '%Y%m%d') AS birth,
                   coalesce(m.register_time, mt.first_own) AS ref
            FROM nodes n JOIN platform_members m ON m.platform = n.platform AND m.member_id = n.member_id
            JOIN mt ON mt.idx = n.idx
            WHERE n.parent IS NOT NULL AND length(m.id_number) = 18)
        SELECT idx, count(*) AS minors, list(member_id ORDER BY member_id) AS minor_ids
        FROM x WHERE birth IS NOT NULL AND ref IS NOT NULL AND ref < timezone('Asia/Shanghai', birth + INTERVAL 18 YEAR)
        GROUP BY 1;
    """
