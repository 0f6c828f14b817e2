"""Funds typologies as Ibis expressions over the lake tables ``transactions`` and ``accounts``.

Written once, run on DuckDB or PySpark (see :mod:`chainbreaker.engine`). Times are handled as
epoch seconds plus a fixed UTC offset (Asia/Shanghai has no DST), amounts stay exact decimals
until a ratio is taken, so both engines produce the same numbers.

Per account we compute behaviour facts (in/out counts and sums, distinct counterparties, how
much inbound money left again within a few minutes, night and round-amount shares, dormancy,
devices shared with other holders, loops), then one signal per typology in 0..1 and a combined
score. Signals are compared with the account's own history (dormancy, pass-through) and with the
population (night and round shares), and combined, rather than fired on a single raw count.
"""

from __future__ import annotations

from typing import Any

import ibis
from ibis import _

CORE_SIGNALS = ("paofen", "fast_in_out", "fan_in", "fan_out", "card_pool", "dormant")
CONTEXT_SIGNALS = ("night", "round_amount", "loop", "transit")


def ramp(x: Any, lo: float, hi: float) -> Any:
    """0 below ``lo``, 1 above ``hi``, linear between."""
    return ((x.cast("float64") - lo) / (hi - lo)).clip(0.0, 1.0)


def ratio(num: Any, den: Any) -> Any:
    """num/den as float, 0 when den is 0 or null."""
    return ibis.ifelse(den.fill_null(0) > 0, num.fill_null(0).cast("float64") / den.cast("float64"), 0.0)


def epoch(ts: Any) -> Any:
    """Whole epoch seconds, truncated the same way on every engine (DuckDB rounds, Spark floors)."""
    return ts.truncate("s").epoch_seconds().cast("int64")


def noisy_or(terms: list[Any]) -> Any:
    prod: Any = ibis.literal(1.0)
    for term in terms:
        prod = prod * (1.0 - term)
    return 1.0 - prod


def valid_transactions(tx: ibis.Table) -> ibis.Table:
    """Rows the screening can use: both sides known, distinct, positive amount, a time."""
    return tx.filter(
        tx.from_account.notnull() & tx.to_account.notnull() & (tx.from_account != "")
        & (tx.to_account != "") & (tx.from_account != tx.to_account)
        & tx.amount.notnull() & (tx.amount > 0) & tx.ts.notnull()
    )


def account_events(v: ibis.Table, p: dict[str, Any]) -> ibis.Table:
    """One row per (account, transfer): inbound (dir=1) and outbound (dir=-1), with window facts."""
    # epoch once per transfer, before the rows are doubled (the timezone cast is not free)
    v = v.mutate(epoch=epoch(v.ts))
    cols = {"cp": None, "amount": v.amount, "txn_id": v.txn_id, "epoch": v.epoch}
    inbound = v.select(account=v.to_account, **{**cols, "cp": v.from_account}, dir=ibis.literal(1, "int8"))
    outbound = v.select(account=v.from_account, **{**cols, "cp": v.to_account}, dir=ibis.literal(-1, "int8"))
    ev = ibis.union(inbound, outbound)
    offset = int(p["time"]["utc_offset_hours"] * 3600)
    local = ev.epoch + offset
    ev = ev.mutate(
        hour=(local % 86400) // 3600,
        day=local // 86400,
        is_in=ev.dir == 1,
        is_round=(ev.amount % p["round_amount"]["modulus"]) == 0,
    )
    order = [ev.epoch, ev.txn_id, ev.dir]
    after = ibis.window(group_by=ev.account, order_by=order, preceding=0, following=None)
    before = ibis.window(group_by=ev.account, order_by=order, preceding=None, following=0)
    seq = ibis.window(group_by=ev.account, order_by=order)
    whole = ibis.window(group_by=ev.account)
    ev = ev.mutate(
        next_out=ibis.ifelse(ev.dir == -1, ev.epoch, ibis.null("int64")).min().over(after),
        prev_in=ibis.ifelse(ev.dir == 1, ev.epoch, ibis.null("int64")).max().over(before),
        prev_any=ev.epoch.lag().over(seq),
        # transfers after this one (0-based from the end); same sort as ``seq``, no reverse sort
        rn_desc=ev.count().over(whole) - ibis.row_number().over(seq) - 1,
    )
    window_s = int(p["fast_in_out"]["window_minutes"] * 60)
    nh = p["night"]
    return ev.mutate(
        fast_in=ev.is_in & ev.next_out.notnull() & ((ev.next_out - ev.epoch) <= window_s),
        fast_out=(~ev.is_in) & ev.prev_in.notnull() & ((ev.epoch - ev.prev_in) <= window_s),
        gap_days=((ev.epoch - ev.prev_any).cast("float64") / 86400.0),
        is_night=(ev.hour >= nh["start_hour"]) & (ev.hour < nh["end_hour"]),
    )


