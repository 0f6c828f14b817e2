"""Rendering of the bulletin: HTML with inline SVG charts (no script, no CDN) and a Chinese DOCX."""

from __future__ import annotations

from decimal import Decimal
from html import escape
from pathlib import Path

from chainbreaker.ops.assess import metric_label
from chainbreaker.ops.bulletin_model import Bulletin, period_words

FONT = "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei','SimHei',sans-serif"
CJK_FONT = "SimSun"
FIGURE_KEYS = ("cases", "cases_ministry", "cases_province", "gangs", "persons_measures", "platforms",
               "funds_seized_frozen")


def bar_chart(title: str, labels: list[str], values: list[float], *, unit: str = "", width: int = 720,
              height: int = 260) -> str:
    """A vertical bar chart as an SVG string; every text is XML-escaped."""
    left, bottom, top = 60, 50, 30
    plot_w, plot_h = width - left - 20, height - bottom - top
    peak = max(values, default=0) or 1
    step = plot_w / max(len(values), 1)
    bar = step * 0.6
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}" font-family="{escape(FONT)}" font-size="12">',
             f'<text x="{width / 2:.0f}" y="18" text-anchor="middle" font-size="14">{escape(title)}</text>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#555"/>']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * value / peak
        x = left + i * step + (step - bar) / 2
        y = top + plot_h - h
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="#b22222">'
                     f'<title>{escape(label)}：{value:,.2f}{escape(unit)}</title></rect>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{value:,.0f}</text>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _figure_value(b: Bulletin, key: str) -> str:
    return _cell(b.totals, key)


def _cell(values: dict, key: str) -> str:  # type: ignore[type-arg]
    value = values[key]
    return f"{Decimal(value):,.2f}" if key == "funds_seized_frozen" else f"{value:,}"


def render_html(b: Bulletin) -> str:
    months = [m["month"] for m in b.months]
    cases_chart = bar_chart("每月侦办案件（起）", months, [float(m["cases"]) for m in b.months])
    funds_chart = bar_chart("每月扣押冻结资金（万元）", months,
                            [float(Decimal(m["funds_seized_frozen"]) / 10000) for m in b.months], unit="万元")
    rank_chart = bar_chart(f"{b.ranking_month} 各单位考核得分", [r.unit for r in b.ranking],
                           [float(r.score) for r in b.ranking], width=max(720, 130 * len(b.ranking)))
    rows = "".join(f"<tr><th>{escape(metric_label(k))}</th><td>{_figure_value(b, k)}</td></tr>" for k in FIGURE_KEYS)
    unit_rows = "".join(
        "<tr><td>" + escape(str(u["unit"])) + "</td>"
        + "".join(f"<td>{_cell(u, k)}</td>" for k in FIGURE_KEYS) + "</tr>" for u in b.units)
    unit_head = "".join(f"<th>{escape(metric_label(k))}</th>" for k in FIGURE_KEYS)
    ranking = "".join(
        f"<tr><td>{r.rank}</td><td>{escape(r.unit)}</td><td>{r.score}</td>"
        f"<td>{'—' if r.trend is None else f'{r.trend:+}'}</td></tr>" for r in b.ranking)
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>打击跨境赌博工作通报（{escape(b.period.label)}）</title>
<style>body{{font-family:{FONT};max-width:960px;margin:2em auto;color:#222}} h1{{color:#b22222;text-align:center}}
table{{border-collapse:collapse;margin:1em 0}} td,th{{border:1px solid #ccc;padding:4px 10px;text-align:left}}
.headline{{font-size:1.1em;line-height:1.8;text-indent:2em}} figure{{margin:1em 0}}</style></head>
<body><h1>打击跨境赌博工作通报</h1>
<p style="text-align:center">{escape(period_label(b))}</p>
<p class="headline">{escape(b.headline)}</p>
<h2>一、主要战果</h2><table>{rows}</table>
<figure>{cases_chart}</figure><figure>{funds_chart}</figure>
<h2>二、各单位战果</h2>
<table><tr><th>单位</th>{unit_head}</tr>{unit_rows}</table>
<h2>三、{escape(b.ranking_month)} 考核排名</h2>
<table><tr><th>排名</th><th>单位</th><th>得分</th><th>环比</th></tr>{ranking}</table>
<figure>{rank_chart}</figure>
<p><small>考核方案版本 {escape(b.scheme.version)}；金额单位：元。</small></p>
</body></html>
"""


def period_label(b: Bulletin) -> str:
    return f"统计期间：{period_words(b.period)}"


def _cjk(run) -> None:  # type: ignore[no-untyped-def]
    """Word needs the East Asian font named separately or Chinese text falls back to a Latin font."""
    from docx.oxml.ns import qn

    run.font.name = CJK_FONT
    rpr = run._element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), CJK_FONT)


def render_docx(b: Bulletin, path: Path) -> None:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    doc = Document()
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run("打击跨境赌博工作通报")
    run.bold, run.font.size = True, Pt(22)
    _cjk(run)
    _cjk(doc.add_paragraph(period_label(b)).runs[0])
    para = doc.add_paragraph()
    para.paragraph_format.first_line_indent = Pt(28)
    _cjk(para.add_run(b.headline))
    _cjk(doc.add_paragraph().add_run("一、主要战果"))
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for key in FIGURE_KEYS:
        cells = table.add_row().cells
        _cjk(cells[0].paragraphs[0].add_run(metric_label(key)))
        _cjk(cells[1].paragraphs[0].add_run(_figure_value(b, key)))
    _cjk(doc.add_paragraph().add_run("二、各单位战果"))
    per_unit = doc.add_table(rows=1, cols=1 + len(FIGURE_KEYS))
    per_unit.style = "Table Grid"
    for cell, text in zip(per_unit.rows[0].cells, ["单位", *(metric_label(k) for k in FIGURE_KEYS)], strict=True):
        _cjk(cell.paragraphs[0].add_run(text))
    for u in b.units:
        cells = per_unit.add_row().cells
        for cell, text in zip(cells, [str(u["unit"]), *(_cell(u, k) for k in FIGURE_KEYS)], strict=True):
            _cjk(cell.paragraphs[0].add_run(text))
    _cjk(doc.add_paragraph().add_run(f"三、{b.ranking_month} 考核排名"))
    rank = doc.add_table(rows=1, cols=4)
    rank.style = "Table Grid"
    for cell, text in zip(rank.rows[0].cells, ("排名", "单位", "得分", "环比"), strict=True):
        _cjk(cell.paragraphs[0].add_run(text))
    for r in b.ranking:
        cells = rank.add_row().cells
        for cell, text in zip(cells, (str(r.rank), r.unit, str(r.score), "—" if r.trend is None else f"{r.trend:+}"),
                              strict=True):
            _cjk(cell.paragraphs[0].add_run(text))
    _cjk(doc.add_paragraph().add_run(f"考核方案版本 {b.scheme.version}。"))
    doc.save(str(path))
