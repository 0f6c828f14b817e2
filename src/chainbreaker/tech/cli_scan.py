"""``chainbreaker tech scan|captures|findings``: website scanning commands of the tech chain."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from chainbreaker.cli.context import STATE, console, get_workspace, t
from chainbreaker.errors import InputError
from chainbreaker.tech.cli_app import app

RULE_NAMES = {
    "inject.title_spider": ("标题劫持（蜘蛛专属或注入的标题）", "title hijack (for spiders, or injected)"),
    "inject.loader_script": ("混淆加载脚本", "obfuscated loader script"),
    "inject.referrer_redirect": ("搜索来源跳转劫持", "search-referrer redirect"),
    "inject.hidden_links": ("隐藏暗链", "hidden links"),
    "cloak.ua": ("按访问身份伪装（Cloaking）", "cloaking by user agent"),
    "inject.parasite": ("寄生页面（泛目录）", "parasite doorway pages"),
    "cloak.fake_error": ("伪造浏览器错误页", "fake browser error page"),
    "gambling.site": ("赌博网站", "gambling site"),
}


@app.command("scan")
def scan_command(
    targets: list[str] = typer.Argument(None, help="网址或域名，可多个。"),
    from_file: Path = typer.Option(None, "--from-file", "-f", help="目标列表文件，每行一个网址（# 开头为注释）。"),
    render: bool = typer.Option(False, "--render", help="用无头 Chromium 渲染页面（看脚本跳转、document.write）。"),
    depth: int = typer.Option(0, "--depth", help="沿同站链接和 sitemap 深入的层数（0–5）。"),
    own_sites: bool = typer.Option(False, "--own-sites", help="扫描本单位负责的网站：不受 robots.txt 限制，间隔更短。"),
    follow_host: list[str] = typer.Option(None, "--follow-host",
                                          help="允许访问的其他主机（白名单，可多次）：跟随跳转、抓取其外部脚本；默认只访问目标主机。"),
    delay: float = typer.Option(0.25, "--delay", help="同一主机两次请求之间的间隔秒数。"),
    timeout: float = typer.Option(20.0, "--timeout", help="单个响应（含跳转）的总时限秒数。"),
    max_mb: float = typer.Option(5.0, "--max-mb", help="单个页面最多保留的兆字节数（超出截断）。"),
    max_pages: int = typer.Option(50, "--max-pages", help="每个主机最多抓取的网址数。"),
    host_budget: float = typer.Option(None, "--host-budget",
                                      help="每个主机在整次扫描中的请求总时限（秒，0 为不限）；默认取设置 tech_host_budget（120）。"),
) -> None:
    """扫描网站：多身份抓取、解码、检测暗链/劫持/伪装、识别赌博网站。Scan websites."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from chainbreaker.tech.fetch import FetchLimits
    from chainbreaker.tech.scan import scan

    ws = get_workspace()
    budget = STATE.settings.tech_host_budget if host_budget is None else host_budget
    if budget < 0:
        raise InputError("--host-budget 不能为负数。", "--host-budget must not be negative.")
    limits = FetchLimits(delay=delay, total_timeout=timeout, max_bytes=int(max_mb * 1_000_000), host_budget=budget)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True) as bar:
        task = bar.add_task(t("抓取中…", "Fetching…"), total=None)
        count = [0]

        def on_page(url: str) -> None:
            count[0] += 1
            bar.update(task, description=escape(t(f"已抓取 {count[0]} 个网址：{url}", f"{count[0]} URLs fetched: {url}")))

        result = scan(ws, list(targets or []), render=render, depth=depth, own_sites=own_sites, from_file=from_file,
                      limits=limits, follow_hosts=list(follow_host or []), max_pages_per_host=max_pages,
                      on_page=on_page)
    console.print(t(f"扫描完成：{len(result.urls)} 个网址，{result.captures} 次抓取，{len(result.findings)} 条发现，"
                    f"{result.indicators} 条线索，用时 {result.seconds:.1f} 秒（运行 {result.run_id}）。",
                    f"Scan done: {len(result.urls)} URLs, {result.captures} captures, {len(result.findings)} findings, "
                    f"{result.indicators} indicators in {result.seconds:.1f} s (run {result.run_id})."))
    for f in result.findings:
        zh, en = RULE_NAMES.get(f.rule_id, (f.rule_id, f.rule_id))
        # page titles and URLs in explanations come from the scanned sites: never markup
        console.print(f"[bold]{t(zh, en)}[/] [dim]{f.rule_id}[/] {escape(f.subject_key)}\n  "
                      f"{escape(t(f.explanation_zh, f.explanation_en))}")
    if result.skipped:
        console.print(t(f"因 robots.txt 跳过 {len(result.skipped)} 个网址（本单位网站可加 --own-sites）。",
                        f"{len(result.skipped)} URLs skipped by robots.txt (use --own-sites for your own sites)."))
    if result.over_budget:
        hosts = "、".join(sorted(result.over_budget)[:5])
        console.print(t(f"{len(result.over_budget)} 个主机用完了时间预算（{budget:g} 秒），跳过其余 "
                        f"{sum(result.over_budget.values())} 次抓取：{hosts}（可用 --host-budget 调整）。",
                        f"{len(result.over_budget)} host(s) used up their time budget ({budget:g} s); "
                        f"{sum(result.over_budget.values())} fetches skipped: {hosts} (see --host-budget)."),
                      markup=False)
    if result.errors:
        kinds: dict[str, int] = {}
        for e in result.errors:
            kinds[e["error"]] = kinds.get(e["error"], 0) + 1
        console.print(t("抓取问题：", "Fetch problems: ") + "，".join(f"{k}×{n}" for k, n in kinds.items()), markup=False)


