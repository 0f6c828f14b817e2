"""``get_engine`` on first use from many threads at once: one engine, one migration, no error."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import Engine, inspect

from chainbreaker.ops import db, migrate

THREADS = 8


def test_first_use_from_many_threads_migrates_once(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if db_url.startswith("postgresql"):
        # without the lock, concurrent migrations wait on each other's DDL locks: make them fail instead
        db_url += "%20-clock_timeout%3D15000"
    real_upgrade = migrate.upgrade
    calls: list[int] = []

    def counted_upgrade(engine: Engine, revision: str = migrate.HEAD) -> str | None:
        calls.append(threading.get_ident())
        return real_upgrade(engine, revision)  # the real migrations, on the real database

    monkeypatch.setattr(migrate, "upgrade", counted_upgrade)
    start = threading.Barrier(THREADS)
    engines: list[Engine] = []
    errors: list[BaseException] = []

    def first_use() -> None:
        try:
            start.wait(timeout=30)  # every thread asks for the engine at the same moment
            engines.append(db.get_engine(db_url))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertions below
            errors.append(exc)

    # daemon threads and one deadline: without the lock, PostgreSQL can leave threads waiting on each
    # other's DDL locks, and the test must then fail rather than hang
    threads = [threading.Thread(target=first_use, daemon=True) for _ in range(THREADS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "threads still waiting after 60 s (migrations blocked each other)"
    assert errors == []
    assert len(calls) == 1, f"the schema was migrated {len(calls)} times by {THREADS} threads"
    assert len({id(e) for e in engines}) == 1 and len(engines) == THREADS
    assert migrate.current_revision(engines[0]) == migrate.head_revision()
    assert "ops_case" in inspect(engines[0]).get_table_names()
    db.dispose_engine(db_url)


def test_a_failed_first_use_is_not_remembered(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A migration error reaches the caller and the next call tries again instead of reusing a broken engine."""
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    real_upgrade = migrate.upgrade

    def failing(engine: Engine, revision: str = migrate.HEAD) -> str | None:
        raise migrate.WorkspaceError("迁移失败", "migration failed")

    monkeypatch.setattr(migrate, "upgrade", failing)
    with pytest.raises(migrate.WorkspaceError):
        db.get_engine(url)
    monkeypatch.setattr(migrate, "upgrade", real_upgrade)
    try:
        engine = db.get_engine(url)
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        db.dispose_engine(url)
