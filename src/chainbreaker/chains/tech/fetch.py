"""Polite fetching (抓取) of target pages under a persona.

Defaults follow well-behaved crawlers: one request at a time per host with a delay between
them, connect/read/total timeouts, a size limit applied while streaming (the body is cut, never
buffered whole; compressed bodies are inflated in bounded steps so a zip bomb stays small),
redirects followed by hand so the chain is recorded and loops/long chains stop, and robots.txt
honoured unless the analyst scans sites they are responsible for (``own_sites``).

Only target hosts are contacted. A redirect to another host is recorded, not followed, unless
that host is on the explicit ``follow_hosts`` allowlist.

Each host also has a total time budget for the whole scan (``host_budget``): personas run one
after another per host, so a server that drips one byte a second would otherwise cost
``total_timeout`` for every persona of every URL. Once a host's requests have used the budget,
its remaining fetches are not made and are recorded with ``error="host_budget"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import urllib.robotparser
import zlib
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from chainbreaker.chains.tech.personas import Persona

ROBOTS_AGENT = "chainbreaker"


@dataclass(frozen=True)
class FetchLimits:
    """Politeness and safety limits; every value is recorded with the scan run."""

    max_bytes: int = 5_000_000          # body bytes kept (after decompression); the rest is cut
    connect_timeout: float = 5.0
    read_timeout: float = 10.0          # silence between two chunks
    total_timeout: float = 20.0         # whole response incl. redirects (stops slow-drip servers);
                                        # counted from when the host's slot is free, not while queueing
    max_redirects: int = 10
    delay: float = 0.25                 # pause between two requests to the same host
    concurrency: int = 8                # hosts fetched at the same time
    retries: int = 1                    # on connection errors only (keep-alive races)
    host_budget: float = 120.0          # seconds of requests per host for the whole scan (0 = no limit);
                                        # politeness delays do not count


@dataclass
class Capture:
    """One response as a persona saw it; ``error`` holds a code when there is no usable body."""

    url: str
    persona: str
    status: int | None = None
    final_url: str = ""
    redirects: list[dict[str, object]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    truncated: bool = False
    error: str | None = None
    offsite_redirect: str | None = None
    elapsed: float = 0.0
    fetched_at: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None

    def text(self) -> tuple[str, bool]:
        """Body as text (declared charset, else UTF-8, else GB18030) and whether bytes were bad."""
        return decode_body(self.body, self.headers.get("content-type", ""))


_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*['\"]?([A-Za-z0-9_-]+)", re.I)


def decode_body(body: bytes, content_type: str = "") -> tuple[str, bool]:
    charset = None
    m = re.search(r"charset=([A-Za-z0-9_-]+)", content_type, re.I)
    if m:
        charset = m.group(1).lower()
    else:
        mm = _META_CHARSET.search(body[:4096])
        if mm:
            charset = mm.group(1).decode("ascii", "ignore").lower()
    if charset in ("gb2312", "gbk"):
        charset = "gb18030"
    for enc in filter(None, (charset, "utf-8", "gb18030")):
        try:
            return body.decode(enc), False
        except (UnicodeDecodeError, LookupError):
            continue
    return body.decode(charset if charset in ("utf-8", "utf8") else "utf-8", "replace"), True


def host_of(url: str) -> str:
    """``host:port`` of a URL, lower case; '' for a URL that cannot be parsed (``http://[bad``)."""
    try:
        return urlsplit(url).netloc.lower()
    except ValueError:
        return ""


def safe_join(base: str, ref: str) -> str:
    """``urljoin`` that gives '' instead of raising on a malformed URL from a page or a header."""
    try:
        joined = urljoin(base, ref)
        urlsplit(joined)  # "http://[bad" joins, then fails to parse
    except ValueError:
        return ""
    return joined


class _Inflater:
    """Bounded decompression of gzip/deflate bodies (``max_length`` per step)."""

    def __init__(self, encoding: str) -> None:
        self.kind = encoding
        wbits = 31 if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self.obj = zlib.decompressobj(wbits)
        self.raw_deflate = encoding == "deflate"

    def feed(self, data: bytes, room: int) -> bytes:
        try:
            return self.obj.decompress(data, max(room, 1))
        except zlib.error:
            if self.raw_deflate:  # some servers send raw deflate without the zlib header
                self.obj = zlib.decompressobj(-zlib.MAX_WBITS)
                self.raw_deflate = False
                return self.obj.decompress(data, max(room, 1))
            raise

    def more(self, room: int) -> bytes:
        """Continue with input that ``max_length`` left unconsumed."""
        tail = self.obj.unconsumed_tail
        return self.obj.decompress(tail, max(room, 1)) if tail else b""


class Fetcher:
    """Fetches URLs of the allowed hosts; one instance per scan (owns the HTTP client)."""

    def __init__(self, allowed_hosts: set[str], limits: FetchLimits | None = None, *, own_sites: bool = False,
                 follow_hosts: set[str] | None = None, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.limits = limits or FetchLimits()
        self.allowed = {h.lower() for h in allowed_hosts}
        self.follow = {h.lower() for h in (follow_hosts or set())}
        self.own_sites = own_sites
        timeout = httpx.Timeout(self.limits.read_timeout, connect=self.limits.connect_timeout)
        # verify=False: gambling sites often have broken certificates and the scanner only observes;
        # nothing secret is sent. trust_env=False: no proxy or netrc from the environment.
        self.client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False, verify=False,
                                        # one keep-alive connection per host; evicting them costs a reconnect
                                        limits=httpx.Limits(max_connections=max(100, self.limits.concurrency * 2),
                                                            max_keepalive_connections=100),
                                        transport=transport)
        self._host_locks: dict[str, asyncio.Lock] = {}
        self._host_last: dict[str, float] = {}
        self._robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}
        self._robots_lock = asyncio.Lock()
        self.sitemaps: dict[str, list[str]] = {}
        self.host_spent: dict[str, float] = {}      # seconds of requests per host
        self.over_budget: dict[str, int] = {}       # host -> fetches not made because its budget was spent

    async def close(self) -> None:
        await self.client.aclose()

    def may_contact(self, url: str) -> bool:
        """Target hosts, their ``www.`` twin (``example.cn`` <-> ``www.example.cn``) and the follow list."""
        host = host_of(url)
        try:
            if urlsplit(url).scheme not in ("http", "https"):
                return False
        except ValueError:
            return False
        twin = host[4:] if host.startswith("www.") else "www." + host
        return host in self.allowed or twin in self.allowed or host in self.follow

    # ------------------------------------------------------------------ politeness
    @contextlib.asynccontextmanager
    async def _slot(self, host: str):  # type: ignore[no-untyped-def]
        lock = self._host_locks.setdefault(host, asyncio.Lock())
        async with lock:
            wait = self._host_last.get(host, 0.0) + self.limits.delay - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                self._host_last[host] = time.monotonic()

    async def robots_allows(self, url: str) -> bool:
        """True when robots.txt allows ``url`` for us (always True with ``own_sites``)."""
        if self.own_sites:
            return True
        parts = urlsplit(url)
        host = parts.netloc.lower()
        async with self._robots_lock:
            if host not in self._robots:
                robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
                cap = await self._get(robots_url, {"User-Agent": ROBOTS_AGENT}, "robots", max_bytes=500_000)
                parser: urllib.robotparser.RobotFileParser | None = None
                if cap.ok and cap.status == 200:
                    parser = urllib.robotparser.RobotFileParser()
                    lines = cap.text()[0].splitlines()
                    parser.parse(lines)
                    self.sitemaps[host] = [u for u in (safe_join(robots_url, ln.split(":", 1)[1].strip())
                                                       for ln in lines if ln.lower().startswith("sitemap:")) if u]
                self._robots[host] = parser  # missing robots.txt: everything allowed
        parser = self._robots[host]
        return parser is None or parser.can_fetch(ROBOTS_AGENT, url)

    def budget_left(self, host: str) -> float | None:
        """Seconds of requests left for ``host`` (None: no budget)."""
        if self.limits.host_budget <= 0:
            return None
        return self.limits.host_budget - self.host_spent.get(host, 0.0)

    def exhausted(self, host: str) -> bool:
        left = self.budget_left(host)
        return left is not None and left <= 0

    # ----------------------------------------------------------------------- fetch
    async def fetch(self, url: str, persona: Persona, *, max_bytes: int | None = None) -> Capture:
        """Fetch ``url`` as ``persona``; never raises for network or content problems."""
        return await self._get(url, persona.headers(), persona.name, max_bytes=max_bytes)

    async def _get(self, url: str, headers: dict[str, str], persona: str, *, max_bytes: int | None = None) -> Capture:
        cap = Capture(url=url, persona=persona, final_url=url, fetched_at=time.time())
        started = time.monotonic()
        try:
            await self._follow(cap, headers, max_bytes or self.limits.max_bytes)
        except TimeoutError:
            cap.error = "timeout_total"
        except httpx.TimeoutException:
            cap.error = "timeout_read"
        except (httpx.TransportError, OSError) as exc:
            cap.error = f"network:{type(exc).__name__}"
        except zlib.error:
            cap.error = "bad_compression"
        cap.elapsed = round(time.monotonic() - started, 4)
        return cap

    async def _follow(self, cap: Capture, headers: dict[str, str], max_bytes: int) -> None:
        url = cap.url
        seen: set[str] = set()
        deadline: float | None = None  # starts when the host's slot is ours, not while queueing for it
        for _hop in range(self.limits.max_redirects + 1):
            if not self.may_contact(url):
                cap.offsite_redirect = url
                return
            if url in seen:
                cap.error = "redirect_loop"
                return
            seen.add(url)
            cap.final_url = url
            host = host_of(url)
            async with self._slot(host):
                left = self.budget_left(host)
                if left is not None and left <= 0:  # the host has had its time: do not contact it again
                    self.over_budget[host] = self.over_budget.get(host, 0) + 1
                    cap.error = "host_budget"
                    return
                loop = asyncio.get_running_loop()
                deadline = deadline or loop.time() + self.limits.total_timeout
                stop = deadline if left is None else min(deadline, loop.time() + left)
                started = loop.time()
                try:
                    async with asyncio.timeout_at(stop):
                        status, resp_headers, body, truncated = await self._request(url, headers, max_bytes)
                except TimeoutError:
                    if stop < deadline:  # cut by the host budget, not by this response's own limit
                        self.over_budget[host] = self.over_budget.get(host, 0) + 1
                        cap.error = "host_budget"
                        return
                    raise
                finally:
                    self.host_spent[host] = self.host_spent.get(host, 0.0) + (loop.time() - started)
            cap.status, cap.headers, cap.body, cap.truncated = status, resp_headers, body, truncated
            location = resp_headers.get("location")
            if status in (301, 302, 303, 307, 308) and location:
                target = safe_join(url, location.strip())
                if not target:
                    cap.error = "bad_redirect"
                    return
                cap.redirects.append({"url": url, "status": status, "location": target})
                url = target
                continue
            return
        cap.error = "too_many_redirects"

    async def _request(self, url: str, headers: dict[str, str], max_bytes: int) -> tuple[int, dict[str, str], bytes, bool]:
        last_exc: Exception | None = None
        for _attempt in range(self.limits.retries + 1):
            try:
                return await self._stream(url, headers, max_bytes)
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                last_exc = exc  # a keep-alive connection closed under us: try once more
        assert last_exc is not None
        raise last_exc

    async def _stream(self, url: str, headers: dict[str, str], max_bytes: int) -> tuple[int, dict[str, str], bytes, bool]:
        async with self.client.stream("GET", url, headers=headers) as resp:
            hdrs = {k.lower(): v for k, v in resp.headers.items()}
            encoding = hdrs.get("content-encoding", "").strip().lower()
            inflater = _Inflater(encoding) if encoding in ("gzip", "x-gzip", "deflate") else None
            parts: list[bytes] = []
            size = 0
            truncated = False
            async for raw in resp.aiter_raw():
                if inflater is None:
                    chunk = raw
                    parts.append(chunk[: max_bytes - size])
                    size += len(chunk)
                else:
                    chunk = inflater.feed(raw, max_bytes - size + 1)
                    while True:
                        parts.append(chunk[: max_bytes - size])
                        size += len(chunk)
                        if size > max_bytes:
                            break
                        chunk = inflater.more(max_bytes - size + 1)
                        if not chunk:
                            break
                if size > max_bytes:
                    truncated = True
                    break
            return resp.status_code, hdrs, b"".join(parts), truncated
