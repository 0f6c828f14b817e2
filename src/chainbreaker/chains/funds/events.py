"""The per-account view of the transfers that every funds typology reads (账户交易事件).

Screening groups and sorts millions of transfers per account. Doing that on text account numbers
and exact decimals costs most of the run, so the screening first gives every account a dense
integer code (ordered by account number, the same on every engine) and every amount an integer
number of fen (分), and maps codes back to account numbers only for the per-account results.
The functions here are key-agnostic: evidence for a few flagged accounts runs the same
expressions on the account numbers themselves.

Per-event facts are defined on times alone, never on the order of transfers within the same
second, so they do not depend on tie-breaking (which differs between engines):

* ``next_out``: for an inbound transfer, the earliest outbound time at or after it;
* ``prev_in``: for an outbound transfer, the latest inbound time at or before it.

Dormancy is measured on active days (see ``typologies.dormancy``), not per event.

On DuckDB ``next_out``/``prev_in`` come from one sort of the events per account, read by
``FIRST_VALUE``/``LAST_VALUE ... IGNORE NULLS`` windows (:func:`account_events_sql`; about 1.8x
cheaper than the two ASOF joins used before, which remain as :func:`account_events` with
``asof=True``); elsewhere they are RANGE windows with the same meaning (see
:data:`chainbreaker.core.engine.CAPABILITIES`).
"""

from __future__ import annotations

import uuid
from typing import Any

import ibis
from ibis import _

EVENT_COLUMNS = ("account", "cp", "fen", "ep", "dir", "next_out", "prev_in")
EP_BITS = 33  # sorted-key formulations: epoch seconds below 2**33 (year 2242), packed below the account


def fast_flags(t: Any, is_in: Any, window_s: int) -> tuple[Any, Any, Any]:
    """The fast in/out flags of events sorted by ``t`` = account << :data:`EP_BITS` | epoch second
    (numpy int64, increasing within an account and from one account to the next; inbound before
    outbound within a second): ``fast_out`` (an outbound within ``window_s`` after the latest inbound at
    or before it), ``fast_in`` (an inbound with an outbound within ``window_s`` at or after it) and
    the seconds to that outbound (0 where not ``fast_in``). The same as ``event_flags`` on the
    engine's events; never across accounts."""
    import numpy as np

    acc = t >> EP_BITS
    prev = np.maximum.accumulate(np.where(is_in, t, -1)) if len(t) else t
    fast_out = ~is_in & ((prev >> EP_BITS) == acc) & (t - prev <= window_s)
    del prev  # one 8-byte array per event at a time: the facts run this on tens of millions
    nxt = np.minimum.accumulate(np.where(is_in, np.iinfo(np.int64).max, t)[::-1])[::-1] if len(t) else t
    fast_in = is_in & ((nxt >> EP_BITS) == acc) & (nxt - t <= window_s)
    return fast_out, fast_in, np.where(fast_in, nxt - t, 0)


def epoch(ts: Any) -> Any:
    """Whole epoch seconds, floored the same way on every engine (a plain cast would round on DuckDB)."""
    return ts.epoch_seconds().floor().cast("int64")


def account_codes(v: ibis.Table) -> ibis.Table:
    """Every account of the valid transfers ``v`` with a dense integer code ``aid`` (0-based).

    Codes follow the account numbers' order here; an incremental screening keeps them and appends
    codes for new accounts, so nothing may rely on that order (see ``typologies.loops``).
    """
    acc = ibis.union(v.select(account=v.from_account), v.select(account=v.to_account), distinct=True)
    return acc.mutate(aid=(ibis.row_number().over(order_by=acc.account)).cast("int64"))


