"""``chainbreaker demo``: generate a province, ingest it, screen, trace, suggest, and report.

The pipeline is the real one (H1's ingest, H3's screening/trace/suggest on the workspace); the
synthetic ground truth only adds the recall/precision figures to the report. Every other chain's
``chainbreaker.<chain>.demo.run_demo`` section is included; a failing section shows its error.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import typer

from chainbreaker.faces.cli.context import STATE, console, get_workspace, safe, t

DEFAULT_TRANSACTIONS = 20_000
TOP_N = 15


def demo_command(
    out: Path = typer.Option(..., "--out", "-o", help="报告输出文件夹（写入 index.html 与模拟省份数据）。"),
    transactions: int = typer.Option(DEFAULT_TRANSACTIONS, "--transactions", "-n", min=5000,
                                     help="模拟省份的交易笔数（默认 2 万笔，整个演示约 1 分钟）。"),
    seed: int = typer.Option(7, "--seed", help="随机种子（同一种子结果相同）。"),
) -> None:
    """演示：生成模拟省份 → 导入调单 → 筛查 → 穿透 → 建议调单 → HTML 报告。Run the end-to-end demo."""
    ws = get_workspace()
    result = run_demo_pipeline(ws, out, transactions=transactions, seed=seed, lang=STATE.lang, progress=True)
    m = result["metrics"]
    console.print(t(
        f"召回率 {m['recall_flagged']:.2f}，精确率 {m['precision']:.2f}（得分 ≥ {m['threshold']:g}），"
        f"用时 {result['seconds']:.0f} 秒。",
        f"Recall {m['recall_flagged']:.2f}, precision {m['precision']:.2f} (score ≥ {m['threshold']:g}), "
        f"{result['seconds']:.0f} s."))
    console.print(t(f"报告已写出：{safe(result['report'])}", f"Report written: {safe(result['report'])}"))


def _step(progress: bool, zh: str, en: str) -> None:
    if progress:
        console.print(f"[bold cyan]▶[/] {safe(t(zh, en))}")


def run_demo_pipeline(ws: Any, out: Path, transactions: int = DEFAULT_TRANSACTIONS, seed: int = 7,
                      lang: str = "zh", progress: bool = False,
                      sections: dict[str, str] | None = None) -> dict[str, Any]:
    """Run the whole demo into workspace ``ws``; write ``out/index.html``; return what it showed.

    ``sections`` (chain -> ``module:function``) replaces the chain registry's demo sections.
    """
    import shutil

    from chainbreaker.core.exports import output_file, resolve_output_dir
    from chainbreaker.faces.reports.demo_report import (
        collect_sections,
        evaluate,
        render_demo_report,
        trace_picture,
    )
    from chainbreaker.synth.bank import generate_province

    started = time.perf_counter()
    out = resolve_output_dir(out)  # an existing file is a clear error, not a traceback
    province_dir = out / "province"
    if (province_dir / "truth" / "accounts.csv").exists():
        shutil.rmtree(province_dir)  # our own previous demo data: regenerate (identical for a seed)
    timings: dict[str, float] = {}

    def timed(name: str, t0: float) -> None:
        timings[name] = round(time.perf_counter() - t0, 2)

    t0 = time.perf_counter()
    _step(progress, f"生成模拟省份（{transactions:,} 笔交易）……", f"Generating a province ({transactions:,} transactions)...")
    province = generate_province(province_dir, transactions, seed)
    timed("generate", t0)

    from chainbreaker.chains.funds.bank.service import ingest_bank

    t0 = time.perf_counter()
    _step(progress, "导入调单……", "Ingesting statements...")
    ingest = ingest_bank(ws, [province.statements_dir], progress=progress)
    timed("ingest", t0)

    from chainbreaker.chains.funds.screen import screen

    t0 = time.perf_counter()
    _step(progress, "资金筛查……", "Screening accounts...")
    screened = screen(ws)
    timed("screen", t0)
    risk = ws.read_arrow("account_risk")
    metrics = evaluate(risk, province.tables.truth, ws)

    top_account = risk.sort_by("rank")["account"][0].as_py() if risk.num_rows else None
    trace_info: dict[str, Any] = {"account": top_account, "error": None}
    if top_account:
        t0 = time.perf_counter()
        _step(progress, f"穿透排名第一的账户 {top_account}……", f"Tracing the top account {top_account}...")
        try:
            from chainbreaker.chains.funds.trace import trace

            tr = trace(ws, top_account, direction="down", hops=5)
            trace_info.update(trace_picture(tr, risk, province.tables.truth, ws, lang))
        except Exception as exc:  # noqa: BLE001 - the report shows what went wrong
            trace_info["error"] = f"{type(exc).__name__}: {exc}"
        timed("trace", t0)

    t0 = time.perf_counter()
    _step(progress, "生成建议调单……", "Suggesting next requests...")
    suggestions: list[dict[str, Any]] = []
    suggest_error = None
    try:
        from chainbreaker.chains.funds.suggest import suggest

        suggestions = suggest(ws, limit=TOP_N).to_pylist()
    except Exception as exc:  # noqa: BLE001
        suggest_error = f"{type(exc).__name__}: {exc}"
    timed("suggest", t0)

    t0 = time.perf_counter()
    _step(progress, "收集其他链条的演示……", "Collecting the other chains' demo sections...")
    parts = collect_sections(ws, out, lang, sections)
    timed("sections", t0)

    report = out / "index.html"
    seconds = time.perf_counter() - started
    context = {
        "lang": lang, "seed": seed, "transactions": transactions, "province": province, "ingest": ingest,
        "screen": screened, "risk": risk, "metrics": metrics, "trace": trace_info, "suggestions": suggestions,
        "suggest_error": suggest_error, "sections": parts, "timings": timings, "seconds": seconds,
        "workspace": str(ws.root),
    }
    page = render_demo_report(context, ws)
    with output_file(ws, report, "demo.report", transactions=transactions, seed=seed) as target:
        target.path.write_text(page, encoding="utf-8")
    return {"report": report, "metrics": metrics, "seconds": seconds, "sections": parts, "timings": timings,
            "trace": trace_info, "suggestions": suggestions, "context": context}
