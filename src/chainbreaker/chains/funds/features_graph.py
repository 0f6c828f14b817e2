"""Account features from behaviour and the transaction graph, for learning from confirmed cases.

Everything that has a sensible relational form is written once as Ibis expressions over the lake
``transactions`` table, so it runs on DuckDB or on PySpark unchanged (:class:`~chainbreaker.core.engine.Engine`):

* flow statistics (进出账): in/out counts, sums, mean, max, min, spread, distinct counterparties,
  first/last activity, active days, busiest day, night share, round-amount share;
* timing: gaps between an account's consecutive transfers, burstiness ``(σ-μ)/(σ+μ)``;
* relationships: how many counterparties were paid or received from only once (one-off,
  "novel" relationships: 跑分 cards take money from many new payers, ordinary life repeats),
  transfers per relationship, reciprocal counterparties (two-cycles);
* motifs around the account: fan-in/fan-out (集中转入/分散转出), pass-through ratio (过渡账户),
  net flow;
* neighbourhood aggregates: mean/max of the neighbours' degree, volume and one-off counts, and
  two-hop path counts.

Cycles longer than two have no cheap SQL form (enumerating simple cycles explodes on hub accounts:
millions of 4-cycles on a 200k-transfer graph), so :func:`cycle_features` uses igraph on the
relationship graph restricted to one-off edges: the size of the account's strongly connected
component there and the length of the shortest cycle through the account (BFS inside components
of bounded size). Laundering cycles built from fresh relationships show up as small components.

The plain per-account aggregates used as the comparison model are :data:`BASELINE_FEATURES`.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from chainbreaker.chains.funds.features_windowed import (
    counterparty_flow_expr,
    one_hop_expr,
    relationships_expr,
    windowed_feature_expr,
)
from chainbreaker.core.engine import Engine

# The comparison model's inputs: plain per-account aggregates (issue 2 item 8).
BASELINE_FEATURES = [
    "out_n", "out_sum", "out_mean", "out_max", "out_cp",
    "in_n", "in_sum", "in_mean", "in_max", "in_cp",
]

# Columns that describe an account but must not be learned from (identity, calendar position).
META_COLUMNS = ["account", "first_seen_epoch"]

# Components larger than this are not searched for shortest cycles (cost grows with size²).
MAX_CYCLE_COMPONENT = 400
NIGHT_HOURS_LOCAL = (0, 6)  # 00:00–05:59 Asia/Shanghai
LOCAL_UTC_OFFSET_HOURS = 8


def _transfers(tx: ibis.Table) -> ibis.Table:
    """Transfers between two different, known accounts: payer, payee, amount, whole-second time."""
    return tx.filter(
        tx.from_account.notnull() & tx.to_account.notnull() & (tx.from_account != tx.to_account)
    ).select(
        src=tx.from_account,
        dst=tx.to_account,
        amount=tx.amount.cast("float64"),
        # Whole seconds, truncated alike on every engine (DuckDB would round a fractional epoch).
        epoch=tx.ts.epoch_seconds().cast("float64").floor().cast("int64"),
    )


def _account_times(base: ibis.Table) -> ibis.Table:
    """Every transfer time on both sides' timelines: one row per (account, transfer)."""
    out = base.select(account=base.src, epoch=base.epoch)
    inn = base.select(account=base.dst, epoch=base.epoch)
    return out.union(inn, distinct=False)


def _directed_pairs(base: ibis.Table) -> ibis.Table:
    """Relationships seen from both ends: account, counterparty, direction, transfers ``k``."""
    pairs = base.group_by(["src", "dst"]).aggregate(k=base.count())
    out = pairs.select(account=pairs.src, cp=pairs.dst, is_out=ibis.literal(1), k=pairs.k)
    inn = pairs.select(account=pairs.dst, cp=pairs.src, is_out=ibis.literal(0), k=pairs.k)
    return out.union(inn, distinct=False)


def _flow_stats(base: ibis.Table, side: int, prefix: str) -> ibis.Table:
    e = base.select(account=base.src if side == 1 else base.dst, cp=base.dst if side == 1 else base.src,
                    amount=base.amount, epoch=base.epoch)
    cents = (e.amount * 100).round().cast("int64")
    return e.group_by("account").aggregate(
        **{
            f"{prefix}_n": e.count(),
            f"{prefix}_sum": e.amount.sum(),
            f"{prefix}_mean": e.amount.mean(),
            f"{prefix}_max": e.amount.max(),
            f"{prefix}_min": e.amount.min(),
            f"{prefix}_std": e.amount.std(),
            f"{prefix}_cp": e.cp.nunique(),
            f"{prefix}_round_share": (cents % 10000 == 0).cast("float64").mean(),
            f"{prefix}_first": e.epoch.min(),
            f"{prefix}_last": e.epoch.max(),
        }
    )


