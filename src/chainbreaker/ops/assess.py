"""Monthly assessment (每月一考核): every unit scored against the scheme's targets, ranked, with trend.

The scheme is versioned YAML (``ops/assessment.yaml``; a workspace may override it with
``config/assessment.yaml``); the stored scores record which version produced them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from chainbreaker.core.errors import ConfigError, InputError
from chainbreaker.core.workspace import Workspace
from chainbreaker.ops.casework_models import AssessmentScore, Unit
from chainbreaker.ops.db import engine_for, session_scope
from chainbreaker.ops.figures import METRIC_NAMES, METRICS, Figures, figures, month_period, previous_month

SCHEME_FILE = "assessment.yaml"
TWO = Decimal("0.01")


@dataclass(frozen=True)
class Scheme:
    version: str
    source: str
    cap: Decimal
    weights: dict[str, Decimal]
    targets: dict[str, Decimal]
    unit_targets: dict[str, dict[str, Decimal]]
    path: str

    def target(self, unit: str, metric: str) -> Decimal:
        return self.unit_targets.get(unit, {}).get(metric, self.targets[metric])


def _number(value: Any, where: str, path: Path, *, positive: bool) -> Decimal:
    try:
        d = Decimal(str(value))
    except Exception as exc:  # noqa: BLE001 - any unreadable number is a config error
        raise ConfigError(f"{path}：{where} 应为数字，实为“{value}”。", f"{path}: {where} must be a number, not '{value}'.") from exc
    if not d.is_finite() or d < 0 or (positive and d == 0):
        raise ConfigError(f"{path}：{where} 应为{'正数' if positive else '非负数'}，实为 {value}。",
                          f"{path}: {where} must be {'positive' if positive else 'non-negative'}, not {value}.")
    return d


def load_scheme(ws: Workspace | None = None, path: Path | None = None) -> Scheme:
    """The scheme from ``path``, else the workspace override, else the packaged default."""
    if path is None and ws is not None and (ws.config_dir / SCHEME_FILE).exists():
        path = ws.config_dir / SCHEME_FILE
    path = path or Path(__file__).with_name(SCHEME_FILE)
    try:
        raw = yaml.safe_load(path.read_text("utf-8"))
    except OSError as exc:
        raise InputError(f"无法读取考核方案 {path}（{exc.strerror or exc}）。", f"Cannot read the scheme {path}.") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"考核方案 {path} 不是有效的 YAML：{exc}", f"The scheme {path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("metrics"), dict) or not raw["metrics"]:
        raise ConfigError(f"考核方案 {path} 须有 metrics 段（指标、权重、目标）。",
                          f"The scheme {path} needs a metrics section (metric: weight, target).")
    unknown = [m for m in raw["metrics"] if m not in METRICS]
    if unknown:
        raise ConfigError(f"考核方案 {path} 含未知指标：{'、'.join(map(str, unknown))}；可用：{'、'.join(METRICS)}。",
                          f"The scheme {path} has unknown metric(s): {', '.join(map(str, unknown))}; known: {', '.join(METRICS)}.")
    weights, targets = {}, {}
    for metric, spec in raw["metrics"].items():
        if not isinstance(spec, dict):
            raise ConfigError(f"{path}：指标 {metric} 须写成 {{weight: 数字, target: 数字}}。",
                              f"{path}: metric {metric} must be {{weight: number, target: number}}.")
        weights[metric] = _number(spec.get("weight"), f"{metric}.weight", path, positive=False)
        targets[metric] = _number(spec.get("target"), f"{metric}.target", path, positive=True)
    if sum(weights.values()) == 0:
        raise ConfigError(f"{path}：权重之和为零。", f"{path}: the weights add up to zero.")
    unit_targets: dict[str, dict[str, Decimal]] = {}
    for unit, over in (raw.get("targets") or {}).items():
        if not isinstance(over, dict) or any(m not in weights for m in over):
            raise ConfigError(f"{path}：单位 {unit} 的目标须是方案中已有指标的数字。",
                              f"{path}: targets of {unit} must be numbers for metrics of the scheme.")
        unit_targets[str(unit)] = {m: _number(v, f"targets.{unit}.{m}", path, positive=True) for m, v in over.items()}
    return Scheme(str(raw.get("version", "?")), str(raw.get("source", "")),
                  _number(raw.get("cap", 1), "cap", path, positive=True), weights, targets, unit_targets, str(path))


def score_of(values: dict[str, int | Decimal], scheme: Scheme, unit: str) -> Decimal:
    total = Decimal(0)
    for metric, weight in scheme.weights.items():
        ratio = Decimal(values.get(metric, 0)) / scheme.target(unit, metric)
        total += weight * min(ratio, scheme.cap)
    return (Decimal(100) * total / sum(scheme.weights.values())).quantize(TWO, rounding=ROUND_HALF_UP)


@dataclass
class UnitScore:
    unit: str
    score: Decimal
    rank: int
    trend: Decimal | None
    metrics: dict[str, int | Decimal]


def compute_scores(s: Session, month: str, scheme: Scheme) -> list[UnitScore]:
    _, by_unit = figures(s, month_period(month))
    units = list(s.scalars(select(Unit).order_by(Unit.name)))
    previous = {a.unit_id: a.score for a in s.scalars(select(AssessmentScore).where(
        AssessmentScore.month == previous_month(month)))}
    scored = []
    for u in units:
        values = by_unit[u.id].values if u.id in by_unit else Figures().values
        score = score_of(values, scheme, u.name)
        trend = (score - Decimal(previous[u.id])).quantize(TWO) if u.id in previous else None
        scored.append((u, score, trend, values))
    scored.sort(key=lambda x: (-x[1], x[0].name))
    out, rank = [], 0
    for i, (u, score, trend, values) in enumerate(scored):
        if i == 0 or score != scored[i - 1][1]:
            rank = i + 1
        out.append(UnitScore(u.name, score, rank, trend, values))
    return out


def assess_month(ws: Workspace, month: str, *, scheme_path: Path | None = None, user: str = "local") -> tuple[Scheme, list[UnitScore]]:
    """Compute and store the month's scores (replacing earlier ones of that month)."""
    scheme = load_scheme(ws, scheme_path)
    month = month_period(month).label
    with session_scope(engine_for(ws)) as s:
        scores = compute_scores(s, month, scheme)
        ids = {u.name: u.id for u in s.scalars(select(Unit))}
        s.execute(delete(AssessmentScore).where(AssessmentScore.month == month))
        for r in scores:
            s.add(AssessmentScore(month=month, unit_id=ids[r.unit], score=r.score, rank=r.rank, trend=r.trend,
                                  scheme_version=scheme.version,
                                  metrics=json.dumps({k: str(v) for k, v in r.metrics.items()}, ensure_ascii=False)))
    ws.audit("ops.assess", user=user, month=month, scheme=scheme.version, units=len(scores))
    return scheme, scores


def metric_label(metric: str, lang: str = "zh") -> str:
    zh, en = METRIC_NAMES[metric]
    return zh if lang == "zh" else en
