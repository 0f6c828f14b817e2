"""The chain registry (chains/registry.py) is the one place the faces learn what chains exist."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chainbreaker.chains.registry import CHAINS, SHARED_TABLES
from chainbreaker.core.chain import ChainRegistryError, ChainSpec, resolve


def test_every_declared_reference_loads() -> None:
    for spec in CHAINS:
        refs = [spec.cli, spec.report_section, spec.demo_section, *(k.command for k in spec.ingest)]
        for ref in filter(None, refs):
            assert resolve(ref, spec.name) is not None, ref


def test_chains_own_distinct_tables() -> None:
    owned = [t for spec in CHAINS for t in spec.tables]
    assert len(owned) == len(set(owned)) and not set(owned) & set(SHARED_TABLES)


def test_the_cli_offers_every_registered_command() -> None:
    from chainbreaker.faces.cli.main import app

    runner = CliRunner()
    top = runner.invoke(app, ["--help"]).output
    assert all(spec.name in top for spec in CHAINS if spec.cli)
    ingest = runner.invoke(app, ["ingest", "--help"]).output
    assert all(k.kind in ingest for spec in CHAINS for k in spec.ingest)


@pytest.fixture
def broken_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A chain module that is present but fails to import (a dependency of it is missing)."""
    (tmp_path / "cb_broken_chain_cli.py").write_text("import chainbreaker.no_such_module\napp = None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "cb_broken_chain_cli"
    sys.modules.pop("cb_broken_chain_cli", None)


def test_a_broken_chain_module_is_a_clear_error(broken_module: str) -> None:
    with pytest.raises(ChainRegistryError) as caught:
        resolve(f"{broken_module}:app", "gadgets")
    err = caught.value
    assert "gadgets" in err.zh and broken_module in err.zh and "chainbreaker.no_such_module" in err.en
    assert isinstance(err.__cause__, ModuleNotFoundError)  # the original error is kept for --debug


def test_a_missing_attribute_is_a_clear_error() -> None:
    with pytest.raises(ChainRegistryError, match="no attribute no_such_app"):
        resolve("chainbreaker.faces.cli.funds:no_such_app", "funds")


def test_cli_registration_does_not_swallow_a_broken_chain(broken_module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import chainbreaker.chains.registry as registry
    from chainbreaker.faces.cli import main

    spec = ChainSpec(name="gadgets", title_zh="小工具链", title_en="Gadgets", help_zh="小工具链",
                     cli=f"{broken_module}:app")
    monkeypatch.setattr(registry, "CHAINS", (spec,))
    with pytest.raises(ChainRegistryError, match="gadgets"):
        main._register_chains()


def test_a_broken_demo_section_is_reported_not_skipped(broken_module: str, tmp_path: Path) -> None:
    from chainbreaker.core.workspace import Workspace
    from chainbreaker.faces.reports.demo_report import collect_sections

    sections = collect_sections(Workspace(tmp_path / "ws"), tmp_path, "en", {"gadgets": f"{broken_module}:run_demo"})
    assert len(sections) == 1 and "chainbreaker.no_such_module" in sections[0]["error"]
