"""Login, sessions, cookies, CSRF, headers and rate limits of the web face."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from chainbreaker.faces.web.app import create_app
from chainbreaker.ops.accounts import LOCK_AFTER
from chainbreaker.ops.accounts_models import WebSession
from chainbreaker.ops.casework_models import User
from chainbreaker.ops.db import engine_for, session_scope

from .conftest import csrf, login
from .support import PASSWORD, audit_lines


def _fresh(web_ws, **limits) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(create_app(web_ws, **limits), follow_redirects=False)


def test_login_sets_strict_httponly_session_cookie_and_a_readable_csrf_cookie(web_app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(web_app)
    r = client.post("/api/login", json={"username": "analyst", "password": PASSWORD}, headers=csrf(client))
    assert r.status_code == 200 and r.json()["role"] == "analyst"
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("cb_session="))
    token = next(c for c in cookies if c.startswith("cb_csrf="))
    assert "HttpOnly" in session and "SameSite=strict" in session and "Secure" not in session  # http here
    assert "HttpOnly" not in token and "SameSite=strict" in token
    assert client.get("/api/me").json()["username"] == "analyst"


def test_cookies_are_secure_over_https(web_app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(web_app, base_url="https://testserver")
    r = client.post("/api/login", json={"username": "analyst", "password": PASSWORD}, headers=csrf(client))
    assert all("Secure" in c for c in r.headers.get_list("set-cookie"))


def test_bad_credentials_are_401_and_audited(web_app, web_ws) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(web_app)
    for user, password in (("analyst", "wrong password!"), ("nobody-here", PASSWORD)):
        r = client.post("/api/login", json={"username": user, "password": password}, headers=csrf(client))
        assert r.status_code == 401 and "error" in r.json()
    assert any(a["action"] == "web.login" and a.get("outcome") == "refused" for a in audit_lines(web_ws))


def test_writes_need_the_csrf_header_matching_cookie_and_session(web_app) -> None:  # type: ignore[no-untyped-def]
    client = login(TestClient(web_app), "investigator")
    assert client.post("/api/logout").status_code == 403  # no header
    assert client.post("/api/logout", headers={"X-CSRF-Token": "forged"}).status_code == 403
    stale = client.cookies.get("cb_csrf")
    _set_cookie(client, "cb_csrf", "attacker-chosen")
    assert client.post("/api/logout", headers={"X-CSRF-Token": "attacker-chosen"}).status_code == 403  # not the session's
    _set_cookie(client, "cb_csrf", stale)
    assert client.post("/api/logout", headers=csrf(client)).status_code == 200
    assert client.get("/api/me").status_code == 401  # the server-side session is gone


def _set_cookie(client: TestClient, name: str, value: str | None) -> None:
    domain = "testserver.local"
    for c in list(client.cookies.jar):
        if c.name == name:
            domain = c.domain
            client.cookies.jar.clear(c.domain, c.path, c.name)
    client.cookies.set(name, value or "", domain=domain, path="/")


def test_security_headers_on_pages_and_api(client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for("analyst")
    for path in ("/", "/api/me", "/public", "/login"):
        h = client.get(path).headers
        csp = h["content-security-policy"]
        script = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
        assert script.strip() == "script-src 'self'" and "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
        assert h["x-content-type-options"] == "nosniff" and h["referrer-policy"] == "no-referrer"
        assert h["x-frame-options"] == "DENY" and h["cache-control"] == "no-store"


def test_pages_have_no_inline_script(client_for) -> None:  # type: ignore[no-untyped-def]
    import re

    client = client_for("admin")
    for path in ("/", "/search?q=6222", "/entities/6222021001112223334", "/bulletin", "/public", "/login"):
        html = client.get(path).text
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, f"{path}: {tag}"
        assert " on" + "click=" not in html and "javascript:" not in html


def test_login_rate_limit_gives_429(web_ws) -> None:  # type: ignore[no-untyped-def]
    client = _fresh(web_ws, login_limit=(3, 60.0))
    codes = [client.post("/api/login", json={"username": "x", "password": "y"}, headers=csrf(client)).status_code
             for _ in range(5)]
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]
    r = client.post("/api/login", json={"username": "x", "password": "y"}, headers=csrf(client))
    assert int(r.headers["retry-after"]) > 0 and "error" in r.json()


def test_lockout_after_repeated_failures_then_unlock_by_new_password(web_ws, fresh_user) -> None:  # type: ignore[no-untyped-def]
    from chainbreaker.ops.accounts import set_password

    locky = fresh_user("analyst")
    client = _fresh(web_ws)
    for _ in range(LOCK_AFTER):
        client.post("/api/login", json={"username": locky, "password": "not the password"}, headers=csrf(client))
    r = client.post("/api/login", json={"username": locky, "password": PASSWORD}, headers=csrf(client))
    assert r.status_code == 401  # locked: even the right password is refused for a while
    set_password(web_ws, locky, PASSWORD, role="analyst")  # an admin resets it
    assert client.post("/api/login", json={"username": locky, "password": PASSWORD},
                       headers=csrf(client)).status_code == 200


def test_idle_and_absolute_session_expiry(web_app, web_ws, fresh_user, client_for) -> None:  # type: ignore[no-untyped-def]
    """Ages only this test's own session (of its own commander): other sessions stay alive."""
    old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    commander = fresh_user("commander")
    bystander = client_for("commander")  # the shared commander, logged in before the expiry
    for column in ("last_seen", "expires_at"):
        client = login(TestClient(web_app), commander)
        assert client.get("/api/me").status_code == 200
        with session_scope(engine_for(web_ws)) as s:
            mine = select(User.id).where(User.username == commander).scalar_subquery()
            s.execute(update(WebSession).where(WebSession.user_id == mine).values({column: old}))
        assert client.get("/api/me").status_code == 401
        r = client.get("/", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert bystander.get("/api/me").json()["username"] == "commander"


def test_unknown_api_path_is_json_404_and_bad_input_is_a_clear_400(client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for("analyst")
    r = client.get("/api/nothing-here")
    assert r.status_code == 404 and r.json()["error_en"] == "Not found."
    r = client.get("/api/search", params={"q": "6222****3334"})  # a masked value: refused by the schema
    assert r.status_code == 422 and "q" in r.json()["error_en"]
    r = client_for("analyst").get("/search", params={"q": "6222****3334"})  # the page says why
    assert r.status_code == 400 and "脱敏" in r.text
    r = client.get("/api/tables/accounts/export", params={"format": "exe"})
    assert r.status_code == 422 and "error" in r.json()


def test_login_page_only_returns_to_paths_on_this_site(client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for(None)
    for evil in ("//evil.example/x", "/\\evil.example", "https://evil.example/"):
        page = client.get("/login", params={"next": evil}).text
        assert 'data-next="/"' in page, evil
    assert 'data-next="/funds?x=1"' in client.get("/login", params={"next": "/funds?x=1"}).text
