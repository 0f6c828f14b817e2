"""Benchmark of masking by value: ``python bench/bench_masking.py [--rows 1000000]``.

Builds a workspace with ``--rows`` synthetic transactions (the synth fast path) and as many travel
crossings, then exports each table with ``chainbreaker export`` semantics (``export_table``) as
``admin`` (nothing hidden: the unmasked baseline) and as ``analyst`` and ``viewer`` (masked), in
CSV and Parquet. The same run also times masking alone and a plain per-value Python loop (the
shape of the previous implementation, applied to every text column) on a 20k-row slice.
Prints wall and CPU seconds; the machine is shared, so note ``uptime`` beside the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

import pyarrow as pa


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _timed(fn):  # type: ignore[no-untyped-def]
    w, c = time.perf_counter(), _cpu()
    out = fn()
    return out, round(time.perf_counter() - w, 2), round(_cpu() - c, 2)


def build(ws_path: Path, rows: int) -> None:
    import pyarrow.parquet as pq

    from chainbreaker.core.workspace import Workspace
    from chainbreaker.synth.bank import write_transactions_parquet
    from chainbreaker.synth.travel import generate_travel, load_travel_tables

    tmp = ws_path.parent / "synth"
    write_transactions_parquet(tmp, rows, seed=7)
    ws = Workspace(ws_path)
    with ws.transaction("bench.masking") as tx:
        tx.write("transactions", pq.read_table(tmp / "transactions"))
    people = max(rows // 9, 1000)  # about 9 crossing records per person
    data = generate_travel(people, seed=7)
    load_travel_tables(ws, data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()

    from chainbreaker.core.exports import export_table
    from chainbreaker.core.model.masking import mask_table, mask_text
    from chainbreaker.core.workspace import Workspace

    print(f"load: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as d:
        ws_path = Path(d) / "ws"
        _, wall, _ = _timed(lambda: build(ws_path, args.rows))
        ws = Workspace(ws_path)
        print(f"built the workspace in {wall} s")
        results = []
        for name in ("transactions", "travel_crossings"):
            table = ws.read_arrow(name)
            for role in ("analyst", "viewer"):
                _, wall, cpu = _timed(lambda table=table, role=role: mask_table(table, role))
                results.append({"table": name, "rows": table.num_rows, "what": f"mask_table {role}", "wall_s": wall,
                                "cpu_s": cpu})
            sample = table.slice(0, 20_000)  # the Python loop is slow: a slice, same run
            texts = [c for c in sample.column_names if pa.types.is_string(sample.schema.field(c).type)]

            def per_value(sample=sample, texts=texts):  # type: ignore[no-untyped-def]
                for c in texts:
                    pa.array([mask_text(v, "viewer") if v is not None else None for v in sample[c].to_pylist()])

            _, wall, cpu = _timed(per_value)
            results.append({"table": name, "rows": sample.num_rows, "what": "per-value Python loop viewer (baseline)",
                            "wall_s": wall, "cpu_s": cpu})
            for fmt in ("csv", "parquet"):
                for role in ("admin", "analyst", "viewer"):
                    out = Path(d) / f"{name}-{role}.{fmt}"
                    _, wall, cpu = _timed(lambda n=name, f=fmt, o=out, r=role: export_table(ws, n, f, o, role=r))
                    results.append({"table": name, "rows": table.num_rows, "what": f"export {fmt} {role}",
                                    "wall_s": wall, "cpu_s": cpu})
        for r in results:
            print(json.dumps(r, ensure_ascii=False))
    print(f"load: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
