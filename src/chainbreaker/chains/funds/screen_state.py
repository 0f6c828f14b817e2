"""The state an incremental screening (增量筛查) starts from, and how a new day of 调单 updates it.

Per-account behaviour facts (:data:`~chainbreaker.chains.funds.typologies.FACT_COLUMNS`) depend
only on the account's own transfers; everything downstream (counterparty breadth, card pools,
loops, population baselines, the network passes, ranking, evidence) depends on every account and is
recomputed globally from the merged state, exactly as a full run computes it. The state tables:

* ``codes``: account number -> integer code. Stable: a full run numbers the accounts in account
  order, an incremental run appends codes for new accounts (nothing downstream relies on the order),
  so no stored row is ever renumbered. Appended.
* ``facts``: the facts per account code, plus the inbound money of its last active day. Replaced.
* ``pairs``: money per (payer, payee) code, as :func:`~chainbreaker.chains.funds.events.pair_flows`,
  one row per pair; ``pairs_added``: the pair rows of the incremental runs since (appended). A run
  regroups only the pairs that appear in ``pairs_added`` (a hash lookup of the rest, not a regrouping
  of millions of pairs), and folds ``pairs_added`` into ``pairs`` once it holds :data:`FOLD_SHARE` as
  many rows (regrouping the appended device rows then too).
* ``devices``: :func:`~chainbreaker.chains.funds.typologies.device_rows`, appended and regrouped alike.

An account's facts are updated without reading its history when its new transfers all come more
than the fast-forward window after its last known one (a new day of 调单): the old events' next
outbound / previous inbound within the window cannot change, so the sums add up, and dormancy
extends from the last active day (:func:`merge_appended`). Accounts whose new transfers fall inside
their history (a late statement) are recomputed from every transfer they took part in.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chainbreaker.chains.funds import events, typologies
from chainbreaker.chains.funds.rules import Rules
from chainbreaker.core.engine import Engine, Staging
from chainbreaker.core.workspace import Workspace

STATE = "funds_screen_state"  # one row: format, rules digest, the transaction files screened
STATE_TABLES = {"codes": f"{STATE}_codes", "facts": f"{STATE}_facts", "pairs": f"{STATE}_pairs",
                "pairs_added": f"{STATE}_pairs_added", "devices": f"{STATE}_devices"}
STATE_FORMAT = 2
STATE_FACTS = (*typologies.FACT_COLUMNS, "last_day_in_fen")
PAIR_COLUMNS = ("fa", "ta", "amt", "n", "first", "last")
DEVICE_COLUMNS = ("account", "ip", "mac", "name")
NEW_COLUMNS = ("from_account", "to_account", "from_name", "amount", "ts", "ip", "mac")  # what the new files give
OLD_TABLES = (f"{STATE}_days",)  # format 1's, dropped when a state of this format is written
FOLD_SHARE = 0.25  # pairs_added is folded into pairs once it holds this share of pairs' rows
_OLD_PREFIX = re.compile(r"^(old-\d{5}-)+")


def transaction_files(ws: Workspace) -> dict[str, Path]:
    """The current ``transactions`` files by identity: name without the append prefixes, and size.

    An append hard-links the files it keeps as ``old-NNNNN-<name>``, so a file keeps its identity
    across appends; a rewritten table has new names.
    """
    folder = Path(ws.table_glob("transactions")).parent
    return {f"{_OLD_PREFIX.sub('', f.name)}:{f.stat().st_size}": f for f in sorted(folder.glob("*.parquet"))}


@dataclass
class Increment:
    """What an incremental run starts from: the state's tables and the files added since."""

    codes: ibis.Table
    facts: ibis.Table
    pairs: ibis.Table
    pairs_added: ibis.Table
    devices: ibis.Table
    new_files: list[Path]
    fold: bool  # pairs_added has grown to a quarter of pairs: write the merged pairs this time


@dataclass
class Screened:
    """The tables a screen reads downstream, and what to write as the next state."""

    codes: ibis.Table
    facts: ibis.Table  # STATE_FACTS per code
    pairs: ibis.Table
    devices: ibis.Table
    new_transactions: int | None = None
    extended: int = 0  # accounts whose facts were extended by their new transfers (merge_appended)
    new_accounts: int = 0  # accounts seen for the first time (their facts are those of the new transfers)
    recomputed: int = 0  # accounts recomputed from all their transfers (new ones inside their history)
    # incremental: only the rows to append (codes of new accounts, this run's pairs and devices)
    appended: dict[str, ibis.Table] = field(default_factory=dict)
    fold: bool = False  # replace pairs with the merged pairs and empty pairs_added


