"""People section of the demo report: a small synthetic province, ingested and analysed."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from chainbreaker.workspace import Workspace

DEMO_PEOPLE = 1500


def _bar_svg(rows: list[tuple[str, int]], title: str) -> str:
    """A horizontal bar chart as inline SVG (no external resources)."""
    width, bar_h, left = 560, 22, 150
    top = 30
    height = top + bar_h * len(rows) + 10
    peak = max((n for _, n in rows), default=1) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{html.escape(title)}" font-family="Noto Sans CJK SC, sans-serif" font-size="12">',
             f'<text x="0" y="16" font-size="14" font-weight="bold">{html.escape(title)}</text>']
    for i, (label, n) in enumerate(rows):
        y = top + i * bar_h
        w = int((width - left - 60) * n / peak)
        parts.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{html.escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{w}" height="{bar_h - 6}" fill="#b03a2e"/>')
        parts.append(f'<text x="{left + w + 4}" y="{y + 15}">{n:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def run_demo(ws: Workspace, workdir: Path, lang: str = "zh", n_people: int = DEMO_PEOPLE) -> dict[str, Any]:
    """Generate, ingest and analyse a small province's travel data; return an HTML fragment."""
    from chainbreaker.model.masking import mask_value
    from chainbreaker.people.analyze import analyze
    from chainbreaker.people.ingest import ingest_travel
    from chainbreaker.synth.travel import write_travel_files

    zh = lang != "en"

    def tr(a: str, b: str) -> str:
        return a if zh else b

    out = Path(workdir) / "people"
    data = write_travel_files(out, n_people, seed=7)
    summary = ingest_travel(ws, [out / "travel"])
    result = analyze(ws, data.as_of)
    con = ws.duck()
    stranded = con.sql("""SELECT person_key, name, days_since_last, last_trip_dest, last_trip_town, last_trip_via_third
                          FROM travel_person_metrics WHERE stranded ORDER BY days_since_last DESC LIMIT 15""").fetchall()
    groups = con.sql("""SELECT group_id, size, trips, destinations, evidence_kinds FROM travel_groups WHERE listed
                        ORDER BY trips DESC, size DESC LIMIT 10""").fetchall()
    dests = con.sql(f"""SELECT coalesce(onward_dest, dest_zh) AS d, count(*) AS n FROM travel_trips
                        WHERE listed_trip AND exit_ts > CAST('{data.as_of}' AS DATE) - INTERVAL 365 DAY
                        GROUP BY 1 ORDER BY n DESC LIMIT 10""").fetchall()
    e = html.escape
    rows_s = "".join(
        f"<tr><td>{e('ID:' + (mask_value('id_number', k[3:]) or '') if k.startswith('ID:') else k[:6] + '…')}</td>"
        f"<td>{e(mask_value('name', n) or '')}</td><td>{d:.0f}</td>"
        f"<td>{e(dest or '')}{e('（' + town + '）') if town else ''}{e(tr('，经第三国', ' via third country')) if via else ''}</td></tr>"
        for k, n, d, dest, town, via in stranded)
    rows_g = "".join(
        f"<tr><td>{e(g)}</td><td>{s}</td><td>{t}</td><td>{e('、'.join(ds or []))}</td><td>{e(', '.join(ks or []))}</td></tr>"
        for g, s, t, ds, ks in groups)
    f = result.findings
    body = f"""
<div class="people-section">
<p>{tr(f"合成省份 {n_people:,} 名出行人员：导入 {summary.rows_kept:,} 条记录（合并两路推送的重复记录 {summary.duplicates_merged:,} 条，"
       f"隔离 {sum(summary.quarantined_by_reason.values())} 行，无效身份证号保留并标记 {summary.invalid_ids} 条）；"
       f"基准日 {result.as_of}。",
       f"Synthetic province, {n_people:,} travellers: {summary.rows_kept:,} records ingested ({summary.duplicates_merged:,} "
       f"duplicates from two feeds merged, {sum(summary.quarantined_by_reason.values())} rows quarantined, {summary.invalid_ids} "
       f"invalid ID numbers kept and flagged); as of {result.as_of}.")}</p>
<ul>
<li>{tr("滞留境外", "Stranded abroad")} (travel.stranded): {f.get('travel.stranded', 0):,}</li>
<li>{tr("频繁前往重点地区", "Frequent trips to listed places")} (travel.frequent): {f.get('travel.frequent', 0):,}</li>
<li>{tr("团伙出行", "Organised groups")} (travel.group): {f.get('travel.group', 0):,}</li>
<li>{tr("同行人员", "Companions")} (travel.companion): {f.get('travel.companion', 0):,}</li>
<li>{tr("滞留人员亲属", "Kin of stranded persons")} (travel.kin): {f.get('travel.kin', 0):,}</li>
</ul>
<h4>{tr("滞留境外人员（前 15 名，已脱敏）", "Stranded persons (top 15, masked)")}</h4>
<table><thead><tr><th>{tr("人员", "person")}</th><th>{tr("姓名", "name")}</th><th>{tr("滞留天数", "days")}</th>
<th>{tr("目的地", "destination")}</th></tr></thead><tbody>{rows_s}</tbody></table>
<h4>{tr("团伙出行（前 10 个）", "Organised groups (top 10)")}</h4>
<table><thead><tr><th>{tr("团伙", "group")}</th><th>{tr("人数", "size")}</th><th>{tr("同行次数", "trips")}</th>
<th>{tr("目的地", "destinations")}</th><th>{tr("依据", "evidence")}</th></tr></thead><tbody>{rows_g}</tbody></table>
{_bar_svg([(d or "", int(n)) for d, n in dests], tr("近 12 个月前往重点目的地的出境次数", "Exits to listed destinations, last 12 months"))}
</div>"""
    return {"title_zh": "人员链：滞留境外与团伙出行", "title_en": "People chain: stranded persons and organised groups",
            "html": body}
