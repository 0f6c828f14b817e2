"""Demo section of the tech chain: scan the loopback test websites and show what was found.

Starts the test sites on 127.0.0.1 (nothing else is contacted), scans them with the real scanner
(14 personas, decoding, detectors, classifier, indicators) into the demo workspace and returns a
self-contained HTML fragment: per site the technique it reproduces, the rule ids expected and
found, and the findings' explanations.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from chainbreaker.core.model.finding import count_by_rule, query

SITE_NAMES: dict[str, tuple[str, str]] = {
    "title_spider": ("县政府网站：只对搜索引擎蜘蛛替换标题", "County site: title swapped for spiders only"),
    "title_restore": ("中学网站：赌博标题（实体编码），脚本对访客还原", "School site: entity-encoded gambling title, script restores it"),
    "loader_packed": ("职业学院：双层 Dean Edwards 打包的加载脚本", "College: loader packed twice (Dean Edwards)"),
    "loader_array": ("卫健局：字符串数组混淆写入隐藏 iframe", "Health bureau: array-table obfuscator writes a hidden iframe"),
    "redirect_js": ("镇政府：搜索来源 JS 跳转（已打包）", "Town site: packed JS redirect for search visitors"),
    "redirect_meta": ("图书馆：搜索来源 meta refresh", "Library: meta refresh for search visitors"),
    "redirect_iframe": ("气象局：搜索来源全屏覆盖 iframe", "Weather bureau: full-screen overlay iframe for search visitors"),
    "redirect_http": ("融媒体中心：搜索来源 HTTP 302", "Media centre: HTTP 302 for search visitors"),
    "hidden_links": ("大学学院：十种隐藏暗链手法", "University: ten ways of hiding links"),
    "cloak_ua": ("交通局：百度蜘蛛看赌博页，谷歌蜘蛛 404", "Transport bureau: gambling for Baiduspider, 404 for Googlebot"),
    "parasite": ("科技公司：泛目录寄生页面（sitemap）", "Company: parasite doorway pages (in the sitemap)"),
    "fake_error": ("伪造“无法访问此网站”错误页", "Fake 'site can't be reached' page"),
    "gambling": ("赌博网站本身", "A gambling site"),
    "news_crackdown": ("正常：公安破获赌博案新闻", "Honest: police news about a gambling crackdown"),
    "lottery": ("正常：中国福利彩票开奖公告", "Honest: state welfare lottery results"),
    "marquee_notice": ("正常：学校滚动通知（marquee）", "Honest: school scrolling notice (marquee)"),
    "entity_text": ("正常：全站实体编码的医院网站", "Honest: hospital site that entity-encodes all text"),
    "light_bot": ("正常：给蜘蛛的精简页面", "Honest: lighter page for crawlers"),
}


def run_demo(ws: Any, workdir: Path, lang: str = "zh") -> dict[str, str]:
    """Scan the test websites into ``ws``; return ``dict(title_zh, title_en, html)``."""
    from chainbreaker.chains.tech.fetch import FetchLimits
    from chainbreaker.chains.tech.scan import scan
    from chainbreaker.synth.websites import running_test_sites

    zh = lang != "en"
    with running_test_sites() as sites:
        names = [n for n in sites.servers]
        limits = FetchLimits(delay=0, total_timeout=5)
        result = scan(ws, [sites.url(n) for n in names if n != "parasite"], own_sites=True, limits=limits)
        deeper = scan(ws, [sites.url("parasite")], depth=1, own_sites=True, limits=limits)
        found_by_host = result.rules_by_host()
        for host, rules in deeper.rules_by_host().items():
            found_by_host.setdefault(host, set()).update(rules)
        findings = result.findings + deeper.findings
        rows = []
        hits = honest_ok = 0
        technique_sites = [n for n in names if sites.expected[n]]
        for name in names:
            host = sites.host(name)
            expected, found = sites.expected[name], found_by_host.get(host, set())
            ok = expected == found
            if ok and expected:
                hits += 1
            if ok and not expected:
                honest_ok += 1
            notes = [f for f in findings if (f.subject_key == host or f.subject_key.split("/")[2:3] == [host])]
            rows.append((name, expected, found, ok, notes))
        captures, seconds = result.captures + deeper.captures, result.seconds + deeper.seconds
    esc = html.escape

    def t(a: str, b: str) -> str:
        return a if zh else b

    parts = [
        "<div class='tech-demo'>",
        f"<p>{esc(t(f'在本机回环地址上启动 {len(names)} 个测试网站（{len(technique_sites)} 个复现注入/伪装手法，{len(names) - len(technique_sites)} 个为容易误报的正常网站），以 14 种访问身份抓取共 {captures} 次，用时 {seconds:.1f} 秒。', f'{len(names)} test websites on the loopback address ({len(technique_sites)} reproduce injection/cloaking techniques, {len(names) - len(technique_sites)} are honest look-alikes) fetched {captures} times as 14 personas in {seconds:.1f} s.'))}</p>",
        f"<p><b>{esc(t(f'手法检出：{hits}/{len(technique_sites)}；正常网站未误报：{honest_ok}/{len(names) - len(technique_sites)}', f'Techniques detected: {hits}/{len(technique_sites)}; honest sites not flagged: {honest_ok}/{len(names) - len(technique_sites)}'))}</b></p>",
        "<table class='tech-sites' style='border-collapse:collapse;font-size:13px'>",
        "<tr>" + "".join(f"<th style='border:1px solid #ccc;padding:3px 6px;text-align:left'>{esc(h)}</th>" for h in (
            t("测试网站", "test site"), t("应检出", "expected"), t("实际检出", "found"), "", t("说明", "explanation"))) + "</tr>",
    ]
    for name, expected, found, ok, notes in rows:
        label = SITE_NAMES.get(name, (name, name))
        explain = "<br>".join(esc(t(f.explanation_zh, f.explanation_en))[:400] for f in notes[:3]) or esc(t("（无发现）", "(no finding)"))
        mark = "<span style='color:#080'>✔</span>" if ok else "<span style='color:#c00'>✘</span>"
        cell = "style='border:1px solid #ccc;padding:3px 6px;vertical-align:top'"
        parts.append(f"<tr><td {cell}>{esc(t(*label))}</td><td {cell}><code>{esc(', '.join(sorted(expected)) or '—')}</code></td>"
                     f"<td {cell}><code>{esc(', '.join(sorted(found)) or '—')}</code></td><td {cell}>{mark}</td>"
                     f"<td {cell}>{explain}</td></tr>")
    parts.append("</table>")
    parts.append(f"<p style='font-size:12px;color:#666'>{esc(t('复现命令：chainbreaker tech scan URL... --own-sites --depth 1；所有页面原文已存入证据库，发现写入 findings 表（chain=tech）。', 'Reproduce: chainbreaker tech scan URL... --own-sites --depth 1; every capture is in the evidence store and findings are in the findings table (chain=tech).'))}</p>")
    parts.append("</div>")
    return {"title_zh": "技术链：网站扫描（暗链、劫持、伪装检测）", "title_en": "Tech chain: website scan (hidden links, hijacking, cloaking)",
            "html": "\n".join(parts)}


def report_section(ws: Any, lang: str = "zh", role: str = "analyst", *, limit: int = 30) -> dict[str, str] | None:
    """The tech section from what the workspace holds (None when nothing was scanned).

    Sites scanned, findings per rule, the strongest findings with their explanations, and operator
    clusters when ``tech clusters`` has run. Used by ``chainbreaker report`` (the demo shows its
    expected-vs-found table instead, which needs the test sites' ground truth).
    """
    from chainbreaker.chains.tech.rule_names import RULE_NAMES

    zh = lang != "en"
    esc = html.escape

    def t(a: str, b: str) -> str:
        return a if zh else b

    if not ws.has_table("tech_captures"):
        return None
    con = ws.duck()
    hosts, captures = con.sql("SELECT count(DISTINCT host), count(*) FROM tech_captures").fetchall()[0]
    gambling_pages = con.sql("SELECT count(DISTINCT host) FROM tech_pages WHERE is_gambling").fetchall()[0][0] \
        if ws.has_table("tech_pages") else 0
    by_rule: list[tuple[str, int]] = []
    top: list[tuple[str, str, float, str, str]] = []
    if ws.has_table("findings"):
        by_rule = list(count_by_rule(con, "tech").items())
        found = query(con, chain="tech", limit=limit,
                      columns=["rule_id", "subject_key", "score", "explanation_zh", "explanation_en"])
        top = list(zip(*(found.column(c).to_pylist() for c in found.column_names), strict=True))
    clusters = con.sql("""SELECT cluster_id, any_value(cluster_size), string_agg(host, ', ' ORDER BY host)
                          FROM tech_clusters GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10""").fetchall() \
        if ws.has_table("tech_clusters") else []
    con.close()
    cell = "style='border:1px solid #ccc;padding:3px 6px;vertical-align:top'"
    intro = t(f"已扫描 {hosts:,} 个主机（抓取 {captures:,} 次），判定为赌博页面的主机 {gambling_pages:,} 个。",
              f"{hosts:,} hosts scanned ({captures:,} captures); {gambling_pages:,} hosts with gambling pages.")
    parts = ["<div class='tech-report'>", f"<p>{esc(intro)}</p>",
             "<table class='tech-rules' style='border-collapse:collapse;font-size:13px'>",
             f"<tr><th {cell}>{esc(t('规则', 'rule'))}</th><th {cell}>{esc(t('发现数', 'findings'))}</th></tr>"]
    for rule, n in by_rule:
        name = RULE_NAMES.get(rule, (rule, rule))
        parts.append(f"<tr><td {cell}>{esc(t(*name))} <code>{esc(rule)}</code></td><td {cell}>{n:,}</td></tr>")
    parts.append("</table>")
    if top:
        parts.append(f"<h4>{esc(t(f'得分最高的发现（前 {limit} 条）', f'Strongest findings (top {limit})'))}</h4>")
        parts.append("<table class='tech-findings' style='border-collapse:collapse;font-size:13px'><tr>"
                     + "".join(f"<th {cell}>{esc(h)}</th>" for h in (t("对象", "subject"), t("规则", "rule"),
                                                                       t("得分", "score"), t("说明", "explanation")))
                     + "</tr>")
        for rule, subject, score, zh_text, en_text in top:
            parts.append(f"<tr><td {cell}><code>{esc(subject or '')}</code></td><td {cell}>{esc(t(*RULE_NAMES.get(rule, (rule, rule))))}</td>"
                         f"<td {cell}>{float(score or 0):.2f}</td><td {cell}>{esc(t(zh_text or '', en_text or ''))[:400]}</td></tr>")
        parts.append("</table>")
    if clusters:
        parts.append(f"<h4>{esc(t('运营团伙（共用线索或模板）', 'Operator clusters (shared indicators or template)'))}</h4><ul>")
        parts.extend(f"<li><code>{esc(cid)}</code>（{int(size or 0)}）：{esc(members or '')}</li>" for cid, size, members in clusters)
        parts.append("</ul>")
    parts.append("</div>")
    return {"title_zh": "技术链：网站扫描（暗链、劫持、伪装检测）",
            "title_en": "Tech chain: website scan (hidden links, hijacking, cloaking)", "html": "\n".join(parts)}