def load_state(ws: Workspace, eng: Engine, rules: Rules, files: dict[str, Path]) -> tuple[Increment | None, str]:
    """The saved state and the new files, or (None, why a full run is needed).

    The manifest is read once: the state's description and its tables are those of one commit.
    """
    lake = ws.tables()
    if STATE not in lake:
        return None, "no screen state yet"
    row = ws.read_arrow(STATE, ["state"], lake).column(0).to_pylist()
    meta = json.loads(row[0]) if row else {}
    if meta.get("format") != STATE_FORMAT or not all(name in lake for name in STATE_TABLES.values()):
        return None, "screen state of another format"
    if meta.get("rules_digest") != rules.digest:
        return None, "rules changed since the state was written"
    old = set(meta.get("files", []))
    if not old <= set(files):
        return None, "transaction files were rewritten or removed since the state was written"
    tables = {kind: eng.con.read_parquet(ws.table_glob(name, lake), table_name=f"lake_{name}")
              for kind, name in STATE_TABLES.items()}
    rows = {kind: int(lake[name]["rows"]) for kind, name in STATE_TABLES.items()}
    return Increment(new_files=[files[k] for k in sorted(set(files) - old)],
                     fold=rows["pairs_added"] > rows["pairs"] * FOLD_SHARE, **tables), ""


def _int64(t: ibis.Table, keep: tuple[str, ...] = ()) -> ibis.Table:
    """Every column as int64 except ``keep`` (state tables: one set of types on every engine)."""
    return t.select(*[t[c] if c in keep else t[c].cast("int64").name(c) for c in t.columns])


def normal_facts(t: pa.Table) -> pa.Table:
    """Facts with one set of types whichever path computed them: int64, ``max_gap_days`` float64."""
    return pa.table([t[c].cast(pa.float64() if c == "max_gap_days" else pa.int64()) for c in t.column_names],
                    names=t.column_names)


def facts_of_legs(eng: Engine, legs: ibis.Table, p: dict[str, Any], stage: Staging, kind: str) -> pa.Table:
    """:data:`STATE_FACTS` plus ``first_day_in_fen`` of the accounts of ``legs`` (``aid``, ``ep``,
    ``fen``, ``outbound``): the one-sort path on DuckDB, the grouped path elsewhere. ``kind`` names
    the staged legs."""
    legs = stage(legs, kind)
    out = None
    if eng.name == "duckdb":
        out = typologies.sorted_leg_facts(eng.con.con, str(eng.con.compile(legs)), p, extras=True)
    if out is None:
        days = typologies.daily_facts(events.event_flags(events.leg_events(legs), p), p)
        out = eng.to_arrow(typologies.account_facts(days, p, extras=True))
    out = normal_facts(out.select([*typologies.FACT_COLUMNS, *typologies.DAY_EXTRAS]))
    return out.sort_by("account")


def full_facts(eng: Engine, coded: ibis.Table, p: dict[str, Any], stage: Staging) -> ibis.Table:
    """:data:`STATE_FACTS` of every account of the coded transfers (a full run that keeps a state)."""
    out = None
    if eng.name == "duckdb":
        out = typologies.sorted_account_facts(eng.con.con, str(eng.con.compile(coded)), p, extras=True)
    if out is None:
        evs = events.events_for(eng, coded).select(*events.EVENT_COLUMNS)
        days = stage(typologies.daily_facts(events.event_flags(evs, p), p), "days")
        out = eng.to_arrow(typologies.account_facts(days, p, extras=True))
    return stage.arrow(normal_facts(out.select(list(STATE_FACTS))).combine_chunks(), "facts")


def _legs(tr: ibis.Table) -> ibis.Table:
    """Both legs of coded transfers (``fa``, ``ta``, ``fen``, ``ep``)."""
    return ibis.union(tr.select(aid=tr.ta, ep=tr.ep, fen=tr.fen, outbound=ibis.literal(0, "int64")),
                      tr.select(aid=tr.fa, ep=tr.ep, fen=tr.fen, outbound=ibis.literal(1, "int64")), distinct=False)


