"""The legal threshold rules as versioned YAML, with per-workspace overrides (loaded by
:func:`chainbreaker.core.config.load_config`)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from chainbreaker.core.config import load_config
from chainbreaker.core.errors import ConfigError

DEFAULT_RULES = Path(__file__).with_name("rules") / "thresholds.yaml"
OVERRIDE_FILE = "promotion_thresholds.yaml"
RULE_IDS = ("G05", "N10-A", "N10-S1", "N10-S2", "N10-S3", "N10-S4", "N10-S5", "N10-S6", "N10-S7",
            "N10-H", "CNT", "AMT", "AGT", "OG")
BASES = ("stake", "payout", "deposit")


class ThresholdRules(BaseModel):
    """``thresholds.yaml`` as validated: a version and the rules by id (each with its law, source and
    effective date); every threshold value a non-negative number."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    version: str
    rules: dict[str, dict[str, Any]]

    @model_validator(mode="after")
    def _values(self) -> ThresholdRules:
        for rid, rule in self.rules.items():
            value = rule.get("value")
            if value is not None and (not isinstance(value, int | float) or value < 0):
                raise ConfigError(f"规则 {rid} 的阈值必须是非负数字，实际为 {value!r}",
                                  f"Threshold of rule {rid} must be a non-negative number, got {value!r}")
        return self


def _merged(base: dict[str, Any], extra: dict[str, Any], where: str) -> dict[str, Any]:
    if not isinstance(extra.get("rules", {}), dict):
        raise ConfigError(f"阈值配置文件格式错误：{where}（应包含 rules: {{规则: {{...}}}}）",
                          f"Threshold file {where} is malformed (expected 'rules: {{id: {{...}}}}')")
    data = copy.deepcopy(base)
    for rid, values in (extra.get("rules") or {}).items():
        if rid not in RULE_IDS:
            raise ConfigError(f"{where} 中的规则编号“{rid}”未知，可选：{'、'.join(RULE_IDS)}",
                              f"Unknown rule id '{rid}' in {where}; known: {', '.join(RULE_IDS)}")
        if not isinstance(values, dict):
            raise ConfigError(f"{where} 中规则 {rid} 的格式错误", f"Rule {rid} in {where} is malformed")
        data["rules"][rid].update(values)
    data["version"] = f"{data['version']}+{extra['version']}" if extra.get("version") else f"{data['version']}+local"
    return data


def load_rules(config_dir: Path | None = None, override: Path | None = None) -> dict[str, Any]:
    """Default rules merged with ``config_dir/promotion_thresholds.yaml`` and then ``override``.

    Returns ``{"version": ..., "rules": {...}, "overrides": [files used]}``.
    """
    loaded = load_config(OVERRIDE_FILE, DEFAULT_RULES, ThresholdRules, config_dir=config_dir, run_file=override,
                         merge=_merged, what_zh="阈值配置文件", what_en="threshold file")
    data = copy.deepcopy(loaded.raw)
    data["overrides"] = [s.path for s in loaded.sources[1:]]
    return data


def used_values(rules: dict[str, Any]) -> dict[str, Any]:
    """The numbers a run used, for the run record."""
    keys = ("value", "rake", "stakes", "participants", "min_organised", "severe_factor", "effective", "source")
    return {"version": rules["version"], "overrides": rules.get("overrides", []),
            "rules": {rid: {k: r[k] for k in keys if k in r} for rid, r in rules["rules"].items()}}
