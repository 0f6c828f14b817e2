"""The scan's limits, options and setting are documented (docs/tech-scan.md)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from chainbreaker.settings import Settings
from chainbreaker.tech.fetch import FetchLimits

DOC = (Path(__file__).resolve().parents[2] / "docs" / "tech-scan.md").read_text("utf-8")


def test_every_scan_option_is_documented() -> None:
    from chainbreaker.tech import cli_scan

    source = Path(cli_scan.__file__).read_text("utf-8")
    options = set(re.findall(r'"(--[a-z-]+)"', source))
    assert "--host-budget" in options
    for option in options:
        assert re.search(re.escape(option) + r"(?![\w-])", DOC), option


def test_budget_limit_and_setting_are_documented() -> None:
    assert "host_budget" in {f.name for f in dataclasses.fields(FetchLimits)}
    assert "tech_host_budget" in Settings.model_fields and "`tech_host_budget`" in DOC
    assert "CHAINBREAKER_TECH_HOST_BUDGET" in DOC and "`host_budget`" in DOC
