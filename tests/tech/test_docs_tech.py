"""The scan's limits, options and setting are documented (docs/tech-scan.md)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from chainbreaker.chains.tech.fetch import FetchLimits
from chainbreaker.core.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"
DOC = (DOCS / "tech-scan.md").read_text("utf-8")
# the tech face holds the scan commands and the intel ones (classify, domains, clusters, blocklist)
ALL_DOCS = DOC + (DOCS / "tech-intel.md").read_text("utf-8")


def test_every_scan_option_is_documented() -> None:
    from chainbreaker.faces.cli import tech as cli_scan

    source = Path(cli_scan.__file__).read_text("utf-8")
    options = set(re.findall(r'"(--[a-z-]+)"', source))
    assert "--host-budget" in options
    for option in options:
        assert re.search(re.escape(option) + r"(?![\w-])", ALL_DOCS), option


def test_budget_limit_and_setting_are_documented() -> None:
    assert "host_budget" in {f.name for f in dataclasses.fields(FetchLimits)}
    assert "tech_host_budget" in Settings.model_fields and "`tech_host_budget`" in DOC
    assert "CHAINBREAKER_TECH_HOST_BUDGET" in DOC and "`host_budget`" in DOC
