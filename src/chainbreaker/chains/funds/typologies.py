"""Funds typologies as Ibis expressions over the lake tables ``transactions`` and ``accounts``.

Written once, run on DuckDB or PySpark (see :mod:`chainbreaker.core.engine`). They read the
per-account events of :mod:`chainbreaker.chains.funds.events`: accounts as integer codes, times as epoch
seconds plus a fixed UTC offset (Asia/Shanghai has no DST), amounts as exact integer fen until a
ratio is taken, so both engines produce the same numbers.

Per account we compute behaviour facts (in/out counts and sums, distinct counterparties, how
much inbound money left again within a few minutes, night and round-amount shares, dormancy,
devices shared with other holders, loops), then one signal per typology in 0..1 and a combined
score. Signals are compared with the account's own history (dormancy, pass-through) and with the
population (night and round shares), and combined, rather than fired on a single raw count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import pyarrow as pa
from ibis import _

from chainbreaker.chains.funds import evidence
from chainbreaker.chains.funds.events import EP_BITS, account_events, event_flags, fast_flags, transfers
from chainbreaker.core.engine import LAKE_FILE_ROW_MASK

CORE_SIGNALS = ("paofen", "fast_in_out", "fan_in", "fan_out", "card_pool", "dormant")
CONTEXT_SIGNALS = ("night", "round_amount", "loop", "transit")


def unit_clip(y: Any) -> Any:
    """``y.clip(0.0, 1.0)``: the same values, nulls and NaNs on every engine, in compact SQL.

    Ibis compiles ``clip`` to nested ``CASE WHEN y IS NULL THEN y ELSE LEAST(1.0, y) END`` that
    repeat ``y`` nine times; a signal multiplies a handful of these, so the signal statements
    grew to ~20 KB of SQL whose compilation (Ibis) and planning (DuckDB) cost more than running
    them at a million transfers. Here ``y`` appears twice, with the same LEAST/GREATEST calls.
    """
    return ibis.ifelse(y.isnull(), ibis.null("float64"), ibis.greatest(0.0, ibis.least(1.0, y)))


def ramp(x: Any, lo: float, hi: float) -> Any:
    """0 below ``lo``, 1 above ``hi``, linear between."""
    return unit_clip((x.cast("float64") - lo) / (hi - lo))


def ratio(num: Any, den: Any) -> Any:
    """num/den as float, 0 when den is 0 or null."""
    return ibis.ifelse(den.fill_null(0) > 0, num.fill_null(0).cast("float64") / den.cast("float64"), 0.0)


def noisy_or(terms: list[Any]) -> Any:
    prod: Any = ibis.literal(1.0)
    for term in terms:
        prod = prod * (1.0 - term)
    return 1.0 - prod


def is_valid(tx: ibis.Table) -> Any:
    """Whether a transfer is usable by the screening: both sides known, distinct, positive amount, a time.

    Never null (each comparison is guarded by a ``notnull``), so its negation selects exactly the rest.
    """
    return (tx.from_account.notnull() & tx.to_account.notnull() & (tx.from_account != "")
            & (tx.to_account != "") & (tx.from_account != tx.to_account)
            & tx.amount.notnull() & (tx.amount > 0) & tx.ts.notnull())


def valid_transactions(tx: ibis.Table) -> ibis.Table:
    """Rows the screening can use (:func:`is_valid`)."""
    return tx.filter(is_valid(tx))


def daily_facts(ev: ibis.Table, p: dict[str, Any]) -> ibis.Table:
    """One row per (account, local day with transfers): every per-account count and sum, that day.

    The one pass over the 2xN events (``ev`` is :func:`~chainbreaker.chains.funds.events.event_flags`):
    the per-account totals (:func:`per_account`) and dormancy (:func:`dormancy`) read this far
    smaller table. ``day_n``/``day_in`` are the transfers and inbound money (fen) of the day.
    """
    small_fen = int(p["paofen"]["small_max_amount"] * 100)
    return ev.group_by(["account", "day"]).aggregate(
        day_n=_.count(),
        n_in=_.count(where=_.is_in),
        day_in=_.fen.sum(where=_.is_in),
        amt_out_fen=_.fen.sum(where=~_.is_in),
        fast_in_amt_fen=_.fen.sum(where=_.fast_in),
        fast_in_n=_.count(where=_.fast_in),
        fast_out_amt_fen=_.fen.sum(where=_.fast_out),
        # an exact integer sum of seconds, divided once: a float mean depends on the engine's summation order
        fast_gap_s=(_.next_out - _.ep).sum(where=_.fast_in),
        small_in_n=_.count(where=_.is_in & (_.fen <= small_fen)),
        night_n=_.count(where=_.is_night),
        round_n=_.count(where=_.is_round),
        first_epoch=_.ep.min(),
        last_epoch=_.ep.max(),
    )


def per_account(days: ibis.Table) -> ibis.Table:
    """Counts, money (fen), fast forwarding and night/round counts per account, from :func:`daily_facts`."""
    return days.group_by("account").aggregate(
        n_all=_.day_n.sum(),
        n_in=_.n_in.sum(),
        n_out=(_.day_n - _.n_in).sum(),
        amt_in_fen=_.day_in.sum(),
        amt_out_fen=_.amt_out_fen.sum(),
        fast_in_amt_fen=_.fast_in_amt_fen.sum(),
        fast_in_n=_.fast_in_n.sum(),
        fast_out_amt_fen=_.fast_out_amt_fen.sum(),
        fast_gap_s=_.fast_gap_s.sum(),
        small_in_n=_.small_in_n.sum(),
        night_n=_.night_n.sum(),
        round_n=_.round_n.sum(),
        first_epoch=_.first_epoch.min(),
        last_epoch=_.last_epoch.max(),
    )


def active_days(ev: ibis.Table) -> ibis.Table:
    """One row per (account, local day with transfers): transfers and inbound money (fen) that day."""
    return ev.group_by(["account", "day"]).aggregate(day_n=_.count(), day_in=_.fen.sum(where=_.is_in))


def dormancy(days: ibis.Table, p: dict[str, Any]) -> ibis.Table:
    """Days active, peak inbound day, and dormancy (休眠后激活) per account, from :func:`daily_facts`
    (or :func:`active_days`: columns account, day, day_n, day_in).

    A gap is the number of days between two consecutive active days; the account woke up on the
    latest day that follows a gap of at least ``dormant.gap_days``. ``wake_rn`` counts transfers
    from that day on, ``wake_day`` names it (local days since 1970-01-01).
    """
    seq = ibis.window(group_by=days.account, order_by=days.day)
    d = days.mutate(gap=days.day - days.day.lag().over(seq))
    per = d.group_by("account").aggregate(
        active_days=_.count(), max_daily_in_fen=_.day_in.max(), max_gap_days=_.gap.max().cast("float64"),
        wake_day=_.day.max(where=_.gap >= int(p["dormant"]["gap_days"])))
    # transfers from the wake-up day on: only the (few) accounts that woke up are re-read
    woke = per.filter(per.wake_day.notnull()).select(w_acc=per.account, w_day=per.wake_day)
    after = days.join(woke, (days.account == woke.w_acc) & (days.day >= woke.w_day))
    wake = after.group_by("account").aggregate(wake_rn=_.day_n.sum())
    return per.left_join(wake, per.account == wake.account).drop("account_right")


def account_facts(days: ibis.Table, p: dict[str, Any], extras: bool = False) -> ibis.Table:
    """:data:`FACT_COLUMNS` per account from :func:`daily_facts` (the grouped path, every engine).

    ``extras`` adds :data:`DAY_EXTRAS`, as :func:`sorted_account_facts` does.
    """
    acc, dorm = per_account(days), dormancy(days, p)
    facts = acc.left_join(dorm, acc.account == dorm.account).drop("account_right")
    if not extras:
        return facts
    # -1 stands for "no inbound that day": arg_min/min_by skip null values
    day_in = ibis.ifelse(days.day_in.isnull(), -1, days.day_in)
    ends = days.group_by("account").aggregate(first_in=day_in.argmin(days.day), last_in=day_in.argmax(days.day))
    facts = facts.left_join(ends, facts.account == ends.account).drop("account_right")
    return facts.mutate(first_day_in_fen=ibis.ifelse(facts.first_in < 0, ibis.null("int64"), facts.first_in),
                        last_day_in_fen=ibis.ifelse(facts.last_in < 0, ibis.null("int64"), facts.last_in),
                        ).drop("first_in", "last_in")


# sorted_account_facts packs (account, epoch second, direction) into one int64 sort key
_EP_BITS = EP_BITS
_ACC_BITS = 62 - _EP_BITS  # account codes below 2**29
FACT_COLUMNS = ("account", "n_all", "n_in", "n_out", "amt_in_fen", "amt_out_fen", "fast_in_amt_fen", "fast_in_n",
                "fast_out_amt_fen", "fast_gap_s", "small_in_n", "night_n", "round_n", "first_epoch", "last_epoch",
                "active_days", "max_daily_in_fen", "max_gap_days", "wake_day", "wake_rn")
# inbound money (fen) of an account's first and last active day: null when none came in that day
DAY_EXTRAS = ("first_day_in_fen", "last_day_in_fen")


def sorted_account_facts(duck: Any, tr_sql: str, p: dict[str, Any], extras: bool = False) -> pa.Table | None:
    """:func:`per_account` and :func:`dormancy` of the events of ``tr_sql``, from one sort (DuckDB + numpy).

    The same columns, values and nulls as ``per_account(days)`` left-joined with ``dormancy(days)``
    (:data:`FACT_COLUMNS`), without the (account, day) table in between: at 10M transfers that
    table has about 10M rows (accounts are active on few transfers a day), so grouping the 2xN events
    by (account, day), then regrouping by account, costs about twice the one sort done here.

    ``tr_sql`` is a DuckDB query of :func:`~chainbreaker.chains.funds.events.transfers` with integer
    account codes (``fa``, ``ta``, ``fen``, ``ep``); ``duck`` is the DuckDB connection it runs on.
    The events are sorted by one int64 key (account, second, inbound first), the order in which
    ``next_out``/``prev_in`` are running minima/maxima (see :mod:`~chainbreaker.chains.funds.events`),
    and every per-account and per-day figure is a sum, count or extremum over a contiguous run of
    that order (``numpy.ufunc.reduceat``), in as many slices of whole accounts as DuckDB has
    threads (numpy releases the GIL). Returns None when the key does not fit (times before 1970 or
    after 2242, more than 2**29 accounts): the caller then uses the grouped path. ``extras`` adds
    :data:`DAY_EXTRAS` (what the incremental screening merges on).
    """
    later = sorted_account_facts_later(duck, tr_sql, p, extras)
    return None if later is None else later()


def sorted_account_facts_later(duck: Any, tr_sql: str, p: dict[str, Any],
                               extras: bool = False) -> Callable[[], pa.Table] | None:
    """:func:`sorted_account_facts` in two steps: the event keys are read from ``duck`` now; the
    returned function sorts them and computes the facts without DuckDB, so a caller can run it on a
    thread while the connection does other work (numpy releases the GIL). None when the key does
    not fit."""
    check = f"SELECT min(ep), max(ep), greatest(max(fa), max(ta)), count(*) FROM ({tr_sql})"
    # key = account << 34 | ep << 1 | outbound: sorted, inbound precedes outbound within a second
    keys = f"""SELECT (ta << {_EP_BITS + 1}) | (ep << 1) AS k, fen FROM ({tr_sql})
               UNION ALL SELECT (fa << {_EP_BITS + 1}) | (ep << 1) | 1, fen FROM ({tr_sql})"""
    return _sorted_facts_later(duck, check, keys, p, extras)


def sorted_leg_facts(duck: Any, legs_sql: str, p: dict[str, Any], extras: bool = False) -> pa.Table | None:
    """:func:`sorted_account_facts` of legs: one row per (account, transfer) it is an end of.

    ``legs_sql`` has columns ``aid`` (account code), ``ep``, ``fen`` and ``outbound`` (0 or 1): the
    accounts whose facts are wanted, and only their side of each transfer (the incremental screening
    recomputes a few accounts from every transfer they took part in, without their counterparties).
    """
    check = f"SELECT min(ep), max(ep), max(aid), count(*) FROM ({legs_sql})"
    keys = f"SELECT (aid << {_EP_BITS + 1}) | (ep << 1) | outbound AS k, fen FROM ({legs_sql})"
    later = _sorted_facts_later(duck, check, keys, p, extras)
    return None if later is None else later()


def _sorted_facts_later(duck: Any, check_sql: str, keys_sql: str, p: dict[str, Any],
                        extras: bool) -> Callable[[], pa.Table] | None:
    """Read the keys of ``keys_sql`` now (None when ``check_sql`` says they do not fit); the facts later."""
    lo, hi, top, n_tr = duck.sql(check_sql).fetchall()[0]
    if not n_tr or lo < 0 or hi >= (1 << _EP_BITS) - 1 or top >= (1 << _ACC_BITS):
        return None
    threads = max(1, int(duck.sql("SELECT current_setting('threads')").fetchall()[0][0]))
    keys = [duck.sql(keys_sql).fetchnumpy()]  # handed over, not kept: freed once sorted (at 10M: 320 MB)
    return lambda: _facts_of_keys(keys.pop(), threads, p, extras)


def _facts_of_keys(kf: dict[str, Any], threads: int, p: dict[str, Any], extras: bool) -> pa.Table:
    """The facts of the unsorted event keys ``kf`` (numpy columns k, fen), in ``threads`` slices."""
    import numpy as np

    k, fen = _sort_keys(kf)
    del kf
    # slices of whole accounts, one per thread
    cuts = [0]
    for part in range(1, threads):
        first_of_account = int(np.searchsorted(k, (int(k[len(k) * part // threads]) >> (_EP_BITS + 1)) << (_EP_BITS + 1)))
        if first_of_account > cuts[-1]:
            cuts.append(first_of_account)
    cuts.append(len(k))
    slices = [(k[a:b], fen[a:b]) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    if len(slices) == 1:
        parts = [_slice_facts(*slices[0], p, extras)]
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(len(slices)) as pool:
            parts = list(pool.map(lambda kf: _slice_facts(kf[0], kf[1], p, extras), slices))
    return pa.concat_tables(parts).combine_chunks()


def _sort_keys(kf: dict[str, Any]) -> tuple[Any, Any]:
    """The event keys ``account << 34 | ep << 1 | outbound`` of ``kf`` (numpy columns k, fen) sorted, with their fen.

    Inbound precedes outbound within a second. numpy's SIMD quicksort of the keys takes less than
    half the CPU of DuckDB's ``ORDER BY`` over them (on a 2-core machine, about its wall time too).
    Events with the same key (account, second, direction) come out in any order, as they did from
    ``ORDER BY``: every fact is a sum, count or extremum over runs that hold them all.
    """
    import numpy as np

    k = kf["k"].astype(np.int64, copy=False)
    fen = kf["fen"].astype(np.int64, copy=False)
    packed = _sort_packed(k)
    if packed is not None:
        k_sorted, order = packed
        return k_sorted, fen[order]
    order = np.argsort(k, kind="quicksort")
    return k[order], fen[order]


def _sort_packed(k: Any) -> tuple[Any, Any] | None:
    """``k`` sorted and, for each sorted key, its position in ``k``: one plain sort of the keys with their
    position in the low bits, when account, time span and position fit in 63 bits together (a million
    transfers over a year do; ten million do not). numpy sorts plain integers with SIMD, ~2.4x faster
    than ``argsort`` here (0.12 against 0.28 s for two million keys). Equal keys come out in position
    order. None when they do not fit."""
    import numpy as np

    n = len(k)
    if n == 0:
        return None
    shift = _EP_BITS + 1
    low = k & ((1 << shift) - 1)  # the second and direction: ep << 1 | outbound
    lo = int(low.min())
    acc_bits = (int(k.max()) >> shift).bit_length()
    low_bits = (int(low.max()) - lo).bit_length()
    pos_bits = (n - 1).bit_length()
    if acc_bits + low_bits + pos_bits > 63:
        return None
    packed = ((k >> shift) << (low_bits + pos_bits)) | ((low - lo) << pos_bits) | np.arange(n, dtype=np.int64)
    del low
    packed.sort(kind="quicksort")
    order = packed & ((1 << pos_bits) - 1)
    packed >>= pos_bits
    k_sorted = ((packed >> low_bits) << shift) | ((packed & ((1 << low_bits) - 1)) + lo)
    return k_sorted, order


def _slice_facts(k: Any, fen: Any, p: dict[str, Any], extras: bool = False) -> pa.Table:
    """:func:`sorted_account_facts` of a slice of the sorted keys that holds whole accounts."""
    import numpy as np

    n = len(k)
    t = k >> 1  # account << 33 | ep: increasing within an account, and from one account to the next
    is_in = (k & 1) == 0
    acc = t >> _EP_BITS
    ep = t & ((1 << _EP_BITS) - 1)
    fast_out, fast_in, gap_s = fast_flags(t, is_in, int(p["fast_in_out"]["window_minutes"] * 60))
    del t
    offset = int(p["time"]["utc_offset_hours"] * 3600)
    local = ep + offset
    day = local // 86400
    hour = (local % 86400) // 3600
    del local
    nh = p["night"]

    def starts(change: Any) -> Any:
        return np.flatnonzero(np.concatenate(([True], change)))

    new_acc = acc[1:] != acc[:-1]
    a_start = starts(new_acc)
    a_end = np.append(a_start[1:], n)

    def per(x: Any) -> Any:
        return np.add.reduceat(x.astype(np.int64, copy=False), a_start)

    in_fen = np.where(is_in, fen, 0)
    n_all = a_end - a_start
    n_in = per(is_in)
    fast_in_n = per(fast_in)
    fast_out_n = per(fast_out)
    cols: dict[str, Any] = {
        "account": acc[a_start],
        "n_all": n_all, "n_in": n_in, "n_out": n_all - n_in,
        "amt_in_fen": (per(in_fen), n_in == 0),
        "amt_out_fen": (per(fen) - per(in_fen), n_all == n_in),
        "fast_in_amt_fen": (per(np.where(fast_in, fen, 0)), fast_in_n == 0),
        "fast_in_n": fast_in_n,
        "fast_out_amt_fen": (per(np.where(fast_out, fen, 0)), fast_out_n == 0),
        "fast_gap_s": (per(gap_s), fast_in_n == 0),
        "small_in_n": per(is_in & (fen <= int(p["paofen"]["small_max_amount"] * 100))),
        "night_n": per((hour >= nh["start_hour"]) & (hour < nh["end_hour"])),
        "round_n": per(fen % int(p["round_amount"]["modulus"] * 100) == 0),
        "first_epoch": ep[a_start], "last_epoch": ep[a_end - 1],
    }
    del gap_s, fast_in, fast_out, hour
    # active days: runs of the same (account, local day) inside each account's run
    d_start = starts(new_acc | (day[1:] != day[:-1]))
    d_in = np.add.reduceat(in_fen, d_start)
    d_has_in = np.add.reduceat(is_in.astype(np.int64), d_start) > 0
    d_day = day[d_start]
    d_acc = acc[d_start]
    del in_fen, is_in, day, acc, ep, new_acc
    da_start = starts(d_acc[1:] != d_acc[:-1])  # the same accounts, in the same order, as a_start
    active = np.diff(np.append(da_start, len(d_start)))
    gap = np.empty_like(d_day)
    gap[1:] = d_day[1:] - d_day[:-1]
    gap[da_start] = -1  # an account's first active day follows no gap (null)
    max_gap = np.maximum.reduceat(gap, da_start)
    woke = np.maximum.reduceat(np.where(gap >= int(p["dormant"]["gap_days"]), np.arange(len(gap)), -1), da_start)
    has_woken = woke >= 0
    woke = np.where(has_woken, woke, 0)
    day_in = np.where(d_has_in, d_in, -1)  # -1: no inbound that day (null)
    max_in = np.maximum.reduceat(day_in, da_start)
    cols.update({
        "active_days": active,
        "max_daily_in_fen": (max_in, max_in < 0),
        "max_gap_days": (max_gap.astype(np.float64), max_gap < 0),
        "wake_day": (d_day[woke], ~has_woken),
        "wake_rn": (a_end - d_start[woke], ~has_woken),
    })
    names: tuple[str, ...] = FACT_COLUMNS
    if extras:
        first_in, last_in = day_in[da_start], day_in[np.append(da_start[1:], len(d_start)) - 1]
        cols.update({"first_day_in_fen": (first_in, first_in < 0), "last_day_in_fen": (last_in, last_in < 0)})
        names = FACT_COLUMNS + DAY_EXTRAS
    arrays = []
    for name in names:
        value = cols[name]
        arrays.append(pa.array(value[0], mask=value[1]) if isinstance(value, tuple) else pa.array(value))
    return pa.table(arrays, names=list(names))


def _concentration(pairs: ibis.Table) -> ibis.Table:
    """Distinct payers/payees and the largest single payer's/payee's money per account."""
    payers = pairs.group_by(pairs.ta.name("account")).aggregate(n_payers=_.count(), top_payer_amt_fen=_.amt.max())
    payees = pairs.group_by(pairs.fa.name("account")).aggregate(n_payees=_.count(), top_payee_amt_fen=_.amt.max())
    return payers.outer_join(payees, payers.account == payees.account).select(
        account=ibis.coalesce(payers.account, payees.account), n_payers=payers.n_payers.fill_null(0),
        n_payees=payees.n_payees.fill_null(0), top_payer_amt_fen=payers.top_payer_amt_fen,
        top_payee_amt_fen=payees.top_payee_amt_fen)


def device_rows(v: ibis.Table) -> ibis.Table:
    """One row per (payer account, raw ip, raw mac) of the valid transfers ``v``: the payer name (max).

    What :func:`card_pools` reads. Mergeable: rows of more transfers regroup by the same key with
    ``max(name)``, which the incremental screening uses.
    """
    return v.filter(v.ip.notnull() | v.mac.notnull()).group_by(
        account=v.from_account, ip=v.ip, mac=v.mac).aggregate(name=v.from_name.max())


def card_pools(v: ibis.Table, accounts: ibis.Table | None, p: dict[str, Any],
               raw: ibis.Table | None = None) -> ibis.Table:
    """Per account: the most distinct holders seen on any IP or MAC it used (卡池).

    ``raw`` is :func:`device_rows` of ``v`` when the caller has it already (then ``v`` is not read).
    """
    # one scan, grouped by the raw (account, ip, mac) first: an account uses few devices, so the
    # string clean-up and the holder lookup run on far fewer rows than the transfers
    raw = device_rows(v) if raw is None else raw
    parts = []
    for col, prefix in (("ip", "ip:"), ("mac", "mac:")):
        value = raw[col].strip().upper() if col == "mac" else raw[col].strip()
        parts.append(raw.filter(raw[col].notnull() & (value != "")).select(
            "account", "name", device=ibis.literal(prefix) + value))
    src = ibis.union(*parts, distinct=False)
    if accounts is not None:
        holders = accounts.group_by("account").aggregate(
            holder=ibis.coalesce(_.holder_id, _.holder_name).max())
        src = src.left_join(holders, src.account == holders.account).select(
            account=src.account, device=src.device, holder=ibis.coalesce(holders.holder, src.name, src.account))
    else:
        src = src.select("account", "device", holder=ibis.coalesce(src.name, src.account))
    dev = src.distinct()
    per_dev = dev.group_by("device").aggregate(holders=_.holder.nunique())
    per_dev = per_dev.filter(per_dev.holders <= p["card_pool"]["max_holders"])
    joined = dev.join(per_dev, "device").select("account", "device", "holders").distinct()
    most = joined.group_by("account").aggregate(pool_holders=_.holders.max())
    # the device with the most holders; on a tie the smallest device text (argmax would pick any)
    top = joined.join(most, (joined.account == most.account) & (joined.holders == most.pool_holders))
    return top.group_by(top.account).aggregate(pool_holders=_.pool_holders.max(), pool_device=_.device.min())


def loops(pairs: ibis.Table, p: dict[str, Any], codes: ibis.Table) -> ibis.Table:
    """Accounts on a time-ordered 2- or 3-account cycle (资金回路), hubs excluded.

    ``pairs`` is :func:`chainbreaker.chains.funds.events.pair_flows` (payer ``fa``, payee ``ta``, ``amt`` in fen).
    ``loop_partner`` is the partner with the smallest account number, looked up in ``codes``
    (account, ``aid``): an incremental screening appends codes for new accounts out of number order.
    """
    lp = p["loops"]
    window_s = int(lp["window_days"] * 86400)
    deg = ibis.union(pairs.select(acc=pairs.fa), pairs.select(acc=pairs.ta), distinct=False)
    hubs = deg.group_by("acc").aggregate(deg=_.count()).filter(_.deg > lp["max_degree"])
    big = pairs.filter(pairs.amt >= int(lp["min_amount"] * 100))
    hub_from = hubs.select(hub_from=hubs.acc)
    hub_to = hubs.select(hub_to=hubs.acc)
    big = big.anti_join(hub_from, big.fa == hub_from.hub_from)
    big = big.anti_join(hub_to, big.ta == hub_to.hub_to)
    a = big.select(a=big.fa, b=big.ta, f1=big.first, l1=big.last)
    r = big.select(rb=big.fa, ra=big.ta, f2=big.first, l2=big.last)
    two = a.join(r, (a.b == r.rb) & (a.a == r.ra) & (r.l2 > a.f1) & (r.f2 <= a.l1 + window_s))
    two = two.select(account=two.a, partner=two.b)
    c = big.select(cb=big.fa, cc=big.ta, f2=big.first, l2=big.last)
    d = big.select(dc=big.fa, da=big.ta, f3=big.first, l3=big.last)
    ab_bc = a.join(c, (a.b == c.cb) & (c.cc != a.a) & (c.l2 > a.f1) & (c.f2 <= a.l1 + window_s))
    three = ab_bc.join(d, (ab_bc.cc == d.dc) & (ab_bc.a == d.da) & (d.l3 > ab_bc.f2) & (d.f3 <= ab_bc.l2 + window_s))
    three = three.select(account=three.a, partner=three.b)
    members = ibis.union(two, three, distinct=False)
    # loop members are few (hubs excluded): naming their partners costs a small join
    named = members.join(codes, members.partner == codes.aid).select(members.account, members.partner, number=codes.account)
    return named.group_by("account").aggregate(loop_partner=_.partner.argmin(_.number), loop_partners=_.partner.nunique())


def account_extras(v: ibis.Table, codes: ibis.Table, accounts: ibis.Table | None, p: dict[str, Any],
                   pairs: ibis.Table, devices: ibis.Table | None = None) -> ibis.Table:
    """Per account code: counterparties and concentration, card pools and loops.

    What :func:`account_features` joins to the per-account facts. It reads the pair flows and the
    device rows, not the events, so the caller can stage it while the facts are being computed.
    Every account of ``codes`` has a row: each appears in a pair flow (:func:`_concentration`).
    """
    pools = card_pools(v, accounts, p, raw=devices)
    pools = pools.join(codes, pools.account == codes.account).select(
        account=codes.aid, pool_holders=pools.pool_holders, pool_device=pools.pool_device)
    # one join chain and one projection (each layer costs Ibis a rewrite of every column)
    conc, *others = (_concentration(pairs).view(), pools, loops(pairs, p, codes))
    base = conc
    for extra in others:
        base = base.left_join(extra, conc.account == extra.account)
    return base.select(*[conc[c] for c in conc.columns],
                       *[extra[c] for extra in others for c in extra.columns if c != "account"])


def account_features(v: ibis.Table, codes: ibis.Table, accounts: ibis.Table | None, p: dict[str, Any],
                     events: ibis.Table | None, pairs: ibis.Table, days: ibis.Table | None = None,
                     devices: ibis.Table | None = None, facts: ibis.Table | None = None,
                     extras: ibis.Table | None = None) -> ibis.Table:
    """Behaviour facts per account code (one row per account seen in a valid transfer).

    ``v`` is :func:`valid_transactions`; ``codes``, ``events`` and ``pairs`` come from
    :mod:`chainbreaker.chains.funds.events` (materialised by the caller: each is read several times).
    ``days`` is :func:`daily_facts` of the events when the caller has staged it (then ``events`` is
    not read): the events are grouped once, by account and day, and everything else reads that.
    ``devices`` is :func:`device_rows` of ``v`` when staged by the caller. ``facts`` is
    :func:`sorted_account_facts` (then neither ``days`` nor ``events`` is read). ``extras`` is
    :func:`account_extras` when the caller has staged it (then ``v``, ``accounts``, ``pairs`` and
    ``devices`` are not read here).
    """
    if facts is None:
        if days is None:
            if events is None:
                raise ValueError("account_features needs events, days or facts")
            days = daily_facts(event_flags(events, p), p)
        facts = account_facts(days, p)
    extras = account_extras(v, codes, accounts, p, pairs, devices) if extras is None else extras
    return joined_features(facts, extras)


def joined_features(facts: ibis.Table, extras: ibis.Table) -> ibis.Table:
    """The feature table of :func:`account_features` from the per-account facts and :func:`account_extras`."""
    base = facts.left_join(extras, facts.account == extras.account)
    return base.select(
        *[facts[c] for c in facts.columns if c != "fast_gap_s"],
        *[extras[c] for c in extras.columns if c != "account"],
        n_before=facts.n_all - facts.wake_rn.fill_null(0),
        fast_gap_min=ibis.ifelse(facts.fast_in_n > 0,
                                 facts.fast_gap_s.cast("float64") / facts.fast_in_n.cast("float64") / 60.0,
                                 ibis.null("float64")))


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
    return unit_clip((n.cast("float64") - lo) / (hi - lo))


def core_signals(f: ibis.Table, p: dict[str, Any]) -> ibis.Table:
    """Add derived ratios and the core typology signals (0..1) to the feature table."""
    fio, fan, pf, dm, cp = p["fast_in_out"], p["fan"], p["paofen"], p["dormant"], p["card_pool"]
    f = f.cross_join(population(f))
    # one projection layer (each costs Ibis a rewrite of every column when compiling): the ratios
    # are columns and, as the same expressions, parts of the signals
    r = {
        "retention": ibis.ifelse(f.amt_in_fen.fill_null(0) > 0,
                                 (f.amt_in_fen.fill_null(0) - f.amt_out_fen.fill_null(0)).cast("float64") / f.amt_in_fen.cast("float64"),
                                 -1.0),
        "net_flow": ratio(f.amt_in_fen.fill_null(0) - f.amt_out_fen.fill_null(0), f.amt_in_fen.fill_null(0) + f.amt_out_fen.fill_null(0)),
        "fast_in_share": ratio(f.fast_in_amt_fen, f.amt_in_fen),
        "fast_out_share": ratio(f.fast_out_amt_fen, f.amt_out_fen),
        "small_in_share": ratio(f.small_in_n, f.n_in),
        "night_share": ratio(f.night_n, f.n_all),
        "round_share": ratio(f.round_n, f.n_all),
        "top_payer_share": ratio(f.top_payer_amt_fen, f.amt_in_fen),
        "top_payee_share": ratio(f.top_payee_amt_fen, f.amt_out_fen),
    }
    passthrough = ibis.ifelse(f.amt_in_fen.fill_null(0) > 0,
                              1.0 - ramp(r["retention"].abs(), fio["retention_low"], fio["retention_high"]), 0.0)
    fast_in = ramp(r["fast_in_share"], fio["share_low"], fio["share_high"])
    fast_out = ramp(r["fast_out_share"], fio["share_low"], fio["share_high"])
    slow = fan["slow_factor"]
    return f.mutate(
        **r,
        passthrough=passthrough,
        s_fast_in_out=(fast_in * ramp(f.n_in, 1, fio["min_inbound"]) * ramp(f.fast_in_n, 5, fio["min_fast_count"])
                       * passthrough),
        s_paofen=(ramp(f.n_payers, 2, pf["min_payers"]) * ramp(r["small_in_share"], 0.5, 0.9) * fast_in
                  * (1.0 - ramp(f.n_payees, pf["max_payees"], 3 * pf["max_payees"])) * passthrough
                  * ibis.ifelse(f.max_daily_in_fen.fill_null(0) <= int(pf["daily_cap"] * 100), 1.0, pf["over_cap_factor"])),
        s_fan_in=(breadth(f.n_payers, f.pop_payers, fan)
                  * ramp(r["top_payee_share"], fan["concentration_low"], fan["concentration_high"])
                  * passthrough * (slow + (1.0 - slow) * fast_in)),
        s_fan_out=(breadth(f.n_payees, f.pop_payees, fan)
                   * ramp(r["top_payer_share"], fan["concentration_low"], fan["concentration_high"])
                   * passthrough * (slow + (1.0 - slow) * fast_out)),
        s_card_pool=ramp(f.pool_holders.fill_null(0), cp["min_holders"] - 1, cp["full_holders"]),
        s_dormant=(ibis.ifelse(f.max_gap_days.fill_null(0) >= dm["gap_days"], 1.0, 0.0)
                   * ramp(f.wake_rn.fill_null(0), 2, dm["min_after"])
                   * ramp(ratio(f.wake_rn, f.n_before), 1, dm["burst_ratio"])),
    )


def _core1(f: ibis.Table, p: dict[str, Any]) -> Any:
    w = p["weights"]["core"]
    return noisy_or([w[name] * f[f"s_{name}"] for name in CORE_SIGNALS])


def payer_outflow(pairs: ibis.Table) -> ibis.Table:
    """Per payer: all the money (fen) it sent (``fa``, ``out_fen``), the base of the feed share."""
    return pairs.group_by("fa").aggregate(out_fen=_.amt.sum())


def network(pairs: ibis.Table, flagged: ibis.Table, outflow: ibis.Table) -> ibis.Table:
    """Per account: money received from the ``flagged`` accounts (column ``flag_acc``).

    ``flagged_out_fen`` is everything those same payers sent anywhere (``outflow`` is
    :func:`payer_outflow`), so ``flagged_in_amt_fen / flagged_out_fen`` says how much of the
    flagged payers' money ended here (the amount-weighted feed share).
    """
    hit = pairs.join(flagged, pairs.fa == flagged.flag_acc)
    hit = hit.join(outflow, hit.fa == outflow.fa).select(hit.fa, hit.ta, hit.amt, hit.n, outflow.out_fen)
    return hit.group_by(hit.ta.name("account")).aggregate(
        flagged_in_amt_fen=_.amt.sum(), n_flagged_payers=_.fa.nunique(), flagged_in_n=_.n.sum(),
        flagged_out_fen=_.out_fen.sum())


def _network_signal(f: ibis.Table, nw: dict[str, Any]) -> Any:
    return (ramp(f.n_flagged_payers.fill_null(0), 1, nw["min_flagged_payers"])
            * ramp(ratio(f.flagged_in_amt_fen, f.amt_in_fen), nw["share_low"], nw["share_high"])
            * ramp(f.flagged_in_n.fill_null(0), 2, nw["min_flagged_txns"]))


def _upstream_signal(f: ibis.Table, up: dict[str, Any]) -> Any:
    """上游风险传导: most of the inflow comes from flagged accounts, and most of their money came here.

    The amount-weighted share of inflow from flagged payers (how dirty the account's money is)
    times the amount-weighted share of those payers' outflow that it received (whether it is where
    their money goes, not a landlord or a shop they also pay), from at least
    ``min_flagged_payers`` of them (one flagged payer alone is a counterparty to request, not a
    settlement account).
    """
    need = up["min_flagged_payers"]
    return (ramp(ratio(f.flagged_in_amt_fen, f.amt_in_fen), up["share_low"], up["share_high"])
            * ramp(ratio(f.flagged_in_amt_fen, f.flagged_out_fen), up["feed_low"], up["feed_high"])
            * ramp(f.n_flagged_payers.fill_null(0), need - 1, need))


# ``recipe(kind, build, *inputs)``: stage ``build(*inputs)`` as ``kind`` (see ``Staging.recipe``), or return it
Recipe = Callable[..., ibis.Table]


def _inline(kind: str, build: Callable[..., ibis.Table], *inputs: Any) -> ibis.Table:
    return build(*inputs)


def flagged_after(sig: ibis.Table, net: ibis.Table | None, p: dict[str, Any]) -> ibis.Table:
    """The accounts a propagation round counts as flagged (column ``flag_acc``): core ≥ ``network.flagged_core``.

    The core is the own-typology core (the same expression as in the final score: the same double),
    with the network and upstream signals of ``net`` (:func:`network` of the previous round) when given.
    """
    nw, w = p["network"], p["weights"]["core"]
    base = sig.select("account", "amt_in_fen", core1=_core1(sig, p))
    if net is None:
        core = base.select("account", core=base.core1)
    else:
        step = base.left_join(net, base.account == net.account).drop("account_right")
        core = step.select("account", core=noisy_or([
            step.core1, w["network"] * _network_signal(step, nw), w["upstream"] * _upstream_signal(step, p["upstream"])]))
    return core.filter(core.core >= nw["flagged_core"]).select(flag_acc=core.account)


def network_passes(sig: ibis.Table, p: dict[str, Any], pairs: ibis.Table,
                   recipe: Recipe = _inline) -> tuple[ibis.Table, ibis.Table]:
    """The last propagation round's :func:`network` table and the accounts it counted as flagged.

    Risk propagates along money edges in ``network.passes`` rounds (2): each round takes the
    accounts whose core is ≥ ``network.flagged_core`` after the previous round
    (:func:`flagged_after`) and scores every account on the money it received from them (the
    network and upstream signals), so risk moves one hop per round: collection card -> transit
    card -> settlement card in two. A bounded number of rounds rather than iterating to a fixed
    point: each further hop is weaker evidence (a cash-out dealer, then the dealer's suppliers...)
    and nothing but the ramps would stop the spread; two rounds cover the chains seen in cases, and
    the cost stays two small statements per round.

    ``recipe`` stages each step (every round reads the previous one; unstaged, the plan grows with
    each round): the payers' outflow, then per round the flagged accounts and the network table.
    """
    outflow = recipe("outflow", payer_outflow, pairs)
    net: ibis.Table | None = None
    flagged: ibis.Table | None = None
    for n_pass in range(int(p["network"]["passes"])):
        flagged = recipe(f"flagged{n_pass + 1}", lambda s, n: flagged_after(s, n, p), sig, net)
        net = recipe(f"net{n_pass + 1}", network, pairs, flagged, outflow)
    assert net is not None and flagged is not None
    return net, flagged


def score_accounts(sig: ibis.Table, p: dict[str, Any], pairs: ibis.Table, codes: ibis.Table,
                   recipe: Recipe = _inline, keep: dict[str, ibis.Table] | None = None) -> ibis.Table:
    """Final per-account table: facts, every signal, core, context and the combined score.

    :func:`network_passes` (each step staged by ``recipe``), then :func:`final_scores`. ``keep``
    receives ``flagged_payers``: the accounts (codes, column ``flag_acc``) the last round counted
    as flagged, so that findings can name them.
    """
    net, flagged = network_passes(sig, p, pairs, recipe)
    if keep is not None:
        keep["flagged_payers"] = flagged
    return final_scores(sig, net, codes, p)


def final_scores(sig: ibis.Table, net: ibis.Table, codes: ibis.Table, p: dict[str, Any]) -> ibis.Table:
    """The score table of :func:`score_accounts` from the signals and the last round's ``net``.

    ``codes`` (account, ``aid``) turns account codes into account numbers again (money stays in
    fen: see :data:`MONEY_FEN`).
    """
    nw = p["network"]
    # few projection layers (each one costs Ibis a rewrite of all ~65 columns when compiling):
    # the signals in one, the scores in the next, with the same expressions as columns would give
    f = sig.left_join(net, sig.account == net.account).drop("account_right")
    nt, rd, fc = p["night"], p["round_amount"], p["flow_class"]
    flow_class = ibis.cases(
        (f.n_all < fc["min_txns"], "unknown"),
        (f.net_flow <= -fc["source_net"], "source"),
        (f.net_flow >= fc["sink_net"], "sink"),
        ((f.net_flow.abs() <= fc["transit_within"]) & (f.n_in > 0) & (f.n_out > 0), "transit"),
        else_="mixed",
    )
    f = f.mutate(
        flagged_in_share=ratio(f.flagged_in_amt_fen, f.amt_in_fen),
        flagged_feed_share=ratio(f.flagged_in_amt_fen, f.flagged_out_fen),
        s_network=_network_signal(f, nw), s_upstream=_upstream_signal(f, p["upstream"]),
        s_night=(ramp(f.night_share - f.pop_night, nt["excess_low"], nt["excess_high"])
                 * ramp(f.n_all, 2, nt["min_txns"])),
        s_round_amount=(ramp(f.round_share - f.pop_round, rd["excess_low"], rd["excess_high"])
                        * ramp(f.n_all, 2, rd["min_txns"])),
        s_loop=ibis.ifelse(f.loop_partners.fill_null(0) > 0, 1.0, 0.0),
        flow_class=flow_class,
        s_transit=ibis.ifelse(flow_class == "transit", 1.0, 0.0) * ramp(f.n_all, fc["min_txns"], 20),
    )
    w = p["weights"]
    core = noisy_or([_core1(f, p), w["core"]["network"] * f.s_network, w["core"]["upstream"] * f.s_upstream])
    context = noisy_or([w["context"][name] * f[f"s_{name}"] for name in CONTEXT_SIGNALS])
    gate = ramp(core, p["context_gate_low"], p["context_gate_high"])
    f = f.mutate(core=core, context=context, score=core + (1.0 - core) * context * gate)
    own = codes.select(own_aid=codes.aid, own_acc=codes.account)
    partner = codes.select(partner_aid=codes.aid, partner_acc=codes.account)
    j = f.join(own, f.account == own.own_aid).left_join(partner, f.loop_partner == partner.partner_aid)
    named = {"account": j.own_acc, "loop_partner": j.partner_acc}
    return j.select(*[named.get(c, j[c]).name(c) for c in f.columns])


# Money columns computed in fen (int64); the screen turns each ``<name>_fen`` into ``<name>`` (yuan).
MONEY_FEN = ("amt_in_fen", "amt_out_fen", "fast_in_amt_fen", "fast_out_amt_fen", "max_daily_in_fen",
             "top_payer_amt_fen", "top_payee_amt_fen", "flagged_in_amt_fen", "flagged_out_fen")


TOUCHING_COLUMNS = ("txn_id", "from_account", "to_account", "amount", "ts", "ip", "mac", "src_sha256", "src_row")


def touching(tx: ibis.Table, flagged: ibis.Table, unusable: bool = False) -> ibis.Table:
    """Valid transfers with a ``flagged`` account on either side (the only rows evidence needs).

    ``unusable`` adds every row the screening cannot use (:func:`is_valid` false), with only their
    accounts (the other columns null), and a column ``usable`` that tells them apart: the coverage
    counts the accounts of those rows, and this scan reads every column it needs, so the lake is
    not read again for them.
    """
    valid = is_valid(tx)
    hit = tx.from_account.isin(flagged.account) | tx.to_account.isin(flagged.account)
    if not unusable:
        return tx.filter(valid & hit).select(*TOUCHING_COLUMNS)
    rows = tx.filter(~valid | hit).select(*TOUCHING_COLUMNS, usable=valid)
    kept = {c: rows[c] if c in ("from_account", "to_account") else ibis.ifelse(rows.usable, rows[c], ibis.null(rows[c].type()))
            for c in TOUCHING_COLUMNS}
    return rows.select(**kept, usable=rows.usable)


def flagged_keys(flagged: ibis.Table, codes: ibis.Table) -> ibis.Table:
    """``flagged`` with the account codes (``codes``: account, aid) of its accounts (``aid``) and of
    their loop partners (``partner_aid``, null without one)."""
    own = codes.select(own_acc=codes.account, aid=codes.aid)
    partner = codes.select(partner_acc=codes.account, partner_aid=codes.aid)
    j = flagged.left_join(own, flagged.account == own.own_acc)
    j = j.left_join(partner, j.loop_partner == partner.partner_acc)
    return j.select(*flagged.columns, "aid", "partner_aid")


def _lake_rows(lake: ibis.Table, rows: ibis.Table) -> ibis.Table:
    """The rows of ``lake`` (transactions with ``lake_row``: ``Engine.table_with_row_ids``) whose
    ``lake_row`` is in ``rows``, and no more than a few others.

    A semi join on the row's number within its file (``lake_file_row``, the low bits of
    ``lake_row``): the Parquet reader filters on that column while reading, so only these rows'
    other columns are decoded. The same number recurs in every file of the table: join on
    ``lake_row`` for the exact rows.
    """
    return lake.semi_join(rows, lake.lake_file_row == (rows.lake_row & LAKE_FILE_ROW_MASK))


def coded_touching(coded: ibis.Table, keyed: ibis.Table, lake: ibis.Table) -> ibis.Table:
    """:func:`touching` (the valid transfers with a flagged account on either side) from the screening's
    coded transfers: their ``fa``, ``ta``, ``fen``, ``ep`` (account codes), ``lake_row``, and
    ``txn_id``, ``ip``, ``mac`` from the lake.

    ``coded`` is :func:`~chainbreaker.chains.funds.events.transfers` of the valid transactions with
    the column ``lake_row`` kept; ``keyed`` is :func:`flagged_keys`; ``lake`` the transactions with
    ``lake_row`` (``Engine.table_with_row_ids``). The transfers are found on integer codes, and the
    text columns read for their rows only: :func:`touching` decodes nine columns of every lake row
    and compares account numbers as text.
    """
    hit = coded.filter(coded.fa.isin(keyed.aid) | coded.ta.isin(keyed.aid))
    near = _lake_rows(lake, hit)
    text = near.select("txn_id", "ip", "mac", text_row=near.lake_row)
    j = hit.join(text, hit.lake_row == text.text_row)
    return j.select("fa", "ta", "fen", "ep", "lake_row", "txn_id", "ip", "mac")


def _coded_sources(sub: ibis.Table, listed: ibis.Table, lake: ibis.Table) -> ibis.Table:
    """:func:`_sources` of :func:`coded_touching`: the source file and row read from the lake, for
    the listed transfers' rows only."""
    rows = sub.semi_join(listed, sub.txn_id == listed.txn_id).select("txn_id", "lake_row").distinct()
    near = _lake_rows(lake, rows)
    j = rows.join(near, rows.lake_row == near.lake_row)
    src = j.select(src_txn=rows.txn_id, src_sha256=near.src_sha256, src_row=near.src_row).distinct()
    out = listed.join(src, listed.txn_id == src.src_txn)
    return out.select("account", "rule", "txn_id", "src_sha256", "src_row", "rn", "total")


