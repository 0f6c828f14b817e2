"""Bounded load on the web face over loopback: N concurrent users searching and opening dossiers.

The server is the real one (``chainbreaker serve`` in its own process, SQLite ops database) on a
demo workspace (generated with the demo pipeline unless ``--workspace`` points at one). Each user
logs in once, then loops for ``--seconds``: search an identifier taken from the lake, open the
dossier of the first hit. ``GET /api/me`` (session check only, no data) is timed in the same run
as the baseline. Prints p50/p95/p99 per operation, requests/s and errors.

    nice -n 10 .venv/bin/python bench/bench_web_load.py            # 50 users, 60 s
    .venv/bin/python bench/bench_web_load.py --users 5 --seconds 5  # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

USER, ROLE = "bench-analyst", "analyst"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _demo_workspace(root: Path, transactions: int) -> Path:
    from chainbreaker.core.workspace import Workspace
    from chainbreaker.faces.reports.demo.pipeline import run_demo_pipeline

    ws = Workspace(root / "ws")
    run_demo_pipeline(ws, root / "report", transactions=transactions, seed=7)
    return ws.root


def _idents(ws_root: Path, n: int = 300) -> list[str]:
    from chainbreaker.core.workspace import Workspace

    con = Workspace(ws_root).duck()
    rows = con.execute("SELECT account FROM accounts UNION SELECT holder_id FROM accounts WHERE holder_id IS NOT NULL "
                       f"UNION SELECT subject_key FROM findings ORDER BY 1 LIMIT {n}").fetchall()
    return [r[0] for r in rows]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


async def _login(base: str, password: str, gate: asyncio.Semaphore) -> httpx.AsyncClient:
    """One logged-in user; logins run a few at a time (argon2 is deliberately slow) before the clock starts."""
    client = httpx.AsyncClient(base_url=base, timeout=60, transport=httpx.AsyncHTTPTransport(retries=2))
    async with gate:
        await client.get("/login")
        r = await client.post("/api/login", json={"username": USER, "password": password},
                              headers={"X-CSRF-Token": client.cookies.get("cb_csrf") or ""})
    r.raise_for_status()
    return client


async def _user(client: httpx.AsyncClient, idents: list[str], until: float, times: dict[str, list[float]],
                errors: dict[str, int], rng: random.Random) -> None:
    def fail(what: str) -> None:
        errors[what] = errors.get(what, 0) + 1

    while time.monotonic() < until:
        r = None
        for name, call in (("me", lambda: client.get("/api/me")),
                           ("search", lambda: client.get("/api/search", params={"q": rng.choice(idents)}))):
            t0 = time.perf_counter()
            try:
                r = await call()
            except httpx.HTTPError as exc:
                fail(f"{name} {type(exc).__name__}")
                r = None
                continue
            times[name].append((time.perf_counter() - t0) * 1000)
            if r.status_code != 200:
                fail(f"{name} {r.status_code}")
        hits = r.json() if r is not None and r.status_code == 200 else []
        if hits:
            t0 = time.perf_counter()
            try:
                d = await client.get(f"/api/entities/{hits[0]['ident']}")
            except httpx.HTTPError as exc:
                fail(f"dossier {type(exc).__name__}")
                continue
            times["dossier"].append((time.perf_counter() - t0) * 1000)
            if d.status_code != 200:
                fail(f"dossier {d.status_code}")


async def _run(base: str, password: str, idents: list[str], users: int, seconds: float) -> tuple[dict, dict, float]:
    times: dict[str, list[float]] = {"me": [], "search": [], "dossier": []}
    errors: dict[str, int] = {}
    gate = asyncio.Semaphore(4)
    clients = await asyncio.gather(*(_login(base, password, gate) for _ in range(users)))
    start = time.monotonic()
    try:
        await asyncio.gather(*(_user(c, idents, start + seconds, times, errors, random.Random(i))
                               for i, c in enumerate(clients)))
    finally:
        for c in clients:
            await c.aclose()
    return times, errors, time.monotonic() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workspace", type=Path, help="an existing workspace (default: run the demo pipeline)")
    ap.add_argument("--transactions", type=int, default=20_000, help="demo size when no --workspace is given")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="cb-bench-web-")
    ws_root = args.workspace or _demo_workspace(Path(tmp.name), args.transactions)
    password = secrets.token_urlsafe(16)
    env = {**os.environ, "CHAINBREAKER_WORKSPACE": str(ws_root), "CHAINBREAKER_WEB_LOGIN_LIMIT": "100000"}
    cb = [sys.executable, "-m", "chainbreaker.faces.cli.main"]
    subprocess.run([*cb, "users", "add", USER, "--role", ROLE, "--password-stdin"], input=password + "\n",
                   text=True, env=env, check=True, capture_output=True)
    idents = _idents(ws_root)
    port = _free_port()
    server = subprocess.Popen([*cb, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                print("the server did not start", file=sys.stderr)
                return 1
            time.sleep(0.2)
        times, errors, elapsed = asyncio.run(_run(base, password, idents, args.users, args.seconds))
    finally:
        server.terminate()
        server.wait(10)
        tmp.cleanup()
    total = sum(len(v) for v in times.values())
    print(f"workspace {ws_root}: {len(idents)} identifiers; {args.users} users, {elapsed:.0f} s, loopback, one server process")
    print(f"{'operation':<10}{'requests':>10}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    for name, values in times.items():
        mean = statistics.fmean(values) if values else float("nan")
        label = name + (" (baseline: session check only)" if name == "me" else "")
        print(f"{name:<10}{len(values):>10}{pct(values, 50):>10.1f}{pct(values, 95):>10.1f}{pct(values, 99):>10.1f}"
              f"{mean:>10.1f}  {label if name == 'me' else ''}")
    print(f"throughput {total / elapsed:.0f} requests/s; errors: {sum(errors.values())} {errors or ''}")
    return 0 if not errors else 2


if __name__ == "__main__":
    sys.exit(main())
