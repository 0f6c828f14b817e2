"""Windowed graph features per account (时间窗口图特征), written once in Ibis for DuckDB and Spark.

The specification follows the pattern definitions of IBM's Graph Feature Preprocessor (GFP, the
``snapml`` package), computed per account instead of per transfer:

* **fan-in / fan-out and degree within time windows** (集中转入/分散转出): for tumbling windows of
  :data:`WINDOW_DAYS` days, the distinct counterparties (fan) and transfers (degree) an account
  has per window on each side; per account the maximum and mean over its active windows, and
  **degree bins**: how many windows reach a fan of at least each of :data:`FAN_BINS`;
* **amount statistics per window**: largest and mean window total on each side, their spread, and
  the largest within-window pass-through ``min(in, out) / max(in, out)`` (过渡账户 within days);
* **scatter-gather** (分散-汇聚): one source pays several intermediaries which each pay the same
  sink within :data:`SG_WINDOW_DAYS` days, time-respecting (each second hop no earlier than the
  first). Per account: as a source, the number of sinks reached through two or more
  intermediaries and the largest such intermediary count; the same as a sink; and as an
  intermediary, the number of such (source, sink) pairs it serves;
* **time-respecting cycles of bounded length** (资金回流): closed chains of two, three and four
  transfers ``a → b → … → a`` where every hop is no earlier than the previous one and the whole
  cycle lies within :data:`CYCLE_WINDOW_DAYS` days of its first hop, through distinct accounts;
  per account the number of such cycles it lies on (a cycle is its sequence of accounts up to
  rotation; hubs with more than :data:`CYCLE_HUB_EVENTS` events on a side are left out);
* **counterparties' activity at the time of each transfer** (交易时点对手方活跃度,
  :func:`_transfer_context`) and **payment cadence** (付款节奏, :func:`_cadence`): what a payer or
  payee was doing in the window of each transfer, and transfers off the payer's routine rhythm;
* **counterparties one hop out** (对手方特征): mean and max over an account's counterparties of a
  selection of the above (:data:`HOP_COLUMNS`), and, weighted by transfer, of the counterparties'
  flow statistics (:func:`counterparty_flow_expr`).

Windows are tumbling (aligned to whole days since the epoch, UTC) rather than sliding: the same
integer arithmetic on every engine, one group-by each. Transfers are first reduced to distinct
(payer, payee, day) events, so repeated transfers between the same two accounts in one day count
once in patterns (GFP counts each edge; here cycles through hubs stay bounded).
"""

from __future__ import annotations

from typing import Any

import ibis

DAY = 86400
WINDOW_DAYS = (1, 7, 30)
FAN_BINS = (2, 5, 10)
SG_WINDOW_DAYS = 7
CYCLE_WINDOW_DAYS = 30
# An account with more distinct-day events than this in one direction is a hub (a shop, a platform
# settlement account): cycles are not enumerated through it, as GFP bounds its search by window.
CYCLE_HUB_EVENTS = 400
# Windows for the counterparties' activity at the time of each transfer (_transfer_context).
CONTEXT_WINDOW_DAYS = (1, 7, 30)

HOP_COLUMNS = [
    "w7_in_fan_max", "w7_out_fan_max", "w1_in_fan_max", "w1_out_fan_max", "w7_pass_max",
    "sg_src_sinks", "sg_dst_sources", "sg_mid_pairs", "tcycle_any",
]


def _events(base: ibis.Table) -> ibis.Table:
    """Distinct (payer, payee, day) events with the day's total and first second."""
    day = base.epoch // DAY
    e = base.mutate(day=day)
    return e.group_by(["src", "dst", "day"]).aggregate(amount=e.amount.sum(), epoch=e.epoch.min(), n=e.count())