# ``recipe_arrow(kind, build, *inputs)``: ``build(*inputs)`` executed, as Arrow (see ``Staging.recipe_arrow``)
ArrowRecipe = Callable[..., pa.Table]


def coded_evidence_rows(sub: ibis.Table, keyed: ibis.Table, lake: ibis.Table, p: dict[str, Any],
                        recipe_arrow: ArrowRecipe,
                        from_arrow: Callable[[pa.Table], ibis.Table] = ibis.memtable) -> pa.Table | None:
    """:func:`evidence_rows` (the same rows) of :func:`coded_touching`, whose accounts are codes: ``keyed``
    is :func:`flagged_keys`, ``lake`` the transactions with ``lake_row``. The events come from numpy
    (:func:`~chainbreaker.chains.funds.evidence.evidence_events`); None when their times do not fit
    its key: the caller then uses :func:`evidence_rows` on :func:`touching`. Each statement is built
    by ``recipe_arrow`` (the screening's finds its SQL without building it)."""
    events = evidence.evidence_events(
        recipe_arrow("evidence_transfers", lambda s, k: _pool_hits(s, k, "aid"), sub, keyed),
        recipe_arrow("evidence_flagged", lambda k: k.select("account", "rules", "wake_day", "aid", "partner_aid"),
                     keyed),
        p, EVIDENCE_RULES, keys=("aid", "partner_aid"))
    if events is None:
        return None
    return _listed_rows(events, p, lambda rows: recipe_arrow("evidence_sources", _coded_sources, sub,
                                                             from_arrow(rows), lake))


