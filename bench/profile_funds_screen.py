"""Where funds screening spends its time: each staged step timed alone, with its Ibis compile time.

    python bench/profile_funds_screen.py --scale 10000000     # lake cached by bench_funds_screen.py

Runs the same steps as a full ``chainbreaker.chains.funds.screen`` on DuckDB (per-account facts from
one sort of the events), materialising each step and the feature parts separately so each gets its
own wall time; prints one line per step and the peak memory. (Evidence, ranking and writes are not
here: ``bench_funds_screen.py``'s run log has them per step.) Use it to decide what to optimise; ``bench_funds_screen.py`` is the throughput benchmark.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "cb-bench-funds")
    args = ap.parse_args()

    from bench_funds_screen import prepare

    from chainbreaker.chains.funds import events, typologies
    from chainbreaker.chains.funds.rules import load_rules
    from chainbreaker.core.engine import Engine
    from chainbreaker.core.workspace import Workspace

    ws = Workspace(prepare(args.workdir, args.scale, args.seed))
    eng = Engine(ws, "duckdb")
    p = load_rules(None, ws.config_dir).params
    tx = eng.table("transactions")
    accounts = eng.table("accounts") if ws.has_table("accounts") else None
    v = typologies.valid_transactions(tx)
    scratch_cm = ws.scratch("funds-profile")
    stage = eng.staging(scratch_cm.__enter__(), "funds", "profile")

    def step(name: str, expr):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        eng.con.compile(expr)
        compiled = time.perf_counter() - t0
        t1, c1 = time.perf_counter(), time.process_time()
        out = stage(expr, name)
        print(f"{name:<14} {time.perf_counter() - t1:7.2f} s  cpu {time.process_time() - c1:6.2f} s  "
              f"(compile {compiled:.2f} s)", flush=True)
        return out

    try:
        codes = step("codes", events.account_codes(v))
        coded = step("transfers", events.transfers(v, codes))
        t1, c1 = time.perf_counter(), time.process_time()
        facts = stage.arrow(typologies.sorted_account_facts(eng.con.con, str(eng.con.compile(coded)), p), "facts")
        print(f"{'facts':<14} {time.perf_counter() - t1:7.2f} s  cpu {time.process_time() - c1:6.2f} s  "
              "(one sort of the events + numpy: per-account totals and dormancy)", flush=True)
        pairs = step("pairs", events.pair_flows(coded))
        devices = step("devices", typologies.device_rows(v))
        step("concentration", typologies._concentration(pairs))
        step("card_pools", typologies.card_pools(v, accounts, p, raw=devices))
        step("loops", typologies.loops(pairs, p, codes))
        features = step("features", typologies.account_features(v, codes, accounts, p, None, pairs, devices=devices,
                                                                facts=facts))
        signals = step("signals", typologies.core_signals(features, p))
        t0, c0 = time.perf_counter(), time.process_time()
        eng.to_arrow(typologies.score_accounts(signals, p, pairs, codes, stage))
        print(f"{'score':<14} {time.perf_counter() - t0:7.2f} s  cpu {time.process_time() - c0:6.2f} s  "
              "(network passes staged)")
    finally:
        stage.close()
        scratch_cm.__exit__(None, None, None)
    print(f"peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB "
          "(features recomputes its parts: the parts are timed alone above)")


if __name__ == "__main__":
    main()
