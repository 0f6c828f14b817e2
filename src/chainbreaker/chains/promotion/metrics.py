"""Per-member totals and per-agent downline metrics (伞下统计) over the closure table, as Ibis
expressions (DuckDB or Spark); only the minors check is DuckDB SQL (it parses ID numbers per member).

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
import ibis
import pyarrow as pa

from chainbreaker.core.engine import Engine

AGENT_METRICS_COLUMNS = [
    "platform", "member_id", "level", "upline_path", "direct_downline", "downline_accounts", "downline_persons",
    "downline_active", "downline_stake", "downline_payout", "downline_deposit", "own_commission",
    "sub_agents_with_downline", "first_activity", "last_activity",
]

DEC = "decimal(18,2)"
_MONEY = pa.decimal128(18, 2)
_TS = pa.timestamp("us", tz="UTC")
_EMPTY = {
    "platform_bets": pa.schema([("platform", pa.string()), ("member_id", pa.string()), ("stake", _MONEY),
                                ("payout", _MONEY), ("ts", _TS)]),
    "platform_deposits": pa.schema([("platform", pa.string()), ("member_id", pa.string()), ("amount", _MONEY),
                                    ("ts", _TS), ("ok", pa.bool_()), ("payee_account", pa.string()),
                                    ("src_sha256", pa.string()), ("src_file", pa.string()), ("src_row", pa.int64())]),
    "platform_withdrawals": pa.schema([("platform", pa.string()), ("member_id", pa.string()), ("amount", _MONEY),
                                       ("ts", _TS), ("ok", pa.bool_())]),
    "platform_rebates": pa.schema([("platform", pa.string()), ("member_id", pa.string()), ("amount", _MONEY),
                                   ("kind_class", pa.string())]),
}


def ensure_activity_views(con: duckdb.DuckDBPyConnection) -> None:
    """Empty stand-ins on ``con`` for activity tables a platform export did not contain."""
    present = {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
    for name, schema in _EMPTY.items():
        if name not in present:
            con.register(f"_{name}_arrow", schema.empty_table())
            con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS SELECT * FROM "_{name}_arrow"')
            con.unregister(f"_{name}_arrow")


def activity(eng: Engine, name: str, present: bool) -> ibis.Table:
    """An activity table, or an empty stand-in for one a platform export did not contain."""
    if present:
        return eng.table(name)
    return eng.materialise_arrow(_EMPTY[name].empty_table(), f"_empty_{name}")


def member_totals(eng: Engine, nodes: ibis.Table, present: set[str]) -> ibis.Table:
    """One row per member (node) with its own activity (``mt``)."""
    keys = ["platform", "member_id"]
    bets = activity(eng, "platform_bets", "platform_bets" in present)
    dep = activity(eng, "platform_deposits", "platform_deposits" in present)
    wd = activity(eng, "platform_withdrawals", "platform_withdrawals" in present)
    reb = activity(eng, "platform_rebates", "platform_rebates" in present)
    b = bets.group_by(keys).aggregate(b_n=bets.count(), b_stake=bets.stake.sum(), b_payout=bets.payout.sum(),
                                      b_f=bets.ts.min(), b_l=bets.ts.max())
    d0 = dep.filter(dep.ok)
    d = d0.group_by(keys).aggregate(d_n=d0.count(), d_amount=d0.amount.sum(), d_f=d0.ts.min(), d_l=d0.ts.max())
    w0 = wd.filter(wd.ok)
    w = w0.group_by(keys).aggregate(w_amount=w0.amount.sum())
    r = reb.group_by(keys).aggregate(r_rake=reb.amount.sum(where=reb.kind_class == "commission"),
                                     r_dividend=reb.amount.sum(where=reb.kind_class == "dividend"),
                                     r_rebate=reb.amount.sum(where=reb.kind_class == "rebate"))
    n = nodes
    j = (n.left_join(b, [n.platform == b.platform, n.member_id == b.member_id])
         .left_join(d, [n.platform == d.platform, n.member_id == d.member_id])
         .left_join(w, [n.platform == w.platform, n.member_id == w.member_id])
         .left_join(r, [n.platform == r.platform, n.member_id == r.member_id]))

    def money(col: ibis.Value) -> ibis.Value:
        return col.cast(DEC).fill_null(0)

    bets_n = b.b_n.fill_null(0)
    return j.select(
        idx=n.idx, platform=n.platform, member_id=n.member_id, bets=bets_n,
        stake=money(b.b_stake), payout=money(b.b_payout), deposit=money(d.d_amount),
        withdrawal=money(w.w_amount), rake=money(r.r_rake), dividend=money(r.r_dividend),
        rebate_received=money(r.r_rebate),
        first_own=ibis.least(b.b_f, d.d_f), last_own=ibis.greatest(b.b_l, d.d_l),
        active=(bets_n > 0) | (d.d_n.fill_null(0) > 0),
    )


def closure(tree: ibis.Table) -> ibis.Table:
    """(d, a): every member ``d`` with each of its ancestors ``a`` (the path without the member)."""
    c = tree.select(d=tree.idx, a=tree.path.unnest())
    return c.filter(c.a != c.d)


def downline(clo: ibis.Table, mt: ibis.Table, person_of: ibis.Table) -> ibis.Table:
    """``sub``: per agent, the accounts, persons, activity and money of its whole subtree."""
    c, m, p = clo, mt, person_of
    cj = c.join(m, c.d == m.idx).join(p, c.d == p.idx).select(
        a=c.a, person_idx=p.person_idx, active=m.active, stake=m.stake, payout=m.payout, deposit=m.deposit,
        first_own=m.first_own, last_own=m.last_own)
    return cj.group_by(idx=cj.a).aggregate(
        accounts=cj.count(), persons=cj.person_idx.nunique(), active=cj.count(where=cj.active),
        stake=cj.stake.sum(), payout=cj.payout.sum(), deposit=cj.deposit.sum(),
        f=cj.first_own.min(), l=cj.last_own.max())


def agent_metrics(nodes: ibis.Table, tree: ibis.Table, mt: ibis.Table, sub: ibis.Table) -> ibis.Table:
    """Agent metrics (``am``): one row per member with a downline, plus helper columns. ``sub`` is
    :func:`downline`, materialised (it is read twice)."""
    n0 = nodes.filter(nodes.parent.notnull())
    kids = n0.group_by(idx=n0.parent).aggregate(direct=n0.count())
    m = mt
    s2 = sub.view()
    k2 = kids.view()
    sj = n0.join(k2, n0.idx == k2.idx).join(s2, n0.idx == s2.idx).select(parent=n0.parent, active=s2.active)
    sa = sj.group_by(idx=sj.parent).aggregate(sa_n=sj.count(), sa_taking=sj.count(where=sj.active > 0))
    n, t = nodes, tree
    j = (kids.join(n, kids.idx == n.idx).join(t, kids.idx == t.idx).join(sub, kids.idx == sub.idx)
         .join(m, kids.idx == m.idx).left_join(sa, kids.idx == sa.idx))
    return j.select(
        idx=kids.idx, platform=n.platform, member_id=n.member_id, level=t.level.cast("int64"),
        upline_path=t.upline_path.fill_null(""), direct_downline=kids.direct.cast("int64"),
        downline_accounts=sub.accounts.cast("int64"), downline_persons=sub.persons.cast("int64"),
        downline_active=sub.active.cast("int64"), downline_stake=sub.stake.cast(DEC),
        downline_payout=sub.payout.cast(DEC), downline_deposit=sub.deposit.cast(DEC),
        own_commission=(m.rake + m.dividend).cast(DEC),
        sub_agents_with_downline=sa.sa_n.fill_null(0).cast("int64"),
        first_activity=ibis.least(m.first_own, sub.f), last_activity=ibis.greatest(m.last_own, sub.l),
        sub_agents_taking_bets=sa.sa_taking.fill_null(0).cast("int64"),
    ).order_by(["platform", "member_id"])


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
