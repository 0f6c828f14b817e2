"""Rule parameters of the people chain: packaged defaults, workspace override, CLI overrides.

Loaded by :func:`chainbreaker.core.config.load_config`. The workspace file ``people_rules.yaml`` has
the packaged shape; its parameters replace the defaults (as ``{value: N}`` or a bare number) and its
``version`` is the version the run records.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chainbreaker.core.config import load_config
from chainbreaker.core.errors import ConfigError

DEFAULT_PATH = Path(__file__).with_name("rules.yaml")
OVERRIDE_NAME = "people_rules.yaml"


class ParamEntry(BaseModel):
    """One parameter: its value, the reason for it and since when."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    value: int = Field(ge=0, strict=True)
    source: str = ""
    date: str = ""


class PeopleRules(BaseModel):
    model_config = ConfigDict(coerce_numbers_to_str=True)

    version: str = ""
    params: dict[str, ParamEntry]


def _merged(base: dict[str, Any], override: dict[str, Any], where: str) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    params = merged["params"]
    for name, entry in (override.get("params") or {}).items():
        if name not in params:
            raise ConfigError(f"{where} 中的参数 {name} 未知。可用：{'、'.join(params)}",
                              f"Unknown parameter {name} in {where}. Known: {', '.join(params)}")
        value = entry.get("value") if isinstance(entry, dict) else entry
        if not isinstance(value, int) or value < 0:
            raise ConfigError(f"{where} 中参数 {name} 应为非负整数，当前为 {value!r}。",
                              f"Parameter {name} in {where} must be a non-negative integer, got {value!r}.")
        params[name] = {**params[name], "value": value}
    merged["version"] = str(override.get("version", ""))  # the workspace file's version is the one in use
    return merged


def load_params(config_dir: Path | None = None, **overrides: Any) -> dict[str, Any]:
    """Parameters as ``{name: value}`` plus ``_version`` and ``_source`` (which file)."""
    loaded = load_config(OVERRIDE_NAME, DEFAULT_PATH, PeopleRules, config_dir=config_dir, merge=_merged,
                         what_zh="人员链规则参数文件", what_en="people rules file")
    params: dict[str, Any] = {k: v.value for k, v in loaded.data.params.items()}
    for name, value in overrides.items():
        if value is not None:
            params[name] = int(value)
    params["_version"] = loaded.data.version
    params["_source"] = loaded.sources[-1].path
    return params
