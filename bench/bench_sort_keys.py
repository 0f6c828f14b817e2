"""Benchmark: sorting the per-account facts' event keys (packed plain sort) beside numpy's argsort.

    python bench/bench_sort_keys.py                                # 1M transfers over a year (2M keys)
    python bench/bench_sort_keys.py --transfers 10000000           # too wide to pack: argsort both sides

The funds screen's per-account facts sort the 2xN event keys ``account << 34 | epoch second << 1 |
outbound`` and carry each key's amount (``typologies._sort_keys``). When account, time span and
position fit in 63 bits, the product sorts one packed integer per key (``typologies._sort_packed``);
the baseline is the plain ``np.argsort`` and gather it replaced. Both run alternately in this
process on the same keys (``--repeat`` times each); the bench prints the median time, keys per
second and the peak of numpy's allocations (tracemalloc) of each, and checks that both give the
same sorted keys, each with its own amount.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def keys(transfers: int, accounts: int, days: int, seed: int) -> tuple[object, object]:
    import numpy as np

    rng = np.random.default_rng(seed)
    fa, ta = rng.integers(0, accounts, transfers), rng.integers(0, accounts, transfers)
    ep = 1_767_196_800 + rng.integers(0, days * 86400, transfers)  # from 2026-01-01 UTC
    fen = rng.integers(1, 10**9, transfers)
    k = np.concatenate([(ta << 34) | (ep << 1), (fa << 34) | (ep << 1) | 1])
    return k, np.concatenate([fen, fen])


def argsort_baseline(kf: dict[str, object]) -> tuple[object, object]:
    import numpy as np

    k, fen = kf["k"], kf["fen"]
    order = np.argsort(k, kind="quicksort")  # type: ignore[call-overload]
    return k[order], fen[order]  # type: ignore[index]


def measure(fn, kf: dict[str, object]) -> tuple[float, float, tuple[object, object]]:
    tracemalloc.start()
    start = time.perf_counter()
    out = fn(kf)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--transfers", type=int, default=1_000_000)
    ap.add_argument("--accounts", type=int, default=25_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    import numpy as np

    from chainbreaker.chains.funds import typologies

    k, fen = keys(args.transfers, args.accounts, args.days, args.seed)
    kf = {"k": k, "fen": fen}
    packs = typologies._sort_packed(k) is not None
    print(f"{len(k):,} keys ({args.transfers:,} transfers, {args.accounts:,} accounts, {args.days} days): "
          f"{'packed sort' if packs else 'too wide to pack: the product argsorts too'}", flush=True)
    sides: dict[str, list[tuple[float, float]]] = {"product (_sort_keys)": [], "baseline (argsort)": []}
    for _ in range(args.repeat):
        s, m, ours = measure(typologies._sort_keys, kf)
        sides["product (_sort_keys)"].append((s, m))
        s, m, base = measure(argsort_baseline, kf)
        sides["baseline (argsort)"].append((s, m))
    # equal keys may come in another order: compare the (key, amount) pairs sorted by both
    a, b = np.lexsort((ours[1], ours[0])), np.lexsort((base[1], base[0]))
    same = bool(np.array_equal(ours[0], base[0]) and np.array_equal(ours[1][a], base[1][b]))
    med = {}
    for name, runs in sides.items():
        med[name] = statistics.median(s for s, _ in runs)
        print(f"{name}: median {med[name]:.3f} s ({len(k) / med[name]:,.0f} keys/s), "
              f"peak {max(m for _, m in runs):,.0f} MB; runs {', '.join(f'{s:.3f}' for s, _ in runs)}", flush=True)
    print(f"speed-up {med['baseline (argsort)'] / med['product (_sort_keys)']:.2f}x; same keys and amounts: {same}")


if __name__ == "__main__":
    main()
