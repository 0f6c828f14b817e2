"""Rule parameters of the people chain: packaged defaults, workspace override, CLI overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from chainbreaker.core.errors import ConfigError

DEFAULT_PATH = Path(__file__).with_name("rules.yaml")
OVERRIDE_NAME = "people_rules.yaml"


def load_params(config_dir: Path | None = None, **overrides: Any) -> dict[str, Any]:
    """Parameters as ``{name: value}`` plus ``_version`` and ``_source`` (which file)."""
    path = DEFAULT_PATH
    if config_dir is not None and (config_dir / OVERRIDE_NAME).exists():
        path = config_dir / OVERRIDE_NAME
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"人员链规则参数文件无法读取：{path}（{exc}）", f"Cannot read people rules {path}: {exc}") from exc
    base = yaml.safe_load(DEFAULT_PATH.read_text("utf-8"))["params"]
    params: dict[str, Any] = {k: v["value"] for k, v in base.items()}
    for name, entry in (data.get("params") or {}).items():
        if name not in params:
            raise ConfigError(f"{path} 中的参数 {name} 未知。可用：{'、'.join(params)}",
                              f"Unknown parameter {name} in {path}. Known: {', '.join(params)}")
        value = entry.get("value") if isinstance(entry, dict) else entry
        if not isinstance(value, int) or value < 0:
            raise ConfigError(f"{path} 中参数 {name} 应为非负整数，当前为 {value!r}。",
                              f"Parameter {name} in {path} must be a non-negative integer, got {value!r}.")
        params[name] = value
    for name, value in overrides.items():
        if value is not None:
            params[name] = int(value)
    params["_version"] = str(data.get("version", ""))
    params["_source"] = str(path)
    return params
