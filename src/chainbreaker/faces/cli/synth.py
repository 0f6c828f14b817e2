"""``chainbreaker synth ...``: generate synthetic data with ground truth.

Each generator is one small command; other chains add theirs with ``@app.command(...)`` in this
module (import their generator inside the command body to keep ``--help`` fast).
"""

from __future__ import annotations

from pathlib import Path

import typer

from chainbreaker.faces.cli.context import console, safe, t

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

    from chainbreaker.core.exports import resolve_output_dir
    from chainbreaker.synth.bank import generate_province, write_transactions_parquet

    out = resolve_output_dir(out)  # a file there is a clear error
    start = time.perf_counter()
    if parquet:
        counts = write_transactions_parquet(out, transactions, seed)
        console.print(t(f"已写出 {counts['transactions']:,} 笔交易、{counts['truth']:,} 个账户真值到 {safe(out)}"
                        f"（{time.perf_counter() - start:.1f} 秒）",
                        f"Wrote {counts['transactions']:,} transactions and truth for {counts['truth']:,} accounts "
                        f"to {safe(out)} ({time.perf_counter() - start:.1f} s)"))
        return
    with console.status(t("正在生成调单文件……", "Writing statement files...")):
        p = generate_province(out, transactions, seed)
    ops = len(p.gambling_accounts)
    console.print(t(
        f"已生成 {p.n_transactions:,} 笔交易：{p.requests:,} 个调单文件夹、{len(p.files):,} 个文件、"
        f"{len(p.dirty_rows):,} 行脏数据（应被隔离）、{ops:,} 个赌博团伙账户（真值）。用时 {time.perf_counter() - start:.1f} 秒。\n"
        f"调单：{safe(p.statements_dir)}\n真值：{safe(p.truth_dir)}",
        f"Generated {p.n_transactions:,} transactions: {p.requests:,} request folders, {len(p.files):,} files, "
        f"{len(p.dirty_rows):,} dirty rows (to be quarantined), {ops:,} gambling-operation accounts (truth) "
        f"in {time.perf_counter() - start:.1f} s.\nStatements: {safe(p.statements_dir)}\nTruth: {safe(p.truth_dir)}",
    ))


@app.command("platform")
def platform_command(
    out: Path = typer.Argument(..., help="输出文件夹。"),
    kind: str = typer.Option("pyramid", "--kind", help="pyramid 六级代理（总监-大股东-股东-总代理-代理-会员）| quanmin 全民代理。"),
    members: int = typer.Option(2000, "--members", min=50, help="会员数（约数；另加循环与临界值测试分支）。"),
    bets: int = typer.Option(40000, "--bets", min=0, help="注单数。"),
    seed: int = typer.Option(7, "--seed", help="随机种子。"),
    formats: str = typer.Option("csv,mysql,sqlite", "--formats", help="导出格式，逗号分隔：csv,xlsx,mysql,sqlite。"),
) -> None:
    """生成模拟赌博平台数据库（带 agent_metrics 真值）。Generate a synthetic gambling-platform database."""
    from chainbreaker.core.errors import InputError
    from chainbreaker.synth.platform import DIALECTS, export_platform, generate_platform

    if kind not in DIALECTS:
        raise InputError(f"平台结构 {kind} 无效，可选：{'、'.join(DIALECTS)}", f"Unknown kind {kind}; use {list(DIALECTS)}")
    from chainbreaker.core.exports import resolve_output_dir

    out = resolve_output_dir(out)
    p = generate_platform(kind, members, bets, seed=seed)
    written = export_platform(p, out, formats=tuple(f.strip() for f in formats.split(",") if f.strip()))
    console.print(t(f"已生成平台 {safe(p.name)}：会员 {p.n_members:,} 个、注单 {len(p.bets['member']):,} 笔。",
                    f"Generated platform {safe(p.name)}: {p.n_members:,} members, {len(p.bets['member']):,} bets."))
    for fmt, path in written.items():
        console.print(f"  {safe(fmt)}: {safe(path)}")


@app.command("travel")
def travel_command(
    out: Path = typer.Option(..., "--out", "-o", help="输出文件夹（写入 travel/ 与 truth/）。"),
    people: int = typer.Option(3000, "--people", "-n", min=100, help="出行人数（文件逐行写出，适合不超过约 20 万人）。"),
    seed: int = typer.Option(7, "--seed", help="随机种子：同一种子生成完全相同的数据。"),
) -> None:
    """生成模拟省份的出入境、民航、铁路、旅店、亲属关系记录（真实列名、含脏数据）及真值。Generate travel records."""
    from chainbreaker.core.exports import resolve_output_dir
    from chainbreaker.synth.travel import write_travel_files

    out = resolve_output_dir(out)
    data = write_travel_files(out, people, seed)
    console.print(t(f"已生成出入境记录 {data.crossings.num_rows:,} 条、民航 {data.flights.num_rows:,} 条、铁路 "
                    f"{data.trains.num_rows:,} 条、旅店 {data.hotels.num_rows:,} 条、亲属关系 {data.kin.num_rows:,} 条；"
                    f"真值在 {safe(out / 'truth')}（滞留 {sum(data.truth_persons['stranded'].to_pylist()):,} 人，团伙 "
                    f"{data.truth_groups.num_rows:,} 个）。",
                    f"Wrote {data.crossings.num_rows:,} crossings, {data.flights.num_rows:,} flights, "
                    f"{data.trains.num_rows:,} train and {data.hotels.num_rows:,} hotel records, {data.kin.num_rows:,} "
                    f"kin pairs; truth in {safe(out / 'truth')}."))
