"""Security plumbing of the web face: response headers, the CSRF cookie, cookie flags, rate limits.

* Headers on every response: a CSP without inline scripts (``script-src 'self'``), no
  framing (``frame-ancestors 'none'``), ``nosniff``, ``Referrer-Policy: no-referrer``; API and page
  responses are not cached.
* The CSRF cookie (``cb_csrf``) is set on the first response; pages' JavaScript copies it into the
  ``X-CSRF-Token`` header of every write (see :mod:`access`). A login replaces it with the session's.
* Cookies: HttpOnly (but the CSRF one, which scripts must read), SameSite=Strict, Secure on https.
* :class:`RateLimiter`: a window per client address and purpose (login, public tips), counted where
  :mod:`limits` says (shared by every worker process under ``chainbreaker serve``).
"""

from __future__ import annotations

import secrets

from fastapi import Request, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chainbreaker.faces.web.access import CSRF_COOKIE, SESSION_COOKIE
from chainbreaker.faces.web.limits import LimitStore, MemoryLimits

# Scripts: our own files only (no inline script, no eval). Styles may be inline: Cytoscape.js inserts a
# <style> element for its container and ECharts writes style attributes into its tooltips.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def set_session_cookies(request: Request, response: Response, token: str, csrf: str, max_age: int) -> None:
    secure = is_https(request)
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="strict",
                        secure=secure, path="/")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False, samesite="strict", secure=secure,
                        path="/")


def clear_session_cookies(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=is_https(request))
    response.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(32), httponly=False, samesite="strict",
                        secure=is_https(request), path="/")


class SecurityHeaders:
    """Security headers on every response and a CSRF cookie for a browser that has none yet.

    A plain ASGI middleware: it edits the response's start message in passing. Starlette's
    ``BaseHTTPMiddleware`` ran every response through an extra task and a memory stream, which
    showed in the server's profile under load.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        static = request.url.path.startswith("/static/")
        needs_csrf = CSRF_COOKIE not in request.cookies

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in HEADERS.items():
                    if key not in headers:
                        headers[key] = value
                if not static and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
                if needs_csrf and not any(v.startswith(f"{CSRF_COOKIE}=") for v in headers.getlist("set-cookie")):
                    headers.append("set-cookie", _csrf_cookie(request))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _csrf_cookie(request: Request) -> str:
    """A fresh ``cb_csrf`` Set-Cookie value, written by Starlette's own cookie code."""
    carrier = Response()
    carrier.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(32), httponly=False, samesite="strict",
                       secure=is_https(request), path="/")
    return carrier.headers["set-cookie"]


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class RateLimiter:
    """At most ``limit`` events per ``window`` seconds per key (client address) and purpose, counted in
    ``store`` (:mod:`limits`: this process's memory by default; Redis or the ops database under
    ``chainbreaker serve``, shared by its worker processes)."""

    def __init__(self, limit: int, window: float, store: LimitStore | None = None, purpose: str = "") -> None:
        self.limit, self.window = limit, window
        self.store: LimitStore = store or MemoryLimits()
        self.purpose = purpose

    def hit(self, key: str) -> None:
        """Count one event for ``key``; raises :class:`RateLimited` when over the limit."""
        wait = self.store.hit(f"{self.purpose}:{key}", self.limit, self.window)
        if wait is not None:
            raise RateLimited(wait)
