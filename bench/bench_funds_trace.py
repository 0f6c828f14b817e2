"""Benchmark: 5-hop time-respecting trace (资金穿透) from a busy account, DuckDB vs plain pandas.

    python bench/bench_funds_trace.py                      # default: 1M transactions
    python bench/bench_funds_trace.py --scale 10000000     # the target: < 5 s on 10M

Uses the same cached synthetic lakes as bench_funds_screen.py. The seeds are the account with the
most outgoing transfers (busiest) and a typical one. Each side runs in a fresh subprocess; the
pandas side loads the columns it needs (load time reported separately) and runs the same
frontier loop with merges.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def _screen_bench():
    spec = importlib.util.spec_from_file_location("bench_funds_screen", HERE.with_name("bench_funds_screen.py"))
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def seeds(ws_path: Path) -> dict[str, str]:
    from chainbreaker.core.workspace import Workspace

    con = Workspace(ws_path).duck()
    busy = con.sql("SELECT from_account, count(*) n FROM transactions GROUP BY 1 ORDER BY n DESC, 1 LIMIT 1").fetchall()[0]
    typical = con.sql("""SELECT from_account FROM (SELECT from_account, count(*) n FROM transactions GROUP BY 1)
                         WHERE n BETWEEN 10 AND 30 ORDER BY from_account LIMIT 1""").fetchall()[0]
    return {"busiest": busy[0], "busiest_out": busy[1], "typical": typical[0]}


def child_duckdb(ws_path: str, account: str, hops: int, window: float) -> dict:
    from chainbreaker.chains.funds.trace import trace
    from chainbreaker.core.workspace import Workspace

    start = time.perf_counter()
    result = trace(Workspace(ws_path), account, "down", hops=hops, window_hours=window)
    return {"seconds": time.perf_counter() - start, "edges": result.edges.num_rows, "nodes": result.nodes.num_rows}


def child_pandas(ws_path: str, account: str, hops: int, window: float) -> dict:
    import numpy as np
    import pandas as pd

    from chainbreaker.core.workspace import Workspace

    ws = Workspace(ws_path)
    t0 = time.perf_counter()
    tx = pd.read_parquet(ws.table_glob("transactions").rsplit("/", 1)[0],
                         columns=["txn_id", "from_account", "to_account", "amount", "ts"])
    tx = tx[tx.from_account.notna() & tx.to_account.notna() & (tx.from_account != tx.to_account) & tx.ts.notna()]
    tx["amount"] = tx.amount.astype("float64")
    tx["epoch"] = tx.ts.astype("int64") // 1_000_000
    by_from = tx.set_index("from_account").sort_index()
    load = time.perf_counter() - t0
    t1 = time.perf_counter()
    w = int(window * 3600)
    frontier = by_from.loc[[account]].reset_index()
    frontier["attributed"] = frontier.amount
    seen = set(frontier.txn_id)
    edges = [frontier]
    for _ in range(2, hops + 1):
        if frontier.empty:
            break
        reach = frontier.to_account.unique()
        nxt = by_from.loc[by_from.index.intersection(reach)].reset_index()
        cand = frontier[["txn_id", "to_account", "epoch", "attributed"]].rename(
            columns={"txn_id": "via", "to_account": "from_account", "epoch": "t_arr", "attributed": "a"}).merge(
            nxt, on="from_account")
        cand = cand[(cand.epoch > cand.t_arr) & (cand.epoch <= cand.t_arr + w) & ~cand.txn_id.isin(seen)]
        cand["outflow"] = cand.groupby("via").amount.transform("sum")
        cand["att"] = cand.amount * np.minimum(1.0, cand.a / cand.outflow)
        frontier = cand.groupby("txn_id").agg(from_account=("from_account", "first"), to_account=("to_account", "first"),
                                               amount=("amount", "first"), epoch=("epoch", "first"),
                                               att=("att", "sum")).reset_index()
        frontier["attributed"] = np.minimum(frontier.att, frontier.amount).round(2)
        seen |= set(frontier.txn_id)
        edges.append(frontier)
    n_edges = sum(len(e) for e in edges)
    return {"seconds": time.perf_counter() - t1, "load_seconds": load, "edges": n_edges}


def run_child(kind: str, ws_path: Path, account: str, hops: int, window: float) -> dict:
    out = ws_path.parent / f"trace-{kind}.json"
    proc = subprocess.run([sys.executable, str(HERE), "--child", kind, "--ws", str(ws_path), "--account", account,
                           "--hops", str(hops), "--window", str(window), "--result", str(out)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{proc.stderr[-3000:]}")
    return json.loads(out.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="1000000")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--hops", type=int, default=5)
    ap.add_argument("--window", type=float, default=72)
    ap.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "cb-bench-funds")
    ap.add_argument("--child", choices=["duckdb", "pandas"])
    ap.add_argument("--ws")
    ap.add_argument("--account")
    ap.add_argument("--result")
    args = ap.parse_args()
    if args.child:
        fn = child_duckdb if args.child == "duckdb" else child_pandas
        res = fn(args.ws, args.account, args.hops, args.window)
        res["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        Path(args.result).write_text(json.dumps(res))
        return
    bench = _screen_bench()
    print("| transactions | seed | out-degree | duckdb s | edges | peak MB | pandas s (+load) | edges | peak MB |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for n in [int(x) for x in args.scale.split(",")]:
        ws_path = bench.prepare(args.workdir, n, args.seed)
        s = seeds(ws_path)
        for label in ("busiest", "typical"):
            d = run_child("duckdb", ws_path, s[label], args.hops, args.window)
            pd_ = run_child("pandas", ws_path, s[label], args.hops, args.window)
            degree = s["busiest_out"] if label == "busiest" else "-"
            print(f"| {n:,} | {label} | {degree} | {d['seconds']:.2f} | {d['edges']:,} | {d['peak_mb']:,.0f} | "
                  f"{pd_['seconds']:.2f} (+{pd_['load_seconds']:.1f}) | {pd_['edges']:,} | {pd_['peak_mb']:,.0f} |",
                  flush=True)


if __name__ == "__main__":
    main()
