"""Campaign figures (战果) over a period, for the whole campaign or per unit.

Every figure counts records whose own date falls in the period: cases by 立案日期, gangs by 打掉日期,
persons by the date of a coercive measure (distinct people, not measure rows), platforms by 捣毁日期,
money by the date it was seized or frozen. A record belongs to the lead unit of its case. Money is
summed in Python over exact decimals (SQLite has no decimal type to sum in).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chainbreaker.core.errors import InputError
from chainbreaker.ops.casework_models import Case, Gang, Measure, Platform, Seizure

METRICS = ("cases", "cases_ministry", "cases_province", "gangs", "persons_measures", "measures", "platforms",
           "funds_seized_frozen", "freezes", "tips_due", "tips_on_time", "tips_on_time_rate")
DECIMAL_METRICS = ("funds_seized_frozen", "tips_on_time_rate")
METRIC_NAMES = {
    "cases": ("侦办案件", "cases"), "cases_ministry": ("公安部督办案件", "cases supervised by the Ministry"),
    "cases_province": ("省厅督办案件", "cases supervised by the province"), "gangs": ("打掉团伙", "gangs broken"),
    "persons_measures": ("采取强制措施人数", "persons under coercive measures"),
    "measures": ("强制措施人次", "coercive measures"), "platforms": ("捣毁平台", "platforms taken down"),
    "funds_seized_frozen": ("扣押冻结资金（元）", "funds seized or frozen (yuan)"),
    "freezes": ("冻结笔数", "freezes"),
    "tips_due": ("到期举报", "tips due"), "tips_on_time": ("按时办理举报", "tips handled on time"),
    "tips_on_time_rate": ("举报按时办理率", "share of tips handled on time"),
}


def metric_value(metric: str, text: str) -> int | Decimal:
    """A stored metric value (kept as text) back as a number of the metric's kind."""
    return Decimal(text) if metric in DECIMAL_METRICS else int(text)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    label: str

    @property
    def months(self) -> list[str]:
        out, y, m = [], self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


def _month_bounds(text: str) -> tuple[dt.date, dt.date]:
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InputError(f"月份“{text}”格式应为 YYYY-MM（如 2025-10）。", f"Month '{text}' must be YYYY-MM (e.g. 2025-10).")
    y, mo = int(m.group(1)), int(m.group(2))
    first = dt.date(y, mo, 1)
    nxt = dt.date(y + (mo == 12), 1 if mo == 12 else mo + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def month_period(text: str) -> Period:
    start, end = _month_bounds(text)
    return Period(start, end, f"{start:%Y-%m}")


def parse_period(text: str) -> Period:
    """``2025-01..2025-10`` (months inclusive) or one month ``2025-10``."""
    parts = text.split("..")
    if len(parts) == 1:
        return month_period(parts[0])
    if len(parts) != 2:
        raise InputError(f"期间“{text}”格式应为 2025-01..2025-10。", f"Period '{text}' must look like 2025-01..2025-10.")
    start, _ = _month_bounds(parts[0])
    _, end = _month_bounds(parts[1])
    if end < start:
        raise InputError(f"期间“{text}”的结束月早于开始月。", f"Period '{text}' ends before it starts.")
    return Period(start, end, f"{start:%Y-%m}..{end:%Y-%m}")


def previous_month(month: str) -> str:
    start, _ = _month_bounds(month)
    return f"{start - dt.timedelta(days=1):%Y-%m}"


@dataclass
class Figures:
    values: dict[str, int | Decimal] = field(default_factory=lambda: {m: (Decimal("0.00") if m == "funds_seized_frozen" else 0)
                                                                       for m in METRICS} | {"tips_on_time_rate": Decimal(1)})


def figures(s: Session, period: Period) -> tuple[Figures, dict[int | None, Figures]]:
    """Campaign totals and the same figures per lead unit (``unit_id``; None for cases without one)."""
    total = Figures()
    by_unit: defaultdict[int | None, Figures] = defaultdict(Figures)

    def between(col):  # type: ignore[no-untyped-def]
        return col.between(period.start, period.end)

    for unit_id, level, n in s.execute(select(Case.unit_id, Case.supervision, func.count()).where(
            between(Case.opened_on)).group_by(Case.unit_id, Case.supervision)):
        for fig in (total, by_unit[unit_id]):
            fig.values["cases"] += n
            if level == "部督":
                fig.values["cases_ministry"] += n
            elif level == "省督":
                fig.values["cases_province"] += n
    for unit_id, n in s.execute(select(Case.unit_id, func.count()).join(Gang, Gang.case_id == Case.id)
                                .where(between(Gang.broken_on)).group_by(Case.unit_id)):
        total.values["gangs"] += n
        by_unit[unit_id].values["gangs"] += n
    for unit_id, n in s.execute(select(Case.unit_id, func.count()).join(Platform, Platform.case_id == Case.id)
                                .where(between(Platform.taken_down_on)).group_by(Case.unit_id)):
        total.values["platforms"] += n
        by_unit[unit_id].values["platforms"] += n
    measured = s.execute(select(Case.unit_id, Measure.suspect_id).join(Measure, Measure.case_id == Case.id)
                         .where(between(Measure.taken_on))).all()
    total.values["measures"] = len(measured)
    total.values["persons_measures"] = len({sid for _, sid in measured})
    people: dict[int | None, set[int]] = defaultdict(set)
    for unit_id, sid in measured:
        people[unit_id].add(sid)
        by_unit[unit_id].values["measures"] += 1
    for unit_id, persons in people.items():
        by_unit[unit_id].values["persons_measures"] = len(persons)
    for unit_id, kind, amount in s.execute(select(Case.unit_id, Seizure.kind, Seizure.amount)
                                           .join(Seizure, Seizure.case_id == Case.id).where(between(Seizure.on_date))):
        exact = Decimal(amount).quantize(Decimal("0.01"))
        for fig in (total, by_unit[unit_id]):
            fig.values["funds_seized_frozen"] += exact
            if kind == "冻结":
                fig.values["freezes"] += 1
    _tips(s, period, total, by_unit)
    return total, dict(by_unit)


def _tips(s: Session, period: Period, total: Figures, by_unit: defaultdict[int | None, Figures]) -> None:
    """Tips whose due date falls in the period; on time when handled (Beijing date) by that date.
    With no tip due the rate is 1: nothing was late."""
    from chainbreaker.core.timefmt import to_local
    from chainbreaker.ops.tips_models import Tip

    rows = s.execute(select(Tip.unit_id, Tip.due_on, Tip.handled_at).where(Tip.due_on.between(period.start, period.end)))
    for unit_id, due, handled in rows:
        on_time = handled is not None and due is not None and to_local(handled).date() <= due
        for fig in (total, by_unit[unit_id]):
            fig.values["tips_due"] += 1
            fig.values["tips_on_time"] += int(on_time)
    for fig in (total, *by_unit.values()):
        due_n = int(fig.values["tips_due"])
        if due_n:
            fig.values["tips_on_time_rate"] = (Decimal(fig.values["tips_on_time"]) / due_n).quantize(Decimal("0.0001"))