@app.command("captures")
def captures_command(
    host: str = typer.Option(None, "--host", help="只看某个主机（host:port）。"),
    limit: int = typer.Option(50, "--limit", help="最多显示几行。"),
) -> None:
    """列出抓取记录（身份、状态码、最终网址、证据哈希）。List captures."""
    from rich.table import Table

    ws = get_workspace()
    if not ws.has_table("tech_captures"):
        console.print(t("还没有抓取记录，请先运行 chainbreaker tech scan。", "No captures yet; run chainbreaker tech scan."))
        return
    con = ws.duck()
    where = "WHERE host = ?" if host else ""
    rows = con.execute(f"SELECT url, persona, status, final_url, error, capture_sha256 FROM tech_captures {where} "
                       "ORDER BY scanned_at DESC, url, persona LIMIT ?", ([host] if host else []) + [limit]).fetchall()
    table = Table()
    for col in (t("网址", "url"), t("身份", "persona"), t("状态", "status"), t("最终网址", "final url"),
                t("错误", "error"), t("证据", "evidence")):
        table.add_column(col)
    for url, persona, status, final, error, sha in rows:
        table.add_row(*(escape(str(x)) for x in (url, persona, status or "", final or "", error or "", (sha or "")[:12])))
    console.print(table)


@app.command("findings")
def findings_command(
    rule: str = typer.Option(None, "--rule", help="只看某条规则，如 inject.hidden_links。"),
    limit: int = typer.Option(100, "--limit", help="最多显示几条。"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出（含事实与证据）。"),
) -> None:
    """列出技术链发现（规则、对象、说明）。List tech-chain findings."""
    ws = get_workspace()
    if not ws.has_table("findings"):
        console.print(t("还没有发现。", "No findings yet."))
        return
    con = ws.duck()
    where = "WHERE chain = 'tech'" + (" AND rule_id = ?" if rule else "")
    rows = con.execute(f"SELECT rule_id, subject_key, score, explanation_zh, explanation_en, facts, evidence "
                       f"FROM findings {where} ORDER BY score DESC, rule_id, subject_key LIMIT ?",
                       ([rule] if rule else []) + [limit]).fetchall()
    if as_json:
        console.print_json(json.dumps([{"rule_id": r[0], "subject": r[1], "score": r[2], "explanation": t(r[3], r[4]),
                                        "facts": json.loads(r[5]), "evidence": json.loads(r[6])} for r in rows],
                                      ensure_ascii=False))
        return
    for rule_id, subject, score, zh, en, _facts, _ev in rows:
        name = RULE_NAMES.get(rule_id, (rule_id, rule_id))
        console.print(f"[bold]{t(*name)}[/] [dim]{escape(rule_id)} {score:.2f}[/] {escape(subject)}\n  {escape(t(zh, en))}")
    if not rows:
        console.print(t("没有符合条件的发现。", "No matching findings."))
