"""Fixtures of the web tests: one workspace per session, a logged-in ASGI client per role."""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def client_for(web_app) -> Callable[[str | None], TestClient]:  # type: ignore[no-untyped-def]
    """A client logged in as the user named after ``role`` (None: not logged in); one per role."""
    cache: dict[str | None, TestClient] = {}

    def make(role: str | None) -> TestClient:
        if role not in cache:
            client = TestClient(web_app, follow_redirects=False)
            cache[role] = login(client, role) if role else client
        return cache[role]

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
def pages_client_for(pages_ws) -> Callable[[str | None], TestClient]:  # type: ignore[no-untyped-def]
    """Like ``client_for`` on the chain pages' workspace."""
    app = create_app(pages_ws[0], login_limit=(100_000, 60.0), tip_limit=(100_000, 60.0))
    cache: dict[str | None, TestClient] = {}

    def make(role: str | None) -> TestClient:
        if role not in cache:
            client = TestClient(app, follow_redirects=False)
            cache[role] = login(client, role) if role else client
        return cache[role]

    return make
