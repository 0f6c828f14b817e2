"""Fixtures of the web tests: one workspace per session (read-only data, built once), and per test its own
logged-in clients and, where a test changes a user or a session, its own user.

Sessions are per test: a test that ends or expires sessions (test_security) cannot log out another
test's client, whatever order the files run in.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from chainbreaker.core.workspace import Workspace
from chainbreaker.faces.web.app import create_app

from .support import PASSWORD, build_workspace


@pytest.fixture(scope="session")
def web_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    from chainbreaker.ops.db import database_url, dispose_engine

    ws = build_workspace(tmp_path_factory.mktemp("web") / "ws")
    yield ws
    dispose_engine(database_url(ws))


@pytest.fixture(scope="session")
def web_app(web_ws: Workspace):  # type: ignore[no-untyped-def]
    return create_app(web_ws, login_limit=(100_000, 60.0), tip_limit=(100_000, 60.0))


def csrf(client: TestClient) -> dict[str, str]:
    """The double-submit header: the value of the CSRF cookie (set on the first response)."""
    if not client.cookies.get("cb_csrf"):
        client.get("/login")
    return {"X-CSRF-Token": client.cookies.get("cb_csrf") or ""}


def login(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    r = client.post("/api/login", json={"username": username, "password": password}, headers=csrf(client))
    assert r.status_code == 200, r.text
    return client


def _clients(app) -> Iterator[Callable[[str | None], TestClient]]:  # type: ignore[no-untyped-def]
    cache: dict[str | None, TestClient] = {}

    def make(role: str | None) -> TestClient:
        if role not in cache:
            client = TestClient(app, follow_redirects=False)
            cache[role] = login(client, role) if role else client
        return cache[role]

    yield make
    for client in cache.values():
        client.close()


@pytest.fixture
def client_for(web_app) -> Iterator[Callable[[str | None], TestClient]]:  # type: ignore[no-untyped-def]
    """A client logged in as the user named after ``role`` (None: not logged in); one per role and test,
    with a session of its own."""
    yield from _clients(web_app)


@pytest.fixture
def fresh_user(web_ws: Workspace) -> Callable[[str], str]:
    """Makes a web user of ``role`` that only the calling test knows (password ``PASSWORD``); returns its name.

    For tests that lock, expire or re-password a user: the shared role users stay untouched."""
    from chainbreaker.ops.accounts import set_password

    def make(role: str) -> str:
        name = f"{role}-{uuid.uuid4().hex[:8]}"
        set_password(web_ws, name, PASSWORD, role=role, partner="某银行" if role == "partner" else None, who="test")
        return name

    return make


@pytest.fixture(scope="session")
def pages_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, str]]:
    """The web workspace plus an analysed platform, a screening, a wide fan-out and a case (chain pages);
    with the member id of the platform's biggest agent."""
    from chainbreaker.ops.db import database_url, dispose_engine

    from .pages_support import build_pages_workspace

    root = tmp_path_factory.mktemp("web-pages")
    ws, agent = build_pages_workspace(root / "ws", root)
    yield ws, agent
    dispose_engine(database_url(ws))


@pytest.fixture(scope="session")
def pages_app(pages_ws):  # type: ignore[no-untyped-def]
    return create_app(pages_ws[0], login_limit=(100_000, 60.0), tip_limit=(100_000, 60.0))


@pytest.fixture
def pages_client_for(pages_app) -> Iterator[Callable[[str | None], TestClient]]:  # type: ignore[no-untyped-def]
    """Like ``client_for`` on the chain pages' workspace."""
    yield from _clients(pages_app)
