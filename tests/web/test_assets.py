"""Front-end libraries are served from the app itself; without them the UI starts and says so."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from chainbreaker.faces.web import app as app_module

ASSETS = Path(app_module.__file__).parent / "assets"


def test_npm_manifest_pins_the_three_libraries() -> None:
    package = json.loads((ASSETS / "package.json").read_text("utf-8"))
    lock = json.loads((ASSETS / "package-lock.json").read_text("utf-8"))
    assert set(package["dependencies"]) == {"echarts", "cytoscape", "htmx.org"}
    for name in package["dependencies"]:
        entry = lock["packages"][f"node_modules/{name}"]
        assert entry["version"] and entry["integrity"].startswith("sha512-")


def test_pages_reference_only_local_scripts(client_for) -> None:  # type: ignore[no-untyped-def]
    html = client_for("analyst").get("/").text
    assert "/static/vendor/echarts.min.js" in html and "//cdn" not in html and "https://" not in html


def test_missing_assets_are_reported_on_the_page(web_app, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(app_module, "STATIC_DIR", tmp_path)
    page = TestClient(web_app).get("/login")
    assert page.status_code == 200 and 'id="assets-missing"' in page.text and "npm ci" in page.text
    assert app_module.missing_assets() == list(app_module.VENDOR_FILES)
