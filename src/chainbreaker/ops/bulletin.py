"""The monthly bulletin (每月一通报): campaign figures over a period, the unit ranking and a headline.

``write_bulletin`` writes ``bulletin.json``, ``bulletin.docx`` (Chinese, python-docx),
``bulletin.html`` (charts as inline SVG, nothing fetched from elsewhere) and ``ranking.xlsx`` (no
formulas, via the core XLSX writer). Only aggregates appear: no person is named in a bulletin.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from chainbreaker.core.exports import output_file, resolve_output_dir
from chainbreaker.core.exports_xlsx import CellFormats, safe_workbook, write_cell
from chainbreaker.core.timefmt import iso_local, now_local
from chainbreaker.core.workspace import Workspace
from chainbreaker.ops.assess import Scheme, UnitScore, compute_scores, load_scheme, metric_label
from chainbreaker.ops.casework_models import AssessmentScore, Unit
from chainbreaker.ops.db import engine_for, session_scope
from chainbreaker.ops.figures import Period, figures, month_period, parse_period

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

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: (str(self.totals[k]) if k == "funds_seized_frozen" else self.totals[k]) for k in KEYS}
        out["headline"] = self.headline
        out["period"] = self.period.label
        out["measures"] = self.totals["measures"]
        out["months"] = [{**m, "funds_seized_frozen": str(m["funds_seized_frozen"])} for m in self.months]
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


def build_bulletin(ws: Workspace, period_text: str, *, scheme_path: Path | None = None) -> Bulletin:
    period = parse_period(period_text)
    scheme = load_scheme(ws, scheme_path)
    last = period.months[-1]
    with session_scope(engine_for(ws)) as s:
        totals, _ = figures(s, period)
        months = []
        for m in period.months:
            fig, _ = figures(s, month_period(m))
            months.append({"month": m, **{k: fig.values[k] for k in KEYS}})
        stored = s.execute(select(AssessmentScore, Unit.name).join(Unit, Unit.id == AssessmentScore.unit_id)
                           .where(AssessmentScore.month == last).order_by(AssessmentScore.rank, Unit.name)).all()
        if stored:
            ranking = [UnitScore(name, Decimal(a.score), a.rank, None if a.trend is None else Decimal(a.trend),
                                 {k: Decimal(v) if k == "funds_seized_frozen" else int(v)
                                  for k, v in json.loads(a.metrics).items()}) for a, name in stored]
        else:  # not assessed yet: the same computation, not stored (a bulletin only reads)
            ranking = compute_scores(s, last, scheme)
    return Bulletin(period, totals.values, months, last, ranking, scheme, headline(period, totals.values))


def _write_ranking_xlsx(b: Bulletin, path: Path) -> None:
    wb = safe_workbook(path)
    fmts = CellFormats.add(wb)
    sheet = wb.add_worksheet(f"{b.ranking_month} 考核排名")
    metrics = list(b.scheme.weights)
    headers = ["排名", "单位", "得分", "环比", *(metric_label(m) for m in metrics)]
    for j, h in enumerate(headers):
        sheet.write_string(0, j, h, fmts.bold)
    for i, r in enumerate(b.ranking, start=1):
        for j, value in enumerate([r.rank, r.unit, r.score, r.trend, *(r.metrics.get(m, 0) for m in metrics)]):
            write_cell(sheet, i, j, value, fmts)
    sheet.set_column(1, 1, 22)
    sheet.set_column(2, len(headers), 14)
    sheet.freeze_panes(1, 2)
    note = wb.add_worksheet("说明")
    for i, line in enumerate([f"考核方案版本：{b.scheme.version}（{b.scheme.source}）",
                              f"得分 = 100 × Σ 权重 × min(实际/目标, {b.scheme.cap}) ÷ Σ 权重；环比为与上月得分之差。"]):
        note.write_string(i, 0, line)
    wb.close()


def write_bulletin(ws: Workspace, period_text: str, out: Path, *, scheme_path: Path | None = None,
                   user: str = "local", role: str = "analyst") -> tuple[Bulletin, list[Path]]:
    """Write the four bulletin files into the folder ``out``; each is written whole or not at all."""
    from chainbreaker.ops.bulletin_render import render_docx, render_html

    b = build_bulletin(ws, period_text, scheme_path=scheme_path)
    folder = resolve_output_dir(out)
    written = []
    writers = {
        "bulletin.json": lambda p: p.write_text(json.dumps(b.as_json(), ensure_ascii=False, indent=2), "utf-8"),
        "bulletin.docx": lambda p: render_docx(b, p),
        "bulletin.html": lambda p: p.write_text(render_html(b), "utf-8"),
        "ranking.xlsx": lambda p: _write_ranking_xlsx(b, p),
    }
    for name, write in writers.items():
        with output_file(ws, folder / name, "ops.bulletin", user=user, role=role, period=b.period.label) as f:
            write(f.path)
        written.append(folder / name)
    return b, written
