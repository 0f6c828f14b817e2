"""Bounded load on the web face over loopback: N concurrent users searching and opening dossiers.

The server is the real one (``chainbreaker serve --workers W`` in its own process group, SQLite ops
database) on a demo workspace plus, with ``--platform-members``, a synthetic gambling platform of
that many members (``synth.platform``, as bench_promotion.py makes it, ingested with
``ingest platform``). Each user logs in once, then loops for ``--seconds``: ``GET /api/me``
(session check only, no data: the plain baseline, timed in the same run), search an identifier
drawn from a pool of the lake's accounts, holders, subjects of findings and platform members, open
the dossier of the first hit. Each phase of ``--think`` runs the loop with that mean think time
between a user's requests (0: closed loop, every user always waiting on the server; exponential
otherwise). Prints p50/p95/p99 per operation and phase, requests/s, errors, the servers' peak RSS and
the machine's load average.

    nice -n 10 .venv/bin/python bench/bench_web_load.py --workspace WS --platform-members 1000000
    .venv/bin/python bench/bench_web_load.py --users 5 --seconds 5 --think 0  # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

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


def _add_platform(ws_root: Path, members: int, bets: int) -> None:
    """A synthetic platform of ``members`` members in the workspace (generated, written as CSV, ingested)."""
    from chainbreaker.chains.promotion.ingest import ingest_platform
    from chainbreaker.core.workspace import Workspace
    from chainbreaker.synth.platform import generate_platform, write_csv

    t = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cb-bench-web-platform-") as tmp:
        platform = generate_platform("pyramid", members, bets, seed=17, name="bench")
        write_csv(platform, Path(tmp))
        summary = ingest_platform(Workspace(ws_root), Path(tmp), "bench")
    print(f"platform of {members:,} members added in {time.perf_counter() - t:.0f} s: {summary.rows_kept}", flush=True)


def _idents(ws_root: Path, n: int) -> list[str]:
    """A pool of identifiers: half from the bank side (accounts, holders, subjects of findings), half
    from platform members (member ids, phones, ID numbers), each half a seeded sample."""
    from chainbreaker.core.workspace import Workspace

    ws = Workspace(ws_root)
    con = ws.duck()
    bank = ("SELECT account AS k FROM accounts UNION SELECT holder_id FROM accounts WHERE holder_id IS NOT NULL "
            "UNION SELECT subject_key FROM findings")
    pool = [r[0] for r in con.execute(f"SELECT k FROM ({bank}) WHERE k IS NOT NULL ORDER BY hash(k) LIMIT {n // 2}").fetchall()]
    if ws.has_table("platform_members"):
        cols = {r[0] for r in con.execute("DESCRIBE platform_members").fetchall()}
        picks = [f"CAST({c} AS VARCHAR)" for c in ("member_id", "phone", "id_number") if c in cols]
        members = con.execute(f"SELECT list_value({', '.join(picks)}) FROM platform_members "
                              f"ORDER BY hash(member_id) LIMIT {n - len(pool)}").fetchall()
        pool += [v for (row,) in members for v in row if v][: n - len(pool)]
    return pool


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


async def _user(client: httpx.AsyncClient, idents: list[str], until: float, think: float,
                times: dict[str, list[float]], errors: dict[str, int], rng: random.Random) -> None:
    def fail(what: str) -> None:
        errors[what] = errors.get(what, 0) + 1

    async def pause() -> None:
        if think > 0:
            await asyncio.sleep(min(rng.expovariate(1 / think), 10 * think))

    async def timed(name: str, path: str, **params: str) -> httpx.Response | None:
        await pause()
        t0 = time.perf_counter()
        try:
            r = await client.get(path, params=params or None)
        except httpx.HTTPError as exc:
            fail(f"{name} {type(exc).__name__}")
            return None
        times[name].append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            fail(f"{name} {r.status_code}")
        return r

    while time.monotonic() < until:
        await timed("me", "/api/me")
        r = await timed("search", "/api/search", q=rng.choice(idents))
        hits = r.json() if r is not None and r.status_code == 200 else []
        if hits:
            await timed("dossier", f"/api/entities/{quote(hits[0]['ident'], safe='')}")  # URLs are subjects too
        else:
            fail("search found nothing")


async def _phase(clients: list[httpx.AsyncClient], idents: list[str], seconds: float, think: float,
                 seed: int) -> tuple[dict[str, list[float]], dict[str, int], float]:
    times: dict[str, list[float]] = {"me": [], "search": [], "dossier": []}
    errors: dict[str, int] = {}
    start = time.monotonic()
    await asyncio.gather(*(_user(c, idents, start + seconds, think, times, errors, random.Random(seed * 1000 + i))
                           for i, c in enumerate(clients)))
    return times, errors, time.monotonic() - start


async def _run(base: str, password: str, idents: list[str], users: int, seconds: float, thinks: list[float],
               server_pid: int) -> list[tuple[float, dict[str, list[float]], dict[str, int], float, float]]:
    gate = asyncio.Semaphore(4)
    clients = await asyncio.gather(*(_login(base, password, gate) for _ in range(users)))
    out = []
    try:
        for seed, think in enumerate(thinks, start=1):
            cpu = _server_cpu_s(server_pid)
            times, errors, elapsed = await _phase(clients, idents, seconds, think, seed)
            out.append((think, times, errors, elapsed, _server_cpu_s(server_pid) - cpu))
        return out
    finally:
        for c in clients:
            await c.aclose()


def _server_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by the server and its worker processes: beside the wall
    times, since other jobs on a shared machine make those noisy."""
    import psutil

    total = 0.0
    try:
        root = psutil.Process(pid)
        for proc in [root, *root.children(recursive=True)]:
            try:
                t = proc.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
    except psutil.Error:
        pass
    return total