def evidence_rows(sub: ibis.Table, flagged: ibis.Table, p: dict[str, Any], asof: bool,
                  to_arrow: Callable[[ibis.Table], pa.Table],
                  events_of: Callable[[ibis.Table, tuple[str, ...], ibis.Table], ibis.Table] | None = None,
                  from_arrow: Callable[[pa.Table], ibis.Table] = ibis.memtable, in_numpy: bool = True) -> pa.Table:
    """Source rows behind each (flagged account, rule), capped per pair, with the full count.

    ``sub`` is :func:`touching`; ``flagged`` has columns account, rules (",rule,rule,"),
    wake_day, pool_device, loop_partner. The flagged accounts' events are recomputed from these
    transfers on the account numbers with the same expressions as the screening (the other side
    of each transfer is left out before the per-account windows) and come back in one statement
    with one true/false column per rule (the card pools' transfers from the shared device are the
    accounts' outbound events from it); a second one looks up the listed rows' source file and
    row. ``events_of(transfers, keep, accounts)`` computes the events (default
    :func:`account_events` with ``asof``; the screening passes the engine's cheapest formulation,
    :func:`~chainbreaker.chains.funds.events.events_for`). ``to_arrow`` executes an expression;
    ``from_arrow`` makes the listed rows an engine table (the screening stages them). ``in_numpy``
    (default): the engine computes only the transfers, the events and hits come from one numpy sort
    (:func:`~chainbreaker.chains.funds.evidence.evidence_events`, about a third of the work at a million
    transfers); False, or times that do not fit its key: the events statement described above.

    Returns columns account, rule, txn_id, src_sha256, src_row, rn (0-based, below
    ``evidence_cap``) and total. Every rule lists an account's events in one order (largest amount
    first, then time, then txn_id, nulls last): the events are sorted once and each rule's rows
    are numbered by a running count (:func:`cap_evidence`), rather than sorting the union of
    every rule's rows.
    """
    events = None
    if in_numpy:
        events = evidence.evidence_events(to_arrow(_pool_hits(transfers(sub, keep=("txn_id", "ip", "mac")), flagged,
                                                              "account")),
                                          to_arrow(flagged.select("account", "rules", "wake_day", "loop_partner")),
                                          p, EVIDENCE_RULES)
    if events is None:
        if events_of is None:
            def events_of(tr: ibis.Table, keep: tuple[str, ...], accounts: ibis.Table) -> ibis.Table:
                return account_events(tr, asof, keep=keep, accounts=accounts)
        keep = ("txn_id", "ip", "mac")
        ev = event_flags(events_of(transfers(sub, keep=keep), keep, flagged), p)
        # whether each flagged account fired each rule: read from the rules text on its (few) rows, not per event
        fired = flagged.mutate(**{f"fired_{rule}": flagged.rules.contains(f",{rule},") for rule in EVIDENCE_RULES})
        ev = ev.join(fired, "account")
        hits = {f"hit_{rule}": (cond & ev[f"fired_{rule}"]).fill_null(False)
                for rule, cond in _evidence_conditions(ev, flagged).items()}
        events = to_arrow(ev.select(ev.account, ev.txn_id, ev.fen, ev.ep, **hits))
    return _listed_rows(events, p, lambda rows: to_arrow(_sources(sub, from_arrow(rows))))


