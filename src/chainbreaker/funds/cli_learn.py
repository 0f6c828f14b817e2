"""``chainbreaker funds learn`` (heavy imports stay inside the command)."""

from __future__ import annotations

from pathlib import Path

import typer

from chainbreaker.cli.context import console, get_workspace, safe, shown, t
from chainbreaker.funds.cli_app import app


@app.command("learn")
def learn_command(
    labels: Path = typer.Option(..., "--labels", "-l",
                                help="已确认案例 CSV：account,label（1=确认涉赌/洗钱，0=确认正常）。"),
    engine: str = typer.Option("duckdb", "--engine", "-e", help="特征计算引擎：duckdb（默认）或 spark。"),
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

    from chainbreaker.funds.learn import learn

    ws = get_workspace()
    with console.status(t("正在计算账户特征并训练模型……", "Computing account features and training...")):
        report = learn(ws, labels, engine=engine, seed=seed, test_size=test_size, split=split,
                       threshold=threshold, n_estimators=trees)
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
        imp.add_row(safe(name), f"{gain:,.0f}")
    console.print(imp)

    con = ws.duck()
    rows = con.sql(
        f"SELECT rank, account, score FROM account_model_scores WHERE label IS NULL ORDER BY rank LIMIT {int(top)}"
    ).fetchall()
    if rows:
        cand = Table(title=t(f"模型得分最高的未标注账户（前 {len(rows)} 个）", f"Top {len(rows)} unlabelled accounts"))
        for col in (t("排名", "rank"), t("账户", "account"), t("得分", "score")):
            cand.add_column(safe(col))
        for rank, account, score in rows:
            cand.add_row(f"{rank:,}", shown(account, "card"), f"{score:.3f}")
        console.print(cand)
    console.print(t(
        f"已为 {report.accounts_scored:,} 个账户打分（表 account_model_scores，模型 {safe(report.model_version)}）；"
        f"标签 {report.labels:,} 个（涉赌 {report.positives:,}）；特征 {report.feature_seconds:.1f} 秒，"
        f"训练 {report.train_seconds:.1f} 秒；模型文件 {safe(report.model_path)}",
        f"Scored {report.accounts_scored:,} accounts (table account_model_scores, model {safe(report.model_version)}); "
        f"{report.labels:,} labels ({report.positives:,} positive); features {report.feature_seconds:.1f} s, "
        f"training {report.train_seconds:.1f} s; model file {safe(report.model_path)}"))
