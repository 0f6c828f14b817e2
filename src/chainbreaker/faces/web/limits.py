"""Where the web face's rate limits count (频率限制计数): in memory, in Redis or in the ops database.

``chainbreaker serve`` (one worker or several) counts in Redis when one answers at
``CHAINBREAKER_WEB_REDIS_URL`` and in the ops database otherwise, so every worker process, and a
restarted server, sees the same counts. An application made with ``create_app`` alone counts in its
own memory (tests, embedding).

Redis and the database count per key in buckets of a tenth of the window (at least one second);
the window's count is the sum of its buckets, so the limit is exact and the window is the last
ten buckets. A key at its limit gets the seconds until its oldest bucket leaves the window.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections import defaultdict, deque
from typing import Any, Protocol

from chainbreaker.core.workspace import Workspace

log = logging.getLogger("chainbreaker.web")
BUCKETS = 10


class LimitStore(Protocol):
    """Counts events per key; ``hit`` returns None when the event is allowed (and counted), else the
    seconds to wait."""

    name: str

    def hit(self, key: str, limit: int, window: float) -> int | None: ...


class MemoryLimits:
    """A sliding window per key in this process's memory (thread-safe)."""

    name = "memory"

    def __init__(self) -> None:
        self._events: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window: float) -> int | None:
        now = time.monotonic()
        with self._lock:
            events = self._events[key]
            while events and events[0] <= now - window:
                events.popleft()
            if len(events) >= limit:
                return int(events[0] + window - now) + 1
            events.append(now)
            if len(self._events) > 10_000:  # forget quiet clients
                for k in [k for k, v in self._events.items() if not v]:
                    del self._events[k]
        return None


def _buckets(window: float, now: float) -> tuple[float, int, int]:
    """(bucket width, current bucket, first bucket of the window)."""
    width = max(1.0, window / BUCKETS)
    current = int(now // width)
    return width, current, current - math.ceil(window / width) + 1


def _wait(oldest: int | None, first: int, current: int, width: float, now: float) -> int:
    """Seconds until the oldest bucket holding events leaves the window (it leaves when the current
    bucket is ``oldest + n`` for a window of ``n`` buckets)."""
    leaves = ((oldest if oldest is not None else first) + (current - first + 1)) * width
    return max(1, math.ceil(leaves - now))


class DatabaseLimits:
    """Counts in the ops database (``ops_web_rate``): shared by every process on the workspace."""

    name = "database"

    def __init__(self, ws: Workspace, namespace: str) -> None:
        self.ws, self.namespace = ws, namespace

    def hit(self, key: str, limit: int, window: float) -> int | None:
        from chainbreaker.ops.web_rate import count_event

        now = time.time()
        width, current, first = _buckets(window, now)
        counted = count_event(self.ws, f"{self.namespace}:{key}"[:200], bucket=current, first_bucket=first,
                              limit=limit, expires_at=int((current + 1) * width + window) + 1, now=int(now))
        return None if counted.allowed else _wait(counted.oldest_bucket, first, current, width, now)


# KEYS: the window's bucket keys, oldest first; ARGV: limit, seconds the newest bucket must live.
# Returns {1, total} when counted, {0, index of the oldest bucket holding events (1-based)} when not.
_REDIS_HIT = """
local total, oldest = 0, 0
for i, k in ipairs(KEYS) do
  local c = tonumber(redis.call('GET', k) or '0')
  total = total + c
  if c > 0 and oldest == 0 then oldest = i end
end
if total >= tonumber(ARGV[1]) then return {0, oldest} end
redis.call('INCR', KEYS[#KEYS])
redis.call('EXPIRE', KEYS[#KEYS], tonumber(ARGV[2]))
return {1, total + 1}
"""


class RedisLimits:
    """Counts in Redis (one atomic script per event); when Redis stops answering, counts in the ops
    database until it answers again (logged once per outage)."""

    name = "redis"

    def __init__(self, client: Any, namespace: str, fallback: LimitStore) -> None:
        self.client, self.namespace, self.fallback = client, namespace, fallback
        self._script = client.register_script(_REDIS_HIT)
        self._down = False

    def hit(self, key: str, limit: int, window: float) -> int | None:
        import redis

        now = time.time()
        width, current, first = _buckets(window, now)
        keys = [f"{self.namespace}:{key}:{b}" for b in range(first, current + 1)]
        try:
            ok, value = self._script(keys=keys, args=[limit, math.ceil(window + width) + 1])
        except redis.RedisError as exc:
            if not self._down:
                log.warning("Redis does not answer (%s); rate limits count in the ops database", exc)
                self._down = True
            return self.fallback.hit(key, limit, window)
        self._down = False
        return None if ok else _wait(first + int(value) - 1, first, current, width, now)


def namespace_for(ws: Workspace) -> str:
    """Keys of one workspace (several workspaces may share one Redis)."""
    return "cb:rl:" + hashlib.sha256(str(ws.root.resolve()).encode("utf-8")).hexdigest()[:16]


def shared_limits(ws: Workspace, redis_url: str | None, namespace: str | None = None) -> LimitStore:
    """Redis at ``redis_url`` when it answers a PING now, else the ops database."""
    namespace = namespace or namespace_for(ws)
    database = DatabaseLimits(ws, namespace)
    if not redis_url:
        return database
    try:
        import redis

        client = redis.Redis.from_url(redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure here means: no Redis, use the database
        log.warning("Redis at %s not usable (%s); rate limits count in the ops database", redis_url, exc)
        return database
    return RedisLimits(client, namespace, database)