def _listed_rows(events: pa.Table, p: dict[str, Any], sources: Callable[[pa.Table], pa.Table]) -> pa.Table:
    """The rows of :func:`evidence_rows` from its ``events`` (:func:`cap_evidence`), with the listed
    transfers' source file and row (``sources`` of the capped rows: :func:`_sources`)."""
    rows = cap_evidence(events, list(EVIDENCE_RULES), int(p["evidence_cap"]))
    if rows.num_rows == 0:
        return rows.append_column("src_sha256", pa.array([], pa.string())).append_column(
            "src_row", pa.array([], pa.int64()))
    # the source rows of the (few) listed transfers only: cheaper than carrying the file hash (64
    # characters) and row through the events' sort
    return sources(rows)


def _sources(sub: ibis.Table, listed: ibis.Table) -> ibis.Table:
    """The ``listed`` rows (:func:`cap_evidence`) with their source file and row from ``sub``."""
    src = sub.semi_join(listed, sub.txn_id == listed.txn_id)
    src = src.select(src_txn=src.txn_id, src_sha256=src.src_sha256, src_row=src.src_row).distinct()
    out = listed.join(src, listed.txn_id == src.src_txn)
    return out.select("account", "rule", "txn_id", "src_sha256", "src_row", "rn", "total")


