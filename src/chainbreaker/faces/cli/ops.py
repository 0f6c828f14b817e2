"""CLI of casework: ``chainbreaker ops ...`` (monthly returns, cases, assessment, bulletin).

Each command parses its options, calls a service in ``chainbreaker.ops`` and prints the result.
"""

from __future__ import annotations

from pathlib import Path

import typer

from chainbreaker.faces.cli.context import STATE, claimed_role, console, get_workspace, safe, t

app = typer.Typer(no_args_is_help=True)
case_app = typer.Typer(no_args_is_help=True, help="案件：由线索或行动立案。")
app.add_typer(case_app, name="case")


@app.command("template")
def template_command(out: Path = typer.Option(..., "--out", "-o", help="模板输出文件（.xlsx）。")) -> None:
    """写出月报战果统计表模板（案件、团伙、强制措施、涉案平台、扣押冻结）。Write the return template."""
    from chainbreaker.core.exports import resolve_output
    from chainbreaker.ops.returns import write_template

    path = write_template(resolve_output(out, "月报战果统计表模板.xlsx"))
    console.print(t(f"模板已写出：{safe(path)}", f"Template written: {safe(path)}"))


@app.command("import")
def import_command(path: Path = typer.Argument(..., help="填好的月报工作簿（.xlsx）。")) -> None:
    """导入各单位报送的月报工作簿（问题行隔离，重复导入不重复计数，修改记入历史）。Import a return workbook."""
    from chainbreaker.ops.importer import import_returns
    from chainbreaker.ops.returns import reason_text

    ws = get_workspace()
    summary = import_returns(ws, path, user=STATE.settings.user, role=claimed_role())
    for sheet, c in summary.sheets.items():
        console.print(t(f"  {safe(sheet)}：读取 {c.rows:,} 行，新增 {c.created:,}，更新 {c.updated:,}，未变 {c.unchanged:,}，隔离 {c.quarantined:,}",
                        f"  {safe(sheet)}: {c.rows:,} rows read, {c.created:,} created, {c.updated:,} updated, "
                        f"{c.unchanged:,} unchanged, {c.quarantined:,} quarantined"))
    for sheet, row, code in summary.quarantine[:50]:
        console.print(t(f"[yellow]  隔离 {safe(sheet)} 第 {safe(row)} 行：{safe(reason_text(code, 'zh'))}[/]",
                        f"[yellow]  quarantined {safe(sheet)} row {safe(row)}: {safe(reason_text(code, 'en'))}[/]"))
    if len(summary.quarantine) > 50:
        more = len(summary.quarantine) - 50
        console.print(t(f"  另有 {more:,} 行被隔离（见表 ops_import_quarantine）。",
                        f"  {more:,} more rows quarantined (see table ops_import_quarantine)."))
    if summary.ignored_sheets:
        names = safe("、".join(summary.ignored_sheets))
        console.print(t(f"  未识别、已忽略的工作表：{names}", f"  sheets not recognised, ignored: {names}"))


@case_app.command("open")
def case_open_command(
    source: str = typer.Option(..., "--from", help="线索编号（findings 表的 id，至少 8 位前缀）。"),
    number: str = typer.Option(None, "--number", help="案件编号（默认 CB-日期-线索编号前 8 位）。"),
    name: str = typer.Option(None, "--name", help="案件名称。"),
    unit: str = typer.Option(None, "--unit", help="主办单位。"),
    level: str = typer.Option("无", "--level", help="督办级别：部督 | 省督 | 市督 | 无。"),
) -> None:
    """由线索一步立案（初查），带上线索的证据引用。Open a case from a finding, carrying its evidence."""
    from chainbreaker.ops.cases import open_case_from_finding

    ws = get_workspace()
    c = open_case_from_finding(ws, source, number=number, name=name, unit=unit, level=level,
                               user=STATE.settings.user, role=claimed_role())
    if c.created:
        console.print(t(f"已立案 {safe(c.number)}（{safe(c.name)}），关联线索 {safe(c.finding_id)}，证据引用 {c.evidence_count:,} 条。",
                        f"Opened case {safe(c.number)} ({safe(c.name)}) from finding {safe(c.finding_id)} "
                        f"with {c.evidence_count:,} evidence reference(s)."))
    else:
        console.print(t(f"该线索已立案：{safe(c.number)}（{safe(c.name)}）。",
                        f"This finding already has a case: {safe(c.number)} ({safe(c.name)})."))


@app.command("assess")
def assess_command(
    month: str = typer.Option(..., "--month", help="考核月份 YYYY-MM。"),
    scheme: Path = typer.Option(None, "--scheme", help="考核方案 YAML（默认工作区 config/assessment.yaml 或内置方案）。"),
) -> None:
    """每月一考核：按考核方案计算各单位得分、排名与环比，并保存。Compute and store the month's scores."""
    from rich.table import Table

    from chainbreaker.ops.assess import assess_month

    ws = get_workspace()
    used, scores = assess_month(ws, month, scheme_path=scheme, user=STATE.settings.user)
    table = Table(title=t(f"{safe(month)} 考核（方案 {safe(used.version)}）", f"Assessment {safe(month)} (scheme {safe(used.version)})"))
    for header in (t("排名", "rank"), t("单位", "unit"), t("得分", "score"), t("环比", "trend")):
        table.add_column(safe(header))
    for r in scores:
        table.add_row(safe(r.rank), safe(r.unit), safe(r.score), safe("—" if r.trend is None else f"{r.trend:+}"))
    console.print(table)


@app.command("bulletin")
def bulletin_command(
    period: str = typer.Option(..., "--period", help="统计期间，如 2025-01..2025-10 或 2025-10。"),
    out: Path = typer.Option(..., "--out", "-o", help="输出文件夹（写入 bulletin.json/.docx/.html 与 ranking.xlsx）。"),
    scheme: Path = typer.Option(None, "--scheme", help="考核方案 YAML（排名用）。"),
) -> None:
    """每月一通报：写出通报（JSON、Word、带图表的 HTML）与单位排名（XLSX）。Write the bulletin."""
    from chainbreaker.ops.bulletin import write_bulletin

    ws = get_workspace()
    b, files = write_bulletin(ws, period, out, scheme_path=scheme, user=STATE.settings.user, role=claimed_role())
    console.print(safe(b.headline))
    for f in files:
        console.print(t(f"  已写出 {safe(f)}", f"  written {safe(f)}"))
