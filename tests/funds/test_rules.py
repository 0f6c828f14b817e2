"""The rules file: defaults with reasons, overrides merged and validated."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chainbreaker.chains.funds.rules import DEFAULT_RULES, load_rules
from chainbreaker.core.errors import ConfigError


def test_every_default_parameter_has_a_reason() -> None:
    lines = DEFAULT_RULES.read_text("utf-8").splitlines()
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped.endswith(":"):
            continue
        assert "#" in line or stripped.startswith(("version", "effective", "source")), f"no reason: {line}"


def test_defaults_load_and_are_versioned() -> None:
    rules = load_rules()
    assert rules.version == yaml.safe_load(DEFAULT_RULES.read_text("utf-8"))["version"]
    assert rules["fast_in_out"]["window_minutes"] == 60
    assert rules["paofen"]["daily_cap"] == 50000


def test_override_merges_and_changes_digest(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("fast_in_out:\n  window_minutes: 30\n", "utf-8")
    rules = load_rules(path)
    assert rules["fast_in_out"]["window_minutes"] == 30
    assert rules["fast_in_out"]["min_inbound"] == 5  # untouched default
    assert rules.digest != load_rules().digest
    assert str(path) in rules.sources


def test_workspace_override_then_run_override(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "funds_rules.yaml").write_text("night: {end_hour: 5}\npaofen: {daily_cap: 40000}\n", "utf-8")
    run = tmp_path / "run.yaml"
    run.write_text("paofen: {daily_cap: 30000}\n", "utf-8")
    rules = load_rules(run, workspace_config=config)
    assert rules["night"]["end_hour"] == 5
    assert rules["paofen"]["daily_cap"] == 30000


@pytest.mark.parametrize("text, word", [
    ("fan: {bogus: 1}\n", "bogus"),
    ("fan: {min_breadth: many}\n", "min_breadth"),
    ("fan: {min_breadth: -3}\n", "min_breadth"),
    ("night: {start_hour: 7, end_hour: 6}\n", "night"),
    ("fast_in_out: {share_low: 0.9}\n", "share_low"),
    ("weights: {core: {paofen: 2}}\n", "paofen"),
    ("- a\n- b\n", "mapping"),
    ("fan: [1, 2\n", "YAML"),
])
def test_bad_rules_give_a_clear_error(tmp_path: Path, text: str, word: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as exc:
        load_rules(path)
    assert word in exc.value.en
    assert exc.value.zh != exc.value.en


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_rules(tmp_path / "nope.yaml")
