"""The end-to-end tests' server and browser: the app served by uvicorn on a free loopback port in a
thread, and Debian's chromium driven by Playwright (never a downloaded browser). Without chromium or
the npm assets the calling test is skipped with a message saying what is missing."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from chainbreaker.core.workspace import Workspace
from chainbreaker.faces.web.app import create_app, missing_assets

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def live_server(ws: Workspace) -> Iterator[str]:
    """``http://127.0.0.1:PORT`` serving ``ws`` (rate limits out of the tests' way) until the block ends."""
    import uvicorn

    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium); browser test skipped")
    if missing_assets():
        pytest.skip(f"front-end assets missing ({', '.join(missing_assets())}): run make setup (npm ci) first")
    port = free_port()
    app = create_app(ws, login_limit=(1000, 60.0), tip_limit=(1000, 60.0))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "the web server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


def login(browser: Any, base: str, user: str, password: str, problems: list[str],
          **context: Any) -> tuple[Any, Any]:
    """A new browser context logged in as ``user``; console errors and page errors go to ``problems``."""
    ctx = browser.new_context(accept_downloads=True, locale="zh-CN", **context)
    page = ctx.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    return ctx, page
