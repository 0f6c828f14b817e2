"""Every ops test runs on SQLite and on PostgreSQL (one body, two databases).

PostgreSQL is ``postgresql+psycopg://postgres@127.0.0.1:5432/test`` unless
``CHAINBREAKER_TEST_POSTGRES_URL`` says otherwise; each test gets a fresh schema, dropped afterwards.
Where no server answers, only the PostgreSQL variants are skipped, with a message saying so.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from chainbreaker.core.workspace import Workspace
from chainbreaker.ops.db import dispose_engine

PG_URL = os.environ.get("CHAINBREAKER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_PG_STATE: dict[str, str | None] = {}


def _pg_unavailable() -> str | None:
    """Why PostgreSQL cannot be used here (None when it can); asked once per run."""
    if "why" not in _PG_STATE:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            _PG_STATE["why"] = "psycopg is not installed (pip install -e '.[postgres]')"
            return _PG_STATE["why"]
        try:
            eng = create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with eng.connect() as con:
                con.execute(text("SELECT 1"))
            eng.dispose()
            _PG_STATE["why"] = None
        except Exception as exc:  # noqa: BLE001 - any failure means: no server to test against
            _PG_STATE["why"] = f"no PostgreSQL server at {PG_URL} ({type(exc).__name__}: {str(exc).splitlines()[0]})"
    return _PG_STATE["why"]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL for one test: a fresh SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ops.db'}"
        yield url
        dispose_engine(url)
        return
    why = _pg_unavailable()
    if why:
        pytest.skip(f"PostgreSQL variant skipped: {why}")
    schema = f"cb_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as con:
        con.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        dispose_engine(url)
        with admin.begin() as con:
            con.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def ops_ws(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A workspace whose ops database is ``db_url``."""
    monkeypatch.setenv("CHAINBREAKER_DATABASE_URL", db_url)
    return Workspace(tmp_path / "ws")
