"""CLI of person entity resolution: ``chainbreaker intel match`` and ``chainbreaker intel judge ...``.

Parse → call a service → render. Only counts and ids are printed; names and numbers stay in the
workspace tables (exports are masked and audited by ``chainbreaker export``).
"""

from __future__ import annotations

import typer

from chainbreaker.faces.cli.context import claimed_role, console, get_workspace, safe, t

app = typer.Typer(no_args_is_help=True, help="情报研判：跨链人员同一认定、研判结论、导出。")
judge_app = typer.Typer(no_args_is_help=True, help="研判结论：确认、否定、合并、拆分、撤销（留痕，可撤销，重跑后仍生效）。")
app.add_typer(judge_app, name="judge")


@app.command("match")
def match_command(
    engine: str = typer.Option("duckdb", "--engine", help="duckdb（默认）或 spark。"),
    link_probability: float = typer.Option(0.99, "--link-probability", help="模型配对归并为同一人的概率阈值。"),
    review_probability: float = typer.Option(0.5, "--review-probability", help="保留供复核的配对概率下限。"),
) -> None:
    """跨链人员同一认定（精确关联 + Splink 模糊比对）。Resolve persons across chains."""
    from chainbreaker.core.errors import InputError
    from chainbreaker.intel.er.model import ModelParams
    from chainbreaker.intel.er.service import match

    if not (0 < review_probability <= link_probability < 1):
        raise InputError("概率阈值应满足 0 < 复核下限 ≤ 归并阈值 < 1。",
                         "Thresholds must satisfy 0 < review ≤ link < 1.")
    ws = get_workspace()
    r = match(ws, ModelParams(engine=engine, link_probability=link_probability,
                              review_probability=review_probability),
              progress=lambda msg: console.print(f"  {safe(msg)}"))
    console.print(t(f"{r.records:,} 条人员记录归并为 {r.persons:,} 人：精确关联 {r.pivot_links:,} 条，"
                    f"模型配对 {r.model_pairs:,} 对（新增归并 {r.model_links:,}），应用研判结论 {r.judgements_applied:,} 条，"
                    f"过于共用而未作关联的号码 {r.skipped_values:,} 个。",
                    f"{r.records:,} person records resolved to {r.persons:,} persons: {r.pivot_links:,} exact links, "
                    f"{r.model_pairs:,} model pairs ({r.model_links:,} new joins), {r.judgements_applied:,} judgements "
                    f"applied, {r.skipped_values:,} widely shared values not used."))
    for table, n in r.by_source.items():
        console.print(f"  {safe(table)}: {n:,}")
    console.print(t("结果表：person_records、person_matches、person_clusters（运行编号 ",
                    "Tables: person_records, person_matches, person_clusters (run ") + safe(r.run_id) + "）")


def _judge(action: str, a: str, b: str | None, reason: str, user: str) -> None:
    from chainbreaker.intel.er.judgements import judge

    jid = judge(get_workspace(), action, a, b, user=user, role=claimed_role(), reason=reason)
    console.print(t(f"已记录研判 {safe(jid)}（{safe(action)}），下次运行 intel match 时生效。",
                    f"Judgement {safe(jid)} ({safe(action)}) recorded; applied by the next `intel match`."))


_REASON = typer.Option("", "--reason", help="研判理由（必填，记录在案）。")
_USER = typer.Option("local", "--user", help="研判人。")


@judge_app.command("accept")
def accept_command(a: str, b: str, reason: str = _REASON, user: str = _USER) -> None:
    """确认两条记录为同一人。Two records are one person."""
    _judge("accept", a, b, reason, user)


@judge_app.command("reject")
def reject_command(a: str, b: str, reason: str = _REASON, user: str = _USER) -> None:
    """否定：两条记录不是同一人（经由其他记录也不归并）。Never the same person."""
    _judge("reject", a, b, reason, user)


@judge_app.command("merge")
def merge_command(a: str, b: str, reason: str = _REASON, user: str = _USER) -> None:
    """合并两个人员（人员编号或记录编号）。Merge two persons."""
    _judge("merge", a, b, reason, user)


@judge_app.command("split")
def split_command(record: str, reason: str = _REASON, user: str = _USER) -> None:
    """把一条记录从其人员中拆出。Split a record off its person."""
    _judge("split", record, None, reason, user)


@judge_app.command("undo")
def undo_command(judgement_id: str, reason: str = _REASON, user: str = _USER) -> None:
    """撤销一条研判结论（保留记录）。Undo a judgement (kept on record)."""
    _judge("undo", judgement_id, None, reason, user)


@judge_app.command("list")
def list_command() -> None:
    """列出研判结论。List judgements."""
    from rich.table import Table

    from chainbreaker.core.timefmt import show_time
    from chainbreaker.intel.er.judgements import judgements

    rows = judgements(get_workspace()).to_pylist()
    table = Table(*(t(z, e) for z, e in (("编号", "id"), ("操作", "action"), ("记录", "records"), ("研判人", "user"),
                                          ("时间", "time"), ("理由", "reason"), ("状态", "state"))))
    for r in rows:
        recs = " / ".join(x for x in (r["record_l"], r["record_r"], r["target_id"]) if x)
        table.add_row(safe(r["judgement_id"]), safe(r["action"]), safe(recs), safe(r["user"]), safe(show_time(r["judged_at"])),
                      safe(r["reason"]), t("已撤销", "undone") if r["undone"] else t("有效", "in force"))
    console.print(table)


@app.command("export")
def export_command(
    fmt: str = typer.Option(..., "--format", "-f", help="ftm（FollowTheMoney JSONL）、graphml、gexf、i2（Analyst's Notebook）。"),
    out: str = typer.Option(..., "--out", "-o", help="输出文件或文件夹。"),
    role: str = typer.Option(None, "--role", help="按此角色脱敏（默认取全局设置）。"),
) -> None:
    """导出人员、账户、资金往来关系图（脱敏、审计）。Export the entity/link graph."""
    from chainbreaker.intel.exports.service import export_graph

    r = export_graph(get_workspace(), fmt, out, role=claimed_role(role))
    console.print(t(f"已导出 {r['nodes']:,} 个实体、{r['edges']:,} 条关系：", f"Exported {r['nodes']:,} entities and "
                    f"{r['edges']:,} links:"))
    for f in r["files"]:
        console.print(f"  {safe(f)}")
