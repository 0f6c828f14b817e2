"""Fixtures of the funds tests: the hand-made scenario screened once per session."""

from __future__ import annotations

import pytest

from .scenario import Book, build, write_lake


@pytest.fixture(scope="session")
def book() -> Book:
    return build(seed=7)


@pytest.fixture(scope="session")
def screened(tmp_path_factory: pytest.TempPathFactory, book: Book):
    """(workspace, ScreenResult) of the scenario screened on DuckDB."""
    from chainbreaker.chains.funds.screen import screen
    from chainbreaker.core.workspace import Workspace

    ws = Workspace(tmp_path_factory.mktemp("funds") / "ws")
    write_lake(ws, book)
    return ws, screen(ws)


@pytest.fixture(scope="session")
def risk(screened) -> dict[str, dict]:
    ws, _ = screened
    return {r["account"]: r for r in ws.read_arrow("account_risk").to_pylist()}