def _per_account(ev: ibis.Table, p: dict[str, Any]) -> ibis.Table:
    small = p["paofen"]["small_max_amount"]
    gap = p["dormant"]["gap_days"]
    return ev.group_by("account").aggregate(
        n_all=_.count(),
        n_in=_.count(where=_.is_in),
        n_out=_.count(where=~_.is_in),
        amt_in=_.amount.sum(where=_.is_in),
        amt_out=_.amount.sum(where=~_.is_in),
        fast_in_amt=_.amount.sum(where=_.fast_in),
        fast_in_n=_.count(where=_.fast_in),
        fast_out_amt=_.amount.sum(where=_.fast_out),
        fast_gap_min=((_.next_out - _.epoch).cast("float64") / 60.0).mean(where=_.fast_in),
        small_in_n=_.count(where=_.is_in & (_.amount <= small)),
        night_n=_.count(where=_.is_night),
        round_n=_.count(where=_.is_round),
        first_epoch=_.epoch.min(),
        last_epoch=_.epoch.max(),
        max_gap_days=_.gap_days.max(),
        wake_rn=(_.rn_desc + 1).min(where=_.gap_days >= gap),  # transfers from waking on
    )


def _daily_peak(ev: ibis.Table) -> ibis.Table:
    """Active days and the largest inbound day (one (account, day) grouping serves both)."""
    daily = ev.group_by(["account", "day"]).aggregate(day_in=_.amount.sum(where=_.is_in))
    return daily.group_by("account").aggregate(active_days=_.count(), max_daily_in=_.day_in.max())


def account_pairs(ev: ibis.Table) -> ibis.Table:
    """One row per (account, counterparty, direction): money, transfer count, first and last time.

    Computed once from the events and reused by counterparty breadth and concentration, loops and
    the network passes (each used to group the 2xN transfers by text keys again).
    """
    return ev.group_by(["account", "cp", "dir"]).aggregate(
        pair_amt=_.amount.sum(), pair_n=_.count(), first=_.epoch.min(), last=_.epoch.max())


def _concentration(pairs: ibis.Table) -> ibis.Table:
    return pairs.group_by("account").aggregate(
        n_payers=_.count(where=_.dir == 1),
        n_payees=_.count(where=_.dir == -1),
        top_payer_amt=_.pair_amt.max(where=_.dir == 1),
        top_payee_amt=_.pair_amt.max(where=_.dir == -1),
    )


