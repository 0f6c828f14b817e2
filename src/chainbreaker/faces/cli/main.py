"""The ``chainbreaker`` command.

Each chain in ``chains/registry.py`` names its Typer app and ingest commands (``faces/cli/<chain>.py``);
those modules import heavy libraries inside the command bodies so that ``chainbreaker --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from pathlib import Path

import typer

from chainbreaker.core.errors import ChainbreakerError
from chainbreaker.faces.cli.context import STATE, claimed_role, console, err_console, get_workspace, safe, t

app = typer.Typer(
    name="chainbreaker",
    help="chainbreaker：打击跨境赌博研判平台（人员链、资金链、技术链、推广链）。",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
ingest_app = typer.Typer(help="导入原始数据（银行调单、赌博平台数据库、出入境记录）。", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")


@app.callback()
def main(
    workspace: Path = typer.Option(None, "--workspace", "-w", envvar="CHAINBREAKER_WORKSPACE",
                                   help="工作区文件夹（默认 ./cb-workspace）。"),
    lang: str = typer.Option("zh", "--lang", envvar="CHAINBREAKER_LANG", help="界面语言：zh 或 en。"),
    debug: bool = typer.Option(False, "--debug", help="出错时显示完整调用栈。"),
    role: str = typer.Option(None, "--role", help="按角色脱敏：viewer | analyst | investigator | admin"
                             "（命令行声明的角色，记入审计日志；默认取设置 CHAINBREAKER_ROLE）。"),
) -> None:
    STATE.workspace = workspace
    STATE.lang = "en" if lang.lower().startswith("en") else "zh"
    STATE.debug = debug
    STATE.role = role
    if role:
        claimed_role()  # an unknown role is an error before anything runs


@app.command("tables")
def tables_command() -> None:
    """列出工作区中的表及行数。List lake tables with row counts."""
    from rich.table import Table

    from chainbreaker.core.timefmt import show_time, zone_label

    ws = get_workspace()
    table = Table(title=t(f"工作区 {safe(ws.root)}", f"Workspace {safe(ws.root)}"))
    table.add_column(t("表", "table"))
    table.add_column(t("行数", "rows"), justify="right")
    zone = safe(zone_label(lang=STATE.lang))
    table.add_column(t(f"更新时间（{zone}）", f"updated ({zone})"))
    for name, entry in ws.tables().items():
        table.add_row(safe(name), f"{entry['rows']:,}", safe(show_time(entry["updated"])))
    console.print(table)


@app.command("export")
def export_command(
    table: str = typer.Argument(..., help="表名（见 chainbreaker tables）。"),
    format: str = typer.Option("csv", "--format", "-f", help="csv | jsonl | parquet | xlsx"),
    out: Path = typer.Option(..., "--out", "-o", help="输出文件（给已有文件夹则写入其中的 表名.格式）。"),
    role: str = typer.Option(None, "--role", help="按角色脱敏：viewer | analyst | investigator | admin。"),
) -> None:
    """导出任意表（个人信息按角色脱敏，导出记入审计日志）。Export a table."""
    from chainbreaker.core.exports import default_name, export_table, resolve_output

    ws = get_workspace()
    out = resolve_output(out, default_name(table, format))
    rows = export_table(ws, table, format, out, role=claimed_role(role), user=STATE.settings.user, lang=STATE.lang)
    console.print(t(f"已导出 {rows:,} 行到 {safe(out)}", f"Exported {rows:,} rows to {safe(out)}"))


@app.command("report")
def report_command(
    out: Path = typer.Option(..., "--out", "-o", help="报告输出文件夹（写入 index.html；不存在则创建）。"),
    role: str = typer.Option(None, "--role", help="按角色脱敏：viewer | analyst | investigator | admin。"),
) -> None:
    """研判报告：为当前工作区写出 HTML 报告（有数据的链都纳入）。Write the HTML report of the workspace."""
    from chainbreaker.core.workspace import Workspace
    from chainbreaker.faces.reports.case_report import write_report

    ws = Workspace(STATE.workspace or STATE.settings.workspace, create=False)
    result = write_report(ws, out, lang=STATE.lang, role=claimed_role(role), user=STATE.settings.user)
    report = safe(result["report"])
    chains = safe("、".join(result["chains"]) or t("无", "none"))
    chains_en = safe(", ".join(result["chains"]) or "none")
    console.print(t(f"报告已写出：{report}（有数据的链：{chains}）", f"Report written: {report} (chains with data: {chains_en})"))


@app.command("runs")
def runs_command(last: int = typer.Option(10, help="显示最近几次运行。")) -> None:
    """运行记录（参数快照、代码版本、输入、耗时、计数）。Run log."""
    from chainbreaker.core.exports import dumps_local
    from chainbreaker.core.timefmt import iso_local

    for run in get_workspace().runs()[-last:]:
        for key in ("started", "finished"):  # stored as UTC; shown in the configured zone
            if isinstance(run.get(key), str):
                with contextlib.suppress(ValueError):
                    run[key] = iso_local(dt.datetime.fromisoformat(run[key]))
        console.print_json(dumps_local(run))


def _register_chains() -> None:
    """Attach each registered chain's commands (chains/registry.py); a chain that cannot load is an error."""
    from chainbreaker.chains.registry import CHAINS
    from chainbreaker.core.chain import resolve
    from chainbreaker.faces.cli.demo import demo_command
    from chainbreaker.faces.cli.intel import app as intel_app
    from chainbreaker.faces.cli.ops import app as ops_app
    from chainbreaker.faces.cli.synth import app as synth_app
    from chainbreaker.faces.cli.web import serve_command, users_app

    for spec in CHAINS:
        if spec.cli:
            app.add_typer(resolve(spec.cli, spec.name), name=spec.name, help=spec.help_zh)
        for kind in spec.ingest:
            ingest_app.command(kind.kind)(resolve(kind.command, spec.name))
    # faces over the layers above the chains
    app.add_typer(intel_app, name="intel", help="情报：各链结果之间的关联（账户线索、links 表、跨链发现）。")
    app.add_typer(ops_app, name="ops", help="案件办理：月报导入、立案、每月考核与通报、举报奖励、成员单位共享。")
    app.add_typer(synth_app, name="synth", help="生成合成数据（模拟省份，带真值），用于演示、测试与基准。")
    app.command("demo")(demo_command)
    app.command("serve")(serve_command)
    app.add_typer(users_app, name="users", help="网页用户：创建用户、设置角色与密码。")