def _pool_hits(tr: ibis.Table, flagged: ibis.Table, key: str) -> ibis.Table:
    """Transfers (``fa``, ``ta``, ``fen``, ``ep``, ``txn_id``, ``ip``, ``mac``) of the flagged accounts as
    :data:`~chainbreaker.chains.funds.evidence.TRANSFER_COLUMNS`: ``pool_hit`` is the card pool condition
    of :func:`_evidence_conditions`, for the payers that fired it. ``key``: the column of ``flagged``
    that holds what ``fa`` and ``ta`` hold (account numbers or codes)."""
    pools = flagged.filter(flagged.rules.contains(",card_pool,")).select(pool_acc=flagged[key],
                                                                        pool_device=flagged.pool_device)
    j = tr.left_join(pools, tr.fa == pools.pool_acc)
    # a CASE: the texts are compared only on the transfers of the accounts that fired the rule
    hit = ibis.ifelse(j.pool_device.notnull(), (ibis.literal("ip:") + j.ip.strip() == j.pool_device)
                      | (ibis.literal("mac:") + j.mac.strip().upper() == j.pool_device), False)
    return j.select(j.fa, j.ta, j.fen, j.ep, j.txn_id, pool_hit=hit.fill_null(False))


EVIDENCE_SCHEMA = pa.schema([("account", pa.string()), ("rule", pa.string()), ("txn_id", pa.string()),
                             ("rn", pa.int64()), ("total", pa.int64())])


