"""Benchmark: `chainbreaker ingest bank` vs a plain pandas read_csv pipeline on the same files.

    python bench/bench_ingest_bank.py [--rows 1000000] [--files 10] [--workers 1,2] [--keep DIR]

Generates ``--rows`` statement rows in the 34-column 交易明细信息 layout (GB18030, values padded
with tabs, ``\\N`` nulls, 收付标志 进/出), split over ``--files`` bank files of one 调单 package,
where a third of the transfers are between two requested accounts and so appear on both
statements. Each side runs in its own subprocess and reports wall time, rows/s and its own peak
RSS. ``--workers`` lists the ingest worker counts to run (each into a fresh workspace; default:
the ingest's own default); an ingest's CPU seconds include its worker processes and the fork
server that starts them (read from /proc: Linux) and "worker MiB" is the largest worker's peak RSS (workers run beside
the ingest process, so peak memory is up to ingest + workers × that). The pandas baseline does
what an analyst's script does: read_csv(dtype=str) per file, strip tabs, parse amounts and times, orient from/to by 收付标志 and drop duplicates by
(time, amount, from, to); it keeps no evidence, no quarantine and no row provenance, so it does
strictly less work than the ingest.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chainbreaker.synth.bank_layouts import STD34

HEADER = list(STD34)  # the 34-column 交易明细信息 layout, one definition (synth.bank_layouts)
BANKS = ["中国工商银行", "中国农业银行", "中国银行", "中国建设银行", "交通银行", "招商银行", "中国邮政储蓄银行",
         "兴业银行", "平安银行", "中信银行"]


def generate(out: Path, rows: int, files: int, seed: int = 7) -> int:
    """Write the statements; returns the number of rows written."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n_accounts = max(1000, rows // 50)
    accounts = np.array([f"62{rng.integers(10**16, 10**17 - 1)}" for _ in range(n_accounts)])
    subjects = n_accounts // 3  # the first third of the accounts are requested (statement subjects)
    n_tx = int(rows / (1 + 1 / 3))  # transfers; a third of them are seen from both sides
    frm = rng.integers(0, n_accounts, n_tx)
    to = rng.integers(0, n_accounts, n_tx)
    both = rng.random(n_tx) < 1 / 3
    frm = np.where(both, rng.integers(0, subjects, n_tx), np.where(rng.random(n_tx) < 0.5,
                                                                   rng.integers(0, subjects, n_tx), frm))
    to = np.where(both, rng.integers(0, subjects, n_tx), to)
    cents = rng.lognormal(9, 1.5, n_tx).astype(np.int64) + 1
    base = np.datetime64("2023-01-01T00:00:00")
    ts = base + rng.integers(0, 365 * 86400, n_tx).astype("timedelta64[s]")
    legs = []  # (own, cp, flag, i)
    frm_req = frm < subjects
    to_req = to < subjects
    for i in np.nonzero(frm_req)[0]:
        legs.append((frm[i], to[i], "出", i))
    for i in np.nonzero(to_req)[0]:
        legs.append((to[i], frm[i], "进", i))
    legs = legs[:rows]
    out.mkdir(parents=True, exist_ok=True)
    per_bank: list[list[str]] = [[] for _ in range(files)]
    for own, cp, flag, i in legs:
        t = str(ts[i]).replace("T", " ")
        amount = f"{cents[i] // 100}.{cents[i] % 100:02d}"
        cells = [accounts[own], f"{accounts[own]}_1", f"户名{own}", "\\N", t, amount, "\\N", flag, accounts[cp],
                 "转账", f"户名{cp}", "\\N", BANKS[cp % len(BANKS)], "转账", "人民币", "\\N", "\\N", "\\N", "成功",
                 "\\N", "\\N", f"10.{own % 250}.{cp % 250}.1", "\\N", "\\N", f"SN{i:012d}", "\\N", "\\N", "\\N",
                 "\\N", "\\N", "\\N", "\\N", "网银转账", "\\N"]
        per_bank[own % files].append(",".join(c + "\t" for c in cells))
    header = ",".join(h + "\t" for h in HEADER)
    for k, lines in enumerate(per_bank):
        path = out / f"{BANKS[k % len(BANKS)]}{k}交易明细信息.csv"
        path.write_bytes(("\r\n".join([header, *lines]) + "\r\n").encode("gb18030"))
    return len(legs)


def run_chainbreaker(data: Path, ws_dir: Path, workers: int | None) -> dict[str, float]:
    from chainbreaker.chains.funds.bank.service import ingest_bank
    from chainbreaker.core.workspace import Workspace

    ws = Workspace(ws_dir)
    start = time.perf_counter()
    s = ingest_bank(ws, [data], progress=None, workers=workers)
    seconds = time.perf_counter() - start
    run = ws.runs()[-1]
    used = int(run["settings"]["workers"])
    # Worker processes are not children of this process (forkserver) and the fork server is never
    # waited for, so getrusage does not see them: count the CPU of every process below this one
    # (the fork server's imports, and the workers it reaped: start-up and files), from /proc.
    worker_cpu = _descendants_cpu() if used > 1 else 0.0
    worker_rss = float(run["counts"].get("worker_peak_rss_mb", 0.0)) if used > 1 else 0.0
    steps = {k: float(v) for k, v in run["timings"].items() if isinstance(v, int | float)}
    return {"seconds": seconds, "rows": s.rows_read, "kept": s.rows_kept, "transfers": s.transfers_new,
            "merged": s.duplicates_merged, "workers": used, "worker_cpu_seconds": worker_cpu,
            "worker_peak_rss_mb": worker_rss, "steps": steps}


