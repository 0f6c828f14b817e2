"""``chainbreaker ingest bank PATH...`` (registered by ``chainbreaker.cli.main``)."""

from __future__ import annotations

from pathlib import Path

import typer

from chainbreaker.cli.context import console, err_console, get_workspace, safe, t


def ingest_bank_command(
    paths: list[Path] = typer.Argument(..., help="调单文件夹、单个文件，或包含多个调单文件夹的文件夹。"),
    profile: Path = typer.Option(None, "--profile", "-p",
                                 help="YAML 列名映射（layout/columns/values），覆盖自动识别。"),
    no_progress: bool = typer.Option(False, "--no-progress", help="不显示进度条。"),
    workers: int = typer.Option(None, "--workers", "-j", min=1,
                                help="并行读取与规范化文件的进程数（默认 min(2, 文件数, CPU 核数)，数据量小时为 1；1 = 单进程）。"
                                     "结果与进程数无关。"),
) -> None:
    """导入银行调单（交易明细、账户信息、人员信息、第三方支付、转账清单）。Ingest bank statements."""

    from chainbreaker.ingest.bank.service import ingest_bank
    from chainbreaker.ingest.values import reason_zh

    ws = get_workspace()
    summary = ingest_bank(ws, list(paths), profile=profile, progress=not no_progress, workers=workers)
    for name, message in summary.files_failed:
        err_console.print(f"[yellow]{t('已跳过文件', 'Skipped file')} {safe(name)}：[/]{safe(message, newlines=True)}")
    lines = [
        t(f"导入文件：{summary.files:,}（已导入过而跳过：{summary.files_skipped_already_ingested:,}，"
          f"无法识别或读取：{len(summary.files_failed)}）",
          f"Files ingested: {summary.files:,} (already ingested, skipped: {summary.files_skipped_already_ingested:,}; "
          f"unusable: {len(summary.files_failed)})"),
        t(f"读取行数：{summary.rows_read:,}", f"Rows read: {summary.rows_read:,}"),
        t(f"保留行数：{summary.rows_kept:,}", f"Rows kept: {summary.rows_kept:,}"),
        t(f"隔离行数：{summary.rows_quarantined:,}", f"Rows quarantined: {summary.rows_quarantined:,}"),
    ]
    for code, n in sorted(summary.quarantined_by_reason.items(), key=lambda kv: -kv[1]):
        lines.append(f"  - {safe(t(reason_zh(code), code))}：{n:,}")
    lines += [
        t(f"双方重复交易合并：{summary.duplicates_merged:,}", f"Duplicates merged: {summary.duplicates_merged:,}"),
        t(f"新增交易：{summary.transfers_new:,}；账户（银行来源）：{summary.accounts:,}；新增人员：{summary.persons_new:,}",
          f"New transfers: {summary.transfers_new:,}; accounts (bank origin): {summary.accounts:,}; "
          f"new persons: {summary.persons_new:,}"),
    ]
    if summary.unknown_direction_codes:
        codes = safe("、".join(f"{k}（{v}行）" for k, v in summary.unknown_direction_codes.items()))
        target = safe(ws.config_dir / "bank_direction_codes.yaml")
        lines.append(t(f"未知的收付/借贷标志：{codes}。请在 {target} 中补充。",
                       f"Unknown direction codes: {codes}. Add them to {target}."))
    if summary.run_id is None and not summary.files:
        lines.append(t("没有新文件，工作区未改变。", "No new files; the workspace is unchanged."))
    console.print("\n".join(lines))  # rich-safe: every data piece of lines went through safe()
