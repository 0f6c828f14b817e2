"""``chainbreaker demo``: runs the demo pipeline (faces/reports/demo/pipeline.py) and prints its figures."""

from __future__ import annotations

from pathlib import Path

import typer

from chainbreaker.faces.cli.context import STATE, console, get_workspace, safe, t

DEFAULT_TRANSACTIONS = 20_000  # the pipeline's default (kept here so --help does not import it)


def demo_command(
    out: Path = typer.Option(..., "--out", "-o", help="报告输出文件夹（写入 index.html 与模拟省份数据）。"),
    transactions: int = typer.Option(DEFAULT_TRANSACTIONS, "--transactions", "-n", min=5000,
                                     help="模拟省份的交易笔数（默认 2 万笔，整个演示约 1 分钟）。"),
    seed: int = typer.Option(7, "--seed", help="随机种子（同一种子结果相同）。"),
) -> None:
    """演示：生成模拟省份 → 导入调单 → 筛查 → 穿透 → 建议调单 → HTML 报告。Run the end-to-end demo."""
    from chainbreaker.faces.cli.progress import bank_progress
    from chainbreaker.faces.reports.demo.pipeline import run_demo_pipeline

    ws = get_workspace()
    result = run_demo_pipeline(ws, out, transactions=transactions, seed=seed, lang=STATE.lang,
                               step=_step, ingest_progress=bank_progress)
    m = result["metrics"]
    console.print(t(
        f"召回率 {m['recall_flagged']:.2f}，精确率 {m['precision']:.2f}（得分 ≥ {m['threshold']:g}），"
        f"用时 {result['seconds']:.0f} 秒。",
        f"Recall {m['recall_flagged']:.2f}, precision {m['precision']:.2f} (score ≥ {m['threshold']:g}), "
        f"{result['seconds']:.0f} s."))
    console.print(t(f"报告已写出：{safe(result['report'])}", f"Report written: {safe(result['report'])}"))


def _step(zh: str, en: str) -> None:
    console.print(f"[bold cyan]▶[/] {safe(t(zh, en))}")
