"""Every route × every role: allowed roles get through, the others get 403; no route is undeclared.

The expected matrix is written out here, independently of the routes' own declarations, so a route
whose roles change (or a new route) fails until this table says what it should be.
"""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from chainbreaker.faces.web.access import declared_access, iter_routes

from .conftest import csrf
from .support import HUB, ROLES, ZHANG_ID

ALL = set(ROLES)
ANALYSIS = {"admin", "analyst", "investigator", "commander"}
SEARCH = ANALYSIS | {"tip_reviewer"}
EXPORT = {"admin", "analyst", "investigator"}
TIPS = {"admin", "analyst", "investigator", "tip_reviewer"}
PUBLIC = "public"
EXPECTED: dict[tuple[str, str], set[str] | str] = {
    ("POST", "/api/login"): PUBLIC,
    ("POST", "/api/logout"): ALL,
    ("GET", "/api/me"): ALL,
    ("GET", "/api/search"): SEARCH,
    ("GET", "/api/entities/{ident:path}"): SEARCH,
    ("GET", "/api/tables"): ANALYSIS,
    ("GET", "/api/tables/{name}/export"): EXPORT,
    ("GET", "/login"): PUBLIC,
    ("GET", "/"): ALL,
    ("GET", "/search"): SEARCH,
    ("GET", "/entities/{ident}"): SEARCH,
    ("GET", "/tables"): ANALYSIS,
    ("GET", "/funds"): ANALYSIS,
    ("GET", "/funds/account"): ANALYSIS,
    ("GET", "/funds/trace"): ANALYSIS,
    ("GET", "/promotion"): ANALYSIS,
    ("GET", "/promotion/children"): ANALYSIS,
    ("GET", "/promotion/agent"): ANALYSIS,
    ("GET", "/promotion/workbook"): EXPORT,
    ("GET", "/people"): ANALYSIS,
    ("GET", "/people/register"): ANALYSIS,
    ("GET", "/people/person"): ANALYSIS,
    ("GET", "/people/group"): ANALYSIS,
    ("GET", "/people/register/person"): ANALYSIS,
    ("POST", "/people/register/status"): ANALYSIS,
    ("POST", "/people/register/add"): ANALYSIS,
    ("GET", "/tech"): ANALYSIS,
    ("GET", "/tech/blocklist"): EXPORT,
    ("GET", "/tech/site"): ANALYSIS,
    ("GET", "/tech/clusters"): ANALYSIS,
    ("GET", "/tech/screenshots/{sha256}"): ANALYSIS,
    ("GET", "/cases"): ANALYSIS,
    ("GET", "/cases/new"): ANALYSIS,
    ("POST", "/cases/new"): ANALYSIS,
    ("GET", "/cases/{number}"): ANALYSIS,
    ("POST", "/cases/{number}"): ANALYSIS,
    ("POST", "/cases/{number}/tasks"): ANALYSIS,
    ("POST", "/cases/{number}/tasks/{task_id}/status"): ANALYSIS,
    ("POST", "/cases/{number}/measures"): EXPORT,
    ("GET", "/tasks"): ANALYSIS,
    ("GET", "/tips"): TIPS,
    ("GET", "/tips/{code}/attachments/{number}"): TIPS,
    ("GET", "/rewards"): {"admin", "commander", "tip_reviewer"},
    ("GET", "/assessment"): {"admin", "analyst", "commander"},
    ("GET", "/bulletin"): {"admin", "analyst", "commander"},
    ("GET", "/sharing"): {"admin", "analyst", "investigator", "partner"},
    ("GET", "/public"): PUBLIC,
    ("GET", "/public/"): PUBLIC,
    ("POST", "/public/tips"): PUBLIC,
    ("GET", "/public/follow"): PUBLIC,
    ("POST", "/public/follow"): PUBLIC,
}
PARAMS = {"{ident}": HUB, "{name}": "accounts", "{code}": "JBNOSUCHCODE", "{number}": "1", "{task_id}": "1",
          "{sha256}": "0" * 64}
