"""The bulletin's content (每月一通报): figures, monthly series, ranking and the headline sentence."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chainbreaker.core.timefmt import iso_local, now_local
from chainbreaker.ops.assess import Scheme, UnitScore
from chainbreaker.ops.figures import Period

KEYS = ("cases", "cases_ministry", "cases_province", "gangs", "persons_measures", "platforms", "funds_seized_frozen")
SCOPE = "全省公安机关"


@dataclass
class Bulletin:
    period: Period
    totals: dict[str, int | Decimal]
    months: list[dict[str, Any]]
    ranking_month: str
    ranking: list[UnitScore]
    scheme: Scheme
    headline: str
    units: list[dict[str, Any]] = field(default_factory=list)  # the period's figures per lead unit

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: (str(self.totals[k]) if k == "funds_seized_frozen" else self.totals[k]) for k in KEYS}
        out["headline"] = self.headline
        out["period"] = self.period.label
        out["measures"] = self.totals["measures"]
        out["months"] = [{**m, "funds_seized_frozen": str(m["funds_seized_frozen"])} for m in self.months]
        out["units"] = [{**u, "funds_seized_frozen": str(u["funds_seized_frozen"])} for u in self.units]
        out["ranking_month"] = self.ranking_month
        out["ranking"] = [{"rank": r.rank, "unit": r.unit, "score": str(r.score),
                           "trend": None if r.trend is None else str(r.trend)} for r in self.ranking]
        out["scheme_version"] = self.scheme.version
        out["generated_at"] = iso_local(now_local())
        return out


def yuan_words(amount: Decimal) -> str:
    """2700000000.00 → ``27.00亿元``; 35000000 → ``3500.00万元``; smaller amounts in 元."""
    if amount >= Decimal(10) ** 8:
        return f"{(amount / Decimal(10) ** 8).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}亿元"
    if amount >= Decimal(10) ** 4:
        return f"{(amount / Decimal(10) ** 4).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}万元"
    return f"{amount}元"


def period_words(p: Period) -> str:
    start, end = p.start, p.end
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.year}年{start.month}月"
    if start.year == end.year:
        return f"{start.year}年{start.month}月至{end.month}月"
    return f"{start.year}年{start.month}月至{end.year}年{end.month}月"


def headline(p: Period, v: dict[str, int | Decimal]) -> str:
    """One sentence in the style of a police press release (警情通报) from the figures."""
    supervised = []
    if v["cases_ministry"]:
        supervised.append(f"公安部督办案件{v['cases_ministry']}起")
    if v["cases_province"]:
        supervised.append(f"省厅督办案件{v['cases_province']}起")
    sup = f"（其中{'、'.join(supervised)}）" if supervised else ""
    funds = Decimal(v["funds_seized_frozen"])
    return (f"{period_words(p)}，{SCOPE}共侦办跨境赌博案件{v['cases']}起{sup}，打掉犯罪团伙{v['gangs']}个，"
            f"对{v['persons_measures']}名犯罪嫌疑人采取强制措施，捣毁赌博平台{v['platforms']}个，"
            f"扣押冻结涉案资金{yuan_words(funds)}。")