def _lake_legs(v: ibis.Table, accounts: ibis.Table, stage: Staging) -> ibis.Table:
    """Every leg of the valid transfers ``v`` whose account is one of ``accounts`` (account, aid)."""
    # one scan of the lake for both sides
    sub = stage(v.filter(v.from_account.isin(accounts.account) | v.to_account.isin(accounts.account)).select(
        "from_account", "to_account", "amount", "ts"), "redo_transfers")

    def side(col: str, outbound: int) -> ibis.Table:
        j = sub.join(accounts, sub[col] == accounts.account)
        return j.select(aid=j.aid, ep=events.epoch(j.ts), fen=(j.amount * 100).cast("int64"),
                        outbound=ibis.literal(outbound, "int64"))

    return ibis.union(side("to_account", 0), side("from_account", 1), distinct=False)


def incremental(eng: Engine, v: ibis.Table, inc: Increment, p: dict[str, Any], stage: Staging) -> Screened:
    """codes, facts, pairs, devices of the whole lake from the state plus the new files."""
    codes_old = _int64(inc.codes, keep=("account",))
    facts_old = inc.facts
    pairs_base, pairs_added = _int64(inc.pairs), _int64(inc.pairs_added)
    devices_all = inc.devices
    new_link = stage.scratch / "new-transactions"
    new_link.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(inc.new_files):  # one folder both engines read by glob (hard links, no copy)
        try:
            os.link(f, new_link / f"part-{i:05d}.parquet")
        except OSError:  # a file system without hard links
            shutil.copyfile(f, new_link / f"part-{i:05d}.parquet")
    d, n_new = None, 0
    if inc.new_files:
        # staged: the new files are read once (new accounts, transfers and devices all read them)
        raw = eng.con.read_parquet(str(new_link / "*.parquet"), table_name=f"funds_new_{stage.tag}")
        d = stage(typologies.valid_transactions(raw).select(*NEW_COLUMNS), "new_valid")
        n_new = eng.count(d)  # every one is coded below (codes cover both ends): the run's new transfers
    if d is None or not n_new:  # nothing usable arrived: the state as it is
        return Screened(codes=stage(codes_old, "codes"), facts=stage(facts_old, "facts"),
                        pairs=stage(_merge_pairs(pairs_base, pairs_added), "pairs"),
                        devices=stage(_merge_devices(devices_all), "devices"), new_transactions=0, fold=inc.fold)
    # codes: the state's, then the new accounts (in account order) after the largest code
    ends = ibis.union(d.select(account=d.from_account), d.select(account=d.to_account), distinct=True)
    fresh = ends.anti_join(codes_old, ends.account == codes_old.account)
    top = eng.to_arrow(codes_old.aid.max().as_table()).column(0)[0].as_py()
    start = -1 if top is None else int(top)
    new_codes = stage(fresh.mutate(aid=(ibis.row_number().over(order_by=fresh.account) + start + 1).cast("int64")),
                      "new_codes")
    # _int64 of the staged table: Spark numbers rows as int32 (an Ibis cast of an int64 is dropped)
    codes = stage(ibis.union(codes_old, _int64(new_codes.select("account", "aid"), keep=("account",)),
                             distinct=False), "codes")
    coded_new = stage(events.transfers(d, codes), "new_transfers")
    # staged first: DuckDB sums int64 to HUGEINT, which the staged table shows (and _int64 then casts)
    new_pairs = stage(events.pair_flows(coded_new).select(*PAIR_COLUMNS), "new_pairs")
    new_devices = stage(typologies.device_rows(d).select(*DEVICE_COLUMNS), "new_devices")
    pairs = stage(_merge_pairs(pairs_base, ibis.union(pairs_added, _int64(new_pairs), distinct=False)), "pairs")
    devices = stage(_merge_devices(ibis.union(devices_all, new_devices, distinct=False)), "devices")

    # facts: the new transfers' own facts per account, merged into the state's where they extend it
    added = facts_of_legs(eng, _legs(coded_new), p, stage, "new_legs")
    affected = stage.arrow(pa.table({"aid": added["account"].combine_chunks()}), "affected")
    old = normal_facts(eng.to_arrow(facts_old.semi_join(affected, facts_old.account == affected.aid)))
    merged, redo = merge_appended(old.sort_by("account"), added, p)
    n_fresh = int(pc.sum(pc.invert(pc.is_in(added["account"], value_set=old["account"]))).as_py() or 0)
    parts = [merged]
    if len(redo):
        # new transfers inside these accounts' history: every transfer they took part in, again
        again = stage.arrow(pa.table({"aid": pa.array(redo, pa.int64())}), "redo")
        who = stage(codes.semi_join(again, codes.aid == again.aid), "redo_codes")
        parts.append(facts_of_legs(eng, _lake_legs(v, who, stage), p, stage, "redo_legs").select(list(STATE_FACTS)))
    changed = stage.arrow(pa.concat_tables(parts).combine_chunks(), "changed_facts")
    kept = facts_old.anti_join(affected, facts_old.account == affected.aid)
    facts = stage(ibis.union(_int64(kept, keep=("max_gap_days",)),
                             _int64(changed, keep=("max_gap_days",)).select(*kept.columns), distinct=False), "facts")
    return Screened(codes=codes, facts=facts, pairs=pairs, devices=devices, new_transactions=n_new,
                    extended=merged.num_rows - n_fresh, new_accounts=n_fresh, recomputed=len(redo), fold=inc.fold,
                    appended={"codes": new_codes.select("account", "aid"), "pairs_added": new_pairs,
                              "devices": new_devices})


