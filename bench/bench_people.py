"""Benchmark of the people chain: ``python bench/bench_people.py [--scale small|full]``.

Steps, each in its own subprocess so that peak memory (ru_maxrss) belongs to one step:

1. generate the synthetic province with numpy and load the canonical travel tables into a workspace;
2. ``people analyze`` (DuckDB: trips, metrics, groups, companions, kin, findings) on all records;
3. a plain pandas baseline computing the core per-person metrics (trip pairing, trips to listed
   places in 12 months, dwell, stranded, frequent) on about 1M crossing records.

``small`` (default): 100k people, about 1.2M records; ``full``: 1M people, about 12M records.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCALES = {"small": 100_000, "full": 1_000_000}
BASELINE_RECORDS = 1_000_000
CHUNK = 100_000  # people generated per chunk (bounds the generator's memory)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU seconds used by this process (user + system): on a busy shared machine the wall clock
    includes waiting for a core; CPU time shows what the work itself cost."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return round(r.ru_utime + r.ru_stime, 1)


def worker_generate(ws_path: str, people: int) -> dict:
    from chainbreaker.core.workspace import Workspace
    from chainbreaker.synth.travel import generate_travel, load_travel_tables

    t0 = time.perf_counter()
    ws = Workspace(ws_path)
    records = crossings = 0
    chunk = min(people, CHUNK)
    for i in range((people + chunk - 1) // chunk):
        n = min(chunk, people - i * chunk)
        data = generate_travel(n, seed=7 + i, id_offset=i * chunk)
        load_travel_tables(ws, data, mode="append")
        records += sum(getattr(data, k).num_rows for k in ("crossings", "flights", "trains", "hotels", "kin"))
        crossings += data.crossings.num_rows
        del data
    return {"step": "generate", "people": people, "records": records, "crossings": crossings,
            "total_s": round(time.perf_counter() - t0, 1), "peak_mb": round(_peak_mb())}


def worker_analyze(ws_path: str, as_of: str) -> dict:
    import datetime as dt

    from chainbreaker.chains.people.analyze import analyze
    from chainbreaker.core.workspace import Workspace

    t0 = time.perf_counter()
    cpu0 = _cpu_s()
    ws = Workspace(ws_path)
    r = analyze(ws, dt.date.fromisoformat(as_of))
    cpu = round(_cpu_s() - cpu0, 1)
    timings = next(run["timings"] for run in ws.runs() if run["run_id"] == r.run_id)
    return {"step": "duckdb", "seconds": round(time.perf_counter() - t0, 1), "persons": r.persons, "trips": r.trips,
            "findings": r.findings, "groups": r.groups, "peak_mb": round(_peak_mb()), "timings": timings, "cpu_s": cpu,
            "load_avg": [round(x, 1) for x in __import__("os").getloadavg()]}


def worker_pandas(ws_path: str, as_of: str, records: int) -> dict:
    import numpy as np
    import pandas as pd

    from chainbreaker.chains.people.destinations import load_destinations
    from chainbreaker.core.workspace import Workspace

    ws = Workspace(ws_path)
    cx = ws.read_arrow("travel_crossings", ["person_key", "ts", "direction", "country_raw"]).to_pandas()
    # whole persons, about `records` rows
    keys = cx["person_key"].drop_duplicates()
    share = min(1.0, records / max(len(cx), 1))
    chosen = set(keys.sample(frac=share, random_state=1))
    cx = cx[cx["person_key"].isin(chosen)].reset_index(drop=True)
    n = len(cx)
    t0 = time.perf_counter()
    cpu0 = _cpu_s()
    dest = load_destinations()
    listed = {raw: m.listed for raw in cx["country_raw"].dropna().unique() if (m := dest.match(raw)) is not None}
    cutoff = pd.Timestamp(as_of, tz="Asia/Shanghai") + pd.Timedelta(days=1)
    cx = cx[cx["ts"] < cutoff].sort_values(["person_key", "ts"])
    cx["listed"] = cx["country_raw"].map(listed).fillna(False).astype(bool)
    g = cx.groupby("person_key", sort=False)
    cx["next_dir"] = g["direction"].shift(-1)
    cx["next_ts"] = g["ts"].shift(-1)
    cx["next_listed"] = g["listed"].shift(-1)
    exits = cx[cx["direction"] == "exit"].copy()
    back = exits["next_dir"] == "entry"
    exits["dwell"] = np.where(back, (exits["next_ts"] - exits["ts"]).dt.total_seconds(),
                              (cutoff - exits["ts"]).dt.total_seconds()) / 86400
    exits["listed_trip"] = exits["listed"] | (back & exits["next_listed"].fillna(False).astype(bool))
    recent = exits["ts"] > cutoff - pd.Timedelta(days=365)
    per = exits.assign(l12=exits["listed_trip"] & recent).groupby("person_key").agg(
        trips_listed_12m=("l12", "sum"), total_dwell=("dwell", "sum"), longest=("dwell", "max"))
    last = cx.groupby("person_key").tail(1).set_index("person_key")
    last_exit = exits.groupby("person_key").tail(1).set_index("person_key")
    days = (cutoff - last["ts"]).dt.total_seconds() / 86400
    stranded = (last["direction"] == "exit") & last_exit["listed_trip"].reindex(last.index).fillna(False) & (days > 30)
    frequent = per["trips_listed_12m"] >= 3
    seconds = time.perf_counter() - t0
    return {"step": "pandas", "records": n, "seconds": round(seconds, 2), "cpu_s": round(_cpu_s() - cpu0, 1), "stranded": int(stranded.sum()),
            "frequent": int(frequent.sum()), "rows_per_s": round(n / seconds), "peak_mb": round(_peak_mb())}


def _run(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", choices=sorted(SCALES), default="small")
    ap.add_argument("--people", type=int, default=None, help="override the number of people")
    ap.add_argument("--worker", choices=["generate", "duckdb", "pandas"], help=argparse.SUPPRESS)
    ap.add_argument("--ws", help=argparse.SUPPRESS)
    ap.add_argument("--records", type=int, default=BASELINE_RECORDS, help="records for the pandas baseline")
    ap.add_argument("--as-of", default="2026-11-01")
    a = ap.parse_args()
    if a.worker == "generate":
        print(json.dumps(worker_generate(a.ws, a.people)))
        return
    if a.worker == "duckdb":
        print(json.dumps(worker_analyze(a.ws, a.as_of), ensure_ascii=False))
        return
    if a.worker == "pandas":
        print(json.dumps(worker_pandas(a.ws, a.as_of, a.records)))
        return
    people = a.people or SCALES[a.scale]
    tmp = Path(tempfile.mkdtemp(prefix="bench-people-"))
    try:
        ws = str(tmp / "ws")
        gen = _run(["--worker", "generate", "--ws", ws, "--people", str(people)])
        print(f"generated {gen['records']:,} travel records ({gen['crossings']:,} crossings) for {people:,} people "
              f"in {gen['total_s']} s (peak {gen['peak_mb']:,} MB)")
        duck = _run(["--worker", "duckdb", "--ws", ws, "--as-of", a.as_of])
        rate = gen["records"] / duck["seconds"]
        print(f"duckdb  people analyze: {gen['records']:,} records in {duck['seconds']} s = {rate:,.0f} records/s, "
              f"peak {duck['peak_mb']:,} MB; persons {duck['persons']:,}, groups {duck['groups']:,}, findings {duck['findings']}")
        print(f"        CPU time {duck['cpu_s']} s; steps (wall s): {duck['timings']}; load average after the run: "
              f"{duck['load_avg']} on this machine")
        pdx = _run(["--worker", "pandas", "--ws", ws, "--as-of", a.as_of, "--records", str(a.records)])
        print(f"pandas  baseline (core metrics only): {pdx['records']:,} crossing records in {pdx['seconds']} s = "
              f"{pdx['rows_per_s']:,} records/s (CPU {pdx['cpu_s']} s), peak {pdx['peak_mb']:,} MB; stranded {pdx['stranded']:,}, "
              f"frequent {pdx['frequent']:,}")
        ok = duck["seconds"] < 300 and duck["peak_mb"] < 8192
        print(f"target (10M records < 5 min, < 8 GB): {'met' if ok else 'NOT met'} at this scale "
              f"({gen['records']:,} records)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