def _activity_stats(edges: ibis.Table) -> ibis.Table:
    """Whole-account timing: span, active days, busiest day, night share, gap burstiness."""
    local = edges.epoch + LOCAL_UTC_OFFSET_HOURS * 3600
    local_hour = (local % 86400) // 3600
    e = edges.select(
        "account", "epoch", day=local // 86400,
        night=((local_hour >= NIGHT_HOURS_LOCAL[0]) & (local_hour < NIGHT_HOURS_LOCAL[1])).cast("float64"),
    )
    # Ties in time need no tie-breaker: the sorted sequence of times, hence every gap, is the same.
    times = e.select("account", "epoch")
    w = ibis.window(group_by=times.account, order_by=times.epoch)
    gaps = times.mutate(gap=(times.epoch - times.epoch.lag().over(w)).cast("float64") / 86400.0)
    gap_stats = gaps.group_by("account").aggregate(gap_mean=gaps.gap.mean(), gap_std=gaps.gap.std(),
                                                    gap_min=gaps.gap.min())
    per_day = e.group_by(["account", "day"]).aggregate(day_n=e.count())
    busiest = per_day.group_by("account").aggregate(active_days=per_day.count(), max_day_n=per_day.day_n.max())
    timing = e.group_by("account").aggregate(
        n=e.count(),
        first=e.epoch.min(),
        last=e.epoch.max(),
        night_share=e.night.mean(),
    )
    j = timing.left_join(busiest, "account").drop("account_right")
    j = j.left_join(gap_stats, "account").drop("account_right")
    span = (j["last"] - j["first"]).cast("float64") / 86400.0
    burst = (j.gap_std - j.gap_mean) / (j.gap_std + j.gap_mean)
    return j.mutate(
        span_days=span,
        burstiness=ibis.ifelse((j.gap_std + j.gap_mean) > 0, burst, ibis.null("float64")),
        tx_per_active_day=j.n.cast("float64") / j.active_days,
        first_seen_epoch=j["first"],
    ).drop("first", "last")


def _relationship_stats(pairs: ibis.Table) -> ibis.Table:
    """Per account: one-off counterparties, transfers per relationship, reciprocal counterparties."""
    out_p = pairs.filter(pairs.is_out == 1)
    in_p = pairs.filter(pairs.is_out == 0)
    stats = []
    for p, prefix in ((out_p, "out"), (in_p, "in")):
        stats.append(p.group_by("account").aggregate(
            **{
                f"{prefix}_oneoff": (p.k == 1).cast("int64").sum(),
                f"{prefix}_pair_mean": p.k.cast("float64").mean(),
                f"{prefix}_pair_max": p.k.max(),
            }
        ))
    recip = out_p.join(in_p, [out_p.account == in_p.account, out_p.cp == in_p.cp]).select(
        account=out_p.account, one_off=((out_p.k == 1) | (in_p.k == 1)).cast("int64")
    )
    recip_stats = recip.group_by("account").aggregate(reciprocal_cp=recip.count(),
                                                      reciprocal_oneoff=recip.one_off.sum())
    j = stats[0].outer_join(stats[1], "account")
    j = j.mutate(account=j.account.coalesce(j.account_right)).drop("account_right")
    j = j.left_join(recip_stats, "account").drop("account_right")
    return j


def _node_table(base: ibis.Table, times: ibis.Table, pairs: ibis.Table) -> ibis.Table:
    """Flow, timing and relationship statistics per account (one row per account)."""
    accounts = times.select("account").distinct()
    parts = [_flow_stats(base, 1, "out"), _flow_stats(base, 0, "in"), _activity_stats(times),
             _relationship_stats(pairs)]
    j = accounts
    for part in parts:
        j = j.left_join(part, "account").drop("account_right")
    zero_cols = ["out_n", "in_n", "out_sum", "in_sum", "out_cp", "in_cp", "out_oneoff", "in_oneoff",
                 "reciprocal_cp", "reciprocal_oneoff"]
    j = j.mutate(**{c: j[c].coalesce(0) for c in zero_cols})
    total = (j.in_sum + j.out_sum)
    return j.mutate(
        degree=j.in_cp + j.out_cp,
        fan_in_ratio=j.in_cp.cast("float64") / (j.out_cp + 1),
        fan_out_ratio=j.out_cp.cast("float64") / (j.in_cp + 1),
        pass_through=ibis.ifelse(total > 0, ibis.least(j.in_sum, j.out_sum) / ibis.greatest(j.in_sum, j.out_sum),
                                 0.0),
        net_flow=ibis.ifelse(total > 0, (j.in_sum - j.out_sum) / total, 0.0),
        oneoff_in_share=ibis.ifelse(j.in_cp > 0, j.in_oneoff.cast("float64") / j.in_cp, ibis.null("float64")),
        oneoff_out_share=ibis.ifelse(j.out_cp > 0, j.out_oneoff.cast("float64") / j.out_cp, ibis.null("float64")),
        in_out_lag_days=(j.out_first - j.in_first).cast("float64") / 86400.0,
    ).drop("out_first", "out_last", "in_first", "in_last")