def card_pools(v: ibis.Table, accounts: ibis.Table | None, p: dict[str, Any]) -> ibis.Table:
    """Per account: the most distinct holders seen on any IP or MAC it used (卡池)."""
    src = v.select(account=v.from_account, name=v.from_name, ip=v.ip, mac=v.mac)
    if accounts is not None:
        holders = accounts.group_by("account").aggregate(
            holder=ibis.coalesce(_.holder_id, _.holder_name).max())
        src = src.left_join(holders, src.account == holders.account).select(
            account=src.account, ip=src.ip, mac=src.mac,
            holder=ibis.coalesce(holders.holder, src.name, src.account))
    else:
        src = src.mutate(holder=ibis.coalesce(src.name, src.account)).drop("name")
    ip = src.filter(src.ip.notnull() & (src.ip.strip() != "")).select(
        "account", "holder", device=ibis.literal("ip:") + src.ip.strip())
    mac = src.filter(src.mac.notnull() & (src.mac.strip() != "")).select(
        "account", "holder", device=ibis.literal("mac:") + src.mac.strip().upper())
    dev = ibis.union(ip, mac).distinct()
    per_dev = dev.group_by("device").aggregate(holders=_.holder.nunique())
    per_dev = per_dev.filter(per_dev.holders <= p["card_pool"]["max_holders"])
    joined = dev.join(per_dev, "device")
    return joined.group_by("account").aggregate(
        pool_holders=_.holders.max(),
        pool_device=_.device.argmax(_.holders),
    )


def loops(account_pairs: ibis.Table, p: dict[str, Any]) -> ibis.Table:
    """Accounts on a time-ordered 2- or 3-account cycle (资金回路), hubs excluded.

    ``account_pairs`` is :func:`account_pairs`; its outbound rows are the (from, to) pair flows.
    """
    lp = p["loops"]
    window_s = int(lp["window_days"] * 86400)
    out = account_pairs.filter(account_pairs.dir == -1)
    pairs = out.select(from_account=out.account, to_account=out.cp, amt=out.pair_amt, first=out.first,
                       last=out.last)
    deg = ibis.union(pairs.select(acc=pairs.from_account), pairs.select(acc=pairs.to_account), distinct=False)
    hubs = deg.group_by("acc").aggregate(deg=_.count()).filter(_.deg > lp["max_degree"])
    big = pairs.filter(pairs.amt >= lp["min_amount"])
    hub_from = hubs.select(hub_from=hubs.acc)
    hub_to = hubs.select(hub_to=hubs.acc)
    big = big.anti_join(hub_from, big.from_account == hub_from.hub_from)
    big = big.anti_join(hub_to, big.to_account == hub_to.hub_to)
    a = big.select(a=big.from_account, b=big.to_account, f1=big.first, l1=big.last)
    r = big.select(rb=big.from_account, ra=big.to_account, f2=big.first, l2=big.last)
    two = a.join(r, (a.b == r.rb) & (a.a == r.ra) & (r.l2 > a.f1) & (r.f2 <= a.l1 + window_s))
    two = two.select(account=two.a, partner=two.b)
    c = big.select(cb=big.from_account, cc=big.to_account, f2=big.first, l2=big.last)
    d = big.select(dc=big.from_account, da=big.to_account, f3=big.first, l3=big.last)
    ab_bc = a.join(c, (a.b == c.cb) & (c.cc != a.a) & (c.l2 > a.f1) & (c.f2 <= a.l1 + window_s))
    three = ab_bc.join(d, (ab_bc.cc == d.dc) & (ab_bc.a == d.da) & (d.l3 > ab_bc.f2) & (d.f3 <= ab_bc.l2 + window_s))
    three = three.select(account=three.a, partner=three.b)
    members = ibis.union(two, three, distinct=False)
    return members.group_by("account").aggregate(loop_partner=_.partner.min(), loop_partners=_.partner.nunique())


EVENT_COLUMNS = ("account", "cp", "amount", "txn_id", "dir", "epoch", "day", "is_in", "is_round", "next_out",
                 "rn_desc", "fast_in", "fast_out", "gap_days", "is_night")


def account_features(tx: ibis.Table, accounts: ibis.Table | None, p: dict[str, Any],
                     events: ibis.Table | None = None, pairs: ibis.Table | None = None) -> ibis.Table:
    """Behaviour facts per account (one row per account seen in a valid transfer).

    ``events`` and ``pairs`` may be materialised copies of :func:`account_events` and
    :func:`account_pairs` (Spark does not reuse a sub-plan read several times; DuckDB does, but
    materialising costs little).
    """
    v = valid_transactions(tx)
    ev = events if events is not None else account_events(v, p)
    pr = pairs if pairs is not None else account_pairs(ev)
    base = _per_account(ev, p)
    for extra in (_daily_peak(ev), _concentration(pr), card_pools(v, accounts, p), loops(pr, p)):
        base = base.left_join(extra, base.account == extra.account).drop("account_right")
    return base.mutate(n_before=base.n_all - base.wake_rn.fill_null(0))


