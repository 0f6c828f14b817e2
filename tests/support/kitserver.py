"""Loopback servers for the kit corpus and for a slow-drip host (127.0.0.1, ephemeral ports).

Every kit of ``kits/kits.yaml`` is its own ``ThreadingHTTPServer`` (so its own host:port) that
answers the way its ``serve`` mode says — by User-Agent (crawler or not) and Referer (from a
search engine or not), the two signals kits decide on. ``DripServer`` answers every request with
one body byte per second, forever.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

KITS_DIR = Path(__file__).with_name("kits")
_SPIDER = re.compile(r"spider|bot|slurp|crawler", re.I)
_SEARCH = re.compile(r"baidu\.com|sogou\.com|so\.com|sm\.cn|google\.|bing\.com", re.I)


@dataclass
class Kit:
    name: str
    source: str
    serve: str
    expect: set[str] = field(default_factory=set)
    technique: str = ""
    honest: bool = False
    file: str = ""
    clean: str = ""
    path: str = "/"
    landing: str = ""
    scan: str = "root"
    charset: str = "utf-8"  # the server re-encodes the (UTF-8) file and says so in the header

    def page(self, which: str = "") -> bytes:
        text = (KITS_DIR / f"{which or self.file or self.name}.html").read_text("utf-8")
        return text.encode(self.charset)


def load_kits() -> list[Kit]:
    data = yaml.safe_load((KITS_DIR / "kits.yaml").read_text("utf-8"))
    kits = []
    for entry in data["kits"]:
        entry = dict(entry)
        entry["expect"] = set(entry.get("expect") or [])
        kits.append(Kit(**entry))
    return kits


def _answer(kit: Kit, path: str, spider: bool, search: bool) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of ``kit`` for one request."""
    html = {"Content-Type": f"text/html; charset={kit.charset}"}
    xml = {"Content-Type": "application/xml"}
    text = {"Content-Type": "text/plain"}
    not_found = (404, html, b"<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>")
    mode = kit.serve
    if path == "/robots.txt":
        body = "User-agent: *\nDisallow:\n"
        if mode == "doorway_spiders" and spider:
            body += "Sitemap: /sitemap_index.xml\n"
        return 200, text, body.encode()
    if mode == "doorway_spiders" and path in ("/sitemap_index.xml", "/sitemap_1.xml"):
        if not spider:
            return not_found
        if path == "/sitemap_index.xml":
            return 200, xml, b"<?xml version='1.0'?><sitemapindex><sitemap><loc>/sitemap_1.xml</loc></sitemap></sitemapindex>"
        return 200, xml, f"<?xml version='1.0'?><urlset><url><loc>{kit.path}</loc></url></urlset>".encode()
    if path.startswith("/sitemap"):
        return not_found
    if mode == "all":
        return 200, html, kit.page()
    if mode == "spiders":
        return 200, html, kit.page() if spider else kit.page(kit.clean)
    if mode in ("doorway_spiders", "doorway_search"):
        if path != kit.path:
            return 200, html, kit.page(kit.clean)
        allowed = spider or (mode == "doorway_search" and search)
        return (200, html, kit.page()) if allowed else not_found
    if mode == "referer_302":
        if path == kit.path:
            return 200, html, kit.page()
        if search and path == "/":
            return 302, {"Location": kit.path, **html}, b""
        return 200, html, kit.page(kit.clean)
    if mode == "landing":
        return 200, html, kit.page(kit.landing) if path == kit.path else kit.page()
    raise ValueError(f"unknown serve mode {mode!r}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def handle_error(self, request: object, client_address: object) -> None:
        return  # scanners that hang up early are expected


def _handler(kit: Kit, hits: dict[str, int]) -> type[BaseHTTPRequestHandler]:
    class _H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "nginx"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            hits[kit.name] = hits.get(kit.name, 0) + 1
            ua, ref = self.headers.get("User-Agent", ""), self.headers.get("Referer", "")
            status, headers, body = _answer(kit, urlsplit(self.path).path or "/", bool(_SPIDER.search(ua)),
                                            bool(_SEARCH.search(ref)))
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return _H


class KitSites:
    """One loopback server per kit: ``url(name, path)``, ``host(name)``, ``kits``; ``close()``."""

    def __init__(self, names: list[str] | None = None) -> None:
        self.kits = {k.name: k for k in load_kits() if names is None or k.name in names}
        self.hits: dict[str, int] = {}
        self.servers: dict[str, _Server] = {}
        for name, kit in self.kits.items():
            server = _Server(("127.0.0.1", 0), _handler(kit, self.hits))
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True,
                             name=f"kit-{name}").start()
            self.servers[name] = server

    def host(self, name: str) -> str:
        host, port = self.servers[name].server_address[:2]
        return f"{host!s}:{port}"

    def url(self, name: str, path: str = "/") -> str:
        return f"http://{self.host(name)}{path}"

    def targets(self, scan: str) -> list[str]:
        """URLs to scan for the kits scanned this way (``root``, ``depth1`` or ``path``)."""
        return [self.url(n, k.path if scan == "path" else "/") for n, k in self.kits.items() if k.scan == scan]

    def name_of(self, host: str) -> str | None:
        return next((n for n in self.servers if self.host(n) == host), None)

    def close(self) -> None:
        for server in self.servers.values():
            server.shutdown()
            server.server_close()


class RawServer:
    """Serves fixed responses: ``{path: (status, headers, body)}``; 404 for other paths."""

    def __init__(self, responses: dict[str, tuple[int, dict[str, str], bytes]]) -> None:
        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                return

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                status, headers, body = responses.get(urlsplit(self.path).path, (404, {}, b"not found"))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = _Server(("127.0.0.1", 0), _H)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def url(self, path: str = "/") -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class DripServer:
    """Answers every request with a 200 and then one body byte per second until the client leaves."""

    def __init__(self, interval: float = 1.0) -> None:
        self.requests = 0
        self.stop = threading.Event()
        outer = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                return

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                outer.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    self.wfile.write(b"<html><head><title>slow</title></head><body>")
                    self.wfile.flush()
                    while not outer.stop.wait(interval):
                        self.wfile.write(b".")
                        self.wfile.flush()
                except OSError:
                    return

        self.server = _Server(("127.0.0.1", 0), _H)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    @property
    def host(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host!s}:{port}"

    def close(self) -> None:
        self.stop.set()
        time.sleep(0.05)
        self.server.shutdown()
        self.server.server_close()


__all__ = ["DripServer", "Kit", "KitSites", "RawServer", "load_kits"]