NEIGHBOUR_COLUMNS = ["degree", "n", "in_oneoff", "out_oneoff", "pass_through", "in_cp", "out_cp",
                     "oneoff_in_share", "oneoff_out_share", "reciprocal_cp"]


def _neighbourhood(pairs: ibis.Table, nodes: ibis.Table) -> ibis.Table:
    """Mean/max of the neighbours' features and two-hop path counts (邻居特征)."""
    links = pairs.select("account", "cp", "is_out")
    nb = nodes.select("account", *NEIGHBOUR_COLUMNS)
    nb = nb.rename({f"nb_{c}": c for c in NEIGHBOUR_COLUMNS}).rename(cp="account")
    joined = links.join(nb, "cp")
    aggs: dict[str, Any] = {}
    for c in NEIGHBOUR_COLUMNS:
        col = joined[f"nb_{c}"].cast("float64")
        aggs[f"nb_mean_{c}"] = col.mean()
        aggs[f"nb_max_{c}"] = col.max()
    # Two-hop paths: out-neighbours' out-degree and in-neighbours' in-degree.
    aggs["two_hop_out"] = (joined.nb_out_cp * joined.is_out).sum()
    aggs["two_hop_in"] = (joined.nb_in_cp * (1 - joined.is_out)).sum()
    # Neighbours that themselves look like one-off hubs (fan-in target / fan-out source).
    aggs["out_to_oneoff_hubs"] = ((joined.is_out == 1) & (joined.nb_in_oneoff >= 3)).cast("int64").sum()
    aggs["in_from_oneoff_hubs"] = ((joined.is_out == 0) & (joined.nb_out_oneoff >= 3)).cast("int64").sum()
    return joined.group_by("account").aggregate(**aggs)


def _materialise(engine: Engine, expr: ibis.Table, name: str) -> ibis.Table:
    """On DuckDB, compute a table that later steps read many times once, as a temp table.

    (``Table.cache()`` would do the same but its finaliser fails noisily at interpreter exit with
    DuckDB 2.0.) Spark plans the whole expression itself and reuses shared stages.
    """
    if engine.name != "duckdb":
        return expr
    return engine.con.create_table(f"_learn_{name}_{uuid.uuid4().hex[:8]}", expr, temp=True)


def account_feature_expr(engine: Engine, windowed: bool = True) -> ibis.Table:
    """The Ibis expression of every relational feature, one row per account seen in a transfer."""
    base = _materialise(engine, _transfers(engine.table("transactions")), "transfers")
    times = _materialise(engine, _account_times(base), "times")
    pairs = _materialise(engine, _directed_pairs(base), "pairs")
    nodes = _materialise(engine, _node_table(base, times, pairs), "nodes")
    nbh = _neighbourhood(pairs, nodes)
    out = nodes.left_join(nbh, "account").drop("account_right")
    if windowed:
        def mat(expr: ibis.Table, name: str) -> ibis.Table:
            return _materialise(engine, expr, name)

        win = windowed_feature_expr(base, nodes, mat)
        out = out.left_join(win, "account").drop("account_right")
        out = out.left_join(one_hop_expr(pairs, win), "account").drop("account_right")
        out = out.left_join(counterparty_flow_expr(base, nodes), "account").drop("account_right")
    return out.order_by("account")


def one_off_pairs_expr(engine: Engine, max_transfers: int = 1) -> ibis.Table:
    """Distinct (from, to) relationships with at most ``max_transfers`` transfers."""
    tx = engine.table("transactions")
    tx = tx.filter(tx.from_account.notnull() & tx.to_account.notnull() & (tx.from_account != tx.to_account))
    pairs = tx.group_by(["from_account", "to_account"]).aggregate(k=tx.count())
    return pairs.filter(pairs.k <= max_transfers).select("from_account", "to_account")


