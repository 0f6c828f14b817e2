"""Per-host time budget: a host that drips one byte a second costs one budget, not
personas x total timeout (14 x 20 s = 280 s per URL at the defaults)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from chainbreaker.chains.tech.fetch import FetchLimits
from chainbreaker.chains.tech.scan import scan
from chainbreaker.core.workspace import Workspace
from support.kitserver import DripServer, KitSites


@pytest.fixture()
def drip():
    server = DripServer(interval=1.0)
    yield server
    server.close()


def test_drip_host_stops_at_its_budget_and_the_rest_is_recorded(drip: DripServer, tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    start = time.perf_counter()
    # default personas (14), default total_timeout (20 s) and read timeout (10 s); only the budget is small
    result = scan(ws, [f"http://{drip.host}/"], own_sites=True, limits=FetchLimits(delay=0, host_budget=4))
    elapsed = time.perf_counter() - start
    assert elapsed < 20
    assert drip.requests == 1  # the budget was spent on the first persona; nobody else was sent
    assert [e["error"] for e in result.errors] == ["host_budget"] * 14
    assert result.over_budget == {drip.host: 14}
    rows = ws.duck().sql("SELECT persona, error, status FROM tech_captures").fetchall()
    assert len(rows) == 14 and {r[1] for r in rows} == {"host_budget"} and {r[2] for r in rows} == {None}
    run = ws.runs()[-1]
    assert run["counts"]["hosts_over_budget"] == 1 and run["counts"]["fetches_skipped_budget"] == 14
    assert run["settings"]["limits"]["host_budget"] == 4


def test_one_slow_host_does_not_cost_the_others(drip: DripServer, tmp_path: Path) -> None:
    kits = KitSites(["loader_packer_twice"])
    try:
        result = scan(Workspace(tmp_path / "ws"), [f"http://{drip.host}/", kits.url("loader_packer_twice")],
                      own_sites=True, limits=FetchLimits(delay=0, host_budget=3))
    finally:
        kits.close()
    assert set(result.over_budget) == {drip.host}
    assert {f.rule_id for f in result.findings} == {"inject.loader_script"}


def test_the_default_budget_comes_from_the_setting(drip: DripServer, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINBREAKER_TECH_HOST_BUDGET", "2.5")
    start = time.perf_counter()
    result = scan(Workspace(tmp_path / "ws"), [f"http://{drip.host}/"], own_sites=True)
    assert time.perf_counter() - start < 15
    assert result.over_budget == {drip.host: 14}


def test_cli_host_budget_option_and_message(drip: DripServer, tmp_path: Path) -> None:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "chainbreaker.faces.cli.main", "-w", str(tmp_path / "ws"), "tech", "scan",
                          f"http://{drip.host}/", "--own-sites", "--delay", "0", "--host-budget", "2"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert time.perf_counter() - start < 20
    assert "1 个主机用完了时间预算（2 秒），跳过其余 14 次抓取" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "chainbreaker.faces.cli.main", "-w", str(tmp_path / "ws"), "tech", "scan",
                          f"http://{drip.host}/", "--host-budget", "-1"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "不能为负数" in bad.stderr and "Traceback" not in bad.stderr