def _merge_pairs(base: ibis.Table, added: ibis.Table) -> ibis.Table:
    """One row per (payer, payee): ``base`` has one already, ``added`` (later runs) may repeat a pair.

    Only the pairs in ``added`` are regrouped; the rest of ``base`` is kept as it is (at 10M
    transfers: about half the CPU of regrouping all 6.8M pairs).
    """
    keys = added.select("fa", "ta").distinct()
    on = [base.fa == keys.fa, base.ta == keys.ta]
    both = ibis.union(base.semi_join(keys, on), added, distinct=False)
    merged = both.group_by(["fa", "ta"]).aggregate(amt=both.amt.sum(), n=both.n.sum(), first=both.first.min(),
                                                    last=both.last.max())
    return ibis.union(base.anti_join(keys, on), merged, distinct=False)


def _merge_devices(devices: ibis.Table) -> ibis.Table:
    """Device rows of several runs regrouped, as :func:`~chainbreaker.chains.funds.typologies.device_rows`."""
    return devices.group_by(["account", "ip", "mac"]).aggregate(name=devices.name.max())


def merge_appended(old: pa.Table, added: pa.Table, p: dict[str, Any]) -> tuple[pa.Table, Any]:
    """Facts of accounts extended by new transfers, without their history; and the codes to recompute.

    ``old``: :data:`STATE_FACTS` of the accounts before (those that had any), sorted by ``account``;
    ``added``: the facts of the new transfers alone, with ``first_day_in_fen``, sorted by ``account``.
    An account whose first new transfer comes more than the fast-forward window after its last old
    one is merged: its old events keep their fast in/out flags (a new transfer is too far to count)
    and the new ones have nothing old within reach, so counts and sums add up; its active days
    continue from the old last day (the same day when the new transfers start on it). Accounts new
    to the lake take ``added`` as it is. The rest (new transfers within an account's history) are
    returned as codes to recompute from all their transfers.
    """
    window_s = int(p["fast_in_out"]["window_minutes"] * 60)
    offset = int(p["time"]["utc_offset_hours"] * 3600)
    gap_days = int(p["dormant"]["gap_days"])
    new_acc = added["account"].to_numpy()
    old_acc = old["account"].to_numpy()
    pos = np.minimum(np.searchsorted(old_acc, new_acc), max(len(old_acc) - 1, 0))
    has_old = old_acc[pos] == new_acc if len(old_acc) else np.zeros(len(new_acc), bool)

    def col(t: pa.Table, name: str, rows: Any, fill: int = 0) -> tuple[Any, Any]:
        """(values with nulls as ``fill``, valid) of ``rows``."""
        c = t[name].combine_chunks()
        valid = c.is_valid().to_numpy(zero_copy_only=False)[rows]
        values = c.fill_null(fill).to_numpy(zero_copy_only=False)[rows]
        return values, valid

    last_old = col(old, "last_epoch", pos)[0] if len(old_acc) else np.zeros(len(new_acc), np.int64)
    first_new = col(added, "first_epoch", slice(None))[0]
    tail = has_old & (first_new - last_old > window_s)
    redo = new_acc[has_old & ~tail]
    o, n = pos[tail], np.flatnonzero(tail)
    out: dict[str, tuple[Any, Any]] = {"account": (new_acc[n], None)}
    for name in ("n_all", "n_in", "n_out", "fast_in_n", "small_in_n", "night_n", "round_n"):
        out[name] = (col(old, name, o)[0] + col(added, name, n)[0], None)
    for name in ("amt_in_fen", "amt_out_fen", "fast_in_amt_fen", "fast_out_amt_fen", "fast_gap_s"):
        (a, va), (b, vb) = col(old, name, o), col(added, name, n)
        out[name] = (a + b, va | vb)  # null only when both are (no such event on either side)
    out["first_epoch"] = (col(old, "first_epoch", o)[0], None)
    out["last_epoch"] = (col(added, "last_epoch", n)[0], None)
    last_day = (col(old, "last_epoch", o)[0] + offset) // 86400
    first_day = (first_new[n] + offset) // 86400
    same = first_day == last_day  # the new transfers start on the old last active day
    (li, lv), (fi, fv) = col(old, "last_day_in_fen", o), col(added, "first_day_in_fen", n)
    joint_in = np.where(lv | fv, li + fi, -1)  # that day's inbound money, both parts
    out["active_days"] = (col(old, "active_days", o)[0] + col(added, "active_days", n)[0] - same, None)
    top_in = np.maximum(col(old, "max_daily_in_fen", o, -1)[0], col(added, "max_daily_in_fen", n, -1)[0])
    top_in = np.maximum(top_in, np.where(same, joint_in, -1))
    out["max_daily_in_fen"] = (top_in, top_in >= 0)
    boundary = np.where(same, -1, first_day - last_day)  # the gap between old and new active days
    gap = np.maximum(np.maximum(col(old, "max_gap_days", o, -1)[0], col(added, "max_gap_days", n, -1)[0]), boundary)
    out["max_gap_days"] = (gap.astype(np.float64), gap >= 0)
    (nw, nwv), (nr, _) = col(added, "wake_day", n), col(added, "wake_rn", n)
    (ow, owv), (orn, _) = col(old, "wake_day", o), col(old, "wake_rn", o)
    n_added = col(added, "n_all", n)[0]
    woke_at_boundary = ~nwv & (boundary >= gap_days)
    keeps_old = ~nwv & ~woke_at_boundary & owv
    out["wake_day"] = (np.where(nwv, nw, np.where(woke_at_boundary, first_day, ow)), nwv | woke_at_boundary | keeps_old)
    out["wake_rn"] = (np.where(nwv, nr, np.where(woke_at_boundary, n_added, orn + n_added)),
                      nwv | woke_at_boundary | keeps_old)
    single_day = (col(added, "last_epoch", n)[0] + offset) // 86400 == first_day
    (ni, nv) = col(added, "last_day_in_fen", n)
    last_in = np.where(same & single_day, joint_in, np.where(nv, ni, -1))
    out["last_day_in_fen"] = (last_in, last_in >= 0)
    merged = pa.table([pa.array(v, mask=None if valid is None else ~valid) for v, valid in out.values()],
                      names=list(out))
    brand_new = added.filter(pa.array(~has_old)).select(list(STATE_FACTS))
    return pa.concat_tables([normal_facts(merged.select(list(STATE_FACTS))), brand_new]), redo