def cycle_features(pairs: pa.Table, max_component: int = MAX_CYCLE_COMPONENT) -> pa.Table:
    """igraph cycle features on the one-off relationship graph (no sensible SQL form).

    Returns account, ``oneoff_scc_size`` (size of its strongly connected component, 1 when on no
    cycle) and ``oneoff_cycle_len`` (shortest directed cycle through it, null when none or when
    its component is larger than ``max_component``).
    """
    import igraph as ig

    src = pairs.column("from_account").to_pylist()
    dst = pairs.column("to_account").to_pylist()
    if not src:
        return pa.table({"account": pa.array([], pa.string()), "oneoff_scc_size": pa.array([], pa.int64()),
                         "oneoff_cycle_len": pa.array([], pa.float64())})
    names = sorted(set(src) | set(dst))
    index = {name: i for i, name in enumerate(names)}
    g = ig.Graph(n=len(names), edges=[(index[a], index[b]) for a, b in zip(src, dst, strict=True)],
                 directed=True)
    components = g.connected_components(mode="strong")
    scc_size = [0] * len(names)
    cycle_len: list[float | None] = [None] * len(names)
    for members in components:
        for v in members:
            scc_size[v] = len(members)
        if not 2 <= len(members) <= max_component:
            continue
        sub = g.induced_subgraph(members)
        dist = sub.distances(mode="out")
        for i in range(len(members)):
            preds = sub.predecessors(i)
            best = min((dist[i][j] for j in preds), default=math.inf)
            if best < math.inf:
                cycle_len[members[i]] = float(best + 1)
    return pa.table({
        "account": pa.array(names, pa.string()),
        "oneoff_scc_size": pa.array(scc_size, pa.int64()),
        "oneoff_cycle_len": pa.array(cycle_len, pa.float64()),
    })


def screening_facts(ws: Any) -> pa.Table | None:
    """Numeric columns of the screening tables (``funds_features``, ``account_risk``) when present."""
    result: pa.Table | None = None
    for table, prefix in (("funds_features", "scr_"), ("account_risk", "risk_")):
        if not ws.has_table(table):
            continue
        t = ws.read_arrow(table)
        if "account" not in t.column_names:
            continue
        keep = {"account": t.column("account").cast(pa.string())}
        for name in t.column_names:
            typ = t.schema.field(name).type
            if name == "account" or name == "rank":
                continue
            if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ) \
                    or pa.types.is_boolean(typ):
                keep[prefix + name] = pc.cast(t.column(name), pa.float64())
        facts = pa.table(keep)
        # One row per account (take the first when a table repeats accounts).
        facts = facts.group_by("account", use_threads=False).aggregate(
            [(c, "max") for c in facts.column_names if c != "account"])
        facts = facts.rename_columns([c.removesuffix("_max") for c in facts.column_names])
        result = facts if result is None else result.join(facts, "account", join_type="full outer")
    return result


def account_features(ws: Any, engine: str = "duckdb", use_screening: bool = True, windowed: bool = True) -> pa.Table:
    """Every feature per account seen in a transfer: relational and windowed (engine), cycles (igraph),
    screening facts."""
    eng = Engine(ws, engine)
    if engine == "duckdb":
        eng.con.raw_sql("SET enable_progress_bar = false")
    feats = eng.to_arrow(account_feature_expr(eng, windowed))
    feats = feats.set_column(0, "account", pc.cast(feats.column("account"), pa.string()))
    pairs = eng.to_arrow(one_off_pairs_expr(eng))
    pairs = pa.table({c: pc.cast(pairs.column(c), pa.string()) for c in ("from_account", "to_account")})
    cycles = cycle_features(pairs)
    feats = feats.join(cycles, "account", join_type="left outer")
    # Accounts with no one-off relationship sit on no one-off cycle: a component of one.
    feats = feats.set_column(feats.column_names.index("oneoff_scc_size"), "oneoff_scc_size",
                             pc.fill_null(feats.column("oneoff_scc_size"), 1))
    if use_screening:
        facts = screening_facts(ws)
        if facts is not None:
            feats = feats.join(facts, "account", join_type="left outer")
    return _stable_floats(feats.sort_by("account"))


def _stable_floats(table: pa.Table) -> pa.Table:
    """Round float features to 40 mantissa bits.

    Parallel aggregation sums in a varying order, so means differ in the last bits from run to run;
    LightGBM bin edges then differ and so would the model. Rounding makes features, and with them
    the trained model and scores, reproducible.
    """
    import numpy as np

    for i, fld in enumerate(table.schema):
        if pa.types.is_floating(fld.type):
            values = table.column(i).to_numpy(zero_copy_only=False).astype("float64")
            mantissa, exponent = np.frexp(values)
            rounded = np.ldexp(np.round(mantissa * 2.0**40) / 2.0**40, exponent)
            table = table.set_column(i, fld.name, pa.array(rounded, pa.float64(), from_pandas=True))
    return table


def account_relationships(ws: Any, engine: str = "duckdb") -> pa.Table:
    """Directed relationships (src, dst, transfers ``k``, total ``amount``) for label-aware features."""
    eng = Engine(ws, engine)
    rel = eng.to_arrow(relationships_expr(_transfers(eng.table("transactions"))).order_by(["src", "dst"]))
    return pa.table({"src": pc.cast(rel.column("src"), pa.string()), "dst": pc.cast(rel.column("dst"), pa.string()),
                     "k": pc.cast(rel.column("k"), pa.int64()), "amount": pc.cast(rel.column("amount"), pa.float64())})