def _window_side(ev: ibis.Table, days: int, side: int) -> ibis.Table:
    """Per account and window on one side: fan, degree, total; then per account max/mean/bins."""
    prefix = f"w{days}_{'out' if side == 1 else 'in'}"
    e = ev.select(account=ev.src if side == 1 else ev.dst, cp=ev.dst if side == 1 else ev.src,
                  amount=ev.amount, n=ev.n, win=ev.day // days)
    per = e.group_by(["account", "win"]).aggregate(fan=e.cp.nunique(), deg=e.n.sum(), amt=e.amount.sum())
    aggs: dict[str, Any] = {
        f"{prefix}_fan_max": per.fan.max(),
        f"{prefix}_fan_mean": per.fan.cast("float64").mean(),
        f"{prefix}_deg_max": per.deg.max(),
        f"{prefix}_amt_max": per.amt.max(),
        f"{prefix}_amt_mean": per.amt.mean(),
        f"{prefix}_amt_std": per.amt.std(),
        f"{prefix}_windows": per.count(),
    }
    for k in FAN_BINS:
        aggs[f"{prefix}_fan_ge{k}"] = (per.fan >= k).cast("int64").sum()
    return per.group_by("account").aggregate(**aggs)


def _window_pass_through(ev: ibis.Table, days: int) -> ibis.Table:
    """Largest share of money passed on within one window: max over windows of min(in,out)/max(in,out)."""
    out = ev.select(account=ev.src, win=ev.day // days, amt_out=ev.amount, amt_in=ibis.literal(0.0))
    inn = ev.select(account=ev.dst, win=ev.day // days, amt_out=ibis.literal(0.0), amt_in=ev.amount)
    both = out.union(inn, distinct=False)
    per = both.group_by(["account", "win"]).aggregate(i=both.amt_in.sum(), o=both.amt_out.sum())
    ratio = ibis.ifelse(ibis.greatest(per.i, per.o) > 0,
                        ibis.least(per.i, per.o) / ibis.greatest(per.i, per.o), 0.0)
    per = per.mutate(ratio=ratio)
    return per.group_by("account").aggregate(**{
        f"w{days}_pass_max": per.ratio.max(),
        f"w{days}_pass_windows": (per.ratio >= 0.5).cast("int64").sum(),
    })


def _two_hop_paths(ev: ibis.Table, window_days: int) -> ibis.Table:
    """Time-respecting paths s → m → t (t ≠ s) with the second hop within the window of the first."""
    a = ev.select(s=ev.src, m=ev.dst, t1=ev.epoch)
    b = ev.select(m2=ev.src, t=ev.dst, t2=ev.epoch)
    j = a.join(b, [a.m == b.m2, b.t2 >= a.t1, b.t2 <= a.t1 + window_days * DAY])
    j = j.filter(j.t != j.s)
    return j.select("s", "m", "t").distinct()


def _scatter_gather(ev: ibis.Table) -> ibis.Table:
    """Scatter-gather roles per account (source, sink, intermediary)."""
    paths = _two_hop_paths(ev, SG_WINDOW_DAYS)
    st = paths.group_by(["s", "t"]).aggregate(mids=paths.m.nunique())
    sg = st.filter(st.mids >= 2)
    src = sg.group_by(sg.s.name("account")).aggregate(sg_src_sinks=sg.count(), sg_src_max_mids=sg.mids.max())
    dst = sg.group_by(sg.t.name("account")).aggregate(sg_dst_sources=sg.count(), sg_dst_max_mids=sg.mids.max())
    pairs = sg.select(s2=sg.s, t2=sg.t)
    mid_paths = paths.join(pairs, [paths.s == pairs.s2, paths.t == pairs.t2])
    mid = mid_paths.group_by(mid_paths.m.name("account")).aggregate(sg_mid_pairs=mid_paths.count())
    j = src.outer_join(dst, "account")
    j = j.mutate(account=j.account.coalesce(j.account_right)).drop("account_right")
    j = j.outer_join(mid, "account")
    return j.mutate(account=j.account.coalesce(j.account_right)).drop("account_right")


def _cycles(ev: ibis.Table) -> ibis.Table:
    """Time-respecting cycles of length 2, 3 and 4 through distinct accounts, per account on them."""
    w = CYCLE_WINDOW_DAYS * DAY
    deg_out = ev.group_by(ev.src.name("account")).aggregate(k=ev.count())
    deg_in = ev.group_by(ev.dst.name("account")).aggregate(k=ev.count())
    hubs = deg_out.filter(deg_out.k > CYCLE_HUB_EVENTS).select(hub=deg_out.account).union(
        deg_in.filter(deg_in.k > CYCLE_HUB_EVENTS).select(hub=deg_in.account))
    h_src, h_dst = hubs.view(), hubs.view()
    keep = ev.anti_join(h_src, ev.src == h_src.hub)
    keep = keep.anti_join(h_dst, keep.dst == h_dst.hub)
    e = keep.select(x=keep.src, y=keep.dst, t=keep.epoch)

    def hop(i: int) -> ibis.Table:
        return e.select(**{f"a{i}": e.x, f"a{i + 1}": e.y, f"t{i}": e.t})

    h0, h1, h2, h3 = hop(0), hop(1), hop(2), hop(3)
    # length 2: a0 → a1 → a0
    p1 = h0.join(h1, [h0.a1 == h1.a1, h1.t1 >= h0.t0, h1.t1 <= h0.t0 + w]).select("a0", "a1", "t0", a2="a2", t1="t1")
    c2 = p1.filter(p1.a2 == p1.a0).select("a0", "a1").distinct()
    # length 3: a0 → a1 → a2 → a0
    p1o = p1.filter(p1.a2 != p1.a0)
    p2 = p1o.join(h2, [p1o.a2 == h2.a2, h2.t2 >= p1o.t1, h2.t2 <= p1o.t0 + w]).select(
        "a0", "a1", "a2", "t0", a3="a3", t2="t2")
    c3 = p2.filter(p2.a3 == p2.a0).select("a0", "a1", "a2").distinct()
    # length 4: a0 → a1 → a2 → a3 → a0 (a3 distinct from a0, a1)
    p2o = p2.filter((p2.a3 != p2.a0) & (p2.a3 != p2.a1))
    p3 = p2o.join(h3, [p2o.a3 == h3.a3, h3.t3 >= p2o.t2, h3.t3 <= p2o.t0 + w])
    c4 = p3.filter(p3.a4 == p3.a0).select("a0", "a1", "a2", "a3").distinct()
    parts = []
    for c, length in ((c2, 2), (c3, 3), (c4, 4)):
        members = _canonical_rotation(c, length)
        per_member = None
        for i in range(length):
            m = members.select(account=members[f"a{i}"])
            per_member = m if per_member is None else per_member.union(m, distinct=False)
        assert per_member is not None
        parts.append(per_member.group_by("account").aggregate(**{f"tcycle{length}": per_member.count()}))
    j = parts[0].outer_join(parts[1], "account")
    j = j.mutate(account=j.account.coalesce(j.account_right)).drop("account_right")
    j = j.outer_join(parts[2], "account")
    return j.mutate(account=j.account.coalesce(j.account_right)).drop("account_right")


def _canonical_rotation(cycles: ibis.Table, length: int) -> ibis.Table:
    """One row per cycle: its account sequence rotated to start at the smallest account.

    A cycle is time-respecting from one start only, unless hops share a time; then it is found from
    several starts, and the rotation makes those one cycle again.
    """
    cols = [cycles[f"a{i}"] for i in range(length)]
    smallest = ibis.least(*cols)
    rotated: dict[str, Any] = {}
    for pos in range(length):
        value: Any = None
        for start in reversed(range(length)):
            pick = cols[(start + pos) % length]
            value = pick if value is None else ibis.ifelse(cols[start] == smallest, pick, value)
        rotated[f"a{pos}"] = value
    return cycles.select(**rotated).distinct()


def _side_windows(base: ibis.Table, days: int, side: int) -> ibis.Table:
    """Per account and tumbling window on one side (1 = paying, 0 = receiving): transfers ``n``,
    distinct counterparties ``fan`` and the account's usual (mean over its active windows) ``usual``."""
    e = base.select(account=base.src if side == 1 else base.dst, cp=base.dst if side == 1 else base.src,
                    win=(base.epoch // DAY) // days)
    per = e.group_by(["account", "win"]).aggregate(n=e.count(), fan=e.cp.nunique())
    usual = per.group_by(per.account.name("acct")).aggregate(usual=per.n.cast("float64").mean())
    j = per.join(usual, per.account == usual.acct)
    return j.select("account", "win", "n", "fan", "usual")


def _transfer_context(base: ibis.Table, mat: Any) -> ibis.Table:
    """Counterparties' activity at the time of each transfer (交易时点对手方活跃度).

    For every transfer an account receives, the payer's outgoing transfers and distinct payees in
    the same tumbling window of :data:`CONTEXT_WINDOW_DAYS` days, and that count over the payer's
    usual count per active window (``pexcess``: a payer sending more than its routine); for every
    transfer it makes, the same of the payee's incoming side. Per account the max, min and mean
    over its transfers (GFP computes its window features per transfer; these are those features
    summarised per account).
    """
    parts = []
    for days in CONTEXT_WINDOW_DAYS:
        for side, name in ((0, "in"), (1, "out")):
            # The counterparty's windows on the other side: payers' outgoing for a receipt.
            cpw = mat(_side_windows(base, days, 1 - side), f"ctx{days}_{name}")
            cpw = cpw.select(cp=cpw.account, cwin=cpw.win, cn=cpw.n, cfan=cpw.fan, cusual=cpw.usual)
            t = base.select(account=base.dst if side == 0 else base.src, cp=base.src if side == 0 else base.dst,
                            win=(base.epoch // DAY) // days)
            j = t.join(cpw, [t.cp == cpw.cp, t.win == cpw.cwin])
            p = f"ctx{days}_{name}"
            parts.append(j.group_by(j.account).aggregate(**{
                f"{p}_pdeg_max": j.cn.max(),
                f"{p}_pdeg_min": j.cn.min(),
                f"{p}_pdeg_mean": j.cn.cast("float64").mean(),
                f"{p}_pexcess_max": (j.cn.cast("float64") / j.cusual).max(),
                f"{p}_pfan_max": j.cfan.max(),
                f"{p}_pfan_min": j.cfan.min(),
            }))
    return _outer_all(parts)


def _cadence(base: ibis.Table) -> ibis.Table:
    """Payment cadence (付款节奏): transfers off the payer's routine rhythm.

    Per payer, the gaps in whole days between consecutive outgoing transfers; the most common gap
    (ties: the shorter) is its cadence and the share of gaps equal to it its regularity. A transfer
    is off-cadence when neither the gap before it nor the gap after it equals the payer's cadence
    (payers with a single transfer have no cadence). Per account: off-cadence transfers received
    (count, share) and the lowest and mean regularity of its payers; off-cadence transfers made
    (count, share) and its own regularity.
    """
    e = base.select(s=base.src, d=base.dst, day=base.epoch // DAY)
    w = ibis.window(group_by=e.s, order_by=[e.day, e.d])
    g = e.mutate(gp=e.day - e.day.lag().over(w), gn=e.day.lead().over(w) - e.day)
    gaps = g.filter(g.gp.notnull())
    counts = gaps.group_by(["s", "gp"]).aggregate(c=gaps.count())
    ranked = counts.mutate(
        r=ibis.row_number().over(group_by=counts.s, order_by=[counts.c.desc(), counts.gp]),
        tot=counts.c.sum().over(group_by=counts.s),
    )
    modal = ranked.filter(ranked.r == 0)
    modal = modal.select(s2=modal.s, mg=modal.gp, reg=modal.c.cast("float64") / modal.tot)
    j = g.left_join(modal, g.s == modal.s2)
    off = (j.mg.notnull() & (j.gp.isnull() | (j.gp != j.mg)) & (j.gn.isnull() | (j.gn != j.mg))).cast("int64")
    f = j.select(s=j.s, d=j.d, off=off, reg=j.reg.coalesce(0.0))
    received = f.group_by(f.d.name("account")).aggregate(
        cad_in_off=f.off.sum(), cad_in_off_share=f.off.cast("float64").mean(),
        cad_in_payer_reg_min=f.reg.min(), cad_in_payer_reg_mean=f.reg.mean())
    made = f.group_by(f.s.name("account")).aggregate(
        cad_out_off=f.off.sum(), cad_out_off_share=f.off.cast("float64").mean(), cad_out_reg=f.reg.max())
    return _outer_all([received, made])


def _outer_all(parts: list[ibis.Table]) -> ibis.Table:
    """Full outer join of per-account tables on ``account``."""
    j = parts[0]
    for part in parts[1:]:
        j = j.outer_join(part, "account")
        j = j.mutate(account=j.account.coalesce(j.account_right)).drop("account_right")
    return j


ZERO_FILLED_PREFIXES = ("sg_", "tcycle")


def windowed_feature_expr(base: ibis.Table, accounts: ibis.Table, materialise: Any = None) -> ibis.Table:
    """Every windowed feature, one row per account of ``accounts`` (column ``account``).

    ``base`` is the transfers table of :func:`chainbreaker.chains.funds.features_graph._transfers`
    (src, dst, amount, epoch). ``materialise(expr, name)`` may store a reused intermediate (DuckDB).
    """
    mat = materialise or (lambda expr, _name: expr)
    ev = mat(_events(base), "events")
    parts = []
    for days in WINDOW_DAYS:
        parts += [_window_side(ev, days, 1), _window_side(ev, days, 0), _window_pass_through(ev, days)]
    parts += [_scatter_gather(ev), _cycles(ev), mat(_transfer_context(base, mat), "context"), _cadence(base)]
    j = accounts.select("account")
    for part in parts:
        j = j.left_join(part, "account").drop("account_right")
    zero = [c for c in j.columns if c.startswith(ZERO_FILLED_PREFIXES) or c.endswith("_windows")
            or "_fan_ge" in c]
    j = j.mutate(**{c: j[c].coalesce(0) for c in zero})
    j = j.mutate(tcycle_any=j.tcycle2 + j.tcycle3 + j.tcycle4)
    return mat(j, "windowed")


def one_hop_expr(pairs: ibis.Table, windowed: ibis.Table) -> ibis.Table:
    """Mean and max of the counterparties' windowed features (one hop out, both directions)."""
    links = pairs.select("account", "cp").distinct()
    nb = windowed.select(cp=windowed.account, **{f"h_{c}": windowed[c].cast("float64") for c in HOP_COLUMNS})
    j = links.join(nb, "cp")
    aggs: dict[str, Any] = {}
    for c in HOP_COLUMNS:
        aggs[f"nbw_mean_{c}"] = j[f"h_{c}"].mean()
        aggs[f"nbw_max_{c}"] = j[f"h_{c}"].max()
    return j.group_by("account").aggregate(**aggs)


COUNTERPARTY_FLOW_COLUMNS = ["out_n", "out_mean", "out_std", "out_cp", "in_n", "in_mean", "in_std", "in_cp"]


def counterparty_flow_expr(base: ibis.Table, nodes: ibis.Table) -> ibis.Table:
    """Counterparties' flow statistics weighted by transfer (GFP's per-edge vertex statistics, summed
    up per account): over an account's outgoing transfers the mean and max of the payees' statistics
    (``tw_out_*``), over its incoming transfers those of the payers (``tw_in_*``)."""
    stats = nodes.select(cp=nodes.account, **{f"c_{c}": nodes[c].cast("float64") for c in COUNTERPARTY_FLOW_COLUMNS})
    parts = []
    for side in ("out", "in"):
        e = base.select(account=base.src if side == "out" else base.dst, cp=base.dst if side == "out" else base.src)
        j = e.join(stats, "cp")
        aggs: dict[str, Any] = {}
        for c in COUNTERPARTY_FLOW_COLUMNS:
            aggs[f"tw_{side}_mean_{c}"] = j[f"c_{c}"].mean()
            aggs[f"tw_{side}_max_{c}"] = j[f"c_{c}"].max()
        parts.append(j.group_by("account").aggregate(**aggs))
    out = parts[0].outer_join(parts[1], "account")
    return out.mutate(account=out.account.coalesce(out.account_right)).drop("account_right")


def relationships_expr(base: ibis.Table) -> ibis.Table:
    """Directed relationships with transfer count and total amount (for label-aware features)."""
    return base.group_by(["src", "dst"]).aggregate(k=base.count(), amount=base.amount.sum())
