"""Tech-chain intelligence commands: classify, train-pages, domains, clusters, blocklist.

Heavy libraries are imported inside the command bodies (``chainbreaker --help`` stays fast).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from chainbreaker.cli.context import STATE, console, get_workspace, t
from chainbreaker.tech.cli_app import app

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

    from chainbreaker.errors import InputError
    from chainbreaker.tech import page_model
    from chainbreaker.tech.classify import classify_page, load_lexicon

    lex = load_lexicon(str(lexicon)) if lexicon else None
    if model:  # without creating a workspace folder just to look for a model
        root = Path(STATE.workspace or STATE.settings.workspace)
        trained = root / "config" / "models" / page_model.MODEL_FILE
        page_model.use_page_model(trained if trained.exists() else None)
    for file in files:
        if not file.is_file():
            raise InputError(f"文件不存在：{file}", f"File not found: {file}")
        html = file.read_bytes()[:20_000_000].decode("utf-8", errors="replace")
        verdict = classify_page(html, "", url or file.name, lexicon=lex)
        if as_json:
            console.print_json(json.dumps({"file": str(file), "score": verdict.score, "is_gambling": verdict.is_gambling,
                                           "rule_score": verdict.rule_score, "model_score": verdict.model_score,
                                           "reasons": verdict.reasons, "explanation_zh": verdict.explanation_zh,
                                           "explanation_en": verdict.explanation_en}, ensure_ascii=False))
        else:
            console.print(f"[bold]{escape(str(file))}[/bold]  {verdict.score:.2f}  "
                          + (t("赌博", "GAMBLING") if verdict.is_gambling else t("非赌博", "not gambling")))
            console.print("  " + t(verdict.explanation_zh, verdict.explanation_en), markup=False)


@app.command("train-pages")
def train_pages_command(
    labels: Path = typer.Option(..., "--labels", help="标注文件 CSV/JSONL：label 加 file|html|text|capture_sha256 列。"),
    blend: float = typer.Option(0.5, "--blend", min=0.0, max=1.0, help="模型得分在最终得分中的权重（其余为规则得分）。"),
    c: float = typer.Option(1.0, "--c", min=1e-4, help="逻辑回归正则化强度 C（越小越保守）。"),
) -> None:
    """用分析员标注的页面训练页面模型（存入工作区 config/models）。Train the page model on labelled pages."""
    from chainbreaker.tech.page_model import read_labels, train_page_model, workspace_model_path

    ws = get_workspace()
    pages = read_labels(labels, ws)
    model = train_page_model(pages, blend=blend, c=c)
    path = workspace_model_path(ws)
    model.meta["labels_file"] = str(labels)
    model.save(path)
    ws.audit("tech.train_pages", labels=str(labels), pages=len(pages), path=str(path))
    cv = model.meta.get("cv_accuracy")
    console.print(t(f"已训练页面模型：{len(pages)} 个页面（赌博 {model.meta['gambling']}），交叉验证准确率 {cv}，保存到 {path}",
                    f"Trained page model on {len(pages)} pages ({model.meta['gambling']} gambling), CV accuracy {cv}; saved to {path}"),
                  markup=False)


@domains_app.command("train")
def domains_train_command(
    data: Path = typer.Option(..., "--data", help="含 gambling_train.txt 与 benign_train.txt 的文件夹。"),
    out: Path = typer.Option(None, "--out", help="模型输出路径（默认覆盖内置模型 tech/models/domain_model.joblib）。"),
    c: float = typer.Option(4.0, "--c", min=1e-4, help="逻辑回归正则化强度 C。"),
) -> None:
    """训练并评估域名模型（按可注册域名划分训练/验证/测试）。Train and evaluate the domain-name model."""
    import json

    from chainbreaker.tech.domain_model import MODEL_PATH, train_and_evaluate

    if out is not None:  # a folder gets domain_model.joblib inside it
        from chainbreaker.exports import resolve_output

        out = resolve_output(out, MODEL_PATH.name)
    report = train_and_evaluate(data, c=c, out=out or MODEL_PATH)
    for name in ("fpr_0.01", "fpr_0.001"):
        m = report["test"][name]
        console.print(t(f"测试集 误报率≤{name[4:]}：精确率 {m['precision']:.3f} 召回率 {m['recall']:.3f}（实际误报率 {m['fpr']:.4f}）",
                        f"Test at FPR<={name[4:]}: precision {m['precision']:.3f} recall {m['recall']:.3f} (actual FPR {m['fpr']:.4f})"))
    console.print_json(json.dumps(report, ensure_ascii=False))


@domains_app.command("classify")
def domains_classify_command(
    file: Path = typer.Argument(..., help="域名列表（每行一个；可含 URL、hosts 文件行、# 注释）。"),
    model: Path = typer.Option(None, "--model", help="域名模型文件（默认内置模型）。"),
) -> None:
    """批量识别裸域名，结果写入 tech_domains 表。Score a list of bare domains into tech_domains."""
    from chainbreaker.tech.domain_model import MODEL_PATH, classify_file

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
    from chainbreaker.tech.clusters import run_clusters

    clusters = run_clusters(get_workspace(), max_hosts=max_hosts, template_threshold=template_threshold)
    console.print(t(f"发现 {len(clusters)} 个团伙（结果表 tech_clusters）", f"{len(clusters)} clusters (table tech_clusters)"))
    for c in clusters[:20]:
        kinds = ", ".join(sorted({e["kind"] for e in c.shared}))
        console.print(f"  {c.cluster_id}  {len(c.hosts)}  {', '.join(c.hosts[:6])}  [{kinds}]"
                      + (t("  模板相同", "  same template") if c.templates else ""), markup=False)


@app.command("blocklist")
def blocklist_command(
    format: str = typer.Option("domains", "--format", "-f", help="hosts | domains | dnsmasq | rpz | adguard | stix | misp"),
    out: Path = typer.Option(..., "--out", "-o", help="输出文件。"),
    allowlist: Path = typer.Option(None, "--allowlist", help="白名单文件（每行一个域名，含其子域名）。"),
    min_score: float = typer.Option(0.5, "--min-score", min=0.0, max=1.0, help="域名模型结果的最低得分。"),
) -> None:
    """导出封堵清单（可注册域名与主机名，附理由）。Export a blocklist with reasons."""
    from chainbreaker.exports import resolve_output
    from chainbreaker.tech.blocklist import blocklist_file_name, write_blocklist

    out = resolve_output(out, blocklist_file_name(format.lower()))  # a folder gets the list inside it
    result = write_blocklist(get_workspace(), format.lower(), out, allowlist=allowlist, min_score=min_score)
    skipped = ", ".join(f"{k} {v}" for k, v in result["skipped"].items()) or "-"
    console.print(t(f"已写入 {result['entries']} 条（其中可注册域名 {result['domains']} 条）到 {out}；跳过：{skipped}",
                    f"Wrote {result['entries']} entries ({result['domains']} registrable domains) to {out}; skipped: {skipped}"),
                  markup=False)
