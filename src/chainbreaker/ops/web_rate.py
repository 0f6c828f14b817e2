"""Rate-limit counters in the ops database (频率限制计数): the fallback when no Redis answers.

Events are counted per key in time buckets (a tenth of the window each); the window's count is the
sum of its buckets. The bucket row is incremented first and the sum read after, in one
transaction: the increment takes the row's (PostgreSQL) or the database's (SQLite) write lock, so
two processes counting the same key at once see each other and the limit holds across them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from chainbreaker.core.workspace import Workspace
from chainbreaker.ops.accounts_models import WebRateCount
from chainbreaker.ops.db import engine_for, session_scope

PURGE_SHARE = 0.02  # share of calls that also delete expired buckets of every key


@dataclass(frozen=True)
class Counted:
    allowed: bool  # the event was counted (False: the key is at its limit; nothing was counted)
    total: int  # events in the window, this one included when allowed
    oldest_bucket: int | None  # the oldest bucket of the window that holds events


def count_event(ws: Workspace, key: str, *, bucket: int, first_bucket: int, limit: int, expires_at: int,
                now: int) -> Counted:
    """Count one event for ``key`` in ``bucket`` unless the buckets ``first_bucket..bucket`` already hold
    ``limit`` events. ``expires_at`` (epoch seconds) is when the bucket no longer matters."""
    with session_scope(engine_for(ws)) as s:
        _increment(s, key, bucket, expires_at)
        total, oldest = s.execute(select(func.sum(WebRateCount.count), func.min(WebRateCount.bucket))
                                  .where(WebRateCount.key == key, WebRateCount.bucket >= first_bucket,
                                         WebRateCount.count > 0)).one()
        total = int(total or 0)
        if total > limit:  # over: take this event back out, so refused attempts do not extend the block
            s.execute(update(WebRateCount).where(WebRateCount.key == key, WebRateCount.bucket == bucket)
                      .values(count=WebRateCount.count - 1))
            return Counted(False, total - 1, oldest)
        s.execute(delete(WebRateCount).where(WebRateCount.key == key, WebRateCount.bucket < first_bucket))
        if random.random() < PURGE_SHARE:
            s.execute(delete(WebRateCount).where(WebRateCount.expires_at < now))
        return Counted(True, total, oldest)


def _increment(s: Session, key: str, bucket: int, expires_at: int) -> None:
    values = {"key": key, "bucket": bucket, "count": 1, "expires_at": expires_at}
    dialect = s.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite_insert if dialect == "sqlite" else pg_insert
        stmt = insert(WebRateCount).values(**values)
        s.execute(stmt.on_conflict_do_update(index_elements=["key", "bucket"],
                                             set_={"count": WebRateCount.count + 1, "expires_at": expires_at}))
        return
    # another database: update, else insert (a lost race between two first events of one bucket fails
    # the second insert, which the caller sees as an error rather than a wrong count)
    done = s.execute(update(WebRateCount).where(WebRateCount.key == key, WebRateCount.bucket == bucket)
                     .values(count=WebRateCount.count + 1, expires_at=expires_at))
    if not getattr(done, "rowcount", 0):
        s.add(WebRateCount(**values))
        s.flush()
