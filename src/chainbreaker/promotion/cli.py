"""CLI of the promotion chain: ``chainbreaker promotion ...`` and ``chainbreaker ingest platform``.

Heavy libraries are imported inside the command bodies so that ``chainbreaker --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

from chainbreaker.cli.context import STATE, console, get_workspace, t

app = typer.Typer(no_args_is_help=True)


def ingest_platform_command(
    path: Path = typer.Argument(..., help="平台数据：CSV/XLSX 文件夹、MySQL 转储（.sql）或 SQLite 文件。"),
    platform: str = typer.Option(..., "--platform", help="平台名称（同一工作区可容纳多个平台）。"),
    profile: Path = typer.Option(None, "--profile", help="YAML 映射配置：指定表类型与列名。"),
) -> None:
    """导入赌博平台数据库（会员、注单、充值、提现、佣金）。Ingest a seized platform database."""
    from chainbreaker.promotion.ingest import ingest_platform

    ws = get_workspace()
    s = ingest_platform(ws, path, platform, profile)
    if "all_files_already_ingested" in s.notes:
        console.print(t(f"文件均已导入过（{s.files} 个），未做改动。", f"All {s.files} files were already ingested; nothing changed."))
        return
    console.print(t(f"平台“{platform}”：读取 {s.rows_read:,} 行，来自 {s.files} 个文件（跳过已导入 {s.files_skipped_already_ingested} 个）。",
                    f"Platform '{platform}': read {s.rows_read:,} rows from {s.files} files "
                    f"({s.files_skipped_already_ingested} already ingested)."))
    kinds_zh = {"members": "会员", "bets": "注单", "deposits": "充值", "withdrawals": "提现", "rebates": "佣金/返水"}
    for src, kind in s.tables.items():
        console.print(f"  {src} → {t(kinds_zh[kind], kind)}")
    for kind, n in s.rows_kept.items():
        console.print(t(f"  保留 {kinds_zh[kind]} {n:,} 行", f"  kept {n:,} {kind} rows"))
    if s.quarantined_by_reason:
        from chainbreaker.ingest.values import reason_zh
        console.print(t("隔离的行（见 quarantine 表）：", "Quarantined rows (see table quarantine):"))
        for code, n in s.quarantined_by_reason.items():
            console.print(f"  {reason_zh(code) if STATE.lang == 'zh' else code}: {n:,}")
    for note in s.notes:
        if note.startswith("unrecognised:"):
            console.print(t(f"[yellow]未识别的表：{note.split(':', 1)[1]}（其行已隔离；可用 --profile 指定 kind）[/]",
                            f"[yellow]Unrecognised table: {note.split(':', 1)[1]} (rows quarantined; use --profile)[/]"))


@app.command("analyze")
def analyze_command(
    platform: str = typer.Option(None, "--platform", help="只分析该平台（默认全部平台）。"),
    basis: str = typer.Option(None, "--basis", help="赌资认定口径：stake 投注金额（默认）| payout 派彩 | deposit 充值。"),
    thresholds: Path = typer.Option(None, "--thresholds", help="额外的阈值覆盖 YAML（在工作区 config/promotion_thresholds.yaml 之后生效）。"),
    persons: Path = typer.Option(None, "--persons", help="人员合并覆盖 YAML（默认工作区 config/promotion_persons.yaml）。"),
) -> None:
    """重建代理层级、伞下统计、人员去重并评估定罪量刑标准。Agent tree, downline metrics, thresholds."""
    from chainbreaker.promotion.analyze import analyze

    r = analyze(get_workspace(), platform, basis=basis, thresholds=thresholds, persons=persons)
    console.print(t(f"平台：{'、'.join(r.platforms)}；会员 {r.members:,} 个，代理 {r.agents:,} 个，最深 {r.levels} 层。",
                    f"Platforms: {', '.join(r.platforms)}; {r.members:,} members, {r.agents:,} agents, {r.levels} levels."))
    console.print(t(f"赌资口径：{r.basis}；规则版本 {r.rules_version}；去重合并账号 {r.persons.get('accounts_merged_away', 0):,} 个。",
                    f"Basis: {r.basis}; rules {r.rules_version}; {r.persons.get('accounts_merged_away', 0):,} accounts merged."))
    console.print(t(f"结构问题：自我推荐 {r.issues['self_references']}，孤儿 {r.issues['orphans']}，循环 {r.issues['cycles']}，顶级账号 {r.issues['roots']}。",
                    f"Tree issues: self-references {r.issues['self_references']}, orphans {r.issues['orphans']}, "
                    f"cycles {r.issues['cycles']}, roots {r.issues['roots']}."))
    for rule, n in r.findings_by_rule.items():
        console.print(f"  {rule}: {n:,}")
    console.print(t(f"运行编号 {r.run_id}", f"Run {r.run_id}"))


@app.command("workbook")
def workbook_command(
    member_id: str = typer.Argument(..., help="会员ID。"),
    out: Path = typer.Option(..., "--out", "-o", help="输出 XLSX 文件（给文件夹则写入其中的 证据工作簿_会员ID.xlsx）。"),
    platform: str = typer.Option(None, "--platform", help="平台名称（会员ID在多个平台出现时必填）。"),
    basis: str = typer.Option(None, "--basis", help="赌资认定口径（默认同规则配置）。"),
) -> None:
    """生成某会员/代理的证据工作簿（中文）。Evidence workbook for one member."""
    from chainbreaker.exports import resolve_output
    from chainbreaker.promotion.workbook import workbook_file_name, write_workbook

    out = resolve_output(out, workbook_file_name(member_id))  # a folder gets the workbook inside it
    counts = write_workbook(get_workspace(), member_id, out, platform, basis,
                            user=STATE.settings.user, role=STATE.settings.role)
    console.print(t(f"已写入 {out}：伞下会员 {counts.get('伞下会员', 0):,} 行。",
                    f"Wrote {out}: {counts.get('伞下会员', 0):,} downline rows."))


@app.command("top")
def top_command(
    platform: str = typer.Option(None, "--platform", help="平台名称。"),
    by: str = typer.Option("downline_persons", "--by", help="排序指标（agent_metrics 的列）。"),
    limit: int = typer.Option(20, "--limit", help="显示条数。"),
) -> None:
    """按伞下指标列出代理。List agents ranked by a downline metric."""
    from rich.table import Table

    from chainbreaker.errors import InputError
    from chainbreaker.promotion.metrics import AGENT_METRICS_COLUMNS

    if by not in AGENT_METRICS_COLUMNS:
        raise InputError(f"无效的排序列 {by}，可选：{'、'.join(AGENT_METRICS_COLUMNS)}", f"Unknown column {by}")
    ws = get_workspace()
    con = ws.duck()
    where = "WHERE platform = $1" if platform else ""
    rows = con.sql(f'SELECT platform, member_id, level, downline_accounts, downline_persons, downline_stake, '
                   f'own_commission FROM agent_metrics {where} ORDER BY "{by}" DESC LIMIT {int(limit)}',
                   params=[platform] if platform else None).fetchall()
    table = Table()
    for col in (t("平台", "platform"), t("会员ID", "member"), t("层级", "level"), t("伞下账号", "accounts"),
                t("伞下人数", "persons"), t("伞下投注", "stake"), t("佣金", "commission")):
        table.add_column(col)
    for r in rows:
        table.add_row(*[f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v) for v in r])
    console.print(table)


@app.command("thresholds")
def thresholds_command() -> None:
    """显示当前生效的定罪量刑标准（含工作区覆盖、出处与生效日期）。Show the threshold rules in use."""
    from rich.table import Table

    from chainbreaker.promotion.thresholds import load_rules
    from chainbreaker.promotion.workbook import KIND_ZH

    rules = load_rules(get_workspace().config_dir)
    table = Table(title=t(f"规则版本 {rules['version']}", f"Rules version {rules['version']}"))
    for col in (t("编号", "id"), t("名称", "name"), t("性质", "kind"), t("阈值", "value"), t("出处", "source"),
                t("生效日期", "effective")):
        table.add_column(col)
    for rid, r in rules["rules"].items():
        table.add_row(rid, r.get("name_zh") if STATE.lang == "zh" else r.get("name_en"),
                      KIND_ZH.get(r.get("kind", ""), r.get("kind", "")) if STATE.lang == "zh" else r.get("kind", ""),
                      "" if r.get("value") is None else str(r.get("value")), r.get("source", ""), str(r.get("effective", "")))
    console.print(table)