def write_state(wtx: Any, eng: Engine, rules: Rules, files: dict[str, Path], screened: Screened) -> None:
    """The state the next incremental run starts from, in this run's transaction.

    A full run writes every table; an incremental run replaces the facts and appends the rest
    (and folds ``pairs_added`` into ``pairs``, and regroups ``devices``, when it has grown large).
    """
    # the engine is for diagnostics only: either engine reads a state the other wrote
    meta = {"format": STATE_FORMAT, "rules_digest": rules.digest, "files": sorted(files), "engine": eng.name}
    wtx.write(STATE, pa.table({"state": [json.dumps(meta)]}))
    for name in OLD_TABLES:
        wtx.drop(name)  # nothing when absent
    incremental = screened.new_transactions is not None
    pairs = _int64(screened.pairs).select(*PAIR_COLUMNS)
    tables = {"codes": _int64(screened.codes, keep=("account",)).select("account", "aid"),
              "facts": _int64(screened.facts, keep=("max_gap_days",)).select(*STATE_FACTS),
              "pairs": pairs, "pairs_added": pairs.limit(0),
              "devices": screened.devices.select(*DEVICE_COLUMNS)}
    for kind, expr in tables.items():
        mode = "replace"
        if incremental and kind != "facts" and not (screened.fold and kind in ("pairs", "pairs_added", "devices")):
            if kind not in screened.appended:
                continue  # unchanged
            expr, mode = screened.appended[kind], "append"
            expr = _int64(expr, keep=DEVICE_COLUMNS if kind == "devices" else ("account",))
        # DuckDB: a relation on the engine's connection, streamed to Parquet; Spark: collected to Arrow
        data = eng.con.con.sql(str(eng.con.compile(expr))) if eng.name == "duckdb" else eng.to_arrow(expr)
        wtx.write(STATE_TABLES[kind], data, mode=mode)