def _peak_rss_mb(pid: int) -> tuple[float, int]:
    """Summed peak RSS (VmHWM) of the server and its worker processes, and how many there are."""
    import psutil

    procs = [psutil.Process(pid)]
    procs += procs[0].children(recursive=True)
    total = 0.0
    for proc in procs:
        try:
            with open(f"/proc/{proc.pid}/status") as fh:
                total += next((int(line.split()[1]) for line in fh if line.startswith("VmHWM:")), 0) / 1024
        except OSError:
            pass
    return total, len(procs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60, help="length of each phase")
    ap.add_argument("--think", default="0,3", help="mean think times of the phases, seconds (0: closed loop)")
    ap.add_argument("--workers", type=int, default=2, help="serve --workers")
    ap.add_argument("--workspace", type=Path, help="an existing workspace (default: run the demo pipeline)")
    ap.add_argument("--transactions", type=int, default=20_000, help="demo size when no --workspace is given")
    ap.add_argument("--platform-members", type=int, default=0,
                    help="add a synthetic platform of this many members first (1000000: the issue's load)")
    ap.add_argument("--platform-bets", type=int, default=1_000_000)
    ap.add_argument("--pool", type=int, default=4000, help="identifiers searched, drawn at random from the lake")
    args = ap.parse_args()
    thinks = [float(x) for x in args.think.split(",") if x.strip()]
    tmp = tempfile.TemporaryDirectory(prefix="cb-bench-web-")
    ws_root = args.workspace or _demo_workspace(Path(tmp.name), args.transactions)
    if args.platform_members:
        _add_platform(ws_root, args.platform_members, args.platform_bets)
    password = secrets.token_urlsafe(16)
    env = {**os.environ, "CHAINBREAKER_WORKSPACE": str(ws_root), "CHAINBREAKER_WEB_LOGIN_LIMIT": "100000"}
    cb = [sys.executable, "-m", "chainbreaker.faces.cli.main"]
    subprocess.run([*cb, "users", "add", USER, "--role", ROLE, "--password-stdin"], input=password + "\n",
                   text=True, env=env, check=True, capture_output=True)
    idents = _idents(ws_root, args.pool)
    with open(Path(ws_root) / "lake" / "_manifest.json", encoding="utf-8") as fh:
        members = json.load(fh)["tables"].get("platform_members", {}).get("rows", 0)
    port = _free_port()
    load_before = os.getloadavg()
    t_start = time.monotonic()
    server = subprocess.Popen([*cb, "serve", "--port", str(port), "--workers", str(args.workers)], env=env,
                              stdout=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600  # each worker loads its search snapshot before it answers
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
        ready = time.monotonic() - t_start
        phases = asyncio.run(_run(base, password, idents, args.users, args.seconds, thinks, server.pid))
        rss, nproc = _peak_rss_mb(server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        tmp.cleanup()
    load_after = os.getloadavg()
    print(f"workspace {ws_root}: {members:,} platform members; pool of {len(idents)} identifiers; {args.users} users; "
          f"serve --workers {args.workers} ({nproc} processes, ready in {ready:.0f} s, peak RSS {rss:,.0f} MB in all); "
          f"loopback; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    failed = False
    for think, times, errors, elapsed, cpu in phases:
        mode = "closed loop (no think time)" if think == 0 else f"think time {think:g} s (mean, exponential)"
        total = sum(len(v) for v in times.values())
        print(f"\n{mode}, {elapsed:.0f} s wall, server CPU {cpu:.1f} s "
              f"({cpu * 1000 / max(len(times['dossier']), 1):.1f} ms per dossier round incl. its me + search)")
        print(f"{'operation':<10}{'requests':>10}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
        for name, values in times.items():
            mean = statistics.fmean(values) if values else float("nan")
            label = "  baseline: session check only" if name == "me" else ""
            print(f"{name:<10}{len(values):>10}{pct(values, 50):>10.1f}{pct(values, 95):>10.1f}"
                  f"{pct(values, 99):>10.1f}{mean:>10.1f}{label}")
        print(f"throughput {total / elapsed:.0f} requests/s; errors: {sum(errors.values())} {errors or ''}")
        failed = failed or bool(errors)
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
