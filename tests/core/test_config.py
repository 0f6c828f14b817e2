"""core.config: one loader for every rules file (packaged → workspace → run), validated, with provenance."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from chainbreaker.core.config import load_config, read_yaml
from chainbreaker.core.errors import ConfigError


class Limits(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    effective: str | None = None
    limits: dict[str, int]
    share: float = Field(ge=0, le=1)


def _packaged(tmp_path: Path) -> Path:
    path = tmp_path / "limits.yaml"
    path.write_text('version: "1"\neffective: "2026-01-01"\nlimits: {a: 1, b: 2}\nshare: 0.5\n', "utf-8")
    return path


def test_layers_merge_in_order_and_record_provenance(tmp_path: Path) -> None:
    packaged = _packaged(tmp_path)
    config = tmp_path / "config"
    config.mkdir()
    (config / "limits.yaml").write_text("limits: {a: 10}\n", "utf-8")
    run = tmp_path / "run.yaml"
    run.write_text('version: "1-local"\nlimits: {b: 20}\n', "utf-8")
    loaded = load_config("limits.yaml", packaged, Limits, config_dir=config, run_file=run)
    assert loaded.data.limits == {"a": 10, "b": 20}
    assert loaded.version == "1-local" and loaded.effective == "2026-01-01"
    assert [s.layer for s in loaded.sources] == ["packaged", "workspace", "run"]
    assert loaded.sources[2].sha256 == hashlib.sha256(run.read_bytes()).hexdigest()
    assert loaded.provenance()["sources"][1]["path"] == str(config / "limits.yaml")


def test_missing_workspace_file_is_skipped_but_a_missing_run_file_is_an_error(tmp_path: Path) -> None:
    packaged = _packaged(tmp_path)
    assert load_config("limits.yaml", packaged, Limits, config_dir=tmp_path / "none").data.limits["a"] == 1
    with pytest.raises(ConfigError) as exc:
        load_config("limits.yaml", packaged, Limits, run_file=tmp_path / "nope.yaml")
    assert "nope.yaml" in exc.value.zh and "not found" in exc.value.en


@pytest.mark.parametrize("text, word", [
    ("limits: {c: 1}\n", "c"),                 # unknown key
    ("share: 2\n", "share"),                   # validated by the model
    ("limits: {a: many}\n", "limits.a"),
    ("- a\n", "mapping"),
    ("limits: [1, 2\n", "YAML"),
])
def test_bad_overrides_are_clear_errors(tmp_path: Path, text: str, word: str) -> None:
    packaged = _packaged(tmp_path)
    run = tmp_path / "bad.yaml"
    run.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as exc:
        load_config("limits.yaml", packaged, Limits, run_file=run)
    assert word in exc.value.en and exc.value.zh != exc.value.en


def test_read_yaml_empty_file_is_an_empty_mapping(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("", "utf-8")
    assert read_yaml(path) == {}