def transfers(v: ibis.Table, codes: ibis.Table | None = None, keep: tuple[str, ...] = ()) -> ibis.Table:
    """Valid transfers reduced to ``fa`` (from), ``ta`` (to), ``fen`` (integer amount) and ``ep``.

    With ``codes`` the accounts become integer codes; without, they stay account numbers.
    ``keep`` names extra columns of ``v`` to carry along (``txn_id`` for evidence).
    """
    base, fa, ta = v, v.from_account, v.to_account
    if codes is not None:
        f = codes.select(f_acc=codes.account, f_aid=codes.aid)
        t = codes.select(t_acc=codes.account, t_aid=codes.aid)
        base = v.join(f, v.from_account == f.f_acc).join(t, v.to_account == t.t_acc)
        fa, ta = base.f_aid, base.t_aid
    return base.select(fa=fa, ta=ta, fen=(base.amount * 100).cast("int64"), ep=epoch(base.ts),
                       **{k: base[k] for k in keep})


def account_events(tr: ibis.Table, asof: bool, keep: tuple[str, ...] = (),
                   accounts: ibis.Table | None = None) -> ibis.Table:
    """One row per (account, transfer): inbound (``dir`` = 1) and outbound (-1), with :data:`EVENT_COLUMNS`.

    ``tr`` is :func:`transfers`; ``asof`` says whether the engine has ASOF joins. ``accounts``
    (column ``account``): only these accounts' events, each computed from all of the account's
    transfers in ``tr`` (the same rows as without, filtered); the other side of each transfer is
    dropped before the per-account windows instead of after.
    """
    extra = {k: tr[k] for k in keep}
    inbound = tr.select(account=tr.ta, cp=tr.fa, fen=tr.fen, ep=tr.ep, dir=ibis.literal(1, "int8"), **extra)
    outbound = tr.select(account=tr.fa, cp=tr.ta, fen=tr.fen, ep=tr.ep, dir=ibis.literal(-1, "int8"), **extra)
    if accounts is not None:
        inbound = inbound.filter(inbound.account.isin(accounts.account))
        outbound = outbound.filter(outbound.account.isin(accounts.account))
    null = ibis.null("int64")
    if asof:
        outs = outbound.select(o_acc=outbound.account, o_ep=outbound.ep)
        ins = inbound.select(i_acc=inbound.account, i_ep=inbound.ep)
        a = inbound.asof_join(outs, on=outs.o_ep >= inbound.ep, predicates=[inbound.account == outs.o_acc])
        b = outbound.asof_join(ins, on=ins.i_ep <= outbound.ep, predicates=[outbound.account == ins.i_acc])
        names = ("account", "cp", "fen", "ep", "dir", *keep)
        ev = ibis.union(a.select(*names, next_out=a.o_ep, prev_in=null),
                        b.select(*names, next_out=null, prev_in=b.i_ep), distinct=False)
    else:
        ev = _windowed(ibis.union(inbound, outbound, distinct=False))
    return ev


def _windowed(ev: ibis.Table) -> ibis.Table:
    """``next_out``/``prev_in`` of events (``account``, ``ep``, ``dir``) as RANGE windows."""
    null = ibis.null("int64")
    after = ibis.window(group_by=ev.account, order_by=ev.ep, range=(0, None))
    before = ibis.window(group_by=ev.account, order_by=ev.ep, range=(None, 0))
    return ev.mutate(
        next_out=ibis.ifelse(ev.dir == 1, ibis.ifelse(ev.dir == -1, ev.ep, null).min().over(after), null),
        prev_in=ibis.ifelse(ev.dir == -1, ibis.ifelse(ev.dir == 1, ev.ep, null).max().over(before), null),
    )


def leg_events(legs: ibis.Table) -> ibis.Table:
    """:data:`EVENT_COLUMNS` of legs (``aid``, ``ep``, ``fen``, ``outbound`` 0/1: one account's side of
    each transfer; ``cp`` is null), with the same ``next_out``/``prev_in`` as :func:`account_events`."""
    ev = legs.select(account=legs.aid, cp=ibis.null("int64"), fen=legs.fen, ep=legs.ep,
                     dir=ibis.ifelse(legs.outbound == 1, -1, 1).cast("int8"))
    return _windowed(ev)


