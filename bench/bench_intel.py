"""Benchmark: ``intel resolve``, ``intel path`` and ``intel operations`` on a synthetic lake, with a
plain pandas baseline of the money-link aggregation in the same run.

    python bench/bench_intel.py                     # 200k transactions
    python bench/bench_intel.py --scale 1000000

The lake (transactions + accounts with holders) comes from ``bench_funds_screen.prepare`` (cached
under ``--workdir``). Each side runs in a fresh subprocess (peak memory = the child's VmHWM):

* chainbreaker: ``resolve`` (entities, sources, links), then 20 ``intel path`` searches between
  random accounts (``any``, at most 6 hops), then ``operations`` (igraph Leiden, modularity);
* pandas: the same ``transferred_to`` aggregation (count, sum, first/last per payer → payee) from
  the Parquet lake; the run checks both give the same number of links and the same total amount.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _screen_bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_funds_screen", HERE.with_name("bench_funds_screen.py"))
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def child_chainbreaker(ws_path: str) -> dict:
    from chainbreaker.core.workspace import Workspace
    from chainbreaker.intel.entities import resolve
    from chainbreaker.intel.operations import operations
    from chainbreaker.intel.path import find_path

    ws = Workspace(ws_path)
    t0 = time.perf_counter()
    res = resolve(ws)
    t_resolve = time.perf_counter() - t0
    con = ws.duck()
    links, amount = con.sql("SELECT count(*), sum(amount) FROM entity_links WHERE kind = 'transferred_to'").fetchall()[0]
    accounts = [r[0] for r in con.sql("SELECT key FROM entities WHERE entity_type = 'account' ORDER BY key").fetchall()]
    rng = random.Random(7)
    times, found = [], 0
    for _ in range(20):
        a, b = rng.sample(accounts, 2)
        t1 = time.perf_counter()
        doc = find_path(ws, f"account:{a}", f"account:{b}", max_hops=6)
        times.append(time.perf_counter() - t1)
        found += bool(doc["nodes"])
    t2 = time.perf_counter()
    ops = operations(ws)
    t_ops = time.perf_counter() - t2
    times.sort()
    return {"resolve_s": t_resolve, "entities": sum(res.entities.values()), "links_total": sum(res.links.values()),
            "sources": res.sources, "money_links": links, "money_amount": str(amount),
            "path_median_s": times[len(times) // 2], "path_max_s": times[-1], "paths_found": found,
            "operations_s": t_ops, "communities": ops.communities, "operations": ops.operations,
            "modularity": ops.modularity}


def child_pandas(ws_path: str) -> dict:
    import pandas as pd

    t0 = time.perf_counter()
    tx = pd.read_parquet(Path(ws_path) / "lake" / "transactions",
                         columns=["from_account", "to_account", "amount", "ts"])
    t_load = time.perf_counter() - t0
    t1 = time.perf_counter()
    tx = tx[tx.from_account.notna() & tx.to_account.notna() & (tx.from_account != tx.to_account)]
    agg = tx.groupby(["from_account", "to_account"], sort=False).agg(
        count=("amount", "size"), amount=("amount", "sum"), first_ts=("ts", "min"), last_ts=("ts", "max"))
    return {"seconds": time.perf_counter() - t1, "load_s": t_load, "money_links": len(agg),
            "money_amount": str(agg["amount"].sum())}


def run_child(kind: str, ws_path: Path) -> dict:
    out = ws_path.parent / f"result-{kind}.json"
    subprocess.run([sys.executable, str(HERE), "--child", kind, "--ws", str(ws_path), "--result", str(out)],
                   check=True)
    return json.loads(out.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "cb-bench-intel")
    ap.add_argument("--child", choices=["chainbreaker", "pandas"])
    ap.add_argument("--ws")
    ap.add_argument("--result")
    args = ap.parse_args()
    if args.child:
        res = child_chainbreaker(args.ws) if args.child == "chainbreaker" else child_pandas(args.ws)
        res["peak_mb"] = _peak_mb()
        Path(args.result).write_text(json.dumps(res))
        return
    ws_path = _screen_bench().prepare(args.workdir, args.scale, args.seed)
    cb = run_child("chainbreaker", ws_path)
    pd_ = run_child("pandas", ws_path)
    from decimal import Decimal

    same = cb["money_links"] == pd_["money_links"] and Decimal(cb["money_amount"]) == Decimal(pd_["money_amount"])
    print(f"transactions: {args.scale:,}")
    print(f"chainbreaker resolve: {cb['resolve_s']:.2f} s, {cb['entities']:,} entities, {cb['links_total']:,} links, "
          f"{cb['sources']:,} source rows; peak {cb['peak_mb']:,.0f} MB")
    print(f"  path (20 random account pairs, <= 6 hops): median {cb['path_median_s']:.3f} s, max "
          f"{cb['path_max_s']:.3f} s, {cb['paths_found']} found")
    print(f"  operations: {cb['operations_s']:.2f} s, {cb['communities']:,} communities, {cb['operations']:,} "
          f"anchored, modularity {cb['modularity']:.3f}")
    print(f"pandas baseline (money links only): {pd_['seconds']:.2f} s (+{pd_['load_s']:.2f} s load); "
          f"peak {pd_['peak_mb']:,.0f} MB")
    print(f"money links: chainbreaker {cb['money_links']:,} / pandas {pd_['money_links']:,}; same totals: {same}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
