"""``chainbreaker funds ...`` and ``chainbreaker ingest bank``: the funds chain's face.

Each command parses its arguments, calls one service (chains/funds/service.py, which masks and
audits) and renders the result. Heavy imports stay inside the command bodies so that
``chainbreaker --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import typer

from chainbreaker.core.errors import InputError
from chainbreaker.faces.cli.context import (
    STATE,
    claimed_role,
    console,
    err_console,
    get_workspace,
    safe,
    t,
)

app = typer.Typer(no_args_is_help=True)

SPARK_MASTER_HELP = "Spark 主节点：local[N]（默认 local[2]）或独立集群 spark://主机:端口（各节点须能以相同路径读取工作区）。"


def use_spark_master(master: str | None) -> None:
    """Point this process's Spark engine at ``master`` (validated) through the settings' environment."""
    if master:
        import os

        from chainbreaker.core.engine import check_spark_master

        os.environ["CHAINBREAKER_SPARK_MASTER"] = check_spark_master(master)


_MODE_REASON_ZH = {
    "no screen state yet": "尚无筛查状态，本次写入",
    "screen state of another format": "筛查状态格式不同，已重建",
    "rules changed since the state was written": "规则参数已变更，已重建筛查状态",
    "transaction files were rewritten or removed since the state was written": "交易表已被改写（导入更新了已有交易），已重建筛查状态",
}


@app.command("screen")
def screen_command(
    engine: str = typer.Option("duckdb", "--engine", "-e", help="分析引擎：duckdb（默认）或 spark。"),
    spark_master: str = typer.Option(None, "--spark-master", help=SPARK_MASTER_HELP),
    rules: Path = typer.Option(None, "--rules", help="规则参数 YAML（覆盖默认值，可只写需要改的参数）。"),
    top: int = typer.Option(20, "--top", help="显示得分最高的账户数。"),
    incremental: bool = typer.Option(
        None, "--incremental/--full",
        help="增量筛查：只更新新导入调单涉及账户的行为特征，结果与全量相同（首次运行写入筛查状态）；--full 全量筛查且不写状态。"
             "默认：工作区已有筛查状态时增量。"),
) -> None:
    """资金筛查：按赌博资金类型特征为每个账户打分，写入 account_risk、findings。Screen accounts."""
    from rich.table import Table

    from chainbreaker.chains.funds.scoring import FLOW_CLASS_ZH
    from chainbreaker.chains.funds.service import screen_accounts

    use_spark_master(spark_master)
    ws = get_workspace()
    with console.status(t("正在筛查账户……", "Screening accounts...")):
        view = screen_accounts(ws, engine=engine, rules_path=rules, top=top, role=claimed_role(),
                               user=STATE.settings.user, incremental=incremental)
    result = view.result
    version = safe(result.rules_version)
    table = Table(title=t(f"风险最高的 {top:,} 个账户（规则版本 {version}）", f"Top {top:,} accounts (rules {version})"))
    for col, justify in ((t("排名", "rank"), "right"), (t("账户", "account"), "left"), (t("得分", "score"), "right"),
                         (t("资金性质", "class"), "left"), (t("命中规则", "rules"), "left")):
        table.add_column(safe(col), justify=justify)  # type: ignore[arg-type]
    for row in view.top:  # masked for the role by the service
        cls = row["flow_class"] or ""
        table.add_row(f"{row['rank']:,}", safe(row["account"]), f"{row['score']:.3f}",
                      safe(t(FLOW_CLASS_ZH.get(cls, cls), cls)), safe(t(row["summary_zh"], row["summary_en"])))
    console.print(table)
    cov = Table(title=t("覆盖情况", "Coverage"))
    for col in (t("项目", "item"), t("现有", "present"), t("已筛查", "screened"), t("比例", "share")):
        cov.add_column(safe(col))
    if view.coverage:
        for row in view.coverage:
            cov.add_row(safe(t(row["item_zh"], row["item"])), f"{row['present']:,}", f"{row['screened']:,}", f"{row['share']:.1%}")
    console.print(cov)
    if result.mode == "incremental":
        console.print(t(f"增量筛查：新增有效交易 {result.new_transactions:,} 笔。",
                        f"Incremental screening: {result.new_transactions:,} new valid transfers."))
    elif incremental is not False and result.mode_reason:
        console.print(t(f"全量筛查（{safe(_MODE_REASON_ZH.get(result.mode_reason, result.mode_reason))}）。",
                        f"Full screening ({safe(result.mode_reason)})."))
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

    from chainbreaker.chains.funds.service import trace_money, write_trace

    if out is not None:  # a folder gets trace-ACCOUNT-DIRECTION.json inside it
        from chainbreaker.core.exports import resolve_output

        out = resolve_output(out, f"trace-{''.join(c if c.isalnum() else '_' for c in account)[:60]}-{direction}.json")
    if out is not None and out.suffix.lower() not in (".graphml", ".json"):
        raise InputError(f"输出文件须以 .graphml 或 .json 结尾：{out}", f"--out must end in .graphml or .json: {out}")
    ws = get_workspace()
    role, user = claimed_role(), STATE.settings.user
    view = trace_money(ws, account, direction=direction, hops=hops, min_amount=min_amount, window_hours=window_hours,
                       top=top, role=role, user=user)
    result = view.result
    start = safe(view.seed)  # as the lake keys it (spaces, dashes, invisible characters removed), masked
    table = Table(title=t(f"{start} 的资金{'去向' if direction == 'down' else '来源'}（{hops:d} 层，窗口 {window_hours:g} 小时）",
                          f"Money {'from' if direction == 'down' else 'into'} {start} ({hops:d} hops, window {window_hours:g} h)"))
    for col, justify in ((t("层", "hop"), "right"), (t("账户", "account"), "left"),
                         (t("归属金额", "attributed"), "right"), (t("交易笔数", "transfers"), "right"),
                         (t("交易总额", "amount"), "right"), (t("回路", "loop"), "left")):
        table.add_column(safe(col), justify=justify)  # type: ignore[arg-type]
    for row in view.nodes:
        table.add_row(f"{row['hop']:d}", safe(row["account"]), f"{row['attributed']:,}", f"{row['n_edges']:,}",
                      f"{row['amount_total']:,}", t("是", "yes") if row["loop"] else "")
    console.print(table)
    console.print(t(f"共 {result.nodes.num_rows - 1:,} 个账户、{result.edges.num_rows:,} 笔交易，用时 {result.seconds:.2f} 秒。"
                    "归属金额 = 按时间窗口内转出金额比例分摊、且不超过转入额的上限估计。",
                    f"{result.nodes.num_rows - 1:,} accounts, {result.edges.num_rows:,} transfers, {result.seconds:.2f} s. "
                    "Attributed = proportional share of outflows within the window, capped by the inflow."))
    if out is not None:
        write_trace(ws, view, out, role=role, user=user)
        console.print(t(f"已写出 {safe(out)}", f"Wrote {safe(out)}"))


@app.command("suggest")
def suggest_command(
    limit: int = typer.Option(50, "--limit", "-n", help="建议调单的账户数。"),
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出。"),
) -> None:
    """建议调单：与可疑账户往来但尚未调取流水的账户，按关联可疑账户数和金额排序。Suggest next requests."""
    from rich.table import Table

    from chainbreaker.chains.funds.service import suggest_requests

    table = suggest_requests(get_workspace(), limit=limit, role=claimed_role(), user=STATE.settings.user)
    if as_json:
        from chainbreaker.core.exports import dumps_local

        console.print_json(dumps_local(table.to_pylist()))
        return
    out = Table(title=t("建议调单", "Suggested requests"))
    for col in (t("排名", "rank"), t("账户", "account"), t("开户行", "bank"), t("户名", "holder"),
                t("关联可疑账户", "flagged linked"), t("金额", "amount"), t("理由", "reason")):
        out.add_column(safe(col))
    for row in table.to_pylist():
        out.add_row(f"{row['rank']:,}", safe(row["account"]), safe(row["bank"] or "-"),  # masked by the service
                    safe(row["holder_name"] or "-"), f"{row['n_flagged_linked']:,}",
                    f"{row['amount_total']:,}", safe(t(row["reason_zh"], row["reason_en"])))
    console.print(out)
    if table.num_rows == 0:
        console.print(t("没有需要补充调单的账户（可疑账户的对手方均已调单）。",
                        "No suggestions: every counterparty of a flagged account is already requested."))


@app.command("learn")
def learn_command(
    labels: Path = typer.Option(..., "--labels", "-l",
                                help="已确认案例 CSV：account,label（1=确认涉赌/洗钱，0=确认正常）。"),
    engine: str = typer.Option("duckdb", "--engine", "-e", help="特征计算引擎：duckdb（默认）或 spark。"),
    spark_master: str = typer.Option(None, "--spark-master", help=SPARK_MASTER_HELP),
    test_size: float = typer.Option(0.3, "--test-size", help="留出评估的标签比例（默认 0.3）。"),
    seed: int = typer.Option(0, "--seed", help="随机种子（切分与模型）。"),
    split: str = typer.Option("stratified", "--split",
                              help="留出方式：stratified（按账户分层随机，默认）或 time（最晚出现的账户留出）。"),
    threshold: float = typer.Option(0.5, "--threshold", help="计算精确率/召回率所用的得分阈值。"),
    trees: int = typer.Option(200, "--trees", help="梯度提升树的棵数。"),
    top: int = typer.Option(20, "--top", help="显示模型得分最高的未标注账户数。"),
) -> None:
    """以案学习：用已确认的涉赌/正常账户训练图特征模型，为所有账户打分（account_model_scores）。Learn from confirmed cases."""
    from rich.table import Table

    from chainbreaker.chains.funds.learn_names import feature_label
    from chainbreaker.chains.funds.service import learn_from_cases

    use_spark_master(spark_master)
    ws = get_workspace()
    with console.status(t("正在计算账户特征并训练模型……", "Computing account features and training...")):
        view = learn_from_cases(ws, labels, engine=engine, seed=seed, test_size=test_size, split=split,
                                threshold=threshold, trees=trees, top=top, role=claimed_role(),
                                user=STATE.settings.user)
    report = view.report
    g, b = report.graph, report.baseline
    table = Table(title=t(f"留出账户上的效果（{g.n_test:,} 个账户，其中涉赌 {g.n_test_positive:,} 个；切分：{safe(report.split)}）",
                          f"Quality on held-back accounts ({g.n_test:,}, {g.n_test_positive:,} positive; split: "
                          f"{safe(report.split)})"))
    for col in (t("模型", "model"), t("特征数", "features"), t("平均精确率 AP", "average precision"),
                t(f"精确率@{g.threshold}", f"precision@{g.threshold}"), t(f"召回率@{g.threshold}", f"recall@{g.threshold}")):
        table.add_column(safe(col), justify="right")
    table.add_row(t("图特征 + LightGBM", "graph features + LightGBM"), f"{g.n_features:,}",
                  f"{g.average_precision:.4f}", f"{g.precision:.4f}", f"{g.recall:.4f}")
    if b is not None:
        table.add_row(t("基线：账户汇总 + LightGBM", "baseline: per-account aggregates + LightGBM"),
                      f"{b.n_features:,}", f"{b.average_precision:.4f}", f"{b.precision:.4f}", f"{b.recall:.4f}")
    console.print(table)
    imp = Table(title=t("最重要的特征（增益）", "Most important features (gain)"))
    imp.add_column(t("特征", "feature"))
    imp.add_column(t("增益", "gain"), justify="right")
    for name, gain in report.top_features[:10]:
        imp.add_row(safe(t(*feature_label(name))), f"{gain:,.0f}")
    console.print(imp)
    if g.brier is not None:
        console.print(t(f"得分已校准（Platt）：留出账户 Brier 分数 {g.brier:.4f}；得分 0.5 约为一半把握。参数由训练账户上的交叉验证选出。",
                        f"Scores are calibrated (Platt): Brier score {g.brier:.4f} on held-back accounts; a score of "
                        f"0.5 means about even odds. Settings were chosen by cross-validation on training accounts."))

    rows = view.candidates
    if rows:
        cand = Table(title=t(f"模型得分最高的未标注账户（前 {len(rows)} 个）", f"Top {len(rows)} unlabelled accounts"))
        for col in (t("排名", "rank"), t("账户", "account"), t("得分", "score"), t("主要依据", "main reasons")):
            cand.add_column(safe(col))
        for r in rows:
            cand.add_row(f"{r['rank']:,}", safe(r["account"]), f"{r['score']:.3f}", safe(t(r["reasons_zh"], r["reasons_en"])))
        console.print(cand)
    console.print(t(
        f"已为 {report.accounts_scored:,} 个账户打分（表 account_model_scores，模型 {safe(report.model_version)}）；"
        f"标签 {report.labels:,} 个（涉赌 {report.positives:,}）；特征 {report.feature_seconds:.1f} 秒，"
        f"训练 {report.train_seconds:.1f} 秒；模型文件 {safe(report.model_path)}",
        f"Scored {report.accounts_scored:,} accounts (table account_model_scores, model {safe(report.model_version)}); "
        f"{report.labels:,} labels ({report.positives:,} positive); features {report.feature_seconds:.1f} s, "
        f"training {report.train_seconds:.1f} s; model file {safe(report.model_path)}"))


def ingest_bank_command(
    paths: list[Path] = typer.Argument(..., help="调单文件夹、单个文件，或包含多个调单文件夹的文件夹。"),
    profile: Path = typer.Option(None, "--profile", "-p",
                                 help="YAML 列名映射（layout/columns/values），覆盖自动识别。"),
    no_progress: bool = typer.Option(False, "--no-progress", help="不显示进度条。"),
    workers: int = typer.Option(None, "--workers", "-j", min=1,
                                help="并行读取与规范化文件的进程数，含导入进程本身（默认 min(2, 文件数, CPU 核数)，数据量小时为 1；1 = 单进程）。"
                                     "结果与进程数无关。"),
) -> None:
    """导入银行调单（交易明细、账户信息、人员信息、第三方支付、转账清单）。Ingest bank statements."""

    from chainbreaker.chains.funds.bank.service import ingest_bank
    from chainbreaker.core.ingest.values import reason_zh
    from chainbreaker.faces.cli.progress import bank_progress

    ws = get_workspace()
    summary = ingest_bank(ws, list(paths), profile=profile, progress=None if no_progress else bank_progress,
                          workers=workers)
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