QUERY = {"/api/search": "?q=6222", "/api/tables/{name}/export": "?format=csv", "/promotion/children": "?member=1",
         "/promotion/agent": "?member=A1", "/promotion/workbook": "?member=A1", "/funds/account": "?rank=1",
         "/funds/trace": "?rank=1", "/people/person": f"?ref=ID:{ZHANG_ID}", "/people/group": "?id=TG-1",
         "/people/register/person": f"?ref=ID:{ZHANG_ID}", "/tech/site": "?host=bet-example.com"}
WRITE_BODIES = {"/api/login": {"json": {"username": "nobody", "password": "x"}},
                "/public/follow": {"json": {"code": "JBX", "passphrase": "y"}},
                "/public/tips": {"data": {"text": "matrix test"}}}


def _routes(app):  # type: ignore[no-untyped-def]
    for route in iter_routes(app.routes):
        if isinstance(route, APIRoute):
            for method in sorted(route.methods - {"HEAD"}):
                yield method, route


def _url(path: str) -> str:
    url = path
    for key, value in PARAMS.items():
        url = url.replace(key, value)
    return url + QUERY.get(path, "")


def test_every_route_declares_its_roles_once_and_is_in_the_matrix(web_app) -> None:  # type: ignore[no-untyped-def]
    seen = set()
    for method, route in _routes(web_app):
        decl = declared_access(route)
        assert len(decl) == 1, f"{method} {route.path} declares its roles {len(decl)} times (needs allow() or public())"
        assert (method, route.path) in EXPECTED, f"{method} {route.path} is not in the role matrix of this test"
        expected = EXPECTED[(method, route.path)]
        if expected == PUBLIC:
            assert decl[0].public, f"{method} {route.path} should be public"
        else:
            assert set(decl[0].roles) == expected and not decl[0].public, f"{method} {route.path}: {sorted(decl[0].roles)}"
        seen.add((method, route.path))
    assert seen == set(EXPECTED), f"routes in the matrix but not in the app: {set(EXPECTED) - seen}"


def _call(client, method: str, path: str):  # type: ignore[no-untyped-def]
    kwargs = dict(WRITE_BODIES.get(path, {}))
    if method != "GET":
        kwargs["headers"] = csrf(client)
    return client.request(method, _url(path), **kwargs)


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(role: str, web_app, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(role)
    for method, route in _routes(web_app):
        if route.path in ("/api/logout", "/api/login"):
            continue  # would end or replace this role's session; covered in test_security
        expected = EXPECTED[(method, route.path)]
        r = _call(client, method, route.path)
        if expected == PUBLIC or role in expected:
            assert r.status_code not in (401, 403), f"{role} {method} {route.path} → {r.status_code} {r.text[:200]}"
            assert r.status_code < 500, f"{role} {method} {route.path} → {r.status_code} {r.text[:300]}"
        else:
            assert r.status_code == 403, f"{role} {method} {route.path} → {r.status_code} (expected 403)"


def test_without_a_session_api_gets_401_json_and_pages_redirect(web_app, client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(None)
    for method, route in _routes(web_app):
        if EXPECTED[(method, route.path)] == PUBLIC:
            continue
        r = _call(client, method, route.path)
        if route.path.startswith("/api/"):
            assert r.status_code == 401, f"{method} {route.path} → {r.status_code}"
            assert r.headers["content-type"].startswith("application/json") and "error" in r.json()
        else:
            assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), f"{method} {route.path}"


def test_only_the_openapi_document_and_static_files_are_outside_the_declarations(web_app) -> None:  # type: ignore[no-untyped-def]
    from starlette.routing import Mount, Route

    others = [r for r in iter_routes(web_app.routes) if not isinstance(r, APIRoute)]
    assert {(type(r).__name__, r.path) for r in others} == {
        ("Route", "/api/openapi.json"), ("Mount", "/static/app"), ("Mount", "/static")}
    assert all(isinstance(r, (Route, Mount)) for r in others)
