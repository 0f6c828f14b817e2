"""Hostile endpoints for the scanner's tests (a zip bomb, a 50 MB page, a slow drip, a redirect loop,
invalid UTF-8, a script that never ends): test fixtures, kept out of the product and of ``synth``.

    sites = hostile_sites(["gambling"])   # the synthetic sites plus "hostile"
    sites.url("hostile", "/bomb")
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Iterable, Iterator

from chainbreaker.synth.websites import Handler, Request, Response, TestSites, html_page


def hostile_sites(names: Iterable[str] | None = None, *, external: bool = False) -> TestSites:
    """``TestSites`` with the hostile site added as ``"hostile"`` (the zip bomb is built in the background)."""
    threading.Thread(target=_zip_bomb, daemon=True).start()  # build it before it is asked for
    return TestSites(names, external=external, extra={"hostile": make_site_hostile})


_BOMB: bytes | None = None
_BOMB_LOCK = threading.Lock()


def _zip_bomb() -> bytes:
    """128 MB of zeros gzip-compressed to ~130 KB, built once per process."""
    global _BOMB
    with _BOMB_LOCK:
        if _BOMB is None:
            comp = zlib.compressobj(6, zlib.DEFLATED, 31)
            zero = bytes(1 << 20)
            parts = [comp.compress(zero) for _ in range(128)]
            parts.append(comp.flush())
            _BOMB = b"".join(parts)
    return _BOMB


def _big(total: int) -> Iterator[bytes]:
    yield b"<html><head><title>big</title></head><body>"
    chunk = ("<p>" + "填充文字" * 4000 + "</p>").encode()
    sent = 0
    while sent < total:
        yield chunk
        sent += len(chunk)
    yield b"</body></html>"


def _drip(stop: threading.Event) -> Iterator[bytes]:
    yield b"<html><head><title>slow</title></head><body>"
    while not stop.is_set():
        time.sleep(0.2)
        yield b"."


def make_site_hostile(stop: threading.Event) -> Handler:
    def site_hostile(req: Request) -> Response:
        p = req.path
        if p == "/big":
            return Response(body=_big(50 * 1024 * 1024))
        if p in ("/loop", "/loop2"):
            return Response(status=302, headers={"Location": "/loop2" if p == "/loop" else "/loop"})
        if p == "/drip":
            return Response(body=_drip(stop))
        if p == "/badutf8":
            return Response(body=b"<html><head><title>\xff\xfe bad \xc3\x28 bytes</title></head><body>\xe8\xb5"
                                 b"\x8c\xe5 \x80\x81 ok</body></html>")
        if p == "/spin":
            return html_page("spin", "<p>busy</p><script>while(true){}</script>")
        if p == "/bomb":
            return Response(body=_zip_bomb(), headers={"Content-Encoding": "gzip"})
        return html_page("hostile", "<a href='/big'>big</a>")

    return site_hostile


