"""Property-based tests of the API against its own OpenAPI description (schemathesis, bounded).

Every operation is called with generated parameters as a logged-in admin (with the CSRF header):
no 5xx, and every response matches the documented status codes, content types and schemas.
Logout is left out (it would end the session the other calls use; test_security covers it).
"""

from __future__ import annotations

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from .conftest import login

EXAMPLES = 25
SKIP = {"/api/logout"}


def test_api_matches_its_openapi_description(web_app) -> None:  # type: ignore[no-untyped-def]
    client = login(TestClient(web_app), "admin")
    cookies = {"cb_session": client.cookies.get("cb_session") or "", "cb_csrf": client.cookies.get("cb_csrf") or ""}
    headers = {"X-CSRF-Token": cookies["cb_csrf"]}
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", web_app)
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in SKIP:
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(headers=headers, cookies=cookies)

        check()
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert len(tested) >= 6, tested
    assert client.get("/api/me").status_code == 200  # the session survived the generated calls