def population(features: ibis.Table) -> ibis.Table:
    """Population baselines the per-account figures are compared with (peer comparison)."""
    f = features
    return f.aggregate(
        pop_night=f.night_n.sum().cast("float64") / f.n_all.sum().cast("float64"),
        pop_round=f.round_n.sum().cast("float64") / f.n_all.sum().cast("float64"),
        pop_payers=f.n_payers.sum(where=f.n_in > 0).cast("float64") / (f.n_in > 0).sum().cast("float64"),
        pop_payees=f.n_payees.sum(where=f.n_out > 0).cast("float64") / (f.n_out > 0).sum().cast("float64"),
    )


def breadth(n: Any, pop_mean: Any, fan: dict[str, Any]) -> Any:
    """Breadth of counterparties compared with the population's mean (a peer comparison)."""
    lo = ibis.greatest(3.0, fan["breadth_low_x"] * pop_mean)
    hi = ibis.greatest(float(fan["min_breadth"]), fan["breadth_high_x"] * pop_mean)
    return ((n.cast("float64") - lo) / (hi - lo)).clip(0.0, 1.0)


def core_signals(f: ibis.Table, p: dict[str, Any]) -> ibis.Table:
    """Add derived ratios and the core typology signals (0..1) to the feature table."""
    fio, fan, pf, dm, cp = p["fast_in_out"], p["fan"], p["paofen"], p["dormant"], p["card_pool"]
    f = f.cross_join(population(f))
    f = f.mutate(
        retention=ibis.ifelse(f.amt_in.fill_null(0) > 0,
                              (f.amt_in.fill_null(0) - f.amt_out.fill_null(0)).cast("float64") / f.amt_in.cast("float64"),
                              -1.0),
        net_flow=ratio(f.amt_in.fill_null(0) - f.amt_out.fill_null(0), f.amt_in.fill_null(0) + f.amt_out.fill_null(0)),
        fast_in_share=ratio(f.fast_in_amt, f.amt_in),
        fast_out_share=ratio(f.fast_out_amt, f.amt_out),
        small_in_share=ratio(f.small_in_n, f.n_in),
        night_share=ratio(f.night_n, f.n_all),
        round_share=ratio(f.round_n, f.n_all),
        top_payer_share=ratio(f.top_payer_amt, f.amt_in),
        top_payee_share=ratio(f.top_payee_amt, f.amt_out),
    )
    passthrough = ibis.ifelse(f.amt_in.fill_null(0) > 0,
                              1.0 - ramp(f.retention.abs(), fio["retention_low"], fio["retention_high"]), 0.0)
    fast_in = ramp(f.fast_in_share, fio["share_low"], fio["share_high"])
    fast_out = ramp(f.fast_out_share, fio["share_low"], fio["share_high"])
    slow = fan["slow_factor"]
    f = f.mutate(passthrough=passthrough)
    return f.mutate(
        s_fast_in_out=(fast_in * ramp(f.n_in, 1, fio["min_inbound"]) * ramp(f.fast_in_n, 5, fio["min_fast_count"])
                       * f.passthrough),
        s_paofen=(ramp(f.n_payers, 2, pf["min_payers"]) * ramp(f.small_in_share, 0.5, 0.9) * fast_in
                  * (1.0 - ramp(f.n_payees, pf["max_payees"], 3 * pf["max_payees"])) * f.passthrough
                  * ibis.ifelse(f.max_daily_in.fill_null(0) <= pf["daily_cap"], 1.0, pf["over_cap_factor"])),
        s_fan_in=(breadth(f.n_payers, f.pop_payers, fan)
                  * ramp(f.top_payee_share, fan["concentration_low"], fan["concentration_high"])
                  * f.passthrough * (slow + (1.0 - slow) * fast_in)),
        s_fan_out=(breadth(f.n_payees, f.pop_payees, fan)
                   * ramp(f.top_payer_share, fan["concentration_low"], fan["concentration_high"])
                   * f.passthrough * (slow + (1.0 - slow) * fast_out)),
        s_card_pool=ramp(f.pool_holders.fill_null(0), cp["min_holders"] - 1, cp["full_holders"]),
        s_dormant=(ibis.ifelse(f.max_gap_days.fill_null(0) >= dm["gap_days"], 1.0, 0.0)
                   * ramp(f.wake_rn.fill_null(0), 2, dm["min_after"])
                   * ramp(ratio(f.wake_rn, f.n_before), 1, dm["burst_ratio"])),
    )


