"""``chainbreaker funds screen | trace | suggest`` (heavy imports stay inside the commands)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from chainbreaker.cli.context import claimed_role, console, get_workspace, safe, shown, t
from chainbreaker.errors import InputError
from chainbreaker.funds.cli_app import app


@app.command("screen")
def screen_command(
    engine: str = typer.Option("duckdb", "--engine", "-e", help="分析引擎：duckdb（默认）或 spark。"),
    rules: Path = typer.Option(None, "--rules", help="规则参数 YAML（覆盖默认值，可只写需要改的参数）。"),
    top: int = typer.Option(20, "--top", help="显示得分最高的账户数。"),
) -> None:
    """资金筛查：按赌博资金类型特征为每个账户打分，写入 account_risk、findings。Screen accounts."""
    from rich.table import Table

    from chainbreaker.funds.scoring import FLOW_CLASS_ZH
    from chainbreaker.funds.screen import screen

    ws = get_workspace()
    with console.status(t("正在筛查账户……", "Screening accounts...")):
        result = screen(ws, engine=engine, rules_path=rules)
    version = safe(result.rules_version)
    table = Table(title=t(f"风险最高的 {top:,} 个账户（规则版本 {version}）", f"Top {top:,} accounts (rules {version})"))
    for col, justify in ((t("排名", "rank"), "right"), (t("账户", "account"), "left"), (t("得分", "score"), "right"),
                         (t("资金性质", "class"), "left"), (t("命中规则", "rules"), "left")):
        table.add_column(safe(col), justify=justify)  # type: ignore[arg-type]
    for row in result.top[:top]:
        cls = row["flow_class"] or ""
        table.add_row(f"{row['rank']:,}", shown(row["account"], "card"), f"{row['score']:.3f}",
                      safe(t(FLOW_CLASS_ZH.get(cls, cls), cls)), shown(t(row["summary_zh"], row["summary_en"])))
    console.print(table)
    cov = Table(title=t("覆盖情况", "Coverage"))
    for col in (t("项目", "item"), t("现有", "present"), t("已筛查", "screened"), t("比例", "share")):
        cov.add_column(safe(col))
    if result.coverage is not None:
        for row in result.coverage.to_pylist():
            cov.add_row(safe(t(row["item_zh"], row["item"])), f"{row['present']:,}", f"{row['screened']:,}", f"{row['share']:.1%}")
    console.print(cov)
    console.print(t(
        f"引擎 {safe(result.engine)}，用时 {result.seconds:.1f} 秒；可疑账户（得分 ≥ 0.5）{result.flagged:,} 个，线索 {result.findings:,} 条。",
        f"Engine {safe(result.engine)}, {result.seconds:.1f} s; {result.flagged:,} flagged accounts (score ≥ 0.5), "
        f"{result.findings:,} findings."))


@app.command("trace")
def trace_command(
    account: str = typer.Argument(..., help="起点账户（卡号/账号）。"),
    direction: str = typer.Option("down", "--direction", "-d", help="down：资金去向（下游）；up：资金来源（上游）。"),
    hops: int = typer.Option(5, "--hops", help="最多穿透层数。"),
    min_amount: float = typer.Option(None, "--min-amount", help="每一层只跟踪不低于此金额的交易（元）。"),
    window_hours: float = typer.Option(72, "--window-hours", help="下一层交易须在上一层之后（上游：之前）多少小时内。"),
    out: Path = typer.Option(None, "--out", "-o", help="输出图文件：.graphml 或 .json（两者都要可运行两次）。"),
    top: int = typer.Option(30, "--top", help="显示的账户数。"),
) -> None:
    """资金穿透：按时间顺序、按金额归属逐层追踪资金去向或来源。Trace money down/up stream."""
    from rich.table import Table

    from chainbreaker.funds.trace import trace

    if out is not None:  # a folder gets trace-ACCOUNT-DIRECTION.json inside it
        from chainbreaker.exports import resolve_output

        out = resolve_output(out, f"trace-{''.join(c if c.isalnum() else '_' for c in account)[:60]}-{direction}.json")
    if out is not None and out.suffix.lower() not in (".graphml", ".json"):
        raise InputError(f"输出文件须以 .graphml 或 .json 结尾：{out}", f"--out must end in .graphml or .json: {out}")
    ws = get_workspace()
    result = trace(ws, account, direction=direction, hops=hops, min_amount=min_amount, window_hours=window_hours)
    start = shown(result.seed, "card")  # as the lake keys it (spaces, dashes, invisible characters removed)
    table = Table(title=t(f"{start} 的资金{'去向' if direction == 'down' else '来源'}（{hops:d} 层，窗口 {window_hours:g} 小时）",
                          f"Money {'from' if direction == 'down' else 'into'} {start} ({hops:d} hops, window {window_hours:g} h)"))
    for col, justify in ((t("层", "hop"), "right"), (t("账户", "account"), "left"),
                         (t("归属金额", "attributed"), "right"), (t("交易笔数", "transfers"), "right"),
                         (t("交易总额", "amount"), "right"), (t("回路", "loop"), "left")):
        table.add_column(safe(col), justify=justify)  # type: ignore[arg-type]
    for row in result.nodes.slice(0, top).to_pylist():
        table.add_row(f"{row['hop']:d}", shown(row["account"], "card"), f"{row['attributed']:,}", f"{row['n_edges']:,}",
                      f"{row['amount_total']:,}", t("是", "yes") if row["loop"] else "")
    console.print(table)
    console.print(t(f"共 {result.nodes.num_rows - 1:,} 个账户、{result.edges.num_rows:,} 笔交易，用时 {result.seconds:.2f} 秒。"
                    "归属金额 = 按时间窗口内转出金额比例分摊、且不超过转入额的上限估计。",
                    f"{result.nodes.num_rows - 1:,} accounts, {result.edges.num_rows:,} transfers, {result.seconds:.2f} s. "
                    "Attributed = proportional share of outflows within the window, capped by the inflow."))
    if out is not None:
        from chainbreaker.exports import output_file

        with output_file(ws, out, "funds.trace.export", role=claimed_role(), account=result.seed,
                         direction=direction) as target:
            if out.suffix.lower() == ".graphml":
                result.to_graphml(target.path)
            else:
                target.path.write_text(result.to_json(), "utf-8")
        console.print(t(f"已写出 {safe(out)}", f"Wrote {safe(out)}"))


@app.command("suggest")
def suggest_command(
    limit: int = typer.Option(50, "--limit", "-n", help="建议调单的账户数。"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出。"),
) -> None:
    """建议调单：与可疑账户往来但尚未调取流水的账户，按关联可疑账户数和金额排序。Suggest next requests."""
    from rich.table import Table

    from chainbreaker.funds.suggest import suggest

    ws = get_workspace()
    from chainbreaker.model.masking import mask_table

    table = mask_table(suggest(ws, limit=limit), claimed_role())
    if as_json:
        console.print_json(json.dumps(table.to_pylist(), ensure_ascii=False, default=str))
        return
    out = Table(title=t("建议调单", "Suggested requests"))
    for col in (t("排名", "rank"), t("账户", "account"), t("开户行", "bank"), t("户名", "holder"),
                t("关联可疑账户", "flagged linked"), t("金额", "amount"), t("理由", "reason")):
        out.add_column(safe(col))
    for row in table.to_pylist():
        out.add_row(f"{row['rank']:,}", shown(row["account"], "card"), safe(row["bank"] or "-"),
                    shown(row["holder_name"] or "-", "name"), f"{row['n_flagged_linked']:,}",
                    f"{row['amount_total']:,}", shown(t(row["reason_zh"], row["reason_en"])))
    console.print(out)
    if table.num_rows == 0:
        console.print(t("没有需要补充调单的账户（可疑账户的对手方均已调单）。",
                        "No suggestions: every counterparty of a flagged account is already requested."))
