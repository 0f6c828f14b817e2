"""Benchmark of the promotion chain: platform ingest and agent-tree analysis at scale.

    python bench/bench_promotion.py                 # small: 100k members, 2M bets (~1-2 min)
    python bench/bench_promotion.py --scale full    # 1M members, 50M bets (the issue's target)

Each measured step runs in its own subprocess, which reports its wall time and peak RSS
(``VmHWM``), so numbers are per step and not polluted by the generator. Reported:

* generate + CSV export (not part of the target, shown for information);
* ingest of the CSV export (DuckDB read_csv + TRY_CAST, quarantine) — "ingest included" is
  ingest + analyze;
* analyze (tree, persons, metrics, thresholds, findings) — "ingest excluded";
* on a 100k-member platform in the same run: our analyze beside a plain pandas baseline that walks
  the tree recursively (the practitioner's script), with an agreement check on the shared columns.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCALES = {"small": (100_000, 2_000_000), "full": (1_000_000, 50_000_000)}

CHILD_PRELUDE = """
import json, resource, sys, time
t0 = time.perf_counter()
"""
# VmHWM (this process's RSS high-water mark) rather than ru_maxrss, which Linux carries over
# from the parent across fork+exec and would report the generator's memory for every child.
CHILD_EPILOGUE = """
hwm = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")]
peak_kb = hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
ru = resource.getrusage(resource.RUSAGE_SELF)
print("BENCH_RESULT " + json.dumps({"seconds": time.perf_counter() - t0, "cpu_seconds": ru.ru_utime + ru.ru_stime,
                                    "peak_rss_mb": peak_kb / 1024, **out}))