def _core1(f: ibis.Table, p: dict[str, Any]) -> Any:
    w = p["weights"]["core"]
    return noisy_or([w[name] * f[f"s_{name}"] for name in CORE_SIGNALS])


def network(pairs: ibis.Table, flagged: ibis.Table) -> ibis.Table:
    """Per account: money received from the ``flagged`` accounts (column ``flag_acc``)."""
    hit = pairs.join(flagged, pairs.from_account == flagged.flag_acc)
    return hit.group_by(hit.to_account.name("account")).aggregate(
        flagged_in_amt=_.pair_amt.sum(), n_flagged_payers=_.from_account.nunique(),
        flagged_in_n=_.pair_n.sum().cast("int64"))


def _network_signal(f: ibis.Table, nw: dict[str, Any]) -> Any:
    return (ramp(f.n_flagged_payers.fill_null(0), 1, nw["min_flagged_payers"])
            * ramp(ratio(f.flagged_in_amt, f.amt_in), nw["share_low"], nw["share_high"])
            * ramp(f.flagged_in_n.fill_null(0), 2, nw["min_flagged_txns"]))


def score_accounts(tx: ibis.Table, sig: ibis.Table, p: dict[str, Any],
                   account_pairs_: ibis.Table | None = None) -> ibis.Table:
    """Final per-account table: facts, every signal, core, context and the combined score.

    The network signal propagates ``network.passes`` times: accounts fed by flagged accounts
    become flagged in turn (collection card -> mule -> settlement).
    """
    nw = p["network"]
    if account_pairs_ is None:
        account_pairs_ = account_pairs(account_events(valid_transactions(tx), p))
    inbound = account_pairs_.filter(account_pairs_.dir == 1)
    pairs = inbound.select(to_account=inbound.account, from_account=inbound.cp, pair_amt=inbound.pair_amt,
                           pair_n=inbound.pair_n)
    core = sig.select("account", core=_core1(sig, p))
    net = None
    for _pass in range(int(nw["passes"])):
        flagged = core.filter(core.core >= nw["flagged_core"]).select(flag_acc=core.account)
        net = network(pairs, flagged)
        step = sig.left_join(net, sig.account == net.account).drop("account_right")
        core = step.select("account", core=noisy_or([_core1(step, p), p["weights"]["core"]["network"]
                                                     * _network_signal(step, nw)]))
    assert net is not None
    f = sig.left_join(net, sig.account == net.account).drop("account_right")
    f = f.mutate(flagged_in_share=ratio(f.flagged_in_amt, f.amt_in), s_network=_network_signal(f, nw))
    nt, rd, fc = p["night"], p["round_amount"], p["flow_class"]
    f = f.mutate(
        s_night=(ramp(f.night_share - f.pop_night, nt["excess_low"], nt["excess_high"])
                 * ramp(f.n_all, 2, nt["min_txns"])),
        s_round_amount=(ramp(f.round_share - f.pop_round, rd["excess_low"], rd["excess_high"])
                        * ramp(f.n_all, 2, rd["min_txns"])),
        s_loop=ibis.ifelse(f.loop_partners.fill_null(0) > 0, 1.0, 0.0),
        flow_class=ibis.cases(
            (f.n_all < fc["min_txns"], "unknown"),
            (f.net_flow <= -fc["source_net"], "source"),
            (f.net_flow >= fc["sink_net"], "sink"),
            ((f.net_flow.abs() <= fc["transit_within"]) & (f.n_in > 0) & (f.n_out > 0), "transit"),
            else_="mixed",
        ),
    )
    f = f.mutate(s_transit=ibis.ifelse(f.flow_class == "transit", 1.0, 0.0) * ramp(f.n_all, fc["min_txns"], 20))
    w = p["weights"]
    core = noisy_or([_core1(f, p), w["core"]["network"] * f.s_network])
    context = noisy_or([w["context"][name] * f[f"s_{name}"] for name in CONTEXT_SIGNALS])
    f = f.mutate(core=core, context=context)
    gate = ramp(f.core, p["context_gate_low"], p["context_gate_high"])
    f = f.mutate(score=f.core + (1.0 - f.core) * f.context * gate)
    return f


