"""CLI of the people chain: ``chainbreaker people ...`` and ``chainbreaker ingest travel``.

Each command parses its arguments, calls one service (chains/people/service.py, ops/register_views.py;
they mask personal data for the role and write the audit log) and renders the result. Heavy
libraries are imported inside the command bodies so that ``chainbreaker --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from chainbreaker.faces.cli.context import STATE, claimed_role, console, get_workspace, safe, t
from chainbreaker.faces.cli.funds import SPARK_MASTER_HELP, use_spark_master

app = typer.Typer(no_args_is_help=True)
register_app = typer.Typer(no_args_is_help=True, help="重点人员库：列表、详情、状态变更、录入、自动建议。")
app.add_typer(register_app, name="register")


def ingest_travel_command(
    paths: list[Path] = typer.Argument(..., help="出入境/民航/铁路/旅店/亲属关系文件或文件夹。"),
    profile: Path = typer.Option(None, "--profile", help="YAML 列名映射（可含 kind: crossings|flights|trains|hotels|kin）。"),
) -> None:
    """导入出入境与出行记录（自动识别表头，问题行进入隔离表）。Ingest travel records."""
    from chainbreaker.chains.people.ingest import KIND_ZH, ingest_travel
    from chainbreaker.core.ingest.values import reason_zh

    ws = get_workspace()
    s = ingest_travel(ws, list(paths), profile, progress=lambda msg: console.print(f"  {safe(msg)}"))
    done, skipped = s.files - s.files_skipped_already_ingested - len(s.files_failed), s.files_skipped_already_ingested
    console.print(t(
        f"已导入 {done:,} 个文件（跳过已导入 {skipped:,} 个，无法使用 {len(s.files_failed):,} 个）："
        f"读取 {s.rows_read:,} 行，保留 {s.rows_kept:,} 行，合并重复记录 {s.duplicates_merged:,} 条，"
        f"身份证号无效（已保留并标记）{s.invalid_ids:,} 条。",
        f"Ingested {done:,} file(s) ({skipped:,} already ingested, {len(s.files_failed):,} "
        f"unusable): {s.rows_read:,} rows read, {s.rows_kept:,} kept, {s.duplicates_merged:,} duplicates merged, "
        f"{s.invalid_ids:,} invalid ID numbers kept and flagged."))
    for kind, n in s.by_kind.items():
        console.print(f"  {safe(t(KIND_ZH[kind], kind))}: {n:,}")
    for code, n in sorted(s.quarantined_by_reason.items()):
        console.print(t(f"  隔离 {n:,} 行：{safe(reason_zh(code))}", f"  quarantined {n:,} rows: {safe(code)}"))
    for name, why in s.files_failed:
        console.print(t(f"[yellow]  跳过 {safe(name)}：{safe(why)}（见 quarantine 表，第 0 行）[/]",
                        f"[yellow]  skipped {safe(name)}: {safe(why)} (see table quarantine, row 0)[/]"))


@app.command("analyze")
def analyze_command(
    as_of: str = typer.Option(None, "--as-of", help="分析基准日 YYYY-MM-DD（默认今天）。"),
    stranded_days: int = typer.Option(None, "--stranded-days", help="滞留判定天数 N（默认 30，见 rules.yaml）。"),
    frequent_trips: int = typer.Option(None, "--frequent-trips", help="12 个月内前往重点地区次数阈值 K（默认 3）。"),
    group_min_size: int = typer.Option(None, "--group-min-size", help="团伙最少人数 M（默认 3）。"),
    engine: str = typer.Option("duckdb", "--engine", "-e", help="行程与人员指标的计算引擎：duckdb（默认）或 spark。"),
    spark_master: str = typer.Option(None, "--spark-master", help=SPARK_MASTER_HELP),
) -> None:
    """出入境分析：滞留、频繁出境、团伙出行、同行人、亲属。Analyse travel records."""
    from chainbreaker.chains.people.analyze import analyze
    from chainbreaker.core.errors import InputError

    day = None
    if as_of:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError as exc:
            raise InputError(f"--as-of 日期格式应为 YYYY-MM-DD：{as_of}", f"--as-of must be YYYY-MM-DD: {as_of}") from exc
    use_spark_master(spark_master)
    ws = get_workspace()
    r = analyze(ws, day, engine=engine, stranded_days=stranded_days, frequent_trips=frequent_trips,
                group_min_size=group_min_size)
    console.print(t(f"基准日 {safe(r.as_of)}：{r.persons:,} 人，{r.trips:,} 次出境，团伙 {r.groups:,} 个（目的地表版本 "
                    f"{safe(r.destinations_version)}）。", f"As of {safe(r.as_of)}: {r.persons:,} persons, {r.trips:,} exits, "
                    f"{r.groups:,} groups (destination table {safe(r.destinations_version)})."))
    names = {"travel.stranded": "滞留境外", "travel.frequent": "频繁前往重点地区", "travel.group": "团伙出行",
             "travel.companion": "同行人员", "travel.kin": "滞留人员亲属"}
    for rule, n in r.findings.items():
        console.print(f"  {safe(rule)} {safe(t(names.get(rule, ''), ''))}: {n:,}")
    a = r.anomalies
    console.print(t(f"数据问题：有入境无出境 {a['entries_without_exit']:,}，连续出境缺入境 {a['exits_without_entry']:,}，"
                    f"基准日之后的记录 {a['records_after_as_of']:,}，无效身份证号记录 {a['invalid_id_records']:,}。",
                    f"Data issues: entries without exit {a['entries_without_exit']:,}, exits without entry "
                    f"{a['exits_without_entry']:,}, records after as-of {a['records_after_as_of']:,}, invalid ID "
                    f"records {a['invalid_id_records']:,}."))


@app.command("stranded")
def stranded_command(
    limit: int = typer.Option(20, help="显示条数。"),
    role: str = typer.Option(None, "--role", help="按角色脱敏：viewer | analyst | investigator | admin。"),
) -> None:
    """滞留境外人员名单（按滞留天数排序，个人信息按角色脱敏）。List stranded persons."""
    from rich.table import Table

    from chainbreaker.chains.people.service import stranded_persons
    from chainbreaker.core.timefmt import show_time

    rows = stranded_persons(get_workspace(), limit=limit, role=claimed_role(role), user=STATE.settings.user)
    table = Table(title=t("滞留境外人员", "Persons stranded abroad"))
    table.add_column(t("人员", "person"), no_wrap=True, min_width=21)
    for col in (t("姓名", "name"), t("滞留天数", "days"), t("目的地", "destination"), t("出境时间", "exit")):
        table.add_column(safe(col), overflow="fold")
    for r in rows:  # masked for the role by the service
        table.add_row(safe(r["person_key"]), safe(r["name"]), f"{r['days']:.0f}",
                      safe(r["destination"]) + (f"（{safe(r['town'])}）" if r["town"] else ""),
                      safe(show_time(r["last_ts"], seconds=False)))
    console.print(table)


@app.command("destinations")
def destinations_command() -> None:
    """显示当前使用的重点目的地表（来源、日期、可覆盖位置）。Show the destination table."""
    from chainbreaker.chains.people.destinations import OVERRIDE_NAME, load_destinations

    ws = get_workspace()
    d = load_destinations(ws.config_dir)
    override = ws.config_dir / OVERRIDE_NAME
    console.print(t(f"目的地表 {safe(d.path)}（版本 {safe(d.version)}）。在 {safe(override)} 放置副本即可覆盖。",
                    f"Destination table {safe(d.path)} (version {safe(d.version)}). Put a copy at {safe(override)} to override."))
    for c in d.listed_countries():
        towns = "、".join(tw.name_zh for tw in c.towns)
        console.print(f"  {safe(c.code)} {safe(c.name_zh)}  {t('来源', 'source')}: {safe(c.source)}  {safe(c.date)}"
                      + (f"  {safe('[' + towns + ']')}" if towns else ""))


@register_app.command("list")
def register_list(
    status: str = typer.Option(None, help="按状态过滤：线索 | 核查 | 认定 | 处置。"),
    role_filter: str = typer.Option(None, "--person-role", help="按人员角色过滤。"),
    pending: bool = typer.Option(False, "--pending", help="列出待确认的自动建议。"),
    limit: int = typer.Option(50, help="显示条数。"),
    role: str = typer.Option(None, "--role", help="按用户角色脱敏。"),
) -> None:
    """重点人员列表（或待确认建议）。List the register."""
    from rich.table import Table

    from chainbreaker.core.timefmt import show_time
    from chainbreaker.ops.register_views import register_listing

    rows, total = register_listing(get_workspace(), status=status, person_role=role_filter, pending=pending,
                                   limit=limit, role=claimed_role(role), user=STATE.settings.user)
    table = Table()
    if pending:
        for col in ("#", t("人员", "person"), t("姓名", "name"), t("建议角色", "role"), t("依据", "rule"), t("分值", "score")):
            table.add_column(safe(col), overflow="fold")
        for r in rows:  # masked for the role by the service
            table.add_row(safe(r["id"]), safe(r["person_key"]), safe(r["name"]), safe(r["role"]),
                          safe(f"{r['chain']}:{r['rule_id']}"), f"{(r['score'] or 0):.2f}")
    else:
        for col in (t("人员", "person"), t("姓名", "name"), t("角色", "roles"), t("状态", "status"), t("更新", "updated")):
            table.add_column(safe(col), overflow="fold")
        for r in rows:
            table.add_row(safe(r["person_key"]), safe(r["name"]), safe("、".join(r["roles"])),
                          safe(r["status"] + (f"/{r['disposal']}" if r["disposal"] else "")),
                          safe(show_time(r["updated_at"], seconds=False)))
    console.print(table)
    console.print(t(f"共 {total:,} 条。", f"{total:,} row(s)."))


@register_app.command("show")
def register_show(
    person: str = typer.Argument(..., help="人员主键（ID:…）或身份证号。"),
    role: str = typer.Option(None, "--role", help="按用户角色脱敏。"),
) -> None:
    """人员详情：角色、状态、变更历史、建议与发现（查看记入审计日志）。Show one person."""
    from chainbreaker.core.timefmt import show_time
    from chainbreaker.ops.register_views import register_detail

    d = register_detail(get_workspace(), person, role=claimed_role(role), user=STATE.settings.user)  # masked
    console.print(f"[bold]{safe(d['person_key'])}[/]  {safe(d.get('name'))}  {safe(d.get('id_number'))}")
    if d["on_register"]:
        status = d["status"] + (f"/{d['disposal']}" if d["disposal"] else "")
        console.print(t(f"状态：{safe(status)}", f"Status: {safe(status)}"))
        for r in d["roles"]:
            at, why = safe(show_time(r["at"], seconds=False)), safe(r["why"])
            console.print(t(f"  角色 {safe(r['role'])}（{safe(r['by'])} 于 {at} 确认：{why}）",
                            f"  role {safe(r['role'])} (confirmed by {safe(r['by'])} at {at}: {why})"))
        console.print(t("变更记录：", "History:"))
        for h in d["history"]:
            console.print(f"  {safe(show_time(h['at']))} {safe(h['who'])} {safe(h['kind'])}: {safe(h['from'] or '')} → "
                          f"{safe(h['to'] or '')}  ({safe(h['why'])})")
    else:
        console.print(t("尚未录入重点人员库。", "Not on the register yet."))
    for p in d["proposals"]:
        head = f"#{p['id']:d} {safe(p['role'])}"
        console.print(t(f"  建议 {head}（{safe(p['rule_id'])}，{safe(p['state'])}）：{safe(p['reason'])}",
                        f"  proposal {head} ({safe(p['rule_id'])}, {safe(p['state'])}): {safe(p['reason'])}"))
    for f in d.get("findings", []):
        text = t(f["explanation_zh"], f["explanation_en"])
        console.print(f"  {safe('[' + str(f['rule_id']))} {f['score']:.2f}] {safe(text)}")


@register_app.command("add")
def register_add(
    person: str = typer.Argument(..., help="人员主键（ID:…）或身份证号。"),
    person_role: str = typer.Option(..., "--person-role", "-r", help="涉赌重点人员|出境参赌人员|赌博劳务人员|招赌人员|境内重点关系人"),
    why: str = typer.Option(..., "--why", help="理由（必填，记入变更记录）。"),
) -> None:
    """录入/确认重点人员角色（同时确认对应的自动建议）。Add or confirm a role."""
    from chainbreaker.ops import register

    ws = get_workspace()
    r = register.add_person(ws, person, person_role, STATE.settings.user, why)
    console.print(t(f"已确认角色 {safe(r['role'])}（状态 {safe(r['status'])}，确认建议 {r['proposals_confirmed']:,} 条）。",
                    f"Role {safe(r['role'])} confirmed (status {safe(r['status'])}, {r['proposals_confirmed']:,} proposal(s) confirmed)."))


@register_app.command("set-status")
def register_set_status(
    person: str = typer.Argument(..., help="人员主键（ID:…）或身份证号。"),
    status: str = typer.Argument(..., help="线索 | 核查 | 认定 | 处置"),
    why: str = typer.Option(..., "--why", help="理由（必填）。"),
    disposal: str = typer.Option(None, "--disposal", help="处置方式：劝返 | 列控 | 行政处罚 | 刑事（仅状态为处置时）。"),
) -> None:
    """变更状态：线索 → 核查 → 认定 → 处置（逐级）。Change status."""
    from chainbreaker.ops import register

    ws = get_workspace()
    r = register.set_status(ws, person, status, STATE.settings.user, why, disposal)
    status = r["status"] + (f"/{r['disposal']}" if r["disposal"] else "")
    console.print(t(f"状态已改为 {safe(status)}", f"Status is now {safe(status)}"))


@register_app.command("propose")
def register_propose() -> None:
    """从各链发现中自动生成角色建议（待分析员确认）。Propose roles from findings."""
    from chainbreaker.ops import register

    ws = get_workspace()
    s = register.propose(ws)
    console.print(t(f"新增建议 {s.new:,} 条，更新 {s.updated:,} 条，身份证号无效跳过 {s.skipped_invalid_id:,} 条。",
                    f"{s.new:,} new proposal(s), {s.updated:,} updated, {s.skipped_invalid_id:,} skipped (invalid ID)."))
    for role, n in (s.by_role or {}).items():
        console.print(f"  {safe(role)}: {n:,}")
    console.print(t("用 register list --pending 查看，register add 确认。", "See 'register list --pending'; confirm with 'register add'."))


@register_app.command("reject")
def register_reject(
    proposal_id: int = typer.Argument(..., help="建议编号（register list --pending）。"),
    why: str = typer.Option(..., "--why", help="理由（必填）。"),
) -> None:
    """驳回一条自动建议。Reject a proposal."""
    from chainbreaker.ops import register

    register.reject_proposal(get_workspace(), proposal_id, STATE.settings.user, why)
    console.print(t("已驳回。", "Rejected."))
