"""Engine and session helpers of the ops database.

The default database is SQLite at ``<workspace>/chainbreaker.db``; set ``CHAINBREAKER_DATABASE_URL``
(for example ``postgresql+psycopg://user@host/chainbreaker``) to use a shared server instead. The
models use only portable types so the same code runs on both.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

_ENGINES: dict[str, Engine] = {}
# Guards the first use of a URL: without it two threads (web workers, the tip intake) can both create an
# engine and run the migrations at once; SQLite then fails with "table already exists", and Alembic's
# migration context is one per process (``alembic.context``), so concurrent upgrades also trip over it.
_ENGINES_LOCK = threading.Lock()


class Base(DeclarativeBase):
    """Declarative base of every ops model."""


def database_url(ws: Any) -> str:
    url = os.environ.get("CHAINBREAKER_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{ws.root / 'chainbreaker.db'}"


def _sqlite_pragmas(dbapi_con: Any, _record: Any) -> None:
    cur = dbapi_con.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA busy_timeout = 10000")
    cur.close()


def get_engine(url: str) -> Engine:
    """One engine per URL per process; the schema is migrated to the newest revision on first use.

    Thread-safe: the first callers of a URL wait while one of them creates the engine and migrates.
    """
    engine = _ENGINES.get(url)
    if engine is not None:
        return engine
    with _ENGINES_LOCK:
        engine = _ENGINES.get(url)  # another thread may have finished while this one waited
        if engine is None:
            engine = create_engine(url, future=True)
            if url.startswith("sqlite"):
                event.listen(engine, "connect", _sqlite_pragmas)
            # the packaged migrations create and upgrade every table (the models are not needed here)
            from chainbreaker.ops.migrate import upgrade

            try:
                upgrade(engine)
            except BaseException:
                engine.dispose()
                raise
            _ENGINES[url] = engine
    return engine


def dispose_engine(url: str) -> None:
    """Forget and close the engine of ``url`` (tests drop their databases afterwards)."""
    with _ENGINES_LOCK:
        engine = _ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()


def engine_for(ws: Any) -> Engine:
    return get_engine(database_url(ws))


@contextlib.contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
