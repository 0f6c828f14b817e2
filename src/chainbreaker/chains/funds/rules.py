"""Typology parameters of the funds chain: loaded from versioned YAML, validated, overridable.

Loaded by :func:`chainbreaker.core.config.load_config` like every rules file of the product.

The packaged ``rules.yaml`` holds every parameter with its default and the reason for it. An
analyst may override any subset per workspace (``<ws>/config/funds_rules.yaml``) or per run
(``--rules FILE``); overrides are merged onto the defaults and checked against their types.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from chainbreaker.core.config import load_config
from chainbreaker.core.errors import ConfigError

DEFAULT_RULES = Path(__file__).with_name("rules.yaml")
WORKSPACE_RULES = "funds_rules.yaml"

# rule_id -> (Chinese name, English name); the order is the order of the report.
RULE_NAMES: dict[str, tuple[str, str]] = {
    "paofen": ("跑分收款卡特征", "跑分 collection-card signature"),
    "fast_in_out": ("快进快出", "fast in, fast out"),
    "fan_in": ("分散转入集中转出", "scattered in, concentrated out"),
    "fan_out": ("集中转入分散转出", "concentrated in, scattered out"),
    "card_pool": ("多人共用IP/MAC（卡池）", "several holders share one IP/MAC (card pool)"),
    "dormant": ("休眠后突然活跃", "dormant then suddenly active"),
    "network": ("资金来自多个可疑账户", "money from several flagged accounts"),
    "upstream": ("资金主要来自可疑账户", "money mostly from flagged accounts"),
    "night": ("夜间交易占比高", "high night-time share"),
    "round_amount": ("整数金额占比高", "high round-amount share"),
    "loop": ("资金回路", "money loop"),
    "transit": ("中转账户", "transit account"),
}


@dataclass(frozen=True)
class Rules:
    """Validated parameters plus where they came from."""

    params: dict[str, Any]
    sources: tuple[str, ...]
    effective: str | None = None

    @property
    def version(self) -> str:
        return str(self.params.get("version", "unversioned"))

    @property
    def digest(self) -> str:
        blob = json.dumps(self.params, sort_keys=True, default=str).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()[:12]

    def __getitem__(self, key: str) -> Any:
        return self.params[key]


def _merge(base: dict[str, Any], override: dict[str, Any], where: str, path: str = "") -> None:
    for key, value in override.items():
        dotted = f"{path}{key}"
        if key not in base:
            raise ConfigError(
                f"规则文件 {where} 中有未知参数 {dotted}；可用参数：{', '.join(sorted(base))}",
                f"Unknown parameter {dotted} in {where}; known: {', '.join(sorted(base))}",
            )
        default = base[key]
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise ConfigError(f"参数 {dotted} 应为映射（{where}）", f"Parameter {dotted} must be a mapping ({where})")
            _merge(default, value, where, dotted + ".")
        elif isinstance(default, bool | str):
            base[key] = str(value) if isinstance(default, str) else bool(value)
        elif isinstance(default, int | float):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"参数 {dotted} 应为数字，实际为 {value!r}（{where}）",
                                  f"Parameter {dotted} must be a number, got {value!r} ({where})")
            if value < 0:
                raise ConfigError(f"参数 {dotted} 不能为负数（{where}）", f"Parameter {dotted} must not be negative ({where})")
            base[key] = value
        else:
            base[key] = value


def _merged(base: dict[str, Any], override: dict[str, Any], where: str) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    _merge(merged, override, where)
    return merged


class FundsRules(BaseModel):
    """``rules.yaml`` as validated: version, effective date and source, every section (checked by :func:`_check`)."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    version: str = "unversioned"
    effective: str | None = None
    source: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _consistent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            _check(data)
        return data


def load_rules(path: Path | str | None = None, workspace_config: Path | None = None) -> Rules:
    """Defaults, then the workspace override (if any), then ``path`` (if given)."""
    loaded = load_config(WORKSPACE_RULES, DEFAULT_RULES, FundsRules, config_dir=workspace_config, run_file=path,
                         merge=_merged)
    sources = (DEFAULT_RULES.name, *(s.path for s in loaded.sources[1:]))
    return Rules(params=loaded.raw, sources=sources, effective=loaded.effective)


def _check(p: dict[str, Any]) -> None:
    pairs = [("fast_in_out", "share_low", "share_high"), ("fast_in_out", "retention_low", "retention_high"),
             ("fan", "concentration_low", "concentration_high"), ("night", "excess_low", "excess_high"),
             ("round_amount", "excess_low", "excess_high"), ("network", "share_low", "share_high"),
             ("upstream", "share_low", "share_high"), ("upstream", "feed_low", "feed_high")]
    for section, lo, hi in pairs:
        if not p[section][lo] < p[section][hi]:
            raise ConfigError(f"参数 {section}.{lo} 必须小于 {section}.{hi}",
                              f"Parameter {section}.{lo} must be below {section}.{hi}")
    if not 0 <= p["night"]["start_hour"] < p["night"]["end_hour"] <= 24:
        raise ConfigError("夜间时段 night.start_hour/end_hour 无效（需 0 ≤ 开始 < 结束 ≤ 24）",
                          "night.start_hour/end_hour invalid (need 0 ≤ start < end ≤ 24)")
    for group in ("core", "context"):
        for name, w in p["weights"][group].items():
            if not 0 <= w <= 1:
                raise ConfigError(f"权重 weights.{group}.{name} 必须在 0 到 1 之间",
                                  f"Weight weights.{group}.{name} must be within 0..1")
    if not p["context_gate_low"] < p["context_gate_high"]:
        raise ConfigError("context_gate_low 必须小于 context_gate_high", "context_gate_low must be below context_gate_high")
    for key in ("flag_threshold", "finding_min_signal", "context_gate_high"):
        if not 0 < p[key] <= 1:
            raise ConfigError(f"参数 {key} 必须在 (0, 1] 之内", f"Parameter {key} must be within (0, 1]")
    if p["upstream"]["min_flagged_payers"] < 1:
        raise ConfigError("upstream.min_flagged_payers 至少为 1", "upstream.min_flagged_payers must be at least 1")
    if p["card_pool"]["min_holders"] < 2 or p["card_pool"]["full_holders"] <= p["card_pool"]["min_holders"] - 1:
        raise ConfigError("card_pool.min_holders 至少为 2 且 full_holders 须大于 min_holders - 1",
                          "card_pool.min_holders must be ≥ 2 and full_holders > min_holders - 1")
