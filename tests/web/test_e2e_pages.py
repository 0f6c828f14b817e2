"""End to end in Debian's chromium (Playwright) on the chain pages: the trace view (folding, unfolding,
amount filter, evidence of an edge), the agent card and its workbook download, a casework edit (new
case, a rejected duplicate, a task's status). Screenshots go to the test's tmp dir (printed); no
console error or CSP violation is allowed. Skipped with a message without /usr/bin/chromium."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .browser_support import chromium, live_server, login
from .pages_support import CASE, FAN_SEED, FAN_WIDTH, PLATFORM
from .support import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def pages_server(pages_ws) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with live_server(pages_ws[0]) as url:
        yield url


@pytest.fixture(scope="module")
def browser(pages_server):  # type: ignore[no-untyped-def]
    with chromium() as b:
        yield b


def _login(browser, base: str, user: str, problems: list[str]):  # type: ignore[no-untyped-def]
    return login(browser, base, user, PASSWORD, problems, viewport={"width": 1400, "height": 1000})


def test_trace_view_folds_unfolds_filters_and_shows_evidence(pages_server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    ctx, page = _login(browser, pages_server, "analyst", problems)
    page.goto(f"{pages_server}/funds")
    page.screenshot(path=str(tmp_path / "1-funds-screening.png"), full_page=True)
    page.goto(f"{pages_server}/funds/trace?account={FAN_SEED}")
    page.wait_for_selector("#trace-graph[data-ready='1'] canvas")
    nodes = "window.cbTrace.nodes().length"
    folded = int(page.get_attribute("#trace-graph", "data-folded") or "0")
    assert folded >= FAN_WIDTH - 12  # hop 1 shows its 12 best accounts, the rest folded (and hop 2 too)
    assert page.evaluate("window.cbTrace.nodes('[group = 1]').length") >= 1
    shown = page.evaluate(nodes)
    assert shown < FAN_WIDTH  # readable: not 100+ dots
    page.screenshot(path=str(tmp_path / "2-trace-folded.png"), full_page=True)
    page.evaluate("window.cbTrace.getElementById('more:1').emit('tap')")  # unfold hop 1
    page.wait_for_function(f"window.cbTrace.nodes('[hop = 1]').length === {FAN_WIDTH}")
    assert int(page.get_attribute("#trace-graph", "data-folded") or "0") < folded
    page.click("#trace-expand")
    page.wait_for_function("document.getElementById('trace-graph').dataset.folded === '0'")
    everything = page.evaluate(nodes)
    page.screenshot(path=str(tmp_path / "3-trace-expanded.png"), full_page=True)
    page.fill("#trace-min", "9000")  # only the biggest transfers of the seed's money
    page.dispatch_event("#trace-min", "change")
    page.wait_for_function(f"window.cbTrace.nodes().length < {everything}")
    assert 1 < page.evaluate(nodes) < 12
    page.evaluate("window.cbTrace.edges()[0].emit('tap')")
    evidence = page.locator("#trace-evidence")
    evidence.wait_for(state="visible")
    assert "src_row" in evidence.inner_text() and "归属金额" in evidence.inner_text()
    page.fill("#trace-min", "0")
    page.dispatch_event("#trace-min", "change")
    page.click("#trace-collapse")
    page.wait_for_function(f"window.cbTrace.nodes().length === {shown}")
    page.screenshot(path=str(tmp_path / "4-trace-evidence.png"), full_page=True)
    assert not problems, problems  # no CSP violation, no script error, no missing file
    ctx.close()
    print(f"screenshots: {tmp_path}")


def test_agent_card_and_workbook_download(pages_server: str, browser, pages_ws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import openpyxl

    _, agent = pages_ws
    problems: list[str] = []
    ctx, page = _login(browser, pages_server, "analyst", problems)
    page.goto(f"{pages_server}/promotion?platform={PLATFORM}")
    page.click(f"a.agent-card-link[href*='member={agent}']")
    page.wait_for_selector("#thresholds")
    assert page.locator("#agent-id").inner_text() == agent
    assert page.locator("#thresholds tr[data-rule='N10-S3'] td").nth(5).inner_text() in ("达到", "未达到")
    assert page.locator("#thresholds td.met").count() >= 1
    page.locator("details.agent").first.evaluate("d => d.open = true")  # the downline loads a level lazily
    page.wait_for_selector("details.agent ul li")
    page.screenshot(path=str(tmp_path / "5-agent-card.png"), full_page=True)
    with page.expect_download() as info:
        page.click("#workbook-download")
    download = info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.name == f"证据工作簿_{agent}.xlsx"
    wb = openpyxl.load_workbook(io.BytesIO(saved.read_bytes()), read_only=True)
    assert {"摘要", "上线路径", "伞下会员", "定罪量刑标准"} <= set(wb.sheetnames)
    assert [r[0] for r in wb["定罪量刑标准"].iter_rows(min_row=2, values_only=True) if r[6] == "达到"]
    assert not problems, problems
    ctx.close()
    commander_problems: list[str] = []
    ctx, page = _login(browser, pages_server, "commander", commander_problems)
    page.goto(f"{pages_server}/promotion/agent?member={agent}&platform={PLATFORM}")
    assert page.locator("#workbook-download").count() == 0
    assert page.request.get(f"{pages_server}/promotion/workbook?member={agent}").status == 403
    ctx.close()
    print(f"screenshots: {tmp_path}")


def test_casework_edit_forms(pages_server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    ctx, page = _login(browser, pages_server, "investigator", problems)
    page.goto(f"{pages_server}/cases")
    page.click("#new-case")
    page.fill("#case-new-form input[name=number]", "E2E-CASE-1")
    page.fill("#case-new-form input[name=name]", "浏览器录入案件")
    page.select_option("#case-new-form select[name=supervision]", "市督")
    page.fill("#case-new-form input[name=opened_on]", "2025-11-20")
    page.click("#case-new-form button[type=submit]")
    page.wait_for_url(f"{pages_server}/cases/E2E-CASE-1")
    assert page.locator("#case-number").inner_text() == "E2E-CASE-1"
    page.goto(f"{pages_server}/cases/new")  # the same number again: the message shows beside the form
    page.fill("#case-new-form input[name=number]", "E2E-CASE-1")
    page.fill("#case-new-form input[name=name]", "重复")
    page.click("#case-new-form button[type=submit]")
    page.wait_for_selector("#case-new-form .form-error:not([hidden])")
    assert "已存在" in page.locator("#case-new-form .form-error").inner_text()
    page.screenshot(path=str(tmp_path / "6-case-duplicate.png"))
    problems.clear()  # the refused post above is logged by the browser as a failed resource (400)
    page.goto(f"{pages_server}/cases/{CASE}")
    row = page.locator("#case-tasks tr[data-task]").first
    row.locator("select[name=status]").select_option("完成")
    row.locator("button[type=submit]").click()
    page.wait_for_selector("#case-history >> text=status：待办 → 完成")
    assert page.locator("#case-tasks tr[data-task] select[name=status]").first.input_value() == "完成"
    page.fill("#task-add-form input[name=title]", "研判资金流向")
    page.fill("#task-add-form input[name=due]", "2026-01-15")
    page.click("#task-add-form button[type=submit]")
    page.wait_for_selector("#case-tasks >> text=研判资金流向")
    page.locator("#case-edit summary").click()
    page.select_option("#case-edit-form select[name=status]", "移送起诉")
    page.click("#case-edit-form button[type=submit]")
    page.wait_for_selector("#case-status >> text=移送起诉")
    assert page.locator("#case-history >> text=investigator").count() >= 3
    page.screenshot(path=str(tmp_path / "7-case-edited.png"), full_page=True)
    assert not problems, problems
    ctx.close()
    print(f"screenshots: {tmp_path}")


def test_people_timelines_and_tech_site_screenshots(pages_server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from .pages_support import SITE, SITE_PHONE

    problems: list[str] = []
    ctx, page = _login(browser, pages_server, "commander", problems)
    page.goto(f"{pages_server}/people")
    page.click("#stranded a.timeline-link >> nth=0")
    page.wait_for_selector("#timeline li")
    assert "/people/person?ref=r-" in page.url  # no ID number in the address for a commander
    assert page.locator("#timeline li.exit").count() >= 1
    page.screenshot(path=str(tmp_path / "8-person-timeline.png"), full_page=True)
    page.goto(f"{pages_server}/people")
    page.click("#groups a.group-link >> nth=0")
    page.wait_for_selector("#group-timeline li")
    assert page.locator("#group-members li").count() >= 2
    page.screenshot(path=str(tmp_path / "9-group-timeline.png"), full_page=True)
    page.goto(f"{pages_server}/tech")
    page.click(f"a.site-link >> text={SITE}")
    page.wait_for_selector("#persona-shots figure")
    imgs = page.locator("#persona-shots img")
    deadline = time.monotonic() + 10
    while not all(imgs.nth(i).evaluate("i => i.complete && i.naturalWidth > 0") for i in range(imgs.count())):
        assert time.monotonic() < deadline, "the screenshots did not load"
        time.sleep(0.1)
    assert page.locator("#persona-shots img").count() == 2 and SITE_PHONE not in page.content()
    page.screenshot(path=str(tmp_path / "10-tech-site.png"), full_page=True)
    assert not problems, problems
    ctx.close()
    print(f"screenshots: {tmp_path}")


def test_commander_traces_a_masked_account_from_its_dossier(pages_server: str, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Search → dossier (by r-… reference) → money trace, and the trace form again with another direction:
    after the search, the account number is in no address the browser asks for."""
    problems: list[str] = []
    ctx, page = _login(browser, pages_server, "commander", problems)
    page.goto(f"{pages_server}/search")
    page.fill("#q", FAN_SEED)  # typed by the commander: the search address holds it, nothing after it does
    page.press("#q", "Enter")
    page.wait_for_selector("a.hit")
    addresses: list[str] = []
    page.on("request", lambda r: addresses.append(r.url))
    page.click("a.hit >> nth=0")
    page.wait_for_selector("#account-trace-link")
    assert "/entities/r-" in page.url
    page.click("#account-trace-link")
    page.wait_for_selector("#trace-graph[data-ready='1'] canvas")
    assert "/funds/trace?ref=r-" in page.url
    assert page.locator("#trace-hops tr").count() == 4  # header + hops 0, 1, 2: the fan-out was traced
    page.screenshot(path=str(tmp_path / "11-trace-by-reference.png"), full_page=True)
    page.select_option("#trace-form select[name=direction]", "up")
    page.click("#trace-form button[type=submit]")
    page.wait_for_url("**direction=up**")
    assert "ref=r-" in page.url and "trace-seed" in page.content()
    assert not any(FAN_SEED in a for a in addresses), [a for a in addresses if FAN_SEED in a]
    assert FAN_SEED not in page.content()
    assert not problems, problems
    ctx.close()
    print(f"screenshots: {tmp_path}")
