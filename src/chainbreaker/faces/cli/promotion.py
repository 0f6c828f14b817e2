"""CLI of the promotion chain: ``chainbreaker promotion ...`` and ``chainbreaker ingest platform``.

Heavy libraries are imported inside the command bodies so that ``chainbreaker --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from chainbreaker.faces.cli.context import (
    STATE,
    claimed_role,
    console,
    err_console,
    get_workspace,
    safe,
    t,
)
from chainbreaker.faces.cli.funds import SPARK_MASTER_HELP, use_spark_master

app = typer.Typer(no_args_is_help=True)


def ingest_platform_command(
    path: Path = typer.Argument(..., help="平台数据：CSV/XLSX 文件夹、SQL 转储（.sql：MySQL、SQL Server、PostgreSQL）或 SQLite 文件。"),
    platform: str = typer.Option(..., "--platform", help="平台名称（同一工作区可容纳多个平台）。"),
    profile: Path = typer.Option(None, "--profile", help="YAML 映射配置：指定表类型与列名（优先于自动识别）。"),
    via_mariadb: str = typer.Option(
        "auto", "--via-mariadb",
        help="何时把转储还原到 MariaDB 再读取：auto（流式解析遇到无法解析的语句且 MariaDB 可用时比对，取行数多者）、"
             "always（总是还原）、never（只用流式解析）。服务器见设置 mariadb_url。"),
) -> None:
    """导入赌博平台数据库（会员、注单、充值、提现、佣金）。Ingest a seized platform database."""
    from chainbreaker.chains.promotion.ingest import ingest_platform

    ws = get_workspace()
    with _BarProgress() as bar:
        s = ingest_platform(ws, path, platform, profile, mariadb=via_mariadb.strip().lower(), progress=bar)
    _print_summary(s, platform)


def _print_summary(s: Any, platform: str) -> None:
    from chainbreaker.chains.promotion.spec import KIND_ZH

    for name, zh, en in s.files_failed:  # names come from seized data: safe() (no markup, no controls)
        console.print("[yellow]" + safe(t(f"已跳过无法读取的文件 {name}：{zh}（见 quarantine 表）",
                                          f"Skipped unreadable file {name}: {en} (see table quarantine)")) + "[/]")
    for zh, en in s.messages:
        console.print("[yellow]" + safe(t(zh, en)) + "[/]")
    if "all_files_already_ingested" in s.notes:
        console.print(t(f"文件均已导入过（{s.files:,} 个），未做改动。", f"All {s.files:,} files were already ingested; nothing changed."))
        return
    console.print(t(f"平台“{safe(platform)}”：读取 {s.rows_read:,} 行，来自 {s.files:,} 个文件（跳过已导入 {s.files_skipped_already_ingested:,} 个）。",
                    f"Platform '{safe(platform)}': read {s.rows_read:,} rows from {s.files:,} files "
                    f"({s.files_skipped_already_ingested:,} already ingested)."))
    for src, (why_zh, why_en) in s.roles.items():
        kind = s.tables.get(src)
        if kind:
            console.print(f"  {safe(src)} → [bold]{safe(t(KIND_ZH[kind], kind))}[/]")
        else:
            console.print("  " + safe(src) + " → [yellow]" + t("未识别（其行已隔离；可用 --profile 指定 kind）",
                                                             "unrecognised (rows quarantined; use --profile)") + "[/]")
        console.print("    [dim]" + safe(t(why_zh, why_en)) + "[/]")
    for kind, n in s.rows_kept.items():
        console.print(t(f"  保留 {safe(KIND_ZH[kind])} {n:,} 行", f"  kept {n:,} {safe(kind)} rows"))
    if s.quarantined_by_reason:
        from chainbreaker.core.ingest.values import reason_zh
        console.print(t("隔离的行（见 quarantine 表）：", "Quarantined rows (see table quarantine):"))
        for code, n in s.quarantined_by_reason.items():
            console.print(f"  {safe(reason_zh(code) if STATE.lang == 'zh' else code)}: {n:,}")


class _BarProgress:
    """A rich progress bar over the bytes of the platform files (shown for inputs of 5 MB and more)."""

    SHOW_ABOVE_BYTES = 5 << 20

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _BarProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def start(self, total_bytes: int) -> None:
        if total_bytes < self.SHOW_ABOVE_BYTES or not err_console.is_terminal:
            return
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                             console=err_console, transient=True)
        self._bar.start()
        self._task = self._bar.add_task(t("读取平台数据", "Reading platform data"), total=total_bytes)

    def file(self, name: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=safe(name[:40]))

    def advance(self, nbytes: int) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, nbytes)

    def phase(self, zh: str, en: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, description=safe(t(zh, en)[:40]))


@app.command("analyze")
def analyze_command(
    platform: str = typer.Option(None, "--platform", help="只分析该平台（默认全部平台）。"),
    basis: str = typer.Option(None, "--basis", help="赌资认定口径：stake 投注金额（默认）| payout 派彩 | deposit 充值。"),
    thresholds: Path = typer.Option(None, "--thresholds", help="额外的阈值覆盖 YAML（在工作区 config/promotion_thresholds.yaml 之后生效）。"),
    persons: Path = typer.Option(None, "--persons", help="人员合并覆盖 YAML（默认工作区 config/promotion_persons.yaml）。"),
    engine: str = typer.Option("duckdb", "--engine", "-e", help="代理层级与伞下统计的计算引擎：duckdb（默认）或 spark。"),
    spark_master: str = typer.Option(None, "--spark-master", help=SPARK_MASTER_HELP),
) -> None:
    """重建代理层级、伞下统计、人员去重并评估定罪量刑标准。Agent tree, downline metrics, thresholds."""
    from chainbreaker.chains.promotion.analyze import analyze

    use_spark_master(spark_master)
    r = analyze(get_workspace(), platform, basis=basis, thresholds=thresholds, persons=persons, engine=engine)
    console.print(t(f"平台：{safe('、'.join(r.platforms))}；会员 {r.members:,} 个，代理 {r.agents:,} 个，最深 {r.levels:,} 层。",
                    f"Platforms: {safe(', '.join(r.platforms))}; {r.members:,} members, {r.agents:,} agents, {r.levels:,} levels."))
    console.print(t(f"赌资口径：{safe(r.basis)}；规则版本 {safe(r.rules_version)}；去重合并账号 {r.persons.get('accounts_merged_away', 0):,} 个。",
                    f"Basis: {safe(r.basis)}; rules {safe(r.rules_version)}; {r.persons.get('accounts_merged_away', 0):,} accounts merged."))
    i = r.issues
    console.print(t(f"结构问题：自我推荐 {i['self_references']:,}，孤儿 {i['orphans']:,}，循环 {i['cycles']:,}，顶级账号 {i['roots']:,}。",
                    f"Tree issues: self-references {i['self_references']:,}, orphans {i['orphans']:,}, "
                    f"cycles {i['cycles']:,}, roots {i['roots']:,}."))
    for rule, n in r.findings_by_rule.items():
        console.print(f"  {safe(rule)}: {n:,}")
    console.print(t(f"运行编号 {safe(r.run_id)}", f"Run {safe(r.run_id)}"))


@app.command("workbook")
def workbook_command(
    member_id: str = typer.Argument(..., help="会员ID。"),
    out: Path = typer.Option(..., "--out", "-o", help="输出 XLSX 文件（给文件夹则写入其中的 证据工作簿_会员ID.xlsx）。"),
    platform: str = typer.Option(None, "--platform", help="平台名称（会员ID在多个平台出现时必填）。"),
    basis: str = typer.Option(None, "--basis", help="赌资认定口径（默认同规则配置）。"),
) -> None:
    """生成某会员/代理的证据工作簿（中文）。Evidence workbook for one member."""
    from chainbreaker.chains.promotion.workbook import workbook_file_name, write_workbook
    from chainbreaker.core.exports import resolve_output

    out = resolve_output(out, workbook_file_name(member_id))  # a folder gets the workbook inside it
    counts = write_workbook(get_workspace(), member_id, out, platform, basis,
                            user=STATE.settings.user, role=claimed_role())
    console.print(t(f"已写入 {safe(out)}：伞下会员 {counts.get('伞下会员', 0):,} 行。",
                    f"Wrote {safe(out)}: {counts.get('伞下会员', 0):,} downline rows."))


@app.command("top")
def top_command(
    platform: str = typer.Option(None, "--platform", help="平台名称。"),
    by: str = typer.Option("downline_persons", "--by", help="排序指标（agent_metrics 的列）。"),
    limit: int = typer.Option(20, "--limit", help="显示条数。"),
) -> None:
    """按伞下指标列出代理。List agents ranked by a downline metric."""
    from rich.table import Table

    from chainbreaker.chains.promotion.service import top_agents

    rows = top_agents(get_workspace(), platform=platform, by=by, limit=limit, role=claimed_role(),
                      user=STATE.settings.user)
    table = Table()
    for col in (t("平台", "platform"), t("会员ID", "member"), t("层级", "level"), t("伞下账号", "accounts"),
                t("伞下人数", "persons"), t("伞下投注", "stake"), t("佣金", "commission")):
        table.add_column(safe(col))
    for r in rows:  # member ids are often phone numbers: masked for the role by the service
        table.add_row(*[f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else safe(v)  # rich-safe
                        for v in r.values()])
    console.print(table)


@app.command("thresholds")
def thresholds_command() -> None:
    """显示当前生效的定罪量刑标准（含工作区覆盖、出处与生效日期）。Show the threshold rules in use."""
    from rich.table import Table

    from chainbreaker.chains.promotion.thresholds import load_rules
    from chainbreaker.chains.promotion.workbook import KIND_ZH

    rules = load_rules(get_workspace().config_dir)
    table = Table(title=t(f"规则版本 {safe(rules['version'])}", f"Rules version {safe(rules['version'])}"))
    for col in (t("编号", "id"), t("名称", "name"), t("性质", "kind"), t("阈值", "value"), t("出处", "source"),
                t("生效日期", "effective")):
        table.add_column(safe(col))
    for rid, r in rules["rules"].items():
        table.add_row(safe(rid), safe(r.get("name_zh") if STATE.lang == "zh" else r.get("name_en")),
                      safe(KIND_ZH.get(r.get("kind", ""), r.get("kind", "")) if STATE.lang == "zh" else r.get("kind", "")),
                      safe("" if r.get("value") is None else r.get("value")), safe(r.get("source", "")),
                      safe(r.get("effective", "")))
    console.print(table)