def cap_evidence(events: pa.Table, rules: list[str], cap: int) -> pa.Table:
    """Per (account, rule): the first ``cap`` events with ``hit_<rule>`` true, numbered, with the count.

    ``events`` has columns account, txn_id, fen, ep and ``hit_<rule>`` (true/false) per rule. The
    order is ``fen`` descending, then ``ep``, then ``txn_id`` (nulls last) within an account; ``rn``
    is 0-based; ``total`` counts the account's hits that have a txn_id. Rows come out per rule,
    then account, in that order. Pure Arrow/numpy: the same on every engine.
    """
    import numpy as np
    import pyarrow.compute as pc

    if events.num_rows == 0:
        return EVIDENCE_SCHEMA.empty_table()
    order = pc.sort_indices(events, sort_keys=[("account", "ascending", "at_end"), ("fen", "descending", "at_end"),
                                               ("ep", "ascending", "at_end"), ("txn_id", "ascending", "at_end")])
    events = events.take(order)
    account = events.column("account").combine_chunks()
    txn = events.column("txn_id").combine_chunks()
    n = events.num_rows
    change = pc.not_equal(account.slice(1), account.slice(0, n - 1)).fill_null(True).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.concatenate(([True], change)))
    seg = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, n)))
    has_txn = txn.is_valid().to_numpy(zero_copy_only=False)
    parts = []
    for rule in rules:
        hit = events.column(f"hit_{rule}").combine_chunks().fill_null(False).to_numpy(zero_copy_only=False)
        running = np.cumsum(hit)
        before = np.concatenate(([0], running))[starts]  # hits of earlier accounts
        rn = running - before[seg] - 1
        total = np.add.reduceat((hit & has_txn).astype(np.int64), starts)
        keep = np.flatnonzero(hit & (rn < cap))
        idx = pa.array(keep)
        parts.append(pa.table({"account": account.take(idx), "rule": pa.array([rule] * len(keep), pa.string()),
                               "txn_id": txn.take(idx), "rn": pa.array(rn[keep], pa.int64()),
                               "total": pa.array(total[seg[keep]], pa.int64())}, schema=EVIDENCE_SCHEMA))
    return pa.concat_tables(parts)


