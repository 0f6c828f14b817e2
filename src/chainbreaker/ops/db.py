"""Engine and session helpers of the ops database.

The default database is SQLite at ``<workspace>/chainbreaker.db``; set ``CHAINBREAKER_DATABASE_URL``
(for example ``postgresql+psycopg://user@host/chainbreaker``) to use a shared server instead. The
models use only portable types so the same code runs on both.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from chainbreaker.ops.base import Base

_ENGINES: dict[str, Engine] = {}


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
    """One engine per URL per process; tables are created on first use."""
    engine = _ENGINES.get(url)
    if engine is None:
        engine = create_engine(url, future=True)
        if url.startswith("sqlite"):
            event.listen(engine, "connect", _sqlite_pragmas)
        # import the models so that their tables are known before create_all
        import chainbreaker.ops.register_models  # noqa: F401

        Base.metadata.create_all(engine)
        _ENGINES[url] = engine
    return engine


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
