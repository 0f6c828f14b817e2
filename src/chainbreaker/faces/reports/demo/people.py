"""People section of the demo report: a small synthetic province, ingested and analysed."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path
from typing import Any

from chainbreaker.core.model.finding import count_by_rule
from chainbreaker.core.workspace import Workspace

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
    from chainbreaker.chains.people.analyze import analyze
    from chainbreaker.chains.people.ingest import ingest_travel
    from chainbreaker.synth.travel import write_travel_files

    zh = lang != "en"

    def tr(a: str, b: str) -> str:
        return a if zh else b

    out = Path(workdir) / "people"
    data = write_travel_files(out, n_people, seed=7)
    summary = ingest_travel(ws, [out / "travel"])
    result = analyze(ws, data.as_of)
    text = tr(f"合成省份 {n_people:,} 名出行人员：导入 {summary.rows_kept:,} 条记录（合并两路推送的重复记录 {summary.duplicates_merged:,} 条，"
              f"隔离 {sum(summary.quarantined_by_reason.values())} 行，无效身份证号保留并标记 {summary.invalid_ids} 条）；"
              f"基准日 {result.as_of}。",
              f"Synthetic province, {n_people:,} travellers: {summary.rows_kept:,} records ingested ({summary.duplicates_merged:,} "
              f"duplicates from two feeds merged, {sum(summary.quarantined_by_reason.values())} rows quarantined, {summary.invalid_ids} "
              f"invalid ID numbers kept and flagged); as of {result.as_of}.")
    intro = f"<p>{html.escape(text)}</p>"
    section = report_section(ws, lang, role="viewer", intro=intro, as_of=data.as_of, findings=result.findings)
    assert section is not None
    return section


def _latest_as_of(ws: Workspace) -> dt.date | None:
    """The as-of date of the last ``people analyze`` run (its run record)."""
    for run in reversed(ws.runs()):
        if run.get("kind") == "people.analyze" and run.get("settings", {}).get("as_of"):
            try:
                return dt.date.fromisoformat(str(run["settings"]["as_of"]))
            except ValueError:
                return None
    return None


def _mask_keys(keys: list[str], names: list[str | None], role: str) -> tuple[list[str], list[str | None]]:
    """Person keys (``ID:<resident id>`` or a hash) and names as the role may see them (``masked``)."""
    import pyarrow as pa

    from chainbreaker.core.exports import masked

    ids = [k[3:] if k.startswith("ID:") else None for k in keys]
    shown = masked(pa.table({"id_number": pa.array(ids, pa.string()), "name": pa.array(names, pa.string())}), role)
    out_keys = [("ID:" + (m or "")) if k.startswith("ID:") else k[:6] + "…"
                for k, m in zip(keys, shown.column("id_number").to_pylist(), strict=True)]
    return out_keys, shown.column("name").to_pylist()


def report_section(ws: Workspace, lang: str = "zh", role: str = "analyst", *, intro: str = "",
                   as_of: dt.date | None = None, findings: dict[str, int] | None = None) -> dict[str, Any] | None:
    """The people section from what the workspace holds (None when it has no travel data).

    Used by ``chainbreaker report`` for a real workspace and by the demo after its own ingest.
    Personal data are shown as ``role`` may see them.
    """
    zh = lang != "en"

    def tr(a: str, b: str) -> str:
        return a if zh else b

    title = {"title_zh": "人员链：滞留境外与团伙出行", "title_en": "People chain: stranded persons and organised groups"}
    if not any(ws.has_table(t) for t in ("travel_crossings", "travel_flights", "travel_trains", "travel_hotels")):
        return None
    if not ws.has_table("travel_person_metrics"):
        return {**title, "html": f"<p>{html.escape(tr('出入境记录已导入，尚未分析：请运行 chainbreaker people analyze。', 'Travel records are ingested but not analysed yet: run chainbreaker people analyze.'))}</p>"}
    as_of = as_of or _latest_as_of(ws)
    con = ws.duck()
    stranded = con.sql("""SELECT person_key, name, days_since_last, last_trip_dest, last_trip_town, last_trip_via_third
                          FROM travel_person_metrics WHERE stranded ORDER BY days_since_last DESC LIMIT 15""").fetchall()
    groups = con.sql("""SELECT group_id, size, trips, destinations, evidence_kinds FROM travel_groups WHERE listed
                        ORDER BY trips DESC, size DESC LIMIT 10""").fetchall() if ws.has_table("travel_groups") else []
    dests = []
    if ws.has_table("travel_trips"):
        ref = "CAST(? AS DATE)" if as_of else "(SELECT max(CAST(exit_ts AS DATE)) FROM travel_trips)"
        dests = con.execute(f"""SELECT coalesce(onward_dest, dest_zh) AS d, count(*) AS n FROM travel_trips
                               WHERE listed_trip AND exit_ts > {ref} - INTERVAL 365 DAY
                               GROUP BY 1 ORDER BY n DESC, 1 LIMIT 10""", [as_of.isoformat()] if as_of else []).fetchall()
    if findings is None:
        findings = count_by_rule(con, "people")
    con.close()
    e = html.escape
    keys, names = _mask_keys([r[0] for r in stranded], [r[1] for r in stranded], role)
    rows_s = "".join(
        f"<tr><td>{e(key)}</td><td>{e(name or '')}</td><td>{d:.0f}</td>"
        f"<td>{e(dest or '')}{e('（' + town + '）') if town else ''}{e(tr('，经第三国', ' via third country')) if via else ''}</td></tr>"
        for key, name, (_k, _n, d, dest, town, via) in zip(keys, names, stranded, strict=True))
    rows_g = "".join(
        f"<tr><td>{e(g)}</td><td>{s}</td><td>{t}</td><td>{e('、'.join(ds or []))}</td><td>{e(', '.join(ks or []))}</td></tr>"
        for g, s, t, ds, ks in groups)
    f = findings
    when = tr(f"基准日 {as_of}。", f"As of {as_of}.") if as_of and not intro else ""
    body = f"""
