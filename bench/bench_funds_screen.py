"""Benchmark: funds screening throughput (chainbreaker on DuckDB) beside its SQL floor and plain pandas.

    python bench/bench_funds_screen.py                       # default: 300k transactions (~1-2 min)
    python bench/bench_funds_screen.py --scale 1000000,10000000 --pandas-max 0   # product vs floor

Each size runs, one after the other in the same command: the product (``funds screen``: facts,
scoring, ranking, evidence, findings, lake writes), the floor of ``floor_funds_screen.py`` (the same
facts as hand-written DuckDB SQL, nothing else) and, up to ``--pandas-max``, plain pandas. The
product/floor ratio is printed per size (target: at most 1.5x); ``--no-floor`` skips the floor.
``--repeat N`` runs N alternating pairs of product and floor per size and reports the median ratio
(the ratio of one pair moves by +-0.2 on a shared 2-core machine, mostly with the floor).

    python bench/bench_funds_screen.py --scale 10000000 --incremental 1   # incremental screening

``--incremental PCT`` measures incremental screening instead: the lake without its latest PCT % of
transfers (whole local days, from the last day back) is screened with ``incremental=True`` (a full
run that writes the screen state), those transfers are appended as a later ingest would, and the
same lake is screened incrementally and then in full (no state), each in its own process. It
prints the three times, the speed-up full/incremental and whether both gave identical results, then
per run the share of the phases spent downstream of the facts (global in every mode) and how many
accounts the incremental run extended or recomputed. ``--repeat N`` adds N - 1 more pairs of
incremental and full screens of the same appended lake and prints the medians.

Data: H2's synthetic province fast path (``chainbreaker.synth.bank.write_transactions_parquet``),
written straight into a workspace lake (cached under --workdir). Each side runs in its own
subprocess; peak memory is that child's ``ru_maxrss``. The pandas side computes the same per-account
facts, signals and scores (no findings/evidence) and the run checks both flag the same accounts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()


# ----------------------------------------------------------------------------- data
def prepare(workdir: Path, n: int, seed: int) -> Path:
    """A workspace whose lake holds ``n`` synthetic transactions (+ accounts, truth beside it)."""
    import pyarrow.dataset as ds

    from chainbreaker.core.workspace import Workspace
    from chainbreaker.synth.bank import write_transactions_parquet

    root = workdir / f"tx{n}-s{seed}"
    ws_path = root / "ws"
    if (root / "READY").exists():
        return ws_path
    raw = root / "raw"
    write_transactions_parquet(raw, n, seed)
    ws = Workspace(ws_path)
    with ws.transaction("bench.lake") as tx:
        for name in ("transactions", "accounts"):
            tx.write(name, ds.dataset(raw / name).scanner(batch_size=1 << 18).to_reader())
    (root / "READY").write_text("ok")
    return ws_path


# ------------------------------------------------------------------------ children
def child_chainbreaker(ws_path: str, engine: str, incremental: bool | None = False) -> dict:
    import ibis.backends.duckdb.converter  # noqa: F401  (imports pandas; imported before the timer, as on the pandas side)

    from chainbreaker.chains.funds.screen import screen
    from chainbreaker.core.workspace import Workspace

    ws = Workspace(ws_path)
    start = time.perf_counter()
    result = screen(ws, engine=engine, incremental=incremental)
    seconds = time.perf_counter() - start
    flagged = sorted(r["account"] for r in ws.read_arrow("account_risk", ["account", "flagged"]).to_pylist()
                     if r["flagged"])
    record = ws.runs()[-1]  # this run's record: phase timings (wall s) and counts
    return {"seconds": seconds, "flagged": flagged, "transactions": result.transactions_screened,
            "accounts": result.accounts_screened, "findings": result.findings, "mode": result.mode,
            "new_transactions": result.new_transactions, "timings": record.get("timings", {}),
            "counts": record.get("counts", {})}


def child_pandas(ws_path: str) -> dict:
    """The same rules written in plain pandas/numpy, reading the same Parquet files."""
    import numpy as np
    import pandas as pd

    from chainbreaker.chains.funds.rules import load_rules
    from chainbreaker.core.workspace import Workspace

    ws = Workspace(ws_path)
    p = load_rules().params
    start = time.perf_counter()
    phases: dict[str, float] = {}

    def mark(name: str) -> None:  # seconds since the previous mark (phases match floor_funds_screen.py)
        phases[name] = time.perf_counter() - start - sum(phases.values())

    cols = ["txn_id", "from_account", "to_account", "from_name", "amount", "ts", "ip", "mac"]
    tx = pd.read_parquet(ws.table_glob("transactions").rsplit("/", 1)[0], columns=cols)
    tx = tx[tx.from_account.notna() & tx.to_account.notna() & (tx.from_account != "") & (tx.to_account != "")
            & (tx.from_account != tx.to_account) & tx.amount.notna() & tx.ts.notna()]
    tx["amount"] = tx.amount.astype("float64")
    tx = tx[tx.amount > 0]
    tx["epoch"] = tx.ts.astype("int64") // 1_000_000
    mark("read")
    off = int(p["time"]["utc_offset_hours"] * 3600)
    ev = pd.concat([
        pd.DataFrame({"account": tx.to_account.values, "cp": tx.from_account.values, "amount": tx.amount.values,
                      "txn_id": tx.txn_id.values, "dir": 1, "epoch": tx.epoch.values}),
        pd.DataFrame({"account": tx.from_account.values, "cp": tx.to_account.values, "amount": tx.amount.values,
                      "txn_id": tx.txn_id.values, "dir": -1, "epoch": tx.epoch.values}),
    ], ignore_index=True)
    # inbound before outbound within a second: "next outbound at or after" / "last inbound at or before"
    ev = ev.sort_values(["account", "epoch", "dir"], ascending=[True, True, False], kind="mergesort", ignore_index=True)
    local = ev.epoch + off
    ev["hour"] = (local % 86400) // 3600
    ev["day"] = local // 86400
    ev["is_in"] = ev.dir == 1
    ev["is_round"] = (np.round(ev.amount * 100).astype("int64") % (p["round_amount"]["modulus"] * 100)) == 0
    # running min/max over the group; +/-inf (not NaN) for the other direction, since a grouped
    # cummin/cummax leaves NaN rows NaN instead of carrying the running value through them
    out_epoch = ev.epoch.astype("float64").where(~ev.is_in, np.inf)
    ev["next_out"] = out_epoch[::-1].groupby(ev.account[::-1], sort=False).cummin()[::-1].replace(np.inf, np.nan)
    in_epoch = ev.epoch.astype("float64").where(ev.is_in, -np.inf)
    ev["prev_in"] = in_epoch.groupby(ev.account, sort=False).cummax().replace(-np.inf, np.nan)
    w = p["fast_in_out"]["window_minutes"] * 60
    ev["fast_in"] = ev.is_in & ev.next_out.notna() & ((ev.next_out - ev.epoch) <= w)
    ev["fast_out"] = ~ev.is_in & ev.prev_in.notna() & ((ev.epoch - ev.prev_in) <= w)
    nh = p["night"]
    ev["is_night"] = (ev.hour >= nh["start_hour"]) & (ev.hour < nh["end_hour"])
    ev["amt_in"] = ev.amount.where(ev.is_in, 0.0)
    ev["amt_out"] = ev.amount.where(~ev.is_in, 0.0)
    ev["fast_in_amt"] = ev.amount.where(ev.fast_in, 0.0)
    ev["fast_out_amt"] = ev.amount.where(ev.fast_out, 0.0)
    ev["small_in"] = ev.is_in & (ev.amount <= p["paofen"]["small_max_amount"])
    g = ev.groupby("account", sort=True)
    f = g.agg(n_all=("dir", "size"), n_in=("is_in", "sum"), amt_in=("amt_in", "sum"), amt_out=("amt_out", "sum"),
              fast_in_amt=("fast_in_amt", "sum"), fast_in_n=("fast_in", "sum"), fast_out_amt=("fast_out_amt", "sum"),
              small_in_n=("small_in", "sum"), night_n=("is_night", "sum"), round_n=("is_round", "sum"),
              )
    f["n_out"] = f.n_all - f.n_in
    # dormancy on active local days: the latest day after a gap of >= gap_days, transfers from it on
    days = ev.groupby(["account", "day"], sort=True).size().rename("day_n").reset_index()
    days["gap"] = days.groupby("account", sort=False).day.diff()
    days["before"] = days.groupby("account", sort=False).day_n.cumsum() - days.day_n
    woke = days[days.gap >= p["dormant"]["gap_days"]]
    f["max_gap_days"] = days.groupby("account").gap.max()
    f["wake_rn"] = f.n_all - woke.groupby("account").before.max()
    pairs = ev.groupby(["account", "cp", "dir"], sort=False).amount.sum().reset_index()
    f["n_payers"] = pairs[pairs.dir == 1].groupby("account").size()
    f["n_payees"] = pairs[pairs.dir == -1].groupby("account").size()
    f["top_payer_amt"] = pairs[pairs.dir == 1].groupby("account").amount.max()
    f["top_payee_amt"] = pairs[pairs.dir == -1].groupby("account").amount.max()
    f["max_daily_in"] = ev[ev.is_in].groupby(["account", "day"]).amount.sum().groupby(level=0).max()
    del ev, pairs, g
    mark("event_facts")
    # card pools
    acc = pd.read_parquet(ws.table_glob("accounts").rsplit("/", 1)[0], columns=["account", "holder_id", "holder_name"])
    acc["holder"] = acc.holder_id.fillna(acc.holder_name)
    holders = acc.groupby("account").holder.max()
    src = pd.DataFrame({"account": tx.from_account.values, "ip": tx.ip.values, "mac": tx.mac.values})
    src["holder"] = src.account.map(holders).fillna(pd.Series(tx.from_name.values)).fillna(src.account)
    devs = []
    for col, prefix, up in (("ip", "ip:", False), ("mac", "mac:", True)):
        d = src[src[col].notna()]
        val = d[col].str.strip()
        val = val.str.upper() if up else val
        d = pd.DataFrame({"account": d.account.values, "holder": d.holder.values, "device": prefix + val.values})
        devs.append(d[val.values != ""])
    dev = pd.concat(devs).drop_duplicates()
    per_dev = dev.groupby("device").holder.nunique()
    per_dev = per_dev[per_dev <= p["card_pool"]["max_holders"]]
    f["pool_holders"] = dev.merge(per_dev.rename("holders"), left_on="device", right_index=True).groupby("account").holders.max()
    mark("card_pools")
    # loops (2- and 3-cycles, hubs excluded)
    lp = p["loops"]
    pr = tx.groupby(["from_account", "to_account"], sort=False).agg(amt=("amount", "sum"), first=("epoch", "min"),
                                                                     last=("epoch", "max")).reset_index()
    deg = pd.concat([pr.from_account, pr.to_account]).value_counts()
    hubs = set(deg[deg > lp["max_degree"]].index)
    big = pr[(pr.amt >= lp["min_amount"]) & ~pr.from_account.isin(hubs) & ~pr.to_account.isin(hubs)]
    ws_ = lp["window_days"] * 86400
    a = big.rename(columns={"from_account": "a", "to_account": "b", "first": "f1", "last": "l1"})[["a", "b", "f1", "l1"]]
    r = big.rename(columns={"from_account": "b", "to_account": "a", "first": "f2", "last": "l2"})[["a", "b", "f2", "l2"]]
    two = a.merge(r, on=["a", "b"])
    two = two[(two.l2 > two.f1) & (two.f2 <= two.l1 + ws_)][["a", "b"]]
    c = big.rename(columns={"from_account": "b", "to_account": "c", "first": "f2", "last": "l2"})[["b", "c", "f2", "l2"]]
    ab = a.merge(c, on="b")
    ab = ab[(ab.c != ab.a) & (ab.l2 > ab.f1) & (ab.f2 <= ab.l1 + ws_)]
    d3 = big.rename(columns={"from_account": "c", "to_account": "a", "first": "f3", "last": "l3"})[["c", "a", "f3", "l3"]]
    three = ab.merge(d3, on=["c", "a"])
    three = three[(three.l3 > three.f2) & (three.f3 <= three.l2 + ws_)][["a", "b"]]
    f["loop_partners"] = pd.concat([two, three]).groupby("a").b.nunique()
    mark("loops")
    # signals (same formulas as typologies.py)
    f = f.fillna({"n_payers": 0, "n_payees": 0, "pool_holders": 0, "loop_partners": 0})

    def ramp(x, lo, hi):
        return ((x - lo) / (hi - lo)).clip(0, 1)

    def ratio(num, den):
        return (num.fillna(0) / den.where(den > 0)).fillna(0.0)

    fio, fan, pf, dm, cp, nt, rd, nw, fc = (p[k] for k in ("fast_in_out", "fan", "paofen", "dormant", "card_pool",
                                                            "night", "round_amount", "network", "flow_class"))
    pop_night, pop_round = f.night_n.sum() / f.n_all.sum(), f.round_n.sum() / f.n_all.sum()
    pop_payers = f.n_payers[f.n_in > 0].sum() / (f.n_in > 0).sum()
    pop_payees = f.n_payees[f.n_out > 0].sum() / (f.n_out > 0).sum()
    retention = np.where(f.amt_in > 0, (f.amt_in - f.amt_out) / f.amt_in.where(f.amt_in > 0), -1.0)
    net_flow = ratio(f.amt_in - f.amt_out, f.amt_in + f.amt_out)
    passthrough = np.where(f.amt_in > 0, 1 - ramp(pd.Series(np.abs(retention), index=f.index), fio["retention_low"],
                                                   fio["retention_high"]), 0.0)
    fast_in = ramp(ratio(f.fast_in_amt, f.amt_in), fio["share_low"], fio["share_high"])
    fast_out = ramp(ratio(f.fast_out_amt, f.amt_out), fio["share_low"], fio["share_high"])

    def breadth(n, mean):
        lo = max(3.0, fan["breadth_low_x"] * mean)
        hi = max(float(fan["min_breadth"]), fan["breadth_high_x"] * mean)
        return ramp(n, lo, hi)

    slow = fan["slow_factor"]
    n_before = f.n_all - f.wake_rn.fillna(0)
    s = pd.DataFrame(index=f.index)
    s["fast_in_out"] = fast_in * ramp(f.n_in, 1, fio["min_inbound"]) * ramp(f.fast_in_n, 5, fio["min_fast_count"]) * passthrough
    s["paofen"] = (ramp(f.n_payers, 2, pf["min_payers"]) * ramp(ratio(f.small_in_n, f.n_in), 0.5, 0.9) * fast_in
                   * (1 - ramp(f.n_payees, pf["max_payees"], 3 * pf["max_payees"])) * passthrough
                   * np.where(f.max_daily_in.fillna(0) <= pf["daily_cap"], 1.0, pf["over_cap_factor"]))
    s["fan_in"] = (breadth(f.n_payers, pop_payers) * ramp(ratio(f.top_payee_amt, f.amt_out), fan["concentration_low"],
                   fan["concentration_high"]) * passthrough * (slow + (1 - slow) * fast_in))
    s["fan_out"] = (breadth(f.n_payees, pop_payees) * ramp(ratio(f.top_payer_amt, f.amt_in), fan["concentration_low"],
                    fan["concentration_high"]) * passthrough * (slow + (1 - slow) * fast_out))
    s["card_pool"] = ramp(f.pool_holders, cp["min_holders"] - 1, cp["full_holders"])
    s["dormant"] = ((f.max_gap_days.fillna(0) >= dm["gap_days"]) * ramp(f.wake_rn.fillna(0), 2, dm["min_after"])
                    * ramp(ratio(f.wake_rn, n_before), 1, dm["burst_ratio"]))
    wc, wx = p["weights"]["core"], p["weights"]["context"]
    core1 = 1 - np.prod([1 - wc[k] * s[k] for k in ("paofen", "fast_in_out", "fan_in", "fan_out", "card_pool", "dormant")], axis=0)
    inbound = tx.groupby(["to_account", "from_account"], sort=False).amount.agg(["sum", "size"]).reset_index()
    inbound["out"] = inbound.from_account.map(inbound.groupby("from_account")["sum"].sum())  # payer's outflow
    up = p["upstream"]
    core_now = pd.Series(core1, index=f.index)
    for _ in range(int(nw["passes"])):
        flagged_now = set(f.index[core_now >= nw["flagged_core"]])
        hit = inbound[inbound.from_account.isin(flagged_now)].groupby("to_account").agg(
            flagged_in_amt=("sum", "sum"), n_flagged_payers=("from_account", "nunique"), flagged_in_n=("size", "sum"),
            flagged_out=("out", "sum"))
        fj = f.join(hit)
        s["network"] = (ramp(fj.n_flagged_payers.fillna(0), 1, nw["min_flagged_payers"])
                        * ramp(ratio(fj.flagged_in_amt, fj.amt_in), nw["share_low"], nw["share_high"])
                        * ramp(fj.flagged_in_n.fillna(0), 2, nw["min_flagged_txns"]))
        s["upstream"] = (ramp(ratio(fj.flagged_in_amt, fj.amt_in), up["share_low"], up["share_high"])
                         * ramp(ratio(fj.flagged_in_amt, fj.flagged_out), up["feed_low"], up["feed_high"])
                         * ramp(fj.n_flagged_payers.fillna(0), up["min_flagged_payers"] - 1, up["min_flagged_payers"]))
        core_now = 1 - (1 - pd.Series(core1, index=f.index)) * (1 - wc["network"] * s.network) * (1 - wc["upstream"] * s.upstream)
    s["night"] = ramp(ratio(f.night_n, f.n_all) - pop_night, nt["excess_low"], nt["excess_high"]) * ramp(f.n_all, 2, nt["min_txns"])
    s["round_amount"] = ramp(ratio(f.round_n, f.n_all) - pop_round, rd["excess_low"], rd["excess_high"]) * ramp(f.n_all, 2, rd["min_txns"])
    s["loop"] = (f.loop_partners > 0).astype(float)
    transit = (f.n_all >= fc["min_txns"]) & (net_flow > -fc["source_net"]) & (net_flow < fc["sink_net"]) & \
        (net_flow.abs() <= fc["transit_within"]) & (f.n_in > 0) & (f.n_out > 0)
    s["transit"] = transit * ramp(f.n_all, fc["min_txns"], 20)
    core = 1 - (1 - core1) * (1 - wc["network"] * s.network) * (1 - wc["upstream"] * s.upstream)
    context = 1 - np.prod([1 - wx[k] * s[k] for k in ("night", "round_amount", "loop", "transit")], axis=0)
    score = core + (1 - core) * context * ramp(core, p["context_gate_low"], p["context_gate_high"])
    flagged = sorted(score.index[score.round(6) >= p["flag_threshold"]])
    mark("signals")
    return {"seconds": time.perf_counter() - start, "flagged": flagged, "transactions": int(len(tx)),
            "accounts": int(len(f)), "phases": phases}


def run_child(kind: str, ws_path: Path, engine: str = "duckdb", incremental: str = "no") -> dict:
    """Run one side in a fresh process; return its result plus peak RSS (MB)."""
    out = ws_path.parent / f"result-{kind}-{engine}.json"
    proc = subprocess.run([sys.executable, str(HERE), "--child", kind, "--ws", str(ws_path), "--engine", engine,
                           "--result", str(out), "--child-incremental", incremental], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{proc.stderr[-3000:]}")
    res = json.loads(out.read_text())
    # RUSAGE_CHILDREN is a max over every child so far, so each child reports its own ru_maxrss.
    res["peak_mb"] = res["self_peak_mb"]
    return res


def prepare_incremental(workdir: Path, n: int, seed: int, pct: float) -> tuple[Path, Path]:
    """The lake of ``prepare`` split: (workspace without its latest ``pct`` % of transfers, those transfers)."""
    import duckdb

    from chainbreaker.core.workspace import Workspace

    src = prepare(workdir, n, seed)
    root = workdir / f"tx{n}-s{seed}-inc{pct:g}"
    late = root / "late.parquet"
    if not (root / "READY").exists():
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        ws_src = Workspace(src)
        glob = ws_src.table_glob("transactions")
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        day = "(CAST(floor(epoch(ts)) AS BIGINT) + 8 * 3600) // 86400"
        per_day = con.execute(f"SELECT {day} AS d, count(*) FROM '{glob}' GROUP BY 1 ORDER BY 1 DESC").fetchall()
        total, cut, acc = sum(c for _, c in per_day), None, 0
        for d, c in per_day:  # whole days from the last one back, until pct % of the rows
            acc += c
            cut = d
            if acc >= total * pct / 100:
                break
        con.execute(f"COPY (SELECT * FROM '{glob}' WHERE {day} >= {cut}) TO '{late}' (FORMAT parquet)")
        ws = Workspace(root / "ws")
        with ws.transaction("bench.lake") as tx:
            tx.write("transactions", con.sql(f"SELECT * FROM '{glob}' WHERE {day} < {cut} OR ts IS NULL"))
            tx.write("accounts", con.sql(f"SELECT * FROM '{ws_src.table_glob('accounts')}'"))
        (root / "READY").write_text("ok")
    return root / "ws", late


def run_incremental(workdir: Path, n: int, seed: int, pct: float, engine: str, repeat: int = 1) -> dict:
    """Full screen with state, append the late transfers, incremental screen, full screen; compared.

    ``repeat`` > 1 screens the appended lake ``repeat - 1`` more times, incrementally and in full, each
    pair from its own hard-linked copy and in alternating order (on a shared machine the load changes
    between two runs: pairs close in time and medians are fairer than one pair).
    """
    import duckdb
    import pyarrow.parquet as pq

    from chainbreaker.core.workspace import Workspace

    base, late = prepare_incremental(workdir, n, seed, pct)
    ws_path = base.parent / "run" / "ws"
    if ws_path.parent.exists():
        shutil.rmtree(ws_path.parent)
    ws_path.parent.mkdir(parents=True)
    subprocess.run(["cp", "-al", str(base), str(ws_path)], check=True)  # lake files are never modified in place
    first = run_child("chainbreaker", ws_path, engine, incremental="yes")
    ws = Workspace(ws_path)
    with ws.transaction("bench.append") as tx:
        tx.write("transactions", pq.read_table(late), mode="append")
    appended = ws_path.parent / "appended"
    subprocess.run(["cp", "-al", str(ws_path), str(appended)], check=True)
    inc = run_child("chainbreaker", ws_path, engine, incremental="auto")
    snap = ws_path.parent / "incremental"
    snap.mkdir()
    con = duckdb.connect()
    for name in ("funds_features", "account_risk", "findings"):
        con.execute(f"COPY (SELECT * FROM '{ws.table_glob(name)}') TO '{snap / name}.parquet' (FORMAT parquet)")
    full = run_child("chainbreaker", ws_path, engine, incremental="no")
    same = True
    for name, drop in (("funds_features", ""), ("account_risk", "EXCLUDE (run_id)"), ("findings", "EXCLUDE (id, run_id)")):
        a, b = f"SELECT * {drop} FROM '{snap / name}.parquet'", f"SELECT * {drop} FROM '{ws.table_glob(name)}'"
        diff = con.execute(f"SELECT (SELECT count(*) FROM ({a} EXCEPT ALL {b})) + (SELECT count(*) FROM ({b} EXCEPT ALL {a}))")
        same = same and diff.fetchone()[0] == 0
    pairs = [(inc, full)]
    for i in range(1, repeat):
        again = ws_path.parent / f"again-{i}" / "ws"
        again.parent.mkdir()
        subprocess.run(["cp", "-al", str(appended), str(again)], check=True)
        if i % 2:  # full first (it leaves the state alone), then incremental
            f = run_child("chainbreaker", again, engine, incremental="no")
            pairs.append((run_child("chainbreaker", again, engine, incremental="auto"), f))
        else:
            pairs.append((run_child("chainbreaker", again, engine, incremental="auto"),
                          run_child("chainbreaker", again, engine, incremental="no")))
    return {"first": first, "inc": inc, "full": full, "same": same, "pairs": pairs}


def run_floor(ws_path: Path) -> dict:
    """``floor_funds_screen.py``'s SQL floor in a fresh process; its facts checked against the product's."""
    from floor_funds_screen import product_checksums

    out = ws_path.parent / "result-floor.json"
    proc = subprocess.run([sys.executable, str(HERE.parent / "floor_funds_screen.py"), "--child", "--ws", str(ws_path),
                           "--result", str(out)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"floor failed:\n{proc.stderr[-3000:]}")
    res = json.loads(out.read_text())
    res["same_facts"] = product_checksums(ws_path) == res["check"]
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="300000", help="comma-separated transaction counts")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "cb-bench-funds")
    ap.add_argument("--pandas-max", type=int, default=3_000_000, help="skip pandas above this size")
    ap.add_argument("--engine", default="duckdb")
    ap.add_argument("--no-floor", action="store_true", help="skip the hand-written SQL floor")
    ap.add_argument("--incremental", type=float, default=None, metavar="PCT",
                    help="measure incremental screening with the latest PCT %% of transfers arriving later")
    ap.add_argument("--repeat", type=int, default=1, metavar="N",
                    help="N alternating runs of product and floor per size, the median ratio reported "
                    "(--incremental: N pairs of incremental and full screens of the same lake, medians)")
    ap.add_argument("--child", choices=["chainbreaker", "pandas"])
    ap.add_argument("--child-incremental", choices=["no", "yes", "auto"], default="no")
    ap.add_argument("--ws")
    ap.add_argument("--result")
    args = ap.parse_args()
    if args.child:
        mode = {"no": False, "yes": True, "auto": None}[args.child_incremental]
        res = child_chainbreaker(args.ws, args.engine, mode) if args.child == "chainbreaker" else child_pandas(args.ws)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        res["self_peak_mb"] = usage.ru_maxrss / 1024
        res["cpu_s"] = usage.ru_utime + usage.ru_stime
        Path(args.result).write_text(json.dumps(res))
        return
    if args.incremental is not None:
        print("| transactions | new | full + state s | incremental s | full s | speed-up | CPU s (full + state / inc "
              "/ full) | CPU speed-up | peak MB (inc / full) | identical |")
        print("|---:|---:|---:|---:|---:|---:|---|---:|---|---|")
        for n in [int(x) for x in args.scale.split(",")]:
            r = run_incremental(args.workdir, n, args.seed, args.incremental, args.engine, args.repeat)
            inc, full = r["inc"], r["full"]
            assert inc["mode"] == "incremental", inc
            print(f"| {n:,} | {inc['new_transactions']:,} | {r['first']['seconds']:.1f} | {inc['seconds']:.1f} | "
                  f"{full['seconds']:.1f} | {full['seconds'] / inc['seconds']:.1f}x | "
                  f"{r['first']['cpu_s']:.1f} / {inc['cpu_s']:.1f} / {full['cpu_s']:.1f} | "
                  f"{full['cpu_s'] / inc['cpu_s']:.1f}x | "
                  f"{inc['peak_mb']:,.0f} / {full['peak_mb']:,.0f} | {r['same']} |", flush=True)
            for name, run in (("full + state", r["first"]), ("incremental", inc), ("full", full)):
                t = run["timings"]
                own = t.get("events", 0.0) + t.get("state", 0.0)
                rest = sum(t.values()) - own
                print(f"    {name}: events + state {own:.1f} s, global downstream (features, score, rank, evidence, "
                      f"coverage) {rest:.1f} s = {rest / (own + rest):.0%} of the phases (wall)", flush=True)
            if len(r["pairs"]) > 1:

                med = {k: statistics.median(pair[0][k] for pair in r["pairs"]) for k in ("seconds", "cpu_s")}
                fmed = {k: statistics.median(pair[1][k] for pair in r["pairs"]) for k in ("seconds", "cpu_s")}
                print(f"    {len(r['pairs'])} pairs (incremental / full): " + ", ".join(
                    f"{a['seconds']:.1f}/{b['seconds']:.1f} s, {a['cpu_s']:.1f}/{b['cpu_s']:.1f} CPU s"
                    for a, b in r["pairs"]), flush=True)
                print(f"    medians: incremental {med['seconds']:.1f} s / {med['cpu_s']:.1f} CPU s, full "
                      f"{fmed['seconds']:.1f} s / {fmed['cpu_s']:.1f} CPU s: speed-up {fmed['seconds'] / med['seconds']:.2f}x "
                      f"wall, {fmed['cpu_s'] / med['cpu_s']:.2f}x CPU", flush=True)
            c = inc["counts"]
            print(f"    incremental: {c.get('accounts_extended')} accounts extended, {c.get('accounts_new')} new, "
                  f"{c.get('accounts_recomputed')} recomputed from all their transfers", flush=True)
        print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
        return
    rows = []
    for n in [int(x) for x in args.scale.split(",")]:
        t0 = time.perf_counter()
        ws_path = prepare(args.workdir, n, args.seed)
        print(f"[{n:,}] data ready in {time.perf_counter() - t0:.1f} s ({ws_path})", flush=True)
        cb = run_child("chainbreaker", ws_path, args.engine)
        line = {"n": n, "cb_s": cb["seconds"], "cb_tx_s": cb["transactions"] / cb["seconds"], "cb_mb": cb["peak_mb"],
                "flagged": len(cb["flagged"])}
        print(f"[{n:,}] chainbreaker ({args.engine}): {cb['seconds']:.1f} s, {line['cb_tx_s']:,.0f} tx/s, "
              f"peak {cb['peak_mb']:,.0f} MB, {len(cb['flagged'])} flagged, {cb['findings']} findings", flush=True)
        c = cb["counts"]
        if "sql_compiled" in c:  # a workspace's first screen compiles its statements unless the shared folder has them
            print(f"[{n:,}] SQL: {c['sql_compiled']} statements compiled, {c['sql_cached']} from the cache "
                  f"({c['sql_cached_shared']} from the user's shared recipes; "
                  "CHAINBREAKER_SQL_CACHE_SHARED=false measures a fresh installation)", flush=True)
        if not args.no_floor:
            fl = run_floor(ws_path)
            line.update(fl_s=fl["seconds"], fl_mb=fl["peak_mb"], ratio=cb["seconds"] / fl["seconds"],
                        same_facts=fl["same_facts"])
            print(f"[{n:,}] floor (hand-written DuckDB SQL, facts only): {fl['seconds']:.1f} s, peak {fl['peak_mb']:,.0f} MB; "
                  f"product/floor {line['ratio']:.2f}x; same facts: {fl['same_facts']}; process CPU "
                  f"{cb['cpu_s']:.1f} s vs {fl['cpu_s']:.1f} s ({cb['cpu_s'] / fl['cpu_s']:.2f}x, "
                  "includes start-up and imports)", flush=True)
            if args.repeat > 1:  # more alternating pairs: the machine's noise (other jobs) falls on both sides
                ratios = [line["ratio"]]
                for _ in range(args.repeat - 1):
                    again, fl_again = run_child("chainbreaker", ws_path, args.engine), run_floor(ws_path)
                    ratios.append(again["seconds"] / fl_again["seconds"])
                    line["same_facts"] = line["same_facts"] and fl_again["same_facts"]
                    assert again["flagged"] == cb["flagged"], "a repeated screen flagged other accounts"
                line["ratio"] = statistics.median(ratios)
                print(f"[{n:,}] product/floor over {len(ratios)} pairs (the first: this workspace's first screen "
                      f"when it was new): {', '.join(f'{r:.2f}x' for r in ratios)}; median {line['ratio']:.2f}x; "
                      f"same facts: {line['same_facts']}", flush=True)
        if n <= args.pandas_max:
            pd_ = run_child("pandas", ws_path)
            line.update(pd_s=pd_["seconds"], pd_tx_s=pd_["transactions"] / pd_["seconds"], pd_mb=pd_["peak_mb"],
                        speedup=pd_["seconds"] / cb["seconds"], same_flagged=pd_["flagged"] == cb["flagged"])
            print(f"[{n:,}] pandas: {pd_['seconds']:.1f} s, {line['pd_tx_s']:,.0f} tx/s, peak {pd_['peak_mb']:,.0f} MB; "
                  f"speed-up {line['speedup']:.1f}x; same flagged accounts: {line['same_flagged']}", flush=True)
        rows.append(line)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    print("\n| transactions | chainbreaker s | tx/s | peak MB | floor s | peak MB | product/floor | same facts "
          "| pandas s | tx/s | peak MB | speed-up | same flagged |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|")
    for r in rows:
        flp = (f"{r['fl_s']:.1f} | {r['fl_mb']:,.0f} | {r['ratio']:.2f}x | {r['same_facts']}"
               if "fl_s" in r else "skipped | | |")
        pdp = (f"{r['pd_s']:.1f} | {r['pd_tx_s']:,.0f} | {r['pd_mb']:,.0f} | {r['speedup']:.1f}x | {r['same_flagged']}"
               if "pd_s" in r else "skipped | | | |")
        print(f"| {r['n']:,} | {r['cb_s']:.1f} | {r['cb_tx_s']:,.0f} | {r['cb_mb']:,.0f} | {flp} | {pdp} |")


if __name__ == "__main__":
    main()
