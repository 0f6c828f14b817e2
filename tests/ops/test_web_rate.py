"""Rate-limit counts in the ops database (SQLite and PostgreSQL): the limit holds, refused events are
not counted, old buckets leave the window, and two processes' worth of concurrent callers share one
count."""

from __future__ import annotations

import threading

from chainbreaker.faces.web.limits import DatabaseLimits
from chainbreaker.ops.web_rate import count_event


def _hit(ws, key: str, bucket: int, limit: int = 3):  # type: ignore[no-untyped-def]
    return count_event(ws, key, bucket=bucket, first_bucket=bucket - 9, limit=limit, expires_at=10**10, now=0)


def test_counts_up_to_the_limit_and_refuses_without_counting(ops_ws) -> None:  # type: ignore[no-untyped-def]
    results = [_hit(ops_ws, "login:1.2.3.4", 100 + i // 2) for i in range(5)]
    assert [r.allowed for r in results] == [True, True, True, False, False]
    assert [r.total for r in results] == [1, 2, 3, 3, 3]
    assert results[-1].oldest_bucket == 100
    assert _hit(ops_ws, "login:5.6.7.8", 102).allowed  # another address counts on its own
    # ten buckets later the first ones have left the window
    assert _hit(ops_ws, "login:1.2.3.4", 110).allowed and _hit(ops_ws, "login:1.2.3.4", 110).allowed
    assert not _hit(ops_ws, "login:1.2.3.4", 110).allowed  # bucket 101 still holds one


def test_concurrent_callers_share_one_count(ops_ws) -> None:  # type: ignore[no-untyped-def]
    from chainbreaker.ops.db import engine_for

    engine_for(ops_ws)  # migrate first, as the server does before it takes requests
    store = DatabaseLimits(ops_ws, "test")
    waits: list[int | None] = []
    lock = threading.Lock()

    def caller() -> None:
        for _ in range(5):
            wait = store.hit("tip:9.9.9.9", 12, 600.0)
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=caller) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(w is None for w in waits) == 12 and all(w is None or 1 <= w <= 600 for w in waits)
