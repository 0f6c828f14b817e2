"""The monthly bulletin (每月一通报): campaign figures over a period, the unit ranking and a headline.

``write_bulletin`` writes ``bulletin.json``, ``bulletin.docx`` (Chinese, python-docx),
``bulletin.html`` (charts as inline SVG, nothing fetched from elsewhere) and ``ranking.xlsx`` (no
formulas, via the core XLSX writer). Only aggregates appear: no person is named in a bulletin.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from chainbreaker.core.exports import output_file, resolve_output_dir
from chainbreaker.core.exports_xlsx import CellFormats, safe_workbook, write_cell
from chainbreaker.core.workspace import Workspace
from chainbreaker.ops.assess import UnitScore, compute_scores, load_scheme, metric_label
from chainbreaker.ops.bulletin_model import KEYS, Bulletin, headline
from chainbreaker.ops.casework_models import AssessmentScore, Unit
from chainbreaker.ops.db import engine_for, session_scope
from chainbreaker.ops.figures import figures, metric_value, month_period, parse_period


def build_bulletin(ws: Workspace, period_text: str, *, scheme_path: Path | None = None) -> Bulletin:
    period = parse_period(period_text)
    scheme = load_scheme(ws, scheme_path)
    last = period.months[-1]
    with session_scope(engine_for(ws)) as s:
        totals, per_unit = figures(s, period)
        names = {u.id: u.name for u in s.scalars(select(Unit))}
        units = sorted(({"unit": names.get(uid, "（未注明单位）") if uid is not None else "（未注明单位）",
                         **{k: f.values[k] for k in KEYS}} for uid, f in per_unit.items()),
                       key=lambda r: (-int(r["cases"]), str(r["unit"])))
        months = []
        for m in period.months:
            fig, _ = figures(s, month_period(m))
            months.append({"month": m, **{k: fig.values[k] for k in KEYS}})
        stored = s.execute(select(AssessmentScore, Unit.name).join(Unit, Unit.id == AssessmentScore.unit_id)
                           .where(AssessmentScore.month == last).order_by(AssessmentScore.rank, Unit.name)).all()
        if stored:
            ranking = [UnitScore(name, Decimal(a.score), a.rank, None if a.trend is None else Decimal(a.trend),
                                 {k: metric_value(k, v) for k, v in json.loads(a.metrics).items()}) for a, name in stored]
        else:  # not assessed yet: the same computation, not stored (a bulletin only reads)
            ranking = compute_scores(s, last, scheme)
    return Bulletin(period, totals.values, months, last, ranking, scheme, headline(period, totals.values), units)


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
