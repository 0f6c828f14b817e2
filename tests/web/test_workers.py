"""Several server processes on one workspace share what a request needs (real processes, loopback).

Two ``chainbreaker serve`` processes stand for two uvicorn workers (each builds the application with
``app_from_env`` exactly as a worker does): a session made on one is valid on the other, a logout
on one ends it on both, a reference handed out by one opens a dossier on the other, and the login
rate limit counts across both, with the counts in Redis and, without Redis, in the ops database.
``serve --workers 2`` is started once too.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from chainbreaker.core.workspace import Workspace
from chainbreaker.faces.web.limits import namespace_for

from .support import HUB, PASSWORD, build_workspace

REDIS_URL = os.environ.get("CHAINBREAKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_unavailable() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001
        return f"no Redis at {REDIS_URL} ({type(exc).__name__})"
    return None


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(ws_root: Path, store: str, login_limit: int, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    env = {**os.environ, "CHAINBREAKER_WORKSPACE": str(ws_root), "CHAINBREAKER_WEB_LOGIN_LIMIT": str(login_limit),
           "CHAINBREAKER_WEB_REDIS_URL": REDIS_URL if store == "redis" else "",
           "PYTHONPATH": os.pathsep.join(p for p in (str(Path(__file__).resolve().parents[2] / "src"),
                                                     os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.Popen([sys.executable, "-m", "chainbreaker.faces.cli.main", "serve", "--port", str(port),
                             "--workers", str(workers)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    return proc, f"http://127.0.0.1:{port}"


def _ready(proc: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stdout.read().decode(errors='replace') if proc.stdout else ''}")
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not answer within 120 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    import signal

    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


@pytest.fixture(params=["redis", "database"])
def store(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        why = _redis_unavailable()
        if why:
            pytest.skip(f"Redis variant skipped: {why}")
    return str(request.param)


@pytest.fixture
def start_pair(tmp_path: Path, store: str) -> Iterator[Callable[[int], tuple[str, str, Workspace]]]:
    """Starts two servers on one fresh workspace with the given login limit; stops them afterwards."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(login_limit: int) -> tuple[str, str, Workspace]:
        ws = build_workspace(tmp_path / "ws")
        pair = [_start(ws.root, store, login_limit) for _ in range(2)]
        procs.extend(proc for proc, _ in pair)
        for proc, base in pair:
            _ready(proc, base)
        return pair[0][1], pair[1][1], ws

    yield start
    for proc in procs:
        _stop(proc)


def _client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, timeout=30)


def _login(client: httpx.Client, user: str, password: str = PASSWORD) -> httpx.Response:
    if not client.cookies.get("cb_csrf"):
        client.get("/login")
    return client.post("/api/login", json={"username": user, "password": password},
                       headers={"X-CSRF-Token": client.cookies.get("cb_csrf") or ""})


def test_session_reference_and_logout_work_across_processes(start_pair) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = start_pair(1000)
    with _client(a) as on_a, _client(b) as on_b:
        assert _login(on_a, "commander").status_code == 200
        on_b.cookies = on_a.cookies  # the same browser, its next request lands on the other process
        me = on_b.get("/api/me")
        assert me.status_code == 200 and me.json()["username"] == "commander"
        # a commander sees cards masked: the hit points at a reference made by process A ...
        hits = on_a.get("/api/search", params={"q": HUB}).json()
        ref = hits[0]["ident"]
        assert ref.startswith("r-") and HUB not in ref
        # ... which process B opens
        dossier = on_b.get(f"/api/entities/{ref}")
        assert dossier.status_code == 200, dossier.text
        assert HUB not in dossier.text and dossier.json()["display"] != HUB
        altered = ref[:10] + ("A" if ref[10] != "A" else "B") + ref[11:]
        assert on_b.get(f"/api/entities/{altered}").status_code == 404  # altered: refused
        # a write checked on B with the CSRF token of the session made on A, then logged out everywhere
        out = on_b.post("/api/logout", headers={"X-CSRF-Token": on_a.cookies.get("cb_csrf") or ""})
        assert out.status_code == 200
        assert on_a.get("/api/me").status_code == 401  # A still holds the cookie; the session is gone


def test_login_rate_limit_counts_across_processes(start_pair, store) -> None:  # type: ignore[no-untyped-def]
    a, b, ws = start_pair(3)
    with _client(a) as on_a, _client(b) as on_b:
        codes = [_login(client, "nobody-here", "wrong password 123").status_code
                 for client in (on_a, on_b, on_a, on_b, on_a)]
        assert codes == [401, 401, 401, 429, 429]
        refused = _login(on_b, "admin")
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    # the counts are where the variant says
    if store == "redis":
        import redis

        assert redis.Redis.from_url(REDIS_URL).keys(namespace_for(ws) + ":login:*")
    else:
        from sqlalchemy import select

        from chainbreaker.ops.accounts_models import WebRateCount
        from chainbreaker.ops.db import engine_for, session_scope

        with session_scope(engine_for(ws)) as s:
            assert sum(r.count for r in s.scalars(select(WebRateCount))) == 3


def test_serve_with_two_workers_answers(tmp_path: Path) -> None:
    import psutil

    ws = build_workspace(tmp_path / "ws")
    proc, base = _start(ws.root, "database", 1000, workers=2)
    try:
        _ready(proc, base)
        workers = [p for p in psutil.Process(proc.pid).children(recursive=True) if "python" in p.name().lower()]
        assert len(workers) >= 2
        with _client(base) as client:
            assert _login(client, "analyst").status_code == 200
            codes = {client.get("/api/search", params={"q": HUB}).status_code for _ in range(20)}
            assert codes == {200}
    finally:
        _stop(proc)
