"""The legal threshold rules as versioned YAML, with per-workspace overrides."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from chainbreaker.core.errors import ConfigError

DEFAULT_RULES = Path(__file__).with_name("rules") / "thresholds.yaml"
OVERRIDE_FILE = "promotion_thresholds.yaml"
RULE_IDS = ("G05", "N10-A", "N10-S1", "N10-S2", "N10-S3", "N10-S4", "N10-S5", "N10-S6", "N10-S7",
            "N10-H", "CNT", "AMT", "AGT", "OG")
BASES = ("stake", "payout", "deposit")


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"阈值配置文件无法读取：{path}（{exc}）", f"Cannot read threshold file {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("rules", {}), dict):
        raise ConfigError(f"阈值配置文件格式错误：{path}（应包含 rules: {{规则: {{...}}}}）",
                          f"Threshold file {path} is malformed (expected 'rules: {{id: {{...}}}}')")
    return data


def load_rules(config_dir: Path | None = None, override: Path | None = None) -> dict[str, Any]:
    """Default rules merged with ``config_dir/promotion_thresholds.yaml`` and then ``override``.

    Returns ``{"version": ..., "rules": {...}, "overrides": [files used]}``.
    """
    data = copy.deepcopy(_read(DEFAULT_RULES))
    used: list[str] = []
    for path in [config_dir / OVERRIDE_FILE if config_dir else None, override]:
        if path is None or not Path(path).exists():
            if path is not None and path == override:
                raise ConfigError(f"找不到阈值配置文件：{path}", f"No such threshold file: {path}")
            continue
        extra = _read(Path(path))
        for rid, values in (extra.get("rules") or {}).items():
            if rid not in RULE_IDS:
                raise ConfigError(f"{path} 中的规则编号“{rid}”未知，可选：{'、'.join(RULE_IDS)}",
                                  f"Unknown rule id '{rid}' in {path}; known: {', '.join(RULE_IDS)}")
            if not isinstance(values, dict):
                raise ConfigError(f"{path} 中规则 {rid} 的格式错误", f"Rule {rid} in {path} is malformed")
            data["rules"][rid].update(values)
        if extra.get("version"):
            data["version"] = f"{data['version']}+{extra['version']}"
        else:
            data["version"] = f"{data['version']}+local"
        used.append(str(path))
    for rid, rule in data["rules"].items():
        value = rule.get("value")
        if value is not None and (not isinstance(value, int | float) or value < 0):
            raise ConfigError(f"规则 {rid} 的阈值必须是非负数字，实际为 {value!r}",
                              f"Threshold of rule {rid} must be a non-negative number, got {value!r}")
    data["overrides"] = used
    return data


def used_values(rules: dict[str, Any]) -> dict[str, Any]:
    """The numbers a run used, for the run record."""
    keys = ("value", "rake", "stakes", "participants", "min_organised", "severe_factor", "effective", "source")
    return {"version": rules["version"], "overrides": rules.get("overrides", []),
            "rules": {rid: {k: r[k] for k in keys if k in r} for rid, r in rules["rules"].items()}}
