"""The trace view's cost at width: what ``GET /funds/trace`` adds over the plain trace it shows.

A seed account pays ``W`` accounts (hop 1), each of which pays two more (hop 2): 3W + 1 accounts.
For each width the run times, in the same process and on the same workspace:

* baseline: ``chains.funds.trace.trace`` (the analysis alone, as ``funds trace`` runs it);
* service: ``funds.service.trace_graph`` for an analyst and for a commander (masking, JSON-ready rows);
* page: ``GET /funds/trace`` through the ASGI app (session check, service, template with the graph
  embedded), logged in as an analyst.

Prints median ms of ``--repeat`` runs, page bytes, calls/s of the page and the peak Python heap of
one page call (tracemalloc; the process's peak RSS at the end).

    nice -n 10 .venv/bin/python bench/bench_web_trace.py --widths 45,500,2000 --repeat 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

PASSWORD = "bench password for the trace view"


def _workspace(root: Path, width: int) -> tuple[Any, str]:
    import pyarrow as pa

    from chainbreaker.core.model.schemas import TRANSACTIONS
    from chainbreaker.core.workspace import Workspace
    from chainbreaker.ops.accounts import set_password

    ws = Workspace(root)
    seed = "6222020200100000001"
    start = dt.datetime(2024, 4, 1, 2, 0, tzinfo=dt.UTC)
    rows: list[dict[str, Any]] = []

    def add(txn: str, a: str, b: str, amount: int, ts: dt.datetime) -> None:
        rows.append({name: None for name in TRANSACTIONS.names} | {
            "txn_id": txn, "from_account": a, "to_account": b, "amount": Decimal(amount), "currency": "CNY", "ts": ts,
            "src_sha256": "b" * 64, "src_file": "bench.csv", "src_row": len(rows) + 2})

    for i in range(width):
        mid = f"6217000020{i:09d}"
        add(f"a{i}", seed, mid, 5000 + i, start + dt.timedelta(seconds=i))
        for j in range(2):
            add(f"b{i}.{j}", mid, f"62284800{j}{i:010d}", 2000 + i, start + dt.timedelta(hours=1, seconds=i + j))
    with ws.transaction("bench.trace") as tx:
        tx.write("transactions", pa.Table.from_pylist(rows, schema=TRANSACTIONS))
    for role in ("analyst", "commander"):
        set_password(ws, f"bench-{role}", PASSWORD, role=role, who="bench")
    return ws, seed


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def run(width: int, repeat: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from chainbreaker.chains.funds.service import trace_graph
    from chainbreaker.chains.funds.trace import trace
    from chainbreaker.faces.web.app import create_app

    with tempfile.TemporaryDirectory(prefix="cb-bench-trace-") as tmp:
        ws, seed = _workspace(Path(tmp) / "ws", width)
        client = TestClient(create_app(ws, login_limit=(10_000, 60.0)))
        client.get("/login")
        r = client.post("/api/login", json={"username": "bench-analyst", "password": PASSWORD},
                        headers={"X-CSRF-Token": client.cookies.get("cb_csrf") or ""})
        assert r.status_code == 200, r.text
        url = f"/funds/trace?account={seed}"
        first = client.get(url)
        assert first.status_code == 200 and 'id="trace-data"' in first.text, first.text[:300]
        out = {"width": width, "accounts": 3 * width + 1,
               "baseline_trace_ms": _median_ms(lambda: trace(ws, seed), repeat),
               "service_analyst_ms": _median_ms(lambda: trace_graph(ws, seed, role="analyst", user="bench"), repeat),
               "service_commander_ms": _median_ms(lambda: trace_graph(ws, seed, role="viewer", user="bench"), repeat),
               "page_ms": _median_ms(lambda: client.get(url), repeat), "page_bytes": len(first.content)}
        tracemalloc.start()
        client.get(url)
        out["page_peak_heap_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        out["page_calls_per_s"] = 1000 / out["page_ms"]
        return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--widths", default="45,500,2000", help="accounts at hop 1, comma-separated")
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args(argv)
    widths = [int(w) for w in args.widths.split(",")]
    if any(w < 1 or w > 20_000 for w in widths) or not 1 <= args.repeat <= 50:
        print("widths must be 1..20000 and --repeat 1..50", file=sys.stderr)
        return 2
    print(f"{'width':>6} {'accounts':>8} {'trace ms':>9} {'svc analyst':>11} {'svc viewer':>10} {'page ms':>8} "
          f"{'page/s':>7} {'page KB':>8} {'heap MB':>8}")
    for w in widths:
        r = run(w, args.repeat)
        print(f"{r['width']:>6} {r['accounts']:>8} {r['baseline_trace_ms']:>9.1f} {r['service_analyst_ms']:>11.1f} "
              f"{r['service_commander_ms']:>10.1f} {r['page_ms']:>8.1f} {r['page_calls_per_s']:>7.1f} "
              f"{r['page_bytes'] / 1024:>8.0f} {r['page_peak_heap_mb']:>8.1f}", flush=True)
    print(f"peak RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
