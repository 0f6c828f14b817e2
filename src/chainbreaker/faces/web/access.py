"""Who may call what (访问控制): every route declares its roles with :func:`allow` or :data:`PUBLIC`.

The declaration is a FastAPI dependency (:class:`Access`) so it runs before the route body, loads the
server-side session, checks the role and, for every write, the CSRF token (double submit: the
``X-CSRF-Token`` header must equal the ``cb_csrf`` cookie, and the session's token once logged in).
``tests/web/test_access_matrix.py`` walks every route for every role and fails on a route without one.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import Depends, Request

from chainbreaker.core.model.masking import Role
from chainbreaker.ops.accounts import Principal, session_principal

ROLES = ("admin", "analyst", "investigator", "commander", "partner", "tip_reviewer")
STAFF = ROLES
# roles of the ops users that mask like the CLI roles; the others see what a viewer sees
MASK_ROLE = {"admin": "admin", "analyst": "analyst", "investigator": "investigator", "viewer": "viewer",
             "commander": "viewer", "partner": "viewer", "tip_reviewer": "viewer"}
EXPORT_ROLES = ("admin", "analyst", "investigator")
ANALYSIS_ROLES = ("admin", "analyst", "investigator", "commander")
ROLE_NAMES = {"admin": ("管理员", "administrator"), "analyst": ("研判员", "analyst"),
              "investigator": ("侦查员", "investigator"), "commander": ("指挥员", "unit commander"),
              "partner": ("合作单位", "partner agency"), "tip_reviewer": ("线索审核员", "tip reviewer"),
              "viewer": ("查看者", "viewer")}
SESSION_COOKIE = "cb_session"
CSRF_COOKIE = "cb_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class NotLoggedIn(Exception):
    """No live session: 401 JSON for the API, a redirect to the login page for pages."""


class Forbidden(Exception):
    def __init__(self, why: str = "role") -> None:
        super().__init__(why)
        self.why = why


def mask_role(principal: Principal | None) -> Role:
    """The masking role (model/masking.py) of a logged-in user; the public sees what a viewer sees."""
    name = MASK_ROLE.get(principal.role, "viewer") if principal else "viewer"
    return Role(name, source="login")


def _csrf_ok(request: Request, principal: Principal | None) -> bool:
    header = request.headers.get(CSRF_HEADER, "")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not header or not cookie or not hmac.compare_digest(header, cookie):
        return False
    return principal is None or hmac.compare_digest(header, principal.csrf_token)


class Access:
    """A route's declaration: the roles allowed (``public``: anyone, no session needed)."""

    def __init__(self, *roles: str, public: bool = False) -> None:
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles {sorted(unknown)}")
        self.roles = frozenset(roles)
        self.public = public

    def __call__(self, request: Request) -> Principal | None:
        principal = session_principal(request.app.state.ws, request.cookies.get(SESSION_COOKIE))
        request.state.principal = principal
        if self.public:
            # a public write made while logged in is checked against the session too
            if request.method not in SAFE_METHODS and not _csrf_ok(request, None):
                raise Forbidden("csrf")
            return principal
        if principal is None:
            raise NotLoggedIn()
        if request.method not in SAFE_METHODS and not _csrf_ok(request, principal):
            raise Forbidden("csrf")
        if principal.role not in self.roles:
            raise Forbidden("role")
        return principal


def allow(*roles: str) -> Any:
    """``principal: Principal = allow("admin", "analyst")`` in a route's signature."""
    return Depends(Access(*roles))


def public() -> Any:
    """A route anyone may call (login page, public tip pages); writes still need the CSRF header."""
    return Depends(Access(public=True))


def declared_access(route: Any) -> list[Access]:
    """The :class:`Access` declarations of one route (the matrix test wants exactly one)."""
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return []
    return [d.call for d in dependant.dependencies if isinstance(d.call, Access)]


def iter_routes(routes: list[Any]) -> list[Any]:
    """Every endpoint route, also inside included routers (FastAPI keeps those as lazy branches; the
    routers here add no prefix of their own when included, so the paths are the routes' own)."""
    out: list[Any] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            out.extend(iter_routes(inner.routes))
        else:
            out.append(route)
    return out