def _descendants_cpu() -> float:
    """CPU seconds of the live processes below this one, with the children they reaped (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    parent_of: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parent_of[pid] = int(fields[1])  # ppid; fields[11:15] = utime stime cutime cstime
        cpu[pid] = sum(int(x) for x in fields[11:15]) / tick
    me, total = os.getpid(), 0.0
    for pid in cpu:
        up = parent_of.get(pid)
        while up is not None and up != me and up > 1:
            up = parent_of.get(up)
        if up == me:
            total += cpu[pid]
    return total


def run_pandas(data: Path) -> dict[str, float]:
    import pandas as pd

    start = time.perf_counter()
    frames = []
    for path in sorted(data.glob("*.csv")):
        df = pd.read_csv(path, encoding="gb18030", dtype=str, keep_default_na=False)
        df.columns = [c.strip() for c in df.columns]
        df = df.apply(lambda c: c.str.strip(" \t"))
        df = df.replace({"\\N": None, "-": None, "": None})
        own = df["交易卡号"].fillna(df["交易账号"])
        amount = pd.to_numeric(df["交易金额"].str.replace(",", "").str.replace("元", ""), errors="coerce")
        ts = pd.to_datetime(df["交易时间"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
        out = df["收付标志"] == "出"
        frames.append(pd.DataFrame({
            "from_account": own.where(out, df["交易对手账卡号"]), "to_account": df["交易对手账卡号"].where(out, own),
            "amount": amount.abs(), "ts": ts.dt.tz_localize("Asia/Shanghai").dt.tz_convert("UTC"),
            "serial_no": df["交易流水号"], "summary": df["摘要说明"], "ip": df["IP地址"],
        }))
    allrows = pd.concat(frames, ignore_index=True)
    rows = len(allrows)
    transfers = allrows.drop_duplicates(["ts", "amount", "from_account", "to_account"])
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": rows, "kept": rows, "transfers": len(transfers), "merged": rows - len(transfers)}


def _child(side: str, data: Path, ws_dir: Path, workers: int | None = None) -> dict[str, float]:
    extra = ["--workers", str(workers)] if workers is not None else []
    proc = subprocess.run([sys.executable, __file__, "--child", side, "--data", str(data), "--ws", str(ws_dir),
                           *extra], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{side} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000, help="statement rows to generate (default 1M)")
    ap.add_argument("--files", type=int, default=10, help="bank files in the package (default 10)")
    ap.add_argument("--workers", default=None,
                    help="comma-separated ingest worker counts to run, e.g. 1,2 (default: the ingest's default)")
    ap.add_argument("--keep", type=Path, default=None, help="folder to keep data and workspace in")
    ap.add_argument("--child", choices=["chainbreaker", "pandas"], help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--ws", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        if args.child == "chainbreaker":
            result = run_chainbreaker(args.data, args.ws, int(args.workers) if args.workers else None)
        else:
            result = run_pandas(args.data)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        result["peak_rss_mb"] = usage.ru_maxrss / 1024
        result["cpu_seconds"] = usage.ru_utime + usage.ru_stime + result.get("worker_cpu_seconds", 0.0)
        print(json.dumps(result))
        return
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-ingest-bank-"))
    data = root / "调单"
    t0 = time.perf_counter()
    written = generate(data, args.rows, args.files)
    size = sum(p.stat().st_size for p in data.glob("*.csv")) / 2**20
    print(f"generated {written:,} rows in {args.files} files ({size:,.0f} MiB GB18030) "
          f"in {time.perf_counter() - t0:.1f} s under {data}")
    results = {"pandas": _child("pandas", data, root / "unused")}
    counts: list[int | None] = [int(w) for w in args.workers.split(",")] if args.workers else [None]
    for w in counts:
        ws_dir = root / f"ws-{w or 'default'}"
        shutil.rmtree(ws_dir, ignore_errors=True)  # with --keep, an old workspace would skip every file
        result = _child("chainbreaker", data, ws_dir, w)
        results[f"chainbreaker w={int(result['workers'])}"] = result
    load = os.getloadavg()[0]
    print(f"(1-minute load average at the end: {load:.1f} on {os.cpu_count()} cores; wall times stretch under load)")
    print(f"{'side':<18}{'wall s':>8}{'rows/s':>10}{'CPU s':>8}{'rows/CPU s':>12}{'peak MiB':>10}{'worker MiB':>12}"
          f"{'transfers':>11}{'merged':>9}")
    for side, r in results.items():
        print(f"{side:<18}{r['seconds']:>8.1f}{r['rows'] / r['seconds']:>10,.0f}{r['cpu_seconds']:>8.1f}"
              f"{r['rows'] / r['cpu_seconds']:>12,.0f}{r['peak_rss_mb']:>10,.0f}"
              f"{r.get('worker_peak_rss_mb', 0):>12,.0f}"
              f"{int(r['transfers']):>11,}{int(r['merged']):>9,}")
    for side, r in results.items():
        if r.get("steps"):
            print(f"{side} CPU s: ingest process {r['cpu_seconds'] - r['worker_cpu_seconds']:.2f} (imports included), "
                  f"fork server and workers {r['worker_cpu_seconds']:.2f}; steps (wall s; *_cpu = CPU s of the "
                  "ingest process, but normalise_cpu = of all files wherever normalised): "
                  + ", ".join(f"{k} {v:.2f}" for k, v in r["steps"].items()))
    base = results["pandas"]
    for side, r in results.items():
        if side == "pandas":
            continue
        ratio = r["rows"] / r["seconds"] / (base["rows"] / base["seconds"])
        cpu_ratio = (r["rows"] / r["cpu_seconds"]) / (base["rows"] / base["cpu_seconds"])
        print(f"{side} / pandas throughput: {ratio:.2f}x wall, {cpu_ratio:.2f}x per CPU second")


if __name__ == "__main__":
    main()
