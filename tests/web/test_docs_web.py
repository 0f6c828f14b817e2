"""docs/web.md and the README keep up with the web face: every API route, role and setting is documented."""

from __future__ import annotations

from pathlib import Path

from fastapi.routing import APIRoute

from chainbreaker.core.settings import Settings
from chainbreaker.faces.web.access import ROLES, iter_routes

ROOT = Path(__file__).resolve().parents[2]


def test_docs_name_every_api_route_role_and_setting(web_app) -> None:  # type: ignore[no-untyped-def]
    doc = (ROOT / "docs" / "web.md").read_text("utf-8")
    for route in iter_routes(web_app.routes):
        if isinstance(route, APIRoute) and route.path.startswith("/api/"):
            assert f"/api/{route.path.removeprefix('/api/')}" in doc, route.path
    for role in ROLES:
        assert f"`{role}`" in doc, role
    for name in Settings.model_fields:
        if name.startswith("web_"):
            assert f"CHAINBREAKER_{name.upper()}" in doc, name
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "chainbreaker serve" in readme and "chainbreaker users add" in readme