_register_chains()


INTERRUPTED = 130  # the shell's code for a command stopped by Ctrl-C (128 + SIGINT)


def _say(markup: str, plain: str) -> None:
    """Print an error; if rich itself fails, print it plainly (the handler must never crash)."""
    try:
        err_console.print(markup)
    except Exception:  # noqa: BLE001 - last resort
        sys.stderr.write(plain + "\n")


def _interrupted() -> None:
    err_console.print(t("已中断；未完成的步骤没有写入工作区。", "Interrupted; the unfinished step wrote nothing to the workspace."))
    sys.exit(INTERRUPTED)


def _is_interrupt(exc: BaseException) -> bool:
    """Ctrl-C seen by DuckDB during a query arrives as its own exception, not KeyboardInterrupt."""
    import duckdb

    return isinstance(exc, duckdb.InterruptException) or (
        isinstance(exc, RuntimeError) and str(exc).strip().lower() == "query interrupted")


def run() -> None:
    """Entry point: user errors are printed plainly, without a traceback unless --debug."""
    try:
        # outside standalone mode Typer turns Ctrl-C into a returned exit code instead of raising
        if app(standalone_mode=False) == INTERRUPTED:
            _interrupted()
    except ChainbreakerError as exc:
        if STATE.debug:
            raise
        text = exc.message(STATE.lang)
        _say(f"[bold red]{t('错误：', 'Error: ')}[/]{safe(text, newlines=True)}", t("错误：", "Error: ") + text)
        sys.exit(2)
    except KeyboardInterrupt:
        _interrupted()
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - last line of defence for users
        if _is_interrupt(exc):
            _interrupted()
        if isinstance(exc, typer.Abort):
            sys.exit(1)
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # click/typer usage errors
            exc.show()
            sys.exit(exc.exit_code)
        if STATE.debug:
            raise
        hint = t("请加 --debug 重新运行并报告此问题；工作区未改变。",
                 "Re-run with --debug and report this; the workspace is unchanged.")
        _say(f"[bold red]{t('内部错误：', 'Internal error: ')}[/]{safe(type(exc).__name__)}: {safe(exc, newlines=True)}\n"
             + hint, f"{t('内部错误：', 'Internal error: ')}{type(exc).__name__}: {exc}\n{hint}")
        sys.exit(1)


if __name__ == "__main__":
    run()
