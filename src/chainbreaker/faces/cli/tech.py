"""``chainbreaker tech ...``: the tech chain's face (scan, list, classify, domains, clusters, blocklists).

Heavy imports stay inside the command bodies so that ``chainbreaker --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from chainbreaker.chains.tech.rule_names import RULE_NAMES
from chainbreaker.core.errors import InputError
from chainbreaker.faces.cli.context import STATE, claimed_role, console, get_workspace, safe, t

app = typer.Typer(no_args_is_help=True)


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

    from chainbreaker.chains.tech.fetch import FetchLimits
    from chainbreaker.chains.tech.service import scan_sites

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
            bar.update(task, description=t(f"已抓取 {count[0]:,} 个网址：{safe(url)}", f"{count[0]:,} URLs fetched: {safe(url)}"))

        result, findings = scan_sites(ws, list(targets or []), role=claimed_role(), render=render, depth=depth, own_sites=own_sites, from_file=from_file,
                      limits=limits, follow_hosts=list(follow_host or []), max_pages_per_host=max_pages,
                      on_page=on_page)
    console.print(t(f"扫描完成：{len(result.urls)} 个网址，{result.captures:,} 次抓取，{len(result.findings)} 条发现，"
                    f"{result.indicators:,} 条线索，用时 {result.seconds:.1f} 秒（运行 {safe(result.run_id)}）。",
                    f"Scan done: {len(result.urls)} URLs, {result.captures:,} captures, {len(result.findings)} findings, "
                    f"{result.indicators:,} indicators in {result.seconds:.1f} s (run {safe(result.run_id)})."))
    for f in findings:  # masked for the role by the service
        zh, en = RULE_NAMES.get(f["rule_id"], (f["rule_id"], f["rule_id"]))
        console.print(f"[bold]{safe(t(zh, en))}[/] [dim]{safe(f['rule_id'])}[/] {safe(f['subject_key'])}\n"
                      f"  {safe(t(f['explanation_zh'], f['explanation_en']), newlines=True)}")
    if result.skipped:
        console.print(t(f"因 robots.txt 跳过 {len(result.skipped)} 个网址（本单位网站可加 --own-sites）。",
                        f"{len(result.skipped)} URLs skipped by robots.txt (use --own-sites for your own sites)."))
    if result.over_budget:
        hosts = safe("、".join(sorted(result.over_budget)[:5]))
        console.print(t(f"{len(result.over_budget)} 个主机用完了时间预算（{budget:g} 秒），跳过其余 "
                        f"{sum(result.over_budget.values())} 次抓取：{hosts}（可用 --host-budget 调整）。",
                        f"{len(result.over_budget)} host(s) used up their time budget ({budget:g} s); "
                        f"{sum(result.over_budget.values())} fetches skipped: {hosts} (see --host-budget)."))
    if result.errors:
        kinds: dict[str, int] = {}
        for e in result.errors:
            kinds[e["error"]] = kinds.get(e["error"], 0) + 1
        console.print(t("抓取问题：", "Fetch problems: ") + safe("，".join(f"{k}×{n}" for k, n in kinds.items())))


@app.command("captures")
def captures_command(
    host: str = typer.Option(None, "--host", help="只看某个主机（host:port）。"),
    limit: int = typer.Option(50, "--limit", help="最多显示几行。"),
) -> None:
    """列出抓取记录（身份、状态码、最终网址、证据哈希）。List captures."""
    from rich.table import Table

    from chainbreaker.chains.tech.service import list_captures

    rows = list_captures(get_workspace(), host=host, limit=limit)
    if rows is None:
        console.print(t("还没有抓取记录，请先运行 chainbreaker tech scan。", "No captures yet; run chainbreaker tech scan."))
        return
    table = Table()
    for col in (t("网址", "url"), t("身份", "persona"), t("状态", "status"), t("最终网址", "final url"),
                t("错误", "error"), t("证据", "evidence")):
        table.add_column(safe(col))
    for r in rows:
        table.add_row(safe(r["url"]), safe(r["persona"]), safe(r["status"] or ""), safe(r["final_url"] or ""),
                      safe(r["error"] or ""), safe((r["capture_sha256"] or "")[:12]))
    console.print(table)


@app.command("findings")
def findings_command(
    rule: str = typer.Option(None, "--rule", help="只看某条规则，如 inject.hidden_links。"),
    limit: int = typer.Option(100, "--limit", help="最多显示几条。"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出（含事实与证据）。"),
) -> None:
    """列出技术链发现（规则、对象、说明）。List tech-chain findings."""
    from chainbreaker.chains.tech.service import list_findings

    rows = list_findings(get_workspace(), rule=rule, limit=limit, role=claimed_role(), user=STATE.settings.user)
    if rows is None:
        console.print(t("还没有发现。", "No findings yet."))
        return
    if as_json:  # masked for the role by the service
        console.print_json(json.dumps([{"rule_id": r["rule_id"], "subject": r["subject_key"], "score": r["score"],
                                        "explanation": t(r["explanation_zh"], r["explanation_en"]),
                                        "facts": r["facts"], "evidence": r["evidence"]} for r in rows],
                                      ensure_ascii=False))
        return
    for r in rows:
        name = RULE_NAMES.get(r["rule_id"], (r["rule_id"], r["rule_id"]))
        console.print(f"[bold]{safe(t(*name))}[/] [dim]{safe(r['rule_id'])} {r['score']:.2f}[/] {safe(r['subject_key'])}\n"
                      f"  {safe(t(r['explanation_zh'], r['explanation_en']), newlines=True)}")
    if not rows:
        console.print(t("没有符合条件的发现。", "No matching findings."))


domains_app = typer.Typer(no_args_is_help=True, help="域名模型：训练与批量识别裸域名列表。Domain-name model.")
app.add_typer(domains_app, name="domains")


@app.command("classify")
def classify_command(
    files: list[Path] = typer.Argument(..., help="保存的网页 HTML 文件。"),
    url: str = typer.Option("", "--url", help="页面地址（仅用于说明）。"),
    lexicon: Path = typer.Option(None, "--lexicon", help="替换内置词库的 YAML 文件（格式同 tech/lexicon.yaml）。"),
    model: bool = typer.Option(True, "--model/--no-model", help="若工作区已训练页面模型则融合其得分。"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON（每个文件一行）。"),
) -> None:
    """判定网页是否为赌博页面并给出理由。Classify saved pages as gambling or not, with reasons."""
    import json

    from chainbreaker.chains.tech.service import classify_files

    root = Path(STATE.workspace or STATE.settings.workspace)  # not created just to look for a model
    for file, verdict in classify_files(list(files), workspace_root=root, url=url, lexicon=lexicon, model=model):
        if as_json:
            console.print_json(json.dumps({"file": str(file), "score": verdict.score, "is_gambling": verdict.is_gambling,
                                           "rule_score": verdict.rule_score, "model_score": verdict.model_score,
                                           "reasons": verdict.reasons, "explanation_zh": verdict.explanation_zh,
                                           "explanation_en": verdict.explanation_en}, ensure_ascii=False))
        else:
            console.print(f"[bold]{safe(file)}[/bold]  {verdict.score:.2f}  "
                          + (t("赌博", "GAMBLING") if verdict.is_gambling else t("非赌博", "not gambling")))
            console.print("  " + safe(t(verdict.explanation_zh, verdict.explanation_en), newlines=True))


@app.command("train-pages")
def train_pages_command(
    labels: Path = typer.Option(..., "--labels", help="标注文件 CSV/JSONL：label 加 file|html|text|capture_sha256 列。"),
    blend: float = typer.Option(0.5, "--blend", min=0.0, max=1.0, help="模型得分在最终得分中的权重（其余为规则得分）。"),
    c: float = typer.Option(1.0, "--c", min=1e-4, help="逻辑回归正则化强度 C（越小越保守）。"),
) -> None:
    """用分析员标注的页面训练页面模型（存入工作区 config/models）。Train the page model on labelled pages."""
    from chainbreaker.chains.tech.service import train_pages

    r = train_pages(get_workspace(), labels, blend=blend, c=c, role=claimed_role(), user=STATE.settings.user)
    n_gambling, acc, saved, n_pages = safe(r["gambling"]), safe(r["cv_accuracy"]), safe(r["path"]), safe(r["pages"])
    console.print(t(f"已训练页面模型：{n_pages} 个页面（赌博 {n_gambling}），交叉验证准确率 {acc}，保存到 {saved}",
                    f"Trained page model on {n_pages} pages ({n_gambling} gambling), CV accuracy {acc}; saved to {saved}"))


@domains_app.command("train")
def domains_train_command(
    data: Path = typer.Option(..., "--data", help="含 gambling_train.txt 与 benign_train.txt 的文件夹。"),
    out: Path = typer.Option(None, "--out", help="模型输出路径（默认 tech/models/domain_model.joblib，make setup 训练生成）。"),
    c: float = typer.Option(4.0, "--c", min=1e-4, help="逻辑回归正则化强度 C。"),
) -> None:
    """训练并评估域名模型（按可注册域名划分训练/验证/测试）。Train and evaluate the domain-name model."""
    import json

    from chainbreaker.chains.tech.domain_model import MODEL_PATH, train_and_evaluate

    if out is not None:  # a folder gets domain_model.joblib inside it
        from chainbreaker.core.exports import resolve_output

        out = resolve_output(out, MODEL_PATH.name)
    report = train_and_evaluate(data, c=c, out=out or MODEL_PATH)
    for name in ("fpr_0.01", "fpr_0.001"):
        m = report["test"][name]
        console.print(t(f"测试集 误报率≤{safe(name[4:])}：精确率 {m['precision']:.3f} 召回率 {m['recall']:.3f}（实际误报率 {m['fpr']:.4f}）",
                        f"Test at FPR<={safe(name[4:])}: precision {m['precision']:.3f} recall {m['recall']:.3f} (actual FPR {m['fpr']:.4f})"))
    console.print_json(json.dumps(report, ensure_ascii=False))


@domains_app.command("classify")
def domains_classify_command(
    file: Path = typer.Argument(..., help="域名列表（每行一个；可含 URL、hosts 文件行、# 注释）。"),
    model: Path = typer.Option(None, "--model", help="域名模型文件（默认 make setup 训练的模型）。"),
) -> None:
    """批量识别裸域名，结果写入 tech_domains 表。Score a list of bare domains into tech_domains."""
    from chainbreaker.chains.tech.domain_model import MODEL_PATH, classify_file

    result = classify_file(get_workspace(), file, model_path=model or MODEL_PATH)
    console.print(t(f"已识别 {result['hosts']:,} 个域名，疑似赌博 {result['gambling']:,} 个（阈值 {result['threshold']:.3f}）；"
                    f"无效行 {result['rejected']:,} 行已隔离。结果表：tech_domains",
                    f"Scored {result['hosts']:,} hosts, {result['gambling']:,} likely gambling (threshold "
                    f"{result['threshold']:.3f}); {result['rejected']:,} invalid lines quarantined. Table: tech_domains"))


@app.command("clusters")
def clusters_command(
    max_hosts: int = typer.Option(50, "--max-hosts", min=2, help="一个线索值最多出现在多少个网站上仍视为团伙关联（过滤公共设施）。"),
    template_threshold: float = typer.Option(0.8, "--template-threshold", min=0.0, max=1.0,
                                             help="页面模板（DOM 结构）相似度阈值（MinHash 估计的 Jaccard）。"),
) -> None:
    """按共用线索和页面模板聚类运营团伙，写入 tech_clusters。Group sites into operator clusters."""
    from chainbreaker.chains.tech.clusters import run_clusters

    clusters = run_clusters(get_workspace(), max_hosts=max_hosts, template_threshold=template_threshold)
    console.print(t(f"发现 {len(clusters)} 个团伙（结果表 tech_clusters）", f"{len(clusters)} clusters (table tech_clusters)"))
    for c in clusters[:20]:
        kinds = ", ".join(sorted({e["kind"] for e in c.shared}))
        console.print(f"  {safe(c.cluster_id)}  {len(c.hosts)}  {safe(', '.join(c.hosts[:6]))}  {safe('[' + kinds + ']')}"
                      + (t("  模板相同", "  same template") if c.templates else ""))


@app.command("blocklist")
def blocklist_command(
    format: str = typer.Option("domains", "--format", "-f", help="hosts | domains | dnsmasq | rpz | adguard | stix | misp"),
    out: Path = typer.Option(..., "--out", "-o", help="输出文件。"),
    allowlist: Path = typer.Option(None, "--allowlist", help="白名单文件（每行一个域名，含其子域名）。"),
    min_score: float = typer.Option(0.5, "--min-score", min=0.0, max=1.0, help="域名模型结果的最低得分。"),
) -> None:
    """导出封堵清单（可注册域名与主机名，附理由）。Export a blocklist with reasons."""
    from chainbreaker.chains.tech.blocklist import blocklist_file_name, write_blocklist
    from chainbreaker.core.exports import resolve_output

    out = resolve_output(out, blocklist_file_name(format.lower()))  # a folder gets the list inside it
    result = write_blocklist(get_workspace(), format.lower(), out, allowlist=allowlist, min_score=min_score,
                             role=claimed_role(), user=STATE.settings.user)
    skipped = safe(", ".join(f"{k} {v}" for k, v in result["skipped"].items()) or "-")
    console.print(t(f"已写入 {result['entries']:,} 条（其中可注册域名 {result['domains']:,} 条）到 {safe(out)}；跳过：{skipped}",
                    f"Wrote {result['entries']:,} entries ({result['domains']:,} registrable domains) to {safe(out)}; skipped: {skipped}"))
