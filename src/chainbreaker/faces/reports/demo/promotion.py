"""Demo section of the promotion chain: a small synthetic platform, ingested from a MySQL dump,
analysed, shown as top agents, thresholds crossed and a picture of the upper tree (inline SVG)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from chainbreaker.core.model.finding import count_by_rule, query
from chainbreaker.core.workspace import Workspace

DEMO_PLATFORM = "演示平台"


def _e(v: Any) -> str:
    return html.escape(str(v))


def _tree_svg(nodes: list[dict[str, Any]], lang: str) -> str:
    """Levels 1–4 of the biggest root's tree, children sorted by downline size (max 6 per node)."""
    by_parent: dict[str | None, list[dict[str, Any]]] = {}
    for n in nodes:
        by_parent.setdefault(n["upline"], []).append(n)
    for kids in by_parent.values():
        kids.sort(key=lambda n: -n["accounts"])
    roots = by_parent.get(None, [])[:1]
    layers: list[list[tuple[dict[str, Any], int | None]]] = [[(r, None) for r in roots]]
    for _ in range(3):
        nxt: list[tuple[dict[str, Any], int | None]] = []
        for i, (n, _p) in enumerate(layers[-1]):
            nxt.extend((k, i) for k in by_parent.get(n["member_id"], [])[:6 if len(layers) < 2 else 2])
        if not nxt:
            break
        layers.append(nxt[:24])
    width, row_h = 960, 90
    height = row_h * len(layers) + 20
    pos: list[list[tuple[float, float]]] = []
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="Noto Sans CJK SC, sans-serif" font-size="10">']
    for li, layer in enumerate(layers):
        step = width / (len(layer) + 1)
        pos.append([(step * (i + 1), 30 + li * row_h) for i in range(len(layer))])
    for li in range(1, len(layers)):
        for i, (_n, p) in enumerate(layers[li]):
            if p is not None:
                x1, y1 = pos[li - 1][p]
                x2, y2 = pos[li][i]
                parts.append(f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" stroke="#999"/>')
    for li, layer in enumerate(layers):
        for i, (n, _p) in enumerate(layer):
            x, y = pos[li][i]
            r = 6 + min(14, n["accounts"] ** 0.35)
            color = "#c0392b" if n["fired"] else "#2980b9"
            parts.append(f'<circle cx="{x:.0f}" cy="{y:.0f}" r="{r:.0f}" fill="{color}"><title>{_e(n["member_id"])}: '
                         f'{n["accounts"]} {"账号" if lang == "zh" else "accounts"}</title></circle>')
            parts.append(f'<text x="{x:.0f}" y="{y + r + 11:.0f}" text-anchor="middle">{_e(n["member_id"])}</text>')
            parts.append(f'<text x="{x:.0f}" y="{y + r + 22:.0f}" text-anchor="middle" fill="#555">{n["accounts"]}</text>')
    parts.append("</svg>")
    return "".join(parts)


def run_demo(ws: Workspace, workdir: Path, lang: str = "zh", *, n_members: int = 1500,
             n_bets: int = 20000) -> dict[str, str]:
    """Generate, ingest (MySQL dump), analyse; return ``dict(title_zh, title_en, html)``."""
    from chainbreaker.chains.promotion.analyze import analyze
    from chainbreaker.chains.promotion.ingest import ingest_platform
    from chainbreaker.synth.platform import generate_platform, write_mysql_dump

    zh = lang == "zh"
    p = generate_platform("pyramid", n_members, n_bets, seed=11, name=DEMO_PLATFORM)
    dump = write_mysql_dump(p, Path(workdir) / "promotion" / "platform_dump.sql")
    summary = ingest_platform(ws, dump, DEMO_PLATFORM)
    result = analyze(ws, DEMO_PLATFORM)
    intro = ("<p>" + _e(f"合成平台（六级：总监-大股东-股东-总代理-代理-会员）以 MySQL 转储导入：读取 {summary.rows_read:,} 行，"
                        f"会员 {result.members:,} 个，代理 {result.agents:,} 个，最深 {result.levels} 层；"
                        f"自我推荐 {result.issues['self_references']}、孤儿 {result.issues['orphans']}、"
                        f"循环 {result.issues['cycles']} 处已报告；一人多号合并 {result.persons['accounts_merged_away']} 个账号。"
                        f"赌资口径：投注金额。"
                        if zh else
                        f"Synthetic six-tier platform ingested from a MySQL dump: {summary.rows_read:,} rows, "
                        f"{result.members:,} members, {result.agents:,} agents, {result.levels} levels; "
                        f"{result.issues['self_references']} self-references, {result.issues['orphans']} orphans, "
                        f"{result.issues['cycles']} cycles reported; {result.persons['accounts_merged_away']} accounts merged "
                        f"into shared persons. Basis of gambling funds: total stakes.") + "</p>")
    section = report_section(ws, lang, platforms=[DEMO_PLATFORM], intro=intro, findings=result.findings_by_rule)
    assert section is not None
    return section


MAX_PLATFORMS = 5


def report_section(ws: Workspace, lang: str = "zh", role: str = "analyst", *, platforms: list[str] | None = None,
                   intro: str = "", findings: dict[str, int] | None = None) -> dict[str, str] | None:
    """The promotion section from what the workspace holds (None when no platform was ingested).

    Used by ``chainbreaker report`` for a real workspace (every platform, at most five) and by the
    demo after its own ingest. Member ids are platform account ids, not personal data.
    """
    zh = lang == "zh"
    title = {"title_zh": "推广链：代理层级与定罪量刑标准", "title_en": "Promotion chain: agent tree and legal thresholds"}
    if not ws.has_table("platform_members"):
        return None
    if not ws.has_table("agent_metrics") or not ws.has_table("promotion_member_totals"):
        return {**title, "html": "<p>" + _e("平台数据已导入，尚未分析：请运行 chainbreaker promotion analyze。" if zh else
                                               "Platform data are ingested but not analysed yet: run chainbreaker promotion analyze.")
                + "</p>"}
    con = ws.duck()
    if platforms is None:
        platforms = [p for (p,) in con.sql("SELECT platform FROM agent_metrics GROUP BY 1 ORDER BY count(*) DESC, 1 "
                                           f"LIMIT {MAX_PLATFORMS}").fetchall()]
    has_findings = ws.has_table("findings")
    if findings is None:
        findings = count_by_rule(con, "promotion")
    fired = {k: v for k, v in findings.items() if k.startswith(("N10", "G05", "CNT", "TREE", "LINK"))}
    h = ["<section class='promotion-demo'>", intro]
    h.append("<table><tr>" + "".join(f"<th>{_e(c)}</th>" for c in (
        ["规则", "发现数"] if zh else ["rule", "findings"])) + "</tr>")
    for k, v in sorted(fired.items()):
        h.append(f"<tr><td>{_e(k)}</td><td>{v:,}</td></tr>")
    h.append("</table>")
    if has_findings:
        con.register("_promotion_findings", query(con, chain="promotion", rule_prefix="N10-S",
                                                  columns=["rule_id", "subject_key"]))
    for plat in platforms:
        h.extend(_platform_part(con, plat, lang, has_findings))
    con.close()
    h.append("</section>")
    return {**title, "html": "\n".join(h)}


def _platform_part(con: Any, platform: str, lang: str, has_findings: bool) -> list[str]:
    """Top agents by downline stakes and the picture of the upper tree of one platform."""
    zh = lang == "zh"
    fired_sql = ("coalesce(string_agg(f.rule_id, ' ' ORDER BY f.rule_id) FILTER (WHERE f.rule_id LIKE 'N10-S%'), '')"
                 if has_findings else "''")
    join = ("LEFT JOIN _promotion_findings f ON f.subject_key = a.platform || ':' || a.member_id"
            if has_findings else "")
    top = con.execute(f"""
        SELECT a.member_id, a.level, a.downline_accounts, a.downline_persons, a.downline_stake, a.own_commission,
               {fired_sql} AS fired
        FROM agent_metrics a {join}
        WHERE a.platform = ? GROUP BY ALL ORDER BY a.downline_stake DESC, a.member_id LIMIT 10
    """, [platform]).fetchall()
    exists = ("EXISTS (SELECT 1 FROM _promotion_findings f WHERE f.rule_id LIKE 'N10-S%' "
              "AND f.subject_key = t.platform || ':' || t.member_id)" if has_findings else "false")
    nodes = [dict(member_id=m, upline=u, accounts=int(n or 0), fired=bool(f)) for m, u, n, f in con.execute(f"""
        SELECT t.member_id, t.upline_effective, a.downline_accounts, {exists}
        FROM promotion_member_totals t JOIN agent_metrics a USING (platform, member_id)
        WHERE t.platform = ?
    """, [platform]).fetchall()]
    h = [f"<h4>{_e(('平台：' if zh else 'Platform: ') + platform)}</h4>"]
    cols = (["会员ID", "层级", "伞下账号", "伞下人数", "伞下投注（元）", "本人佣金（元）", "达到的情节严重条款"] if zh else
            ["member", "level", "accounts", "persons", "downline stakes", "own commission", "aggravations met"])
    h.append("<table><tr>" + "".join(f"<th>{_e(c)}</th>" for c in cols) + "</tr>")
    for r in top:
        h.append("<tr>" + "".join(f"<td>{_e(f'{(v or 0):,.2f}' if i in (4, 5) else v)}</td>" for i, v in enumerate(r)) + "</tr>")
    h.append("</table>")
    h.append("<p>" + ("“情节严重”为加重处罚情节；开设赌场罪立案不设金额门槛。红色节点：达到至少一项情节严重条款。"
                      if zh else "Aggravations are not filing thresholds. Red nodes meet at least one aggravation.") + "</p>")
    h.append(_tree_svg(nodes, lang))
    return h
