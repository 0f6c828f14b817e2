"""``chainbreaker synth ...``: generate synthetic data with ground truth.

Each generator is one small command; other chains add theirs with ``@app.command(...)`` in this
module (import their generator inside the command body to keep ``--help`` fast).
"""

from __future__ import annotations

from pathlib import Path

import typer

from chainbreaker.cli.context import console, t

app = typer.Typer(no_args_is_help=True)


@app.command("bank")
def bank_command(
    out: Path = typer.Option(..., "--out", "-o", help="输出文件夹（将写入 statements/ 与 truth/）。"),
    transactions: int = typer.Option(20000, "--transactions", "-n", min=5000,
                                     help="交易笔数（≥5000；调单文件逐行写出，适合不超过约 50 万笔）。"),
    seed: int = typer.Option(7, "--seed", help="随机种子：同一种子生成完全相同的数据。"),
    parquet: bool = typer.Option(False, "--parquet",
                                 help="只写规范化 Parquet 表（快速路径，可达千万笔），不写调单文件。"),
) -> None:
    """生成模拟省份的银行调单（多种真实格式、含脏数据）及真值。Generate a synthetic province's bank statements."""
    import time

    from chainbreaker.synth.bank import generate_province, write_transactions_parquet

    start = time.perf_counter()
    if parquet:
        counts = write_transactions_parquet(out, transactions, seed)
        console.print(t(f"已写出 {counts['transactions']:,} 笔交易、{counts['truth']:,} 个账户真值到 {out}"
                        f"（{time.perf_counter() - start:.1f} 秒）",
                        f"Wrote {counts['transactions']:,} transactions and truth for {counts['truth']:,} accounts "
                        f"to {out} ({time.perf_counter() - start:.1f} s)"))
        return
    with console.status(t("正在生成调单文件……", "Writing statement files...")):
        p = generate_province(out, transactions, seed)
    ops = len(p.gambling_accounts)
    console.print(t(
        f"已生成 {p.n_transactions:,} 笔交易：{p.requests} 个调单文件夹、{len(p.files)} 个文件、"
        f"{len(p.dirty_rows)} 行脏数据（应被隔离）、{ops} 个赌博团伙账户（真值）。用时 {time.perf_counter() - start:.1f} 秒。\n"
        f"调单：{p.statements_dir}\n真值：{p.truth_dir}",
        f"Generated {p.n_transactions:,} transactions: {p.requests} request folders, {len(p.files)} files, "
        f"{len(p.dirty_rows)} dirty rows (to be quarantined), {ops} gambling-operation accounts (truth) "
        f"in {time.perf_counter() - start:.1f} s.\nStatements: {p.statements_dir}\nTruth: {p.truth_dir}",
    ))