"""

INGEST = """
from pathlib import Path
from chainbreaker.core.workspace import Workspace
from chainbreaker.chains.promotion.ingest import ingest_platform
s = ingest_platform(Workspace(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
out = {"rows_read": s.rows_read, "rows_kept": s.rows_kept, "quarantined": s.quarantined_by_reason}
"""

ANALYZE = """
from chainbreaker.core.workspace import Workspace
from chainbreaker.chains.promotion.analyze import analyze
r = analyze(Workspace(sys.argv[1]))
out = {"members": r.members, "agents": r.agents, "levels": r.levels, "timings": r.timings,
       "findings": sum(r.findings_by_rule.values())}
"""

PANDAS = """
import sys
import pandas as pd
import pyarrow.compute as pc
import pyarrow as pa
from chainbreaker.core.workspace import Workspace
sys.setrecursionlimit(1_000_000)
ws = Workspace(sys.argv[1])
def fen(t, col):
    return pc.round(pc.multiply(t[col].cast(pa.float64()), 100)).cast(pa.int64()).to_numpy(zero_copy_only=False)
m = ws.read_arrow("platform_members", ["member_id", "upline_id"]).to_pandas()
b = ws.read_arrow("platform_bets", ["member_id", "stake"])
bets = pd.DataFrame({"member_id": b["member_id"].to_numpy(zero_copy_only=False), "stake": fen(b, "stake")})
m = m[m.upline_id != m.member_id]
m = m[m.upline_id.isin(set(m.member_id)) | m.upline_id.isna()]
children = m.dropna(subset=["upline_id"]).groupby("upline_id")["member_id"].apply(list).to_dict()
own = bets.groupby("member_id")["stake"].sum()
seen = set()
def downline(x):
    # The recursive walk analysts write; 'seen' only guards against upline cycles.
    out = []
    for c in children.get(x, []):
        if c in seen:
            continue
        seen.add(c)
        out.append(c)
        out.extend(downline(c))
    return out
rows = []
for agent in children:
    seen.clear()
    seen.add(agent)
    d = downline(agent)
    rows.append((agent, len(d), int(own.reindex(d).fillna(0).sum())))
res = pd.DataFrame(rows, columns=["member_id", "downline_accounts", "downline_stake_fen"]).set_index("member_id")
am = ws.read_arrow("agent_metrics", ["member_id", "downline_accounts", "downline_stake"])
ours = pd.DataFrame({"member_id": am["member_id"].to_numpy(zero_copy_only=False),
                     "downline_accounts": am["downline_accounts"].to_numpy(),
                     "downline_stake_fen": fen(am, "downline_stake")}).set_index("member_id")
# The cycle is cut differently by the naive walk; compare agents outside it.
common = res.index.intersection(ours.index)
agree = (res.loc[common] == ours.loc[common]).all(axis=1).mean()
out = {"agents": len(res), "agreement_share": float(agree)}
"""


def run_child(code: str, *args: str) -> dict:
    script = CHILD_PRELUDE + code + CHILD_EPILOGUE
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line[len("BENCH_RESULT "):])
    raise RuntimeError(f"child failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def generate(kind: str, members: int, bets: int, out: Path, name: str) -> float:
    from chainbreaker.synth.platform import generate_platform, write_csv

    t = time.perf_counter()
    p = generate_platform(kind, members, bets, seed=17, name=name)
    write_csv(p, out)
    return time.perf_counter() - t


def fmt(r: dict) -> str:
    # CPU seconds next to wall time: on a shared machine the wall time says little on its own.
    return f"{r['seconds']:8.1f} s  (cpu {r['cpu_seconds']:7.1f} s)   peak {r['peak_rss_mb'] / 1024:6.2f} GB"


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]  # progress shows up in logs
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=sorted(SCALES), default="small")
    ap.add_argument("--members", type=int, help="override the number of members")
    ap.add_argument("--bets", type=int, help="override the number of bets")
    ap.add_argument("--kind", choices=["pyramid", "quanmin"], default="pyramid")
    ap.add_argument("--baseline-members", type=int, default=100_000)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    members, bets = SCALES[args.scale]
    members, bets = args.members or members, args.bets or bets
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-promotion-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"promotion bench: {args.kind}, {members:,} members, {bets:,} bets, work dir {work} "
          f"({os.cpu_count()} cores)")
    try:
        csv_dir, ws = work / "csv", work / "ws"
        gen = generate(args.kind, members, bets, csv_dir, "bench")
        size = sum(f.stat().st_size for f in csv_dir.iterdir()) / 1e9
        print(f"generate + CSV export   {gen:8.1f} s   ({size:.2f} GB of CSV)")
        ing = run_child(INGEST, str(ws), str(csv_dir), "bench")
        print(f"ingest                  {fmt(ing)}   {ing['rows_read'] / ing['seconds']:,.0f} rows/s, "
              f"quarantined {ing['quarantined']}")
        ana = run_child(ANALYZE, str(ws))
        print(f"analyze (ingest excl.)  {fmt(ana)}   {ana['members']:,} members, {ana['agents']:,} agents, "
              f"{ana['levels']} levels, {ana['findings']:,} findings; steps {ana['timings']}")
        total = ing["seconds"] + ana["seconds"]
        print(f"ingest + analyze        {total:8.1f} s   peak {max(ing['peak_rss_mb'], ana['peak_rss_mb']) / 1024:6.2f} GB")
        shutil.rmtree(csv_dir, ignore_errors=True)

        bm = args.baseline_members
        bb = max(1, int(bets * bm / members)) if members > bm else bets
        if bm == members:  # the main platform already is the baseline size
            bws, ours = ws, ana
        else:
            bdir, bws = work / "base_csv", work / "base_ws"
            generate(args.kind, bm, bb, bdir, "base")
            run_child(INGEST, str(bws), str(bdir), "base")
            ours = run_child(ANALYZE, str(bws))
        base = run_child(PANDAS, str(bws))
        print(f"baseline platform: {bm:,} members, {bb:,} bets (ingest excluded on both sides)")
        print(f"  chainbreaker analyze  {fmt(ours)}   (tree, persons, metrics, thresholds, findings)")
        print(f"  pandas recursive      {fmt(base)}   (downline accounts + stakes only); "
              f"agreement on shared columns {base['agreement_share']:.1%} of {base['agents']:,} agents")
        print(json.dumps({"scale": args.scale, "members": members, "bets": bets, "generate_s": gen, "ingest": ing,
                          "analyze": ana, "baseline": {"members": bm, "bets": bb, "ours": ours, "pandas": base}},
                         default=str))
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
