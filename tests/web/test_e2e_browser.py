"""End to end in Debian's chromium (Playwright): log in, search, dossier with its link chart and an
evidence row, export as a role that may and one that may not, file a public tip and follow it up.

Screenshots go to the test's tmp dir (printed at the end). Never downloads a browser: without
/usr/bin/chromium the test is skipped with a message saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .browser_support import chromium, live_server, login
from .support import HUB, PASSWORD, ZHANG_ID

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(web_ws) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with live_server(web_ws) as url:
        yield url


@pytest.fixture(scope="module")
def browser(server):  # type: ignore[no-untyped-def]
    with chromium() as b:
        yield b


def _login(browser, base: str, user: str, problems: list[str]):  # type: ignore[no-untyped-def]
    return login(browser, base, user, PASSWORD, problems)


def test_analyst_searches_opens_dossier_and_exports(server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    ctx, page = _login(browser, server, "analyst", problems)
    page.wait_for_selector("#trend-chart canvas")  # ECharts drew the trend
    page.screenshot(path=str(tmp_path / "1-dashboard.png"), full_page=True)
    page.goto(f"{server}/search")
    page.fill("#q", HUB)
    page.press("#q", "Enter")
    page.wait_for_selector("a.hit")
    page.screenshot(path=str(tmp_path / "2-search.png"))
    page.click(f"a.hit >> text={HUB}")
    page.wait_for_selector("#graph[data-ready='1'] canvas")  # Cytoscape drew the link chart
    assert page.locator("#dossier-ident").inner_text() == HUB
    assert page.evaluate("window.cbGraph.nodes().length") >= 4
    page.evaluate("window.cbGraph.edges('[kind = \"money\"]')[0].emit('tap')")  # open the evidence behind an edge
    evidence = page.locator("#edge-evidence")
    evidence.wait_for(state="visible")
    assert "src_row" in evidence.inner_text() and "transactions" in evidence.inner_text()
    shown = "window.cbGraph.edges('[kind = \"money\"]').filter(e => e.visible()).length"
    everything = page.evaluate(shown)
    page.fill("#time-slider", "0")  # back to the first transfer: later counterparties disappear
    page.dispatch_event("#time-slider", "input")
    assert 0 < page.evaluate(shown) < everything
    page.fill("#time-slider", "100")
    page.dispatch_event("#time-slider", "input")
    assert page.evaluate(shown) == everything
    page.fill("#min-amount", "1000000")
    page.dispatch_event("#min-amount", "change")
    assert page.evaluate("window.cbGraph.edges('[kind = \"money\"]').filter(e => e.visible()).length") == 0
    page.screenshot(path=str(tmp_path / "3-dossier.png"), full_page=True)
    page.goto(f"{server}/tables")
    with page.expect_download() as info:
        page.click("a.export[data-table='persons'][data-format='csv']")
    download = info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = saved.read_text("utf-8-sig")
    assert saved.name == "persons.csv" and "张伟" in text and ZHANG_ID not in text  # analysts get IDs masked
    assert not problems, problems  # no CSP violation, no script error, no missing file
    ctx.close()


def test_commander_may_not_export(server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    ctx, page = _login(browser, server, "commander", problems)
    page.goto(f"{server}/tables")
    assert page.locator("a.export").count() == 0 and "本角色不可导出" in page.content()
    r = page.request.get(f"{server}/api/tables/persons/export?format=csv")
    assert r.status == 403 and "error" in r.json()
    page.screenshot(path=str(tmp_path / "4-commander-tables.png"))
    ctx.close()


def test_public_tip_and_follow_up(server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from .test_public_tips import _png

    shot = tmp_path / "证据截图.png"
    shot.write_bytes(_png())
    ctx = browser.new_context(locale="zh-CN")
    page = ctx.new_page()
    page.goto(f"{server}/public")
    page.fill("textarea[name=text]", "有人在微信群推广赌博网站 https://bet-example.com ，收款卡 6228480012345678901")
    page.set_input_files("input[name=files]", str(shot))
    page.click("#tip-form button[type=submit]")
    page.wait_for_selector("#tip-receipt:not([hidden])")
    code = page.locator("#receipt-code").inner_text()
    passphrase = page.locator("#receipt-passphrase").inner_text()
    assert code.startswith("JB") and passphrase and "✓" in page.locator("#receipt-attachments").inner_text()
    page.screenshot(path=str(tmp_path / "5-tip-receipt.png"))
    page.goto(f"{server}/public/follow")
    page.fill("input[name=code]", code)
    page.fill("input[name=passphrase]", passphrase)
    page.click("#follow-form button[type=submit]")
    page.wait_for_selector("#follow-status:not([hidden])")
    assert "待分拣" in page.locator("#follow-status").inner_text()
    page.screenshot(path=str(tmp_path / "6-tip-follow.png"))
    ctx.close()
    print(f"screenshots: {tmp_path}")