def evidence_rows(tx: ibis.Table, flagged: ibis.Table, p: dict[str, Any],
                  events: ibis.Table | None = None) -> ibis.Table:
    """Source rows behind each (flagged account, rule), capped per pair, with the full count.

    ``flagged`` has columns account, rules (",rule,rule,"), wake_rn, pool_device, loop_partner.
    Only transfers touching a flagged account are re-read, so this stays cheap on large lakes.
    ``events`` may be the materialised :func:`account_events` of all valid transfers (with
    :data:`EVENT_COLUMNS`); its rows of the flagged accounts are the same as recomputed ones.
    """
    v = valid_transactions(tx)
    sub = v.filter(v.from_account.isin(flagged.account) | v.to_account.isin(flagged.account))
    ev = events if events is not None else account_events(sub, p)
    ev = ev.join(flagged, "account")
    conditions = {
        "paofen": ev.fast_in | ev.fast_out,
        "fast_in_out": ev.fast_in | ev.fast_out,
        "fan_in": ev.is_in,
        "fan_out": ~ev.is_in,
        "dormant": (ev.rn_desc + 1) <= ev.wake_rn.fill_null(0),
        "network": ev.is_in & ev.cp.isin(flagged.account),  # inbound from flagged accounts
        "night": ev.is_night,
        "round_amount": ev.is_round,
        "loop": ev.cp == ev.loop_partner,
        "transit": ibis.literal(True),
    }
    parts = [
        ev.filter(cond & ev.rules.contains(f",{rule},")).select(
            account=ev.account, rule=ibis.literal(rule), txn_id=ev.txn_id, amount=ev.amount, epoch=ev.epoch)
        for rule, cond in conditions.items()
    ]
    pool = sub.join(flagged, sub.from_account == flagged.account)
    pool = pool.filter(
        pool.rules.contains(",card_pool,")
        & ((ibis.literal("ip:") + pool.ip.strip() == pool.pool_device)
           | (ibis.literal("mac:") + pool.mac.strip().upper() == pool.pool_device)))
    parts.append(pool.select(account=pool.from_account, rule=ibis.literal("card_pool"), txn_id=pool.txn_id,
                             amount=pool.amount, epoch=epoch(pool.ts)))
    rows = ibis.union(*parts, distinct=False)
    win = ibis.window(group_by=[rows.account, rows.rule],
                      order_by=[ibis.desc(rows.amount), rows.epoch, rows.txn_id])
    rows = rows.mutate(rn=ibis.row_number().over(win),
                       total=rows.txn_id.count().over(ibis.window(group_by=[rows.account, rows.rule])))
    rows = rows.filter(rows.rn < p["evidence_cap"])
    src = v.select(src_txn=v.txn_id, src_sha256=v.src_sha256, src_row=v.src_row)
    out = rows.join(src, rows.txn_id == src.src_txn)
    return out.select("account", "rule", "txn_id", "src_sha256", "src_row", "rn", "total")