def account_events_sql(con: Any, tr: ibis.Table, keep: tuple[str, ...] = (),
                       accounts: ibis.Table | None = None) -> ibis.Table:
    """:func:`account_events` in one sort: DuckDB SQL with ``IGNORE NULLS`` windows (same columns, same values).

    Events are ordered per account by time, inbound before outbound within a second; ``next_out``
    of an inbound event is the first outbound time from it on, ``prev_in`` of an outbound event the
    last inbound time up to it. Ties inside (account, second, direction) do not matter: only times
    are read. Written as SQL because Ibis compiles ``first(include_null=False)`` over a window to a
    DuckDB ``FIRST_VALUE`` that keeps nulls. ``con`` is the Ibis DuckDB backend ``tr`` lives in; the
    query becomes a temporary view of that connection (gone with it). ``accounts``: as in
    :func:`account_events`, a table of that connection (the view's SQL sees no Ibis memtables).
    """
    src = con.compile(tr)
    extra = "".join(f', "{k}"' for k in keep)
    only_in = only_out = ""
    if accounts is not None:
        acc = con.compile(accounts.select("account"))
        only_in, only_out = (f"WHERE {side} IN (SELECT account FROM ({acc}) AS a)" for side in ("ta", "fa"))
    order = "PARTITION BY account ORDER BY ep, dir DESC"
    name = f"funds_events_{uuid.uuid4().hex[:12]}"
    con.raw_sql(f"""CREATE TEMP VIEW {name} AS
        SELECT account, cp, fen, ep, dir{extra},
               CASE WHEN dir = 1 THEN first_value(CASE WHEN dir = -1 THEN ep END IGNORE NULLS)
                    OVER ({order} ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) END AS next_out,
               CASE WHEN dir = -1 THEN last_value(CASE WHEN dir = 1 THEN ep END IGNORE NULLS)
                    OVER ({order} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) END AS prev_in
        FROM (SELECT ta AS account, fa AS cp, fen, ep, CAST(1 AS TINYINT) AS dir{extra} FROM ({src}) AS i {only_in}
              UNION ALL
              SELECT fa AS account, ta AS cp, fen, ep, CAST(-1 AS TINYINT) AS dir{extra} FROM ({src}) AS o {only_out}) AS e""")
    return con.table(name)


def events_for(eng: Any, tr: ibis.Table, keep: tuple[str, ...] = (), accounts: ibis.Table | None = None) -> ibis.Table:
    """The events of ``tr`` (of ``accounts`` only: see :func:`account_events`) in the cheapest
    formulation ``eng`` (a :class:`~chainbreaker.core.engine.Engine`) has."""
    if eng.supports("ignore_nulls_window"):
        return account_events_sql(eng.con, tr, keep, accounts)
    return account_events(tr, eng.supports("asof_join"), keep, accounts)


def event_flags(ev: ibis.Table, p: dict[str, Any]) -> ibis.Table:
    """Cheap per-event facts derived on read (not stored): local day and hour, fast, night, round."""
    offset = int(p["time"]["utc_offset_hours"] * 3600)
    local = ev.ep + offset
    hour = (local % 86400) // 3600
    window_s = int(p["fast_in_out"]["window_minutes"] * 60)
    nh = p["night"]
    is_in = ev.dir == 1
    return ev.mutate(
        day=local // 86400,
        is_in=is_in,
        is_round=(ev.fen % int(p["round_amount"]["modulus"] * 100)) == 0,
        is_night=(hour >= nh["start_hour"]) & (hour < nh["end_hour"]),
        fast_in=is_in & ev.next_out.notnull() & ((ev.next_out - ev.ep) <= window_s),
        fast_out=(~is_in) & ev.prev_in.notnull() & ((ev.ep - ev.prev_in) <= window_s),
    )


def pair_flows(tr: ibis.Table) -> ibis.Table:
    """One row per (payer ``fa``, payee ``ta``): money in fen, transfer count, first and last time.

    Grouped once from the N transfers (not the 2xN events) and reused by counterparty breadth and
    concentration, loops and the network passes.
    """
    return tr.group_by(["fa", "ta"]).aggregate(amt=_.fen.sum(), n=_.count(), first=_.ep.min(), last=_.ep.max())
