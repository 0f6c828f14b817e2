"""The demo pipeline: generate a province, ingest it, screen, trace, suggest, and write the report.

The pipeline is the real one (bank ingest, screening, trace and suggestions on the workspace); the
synthetic ground truth only adds the recall/precision figures to the report. Every registered
chain's demo section (chains/registry.py) is included; a failing section shows its error. Faces
(``chainbreaker demo``, tests, the coming web face) call ``run_demo_pipeline`` and render its result.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chainbreaker.core.progress import ProgressFactory

DEFAULT_TRANSACTIONS = 20_000
TOP_N = 15


def run_demo_pipeline(ws: Any, out: Path, transactions: int = DEFAULT_TRANSACTIONS, seed: int = 7,
                      lang: str = "zh", *, step: Callable[[str, str], None] | None = None,
                      ingest_progress: ProgressFactory | None = None,
                      sections: dict[str, str] | None = None) -> dict[str, Any]:
    """Run the whole demo into workspace ``ws``; write ``out/index.html``; return what it showed.

    ``step(zh, en)`` is told each step as it starts and ``ingest_progress`` shows the ingest (the CLI
    prints and draws a bar; None stays quiet). ``sections`` (chain -> ``module:function``) replaces
    the chain registry's demo sections.
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

    def _step(zh: str, en: str) -> None:
        if step is not None:
            step(zh, en)

    started = time.perf_counter()
    out = resolve_output_dir(out)  # an existing file is a clear error, not a traceback
    province_dir = out / "province"
    if (province_dir / "truth" / "accounts.csv").exists():
        shutil.rmtree(province_dir)  # our own previous demo data: regenerate (identical for a seed)
    timings: dict[str, float] = {}

    def timed(name: str, t0: float) -> None:
        timings[name] = round(time.perf_counter() - t0, 2)

    t0 = time.perf_counter()
    _step(f"生成模拟省份（{transactions:,} 笔交易）……", f"Generating a province ({transactions:,} transactions)...")
    province = generate_province(province_dir, transactions, seed)
    timed("generate", t0)

    from chainbreaker.chains.funds.bank.service import ingest_bank

    t0 = time.perf_counter()
    _step("导入调单……", "Ingesting statements...")
    ingest = ingest_bank(ws, [province.statements_dir], progress=ingest_progress)
    timed("ingest", t0)

    from chainbreaker.chains.funds.screen import screen

    t0 = time.perf_counter()
    _step("资金筛查……", "Screening accounts...")
    screened = screen(ws)
    timed("screen", t0)
    risk = ws.read_arrow("account_risk")
    metrics = evaluate(risk, province.tables.truth, ws)

    top_account = risk.sort_by("rank")["account"][0].as_py() if risk.num_rows else None
    trace_info: dict[str, Any] = {"account": top_account, "error": None}
    if top_account:
        t0 = time.perf_counter()
        _step(f"穿透排名第一的账户 {top_account}……", f"Tracing the top account {top_account}...")
        try:
            from chainbreaker.chains.funds.trace import trace

            tr = trace(ws, top_account, direction="down", hops=5)
            trace_info.update(trace_picture(tr, risk, province.tables.truth, ws, lang))
        except Exception as exc:  # noqa: BLE001 - the report shows what went wrong
            trace_info["error"] = f"{type(exc).__name__}: {exc}"
        timed("trace", t0)

    t0 = time.perf_counter()
    _step("生成建议调单……", "Suggesting next requests...")
    suggestions: list[dict[str, Any]] = []
    suggest_error = None
    try:
        from chainbreaker.chains.funds.suggest import suggest

        suggestions = suggest(ws, limit=TOP_N).to_pylist()
    except Exception as exc:  # noqa: BLE001
        suggest_error = f"{type(exc).__name__}: {exc}"
    timed("suggest", t0)

    t0 = time.perf_counter()
    _step("收集其他链条的演示……", "Collecting the other chains' demo sections...")
    parts = collect_sections(ws, out, lang, sections)
    timed("sections", t0)

    from chainbreaker.intel.link import link

    t0 = time.perf_counter()
    _step("跨链关联……", "Linking the chains...")
    linked = link(ws)  # after every chain ran: the result does not depend on their order
    timed("link", t0)

    report = out / "index.html"
    seconds = time.perf_counter() - started
    context = {
        "lang": lang, "seed": seed, "transactions": transactions, "province": province, "ingest": ingest,
        "screen": screened, "risk": risk, "metrics": metrics, "trace": trace_info, "suggestions": suggestions,
        "suggest_error": suggest_error, "sections": parts, "links": linked, "timings": timings,
        "seconds": seconds,
        "workspace": str(ws.root),
    }
    page = render_demo_report(context, ws)
    with output_file(ws, report, "demo.report", transactions=transactions, seed=seed) as target:
        target.path.write_text(page, encoding="utf-8")
    return {"report": report, "metrics": metrics, "seconds": seconds, "sections": parts, "timings": timings,
            "trace": trace_info, "suggestions": suggestions, "links": linked, "context": context}
