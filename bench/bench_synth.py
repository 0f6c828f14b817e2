"""Benchmark of the synthetic bank data generator (chainbreaker.synth.bank).

Each measurement runs in its own subprocess so that peak memory (ru_maxrss) is per measurement.
Baseline: a plain per-row pandas/Python generator of transfers with the same columns.

    python bench/bench_synth.py                 # default: 1M transactions (~1 minute)
    python bench/bench_synth.py --scale 10000000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap

# Each child: imports (not timed), then the timed body.
CHILD = {
    "fast_table": """
        from chainbreaker.synth.bank import generate_transactions_table
        generate_transactions_table(5000, seed=1)  # warm-up: lazy imports are not generation
        # --- timed
        res = generate_transactions_table(N, seed=7)
        rows = res.transactions.num_rows
    """,
    "fast_parquet_stream": """
        import tempfile
        from pathlib import Path
        from chainbreaker.synth.bank import generate_transactions_table, write_transactions_parquet
        generate_transactions_table(5000, seed=1)
        # --- timed
        with tempfile.TemporaryDirectory() as d:
            rows = write_transactions_parquet(Path(d), N, seed=7)["transactions"]
    """,
    "statement_files": """
        import tempfile
        from pathlib import Path
        from chainbreaker.synth.bank import generate_province, generate_transactions_table
        generate_transactions_table(5000, seed=1)
        # --- timed
        with tempfile.TemporaryDirectory() as d:
            rows = generate_province(Path(d), N, seed=7).tables.transactions.num_rows
    """,
    "pandas_baseline": """
        import random, datetime as dt
        import pandas as pd
        from decimal import Decimal
        # --- timed
        rnd = random.Random(7)
        accounts = [str(6222020000000000000 + i) for i in range(max(1000, N // 40))]
        start = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
        recs = []
        for i in range(N):
            a, b = rnd.sample(accounts, 2)
            recs.append({"txn_id": f"T{i:012d}", "serial_no": f"{i:018d}", "from_account": a, "to_account": b,
                         "amount": Decimal(rnd.randint(100, 500000)) / 100, "currency": "CNY",
                         "ts": start + dt.timedelta(seconds=rnd.randint(0, 184 * 86400)),
                         "channel": rnd.choice(["手机银行转账", "快捷支付", "POS消费"]), "summary": "转账",
                         "ip": f"112.112.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}", "is_cash": False})
        df = pd.DataFrame.from_records(recs).sort_values("ts")
        rows = len(df)
    """,
}

RUNNER = """
import json, resource, time
N = {n}
{setup}
t0 = time.perf_counter()
{body}
sec = time.perf_counter() - t0
print(json.dumps({{"rows": rows, "seconds": sec, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def run(kind: str, n: int) -> dict[str, float]:
    setup, body = textwrap.dedent(CHILD[kind]).split("# --- timed")
    code = RUNNER.format(n=n, setup=setup, body=body)
    with tempfile.TemporaryDirectory() as d:
        script = f"{d}/bench_child.py"
        with open(script, "w", encoding="utf-8") as fh:
            fh.write(code)
        out = subprocess.run([sys.executable, script], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=1_000_000, help="transactions for the fast path (default 1M)")
    ap.add_argument("--files-scale", type=int, default=20_000, help="transactions for the 调单 file writer")
    ap.add_argument("--baseline-scale", type=int, default=200_000,
                    help="transactions for the per-row pandas baseline (throughput is per row)")
    ap.add_argument("--skip-table", action="store_true", help="skip the in-memory fast path (stream only)")
    args = ap.parse_args()
    plan = [("pandas_baseline", args.baseline_scale)]
    if not args.skip_table:
        plan.append(("fast_table", args.scale))
    plan += [("fast_parquet_stream", args.scale), ("statement_files", args.files_scale)]
    results = {}
    print(f"{'measurement':<22}{'rows':>12}{'seconds':>10}{'rows/s':>14}{'peak MB':>10}")
    for kind, n in plan:
        r = run(kind, n)
        results[kind] = r
        print(f"{kind:<22}{r['rows']:>12,}{r['seconds']:>10.2f}{r['rows'] / r['seconds']:>14,.0f}{r['peak_mb']:>10,.0f}")
    base = results["pandas_baseline"]["rows"] / results["pandas_baseline"]["seconds"]
    for kind in ("fast_table", "fast_parquet_stream"):
        if kind in results:
            speed = results[kind]["rows"] / results[kind]["seconds"]
            print(f"{kind}: {speed / base:.1f}x the per-row pandas baseline")


if __name__ == "__main__":
    main()
