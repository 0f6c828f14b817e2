"""Tech pages: scanned sites, one site per persona with its screenshots, decoded payloads, indicators and
findings (masked per role, audited), clusters, screenshots served only as screenshots."""

from __future__ import annotations

import re

from .pages_support import SITE, SITE_PHONE
from .support import audit_lines


def test_sites_list_with_blocklist_downloads_for_roles_that_may_export(pages_client_for) -> None:  # type: ignore[no-untyped-def]
    html = pages_client_for("analyst").get("/tech").text
    assert "技术链：扫描过的网站" in html and f'href="/tech/site?host={SITE}"' in html
    assert len(re.findall(r'class="blocklist" href="/tech/blocklist\?format=', html)) == 7
    assert 'class="blocklist"' not in pages_client_for("commander").get("/tech").text
    r = pages_client_for("analyst").get("/tech/blocklist", params={"format": "hosts"})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]


def test_site_page_shows_each_persona_with_its_screenshot_and_the_decoded_payloads(pages_client_for, pages_ws) -> None:  # type: ignore[no-untyped-def]
    ws, _ = pages_ws
    client = pages_client_for("commander")
    html = client.get("/tech/site", params={"host": SITE}).text
    shots = re.findall(r'<img src="/tech/screenshots/([0-9a-f]{64})" alt="([a-z_]+)"', html)
    assert {p for _, p in shots} == {"browser", "baidu_spider"} and len({s for s, _ in shots}) == 2
    assert "无截图（未渲染）" in html  # the wechat persona was fetched, not rendered
    assert "https://bet-example.com/seo.html" in html  # what the spider was sent to
    assert "eval → base64" in html and "cdn.bad-loader.top" in html and "bet-landing.vip" in html
    assert "cloaking" in html and "TC-1" in html
    assert SITE_PHONE not in html and "139****4321" in html  # a commander sees phones masked…
    assert SITE_PHONE in pages_client_for("investigator").get("/tech/site", params={"host": SITE}).text  # …investigators not
    assert any(a["action"] == "tech.site.view" and a["user"] == "commander" for a in audit_lines(ws))
    png = client.get(f"/tech/screenshots/{shots[0][0]}")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
    assert png.headers["x-content-type-options"] == "nosniff"
    missing = client.get("/tech/site", params={"host": "never-scanned.example"})
    assert missing.status_code == 400 and "没有扫描过网站" in missing.text


def test_screenshot_route_serves_screenshots_only(pages_client_for, pages_ws) -> None:  # type: ignore[no-untyped-def]
    ws, _ = pages_ws
    con = ws.duck()
    body = con.execute("SELECT capture_sha256 FROM tech_captures WHERE screenshot_sha256 IS NULL LIMIT 1").fetchall()[0][0]
    con.close()
    client = pages_client_for("analyst")
    assert ws.evidence_path(body).is_file()
    assert client.get(f"/tech/screenshots/{body}").status_code == 400  # evidence, but not a screenshot
    assert client.get("/tech/screenshots/..%2F..%2Fops.sqlite").status_code in (400, 404)
    assert client.get("/tech/screenshots/" + "z" * 64).status_code == 400


def test_clusters_page_lists_hosts_shared_indicators_and_templates(pages_client_for) -> None:  # type: ignore[no-untyped-def]
    html = pages_client_for("commander").get("/tech/clusters").text
    assert 'id="TC-1"' in html and "bet-mirror.net" in html and "0.91" in html
    assert SITE_PHONE not in html and "139****4321" in html