<div class="people-section">
{intro}{f"<p>{e(when)}</p>" if when else ""}
<ul>
<li>{tr("滞留境外", "Stranded abroad")} (travel.stranded): {f.get('travel.stranded', 0):,}</li>
<li>{tr("频繁前往重点地区", "Frequent trips to listed places")} (travel.frequent): {f.get('travel.frequent', 0):,}</li>
<li>{tr("团伙出行", "Organised groups")} (travel.group): {f.get('travel.group', 0):,}</li>
<li>{tr("同行人员", "Companions")} (travel.companion): {f.get('travel.companion', 0):,}</li>
<li>{tr("滞留人员亲属", "Kin of stranded persons")} (travel.kin): {f.get('travel.kin', 0):,}</li>
</ul>
<h4>{tr("滞留境外人员（前 15 名，个人信息按角色脱敏）", "Stranded persons (top 15, masked by role)")}</h4>
<table><thead><tr><th>{tr("人员", "person")}</th><th>{tr("姓名", "name")}</th><th>{tr("滞留天数", "days")}</th>
<th>{tr("目的地", "destination")}</th></tr></thead><tbody>{rows_s}</tbody></table>
<h4>{tr("团伙出行（前 10 个）", "Organised groups (top 10)")}</h4>
<table><thead><tr><th>{tr("团伙", "group")}</th><th>{tr("人数", "size")}</th><th>{tr("同行次数", "trips")}</th>
<th>{tr("目的地", "destinations")}</th><th>{tr("依据", "evidence")}</th></tr></thead><tbody>{rows_g}</tbody></table>
{_bar_svg([(d or "", int(n)) for d, n in dests], tr("近 12 个月前往重点目的地的出境次数", "Exits to listed destinations, last 12 months"))}
</div>"""
    return {**title, "html": body}