EVIDENCE_RULES = ("paofen", "fast_in_out", "fan_in", "fan_out", "card_pool", "dormant", "network", "upstream",
                  "night", "round_amount", "loop", "transit")


def _evidence_conditions(ev: ibis.Table, flagged: ibis.Table) -> dict[str, Any]:
    """Which of an account's events support each rule's finding (:data:`EVIDENCE_RULES`, in that order)."""
    return {
        "paofen": ev.fast_in | ev.fast_out,
        "fast_in_out": ev.fast_in | ev.fast_out,
        "fan_in": ev.is_in,
        "fan_out": ~ev.is_in,
        # transfers made from the shared device the pool's signal names (a CASE: the texts are
        # compared on the outbound events of the accounts that fired the rule, not on every event)
        "card_pool": ibis.ifelse(ev.fired_card_pool & ~ev.is_in,
                                 (ibis.literal("ip:") + ev.ip.strip() == ev.pool_device)
                                 | (ibis.literal("mac:") + ev.mac.strip().upper() == ev.pool_device), False),
        "dormant": ev.wake_day.notnull() & (ev.day >= ev.wake_day),
        "network": ev.is_in & ev.cp.isin(flagged.account),  # inbound from flagged accounts
        "upstream": ev.is_in & ev.cp.isin(flagged.account),
        "night": ev.is_night,
        "round_amount": ev.is_round,
        "loop": ev.cp == ev.loop_partner,
        "transit": ibis.literal(True),
    }
