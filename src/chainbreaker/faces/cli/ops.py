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
tip_app = typer.Typer(no_args_is_help=True, help="群众举报：录入（含附件）、查询码查询、分拣列表、关联案件。")
app.add_typer(tip_app, name="tip")
user_app = typer.Typer(no_args_is_help=True, help="用户与角色。")
app.add_typer(user_app, name="user")
reward_app = typer.Typer(no_args_is_help=True, help="举报奖励：计算、双人审批、发放登记。")
app.add_typer(reward_app, name="reward")


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
        console.print(t(f"  另有 {more:,} 行被隔离（见 chainbreaker ops quarantine）。",
                        f"  {more:,} more rows quarantined (see chainbreaker ops quarantine)."))
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


@tip_app.command("add")
def tip_add_command(
    text: str = typer.Option("", "--text", help="举报内容。"),
    attach: list[Path] = typer.Option(None, "--attach", help="附件（可多次给出；按内容判定类型，不安全的拒收）。"),
    channel: str = typer.Option("热线", "--channel", help="渠道：网络 | 热线 | 来信 | 来访。"),
    name: str = typer.Option(None, "--name", help="举报人姓名（实名举报时）。"),
    phone: str = typer.Option(None, "--phone", help="举报人电话（实名举报时）。"),
) -> None:
    """录入一条举报，给出查询码与查询密码。Record a tip; prints its receipt code and passphrase."""
    from chainbreaker.ops.tips import submit_tip

    ws = get_workspace()
    tip = submit_tip(ws, text, attachments=list(attach or []), channel=channel, name=name, phone=phone,
                     user=STATE.settings.user)
    console.print(t(f"已受理。查询码 {safe(tip.receipt_code)}，查询密码 {safe(tip.passphrase)}（仅显示一次，请告知举报人）。",
                    f"Recorded. Receipt code {safe(tip.receipt_code)}, passphrase {safe(tip.passphrase)} "
                    "(shown once: give both to the tipster)."))
    for c in tip.attachments:
        colour = "green" if c.accepted else "yellow"
        console.print(f"[{colour}]  {safe(c.name)}：{safe(c.message(STATE.lang))}[/]")
    console.print(t(f"  提取线索要素 {len(tip.indicators):,} 个。", f"  {len(tip.indicators):,} indicator(s) extracted."))


@tip_app.command("status")
def tip_status_command(
    code: str = typer.Argument(..., help="查询码。"),
    passphrase: str = typer.Option(..., "--passphrase", prompt=True, hide_input=True, help="查询密码。"),
) -> None:
    """举报人凭查询码与密码查询办理状态。Follow up a tip with its receipt code and passphrase."""
    from chainbreaker.core.timefmt import show_time
    from chainbreaker.ops.tips import tip_status

    st = tip_status(get_workspace(), code, passphrase)
    console.print(t(f"{safe(st['receipt_code'])}：{safe(st['status'])}（受理时间 {safe(show_time(st['received_at']))}）",
                    f"{safe(st['receipt_code'])}: {safe(st['status'])} (received {safe(show_time(st['received_at']))})"))


@tip_app.command("list")
def tip_list_command(limit: int = typer.Option(50, "--limit", help="最多显示几条。")) -> None:
    """待分拣举报：要素、重复分组、附件、在线索中的命中数（按角色脱敏）。Triage queue."""
    from chainbreaker.ops.tips import triage

    for r in triage(get_workspace(), role=claimed_role(), user=STATE.settings.user, limit=limit):
        console.print(f"[bold]{safe(r.receipt_code)}[/] {safe(r.channel)} {safe(r.status)} "
                      f"{t('分组', 'group')} {safe(r.group)} {safe(r.tipster)} "
                      f"{t('线索命中', 'in findings')} {safe(r.known_in_findings)}")
        console.print(f"  {safe(r.text[:200], newlines=False)}")
        for kind, value in r.indicators:
            console.print(f"  - {safe(kind)}: {safe(value)}")
        for name, status, reason in r.attachments:
            console.print(f"  [{t('附件', 'file')}] {safe(name)} {safe(status)} {safe(reason or '')}")


@tip_app.command("link")
def tip_link_command(code: str = typer.Argument(..., help="查询码。"),
                     case: str = typer.Option(..., "--case", help="案件编号。")) -> None:
    """把举报关联到案件（状态改为已立案）。Link a tip to a case."""
    from chainbreaker.ops.tips import link_tip

    link_tip(get_workspace(), code, case, user=STATE.settings.user)
    console.print(t(f"已关联：{safe(code)} → {safe(case)}", f"Linked: {safe(code)} → {safe(case)}"))


@reward_app.command("propose")
def reward_propose_command(code: str = typer.Argument(..., help="举报查询码。"),
                           schedule: Path = typer.Option(None, "--schedule", help="奖励标准 YAML。")) -> None:
    """按奖励标准与关联案件的成果计算拟奖励金额。Propose a reward from the linked case's outcomes."""
    from chainbreaker.ops.rewards import propose_reward

    amount, basis = propose_reward(get_workspace(), code, user=STATE.settings.user, schedule_path=schedule)
    console.print(t(f"拟奖励 {safe(amount)} 元（待另一人审批）。", f"Proposed reward: {safe(amount)} yuan (awaiting a second person)."))
    for name, item in basis.items():
        console.print(f"  {safe(name)}: {safe(item)}")


@reward_app.command("approve")
def reward_approve_command(code: str = typer.Argument(..., help="举报查询码。"),
                           why: str = typer.Option(..., "--why", help="审批理由。"),
                           reject: bool = typer.Option(False, "--reject", help="驳回而不是批准。")) -> None:
    """审批拟奖励（须由提出人以外的人审批）。Approve or reject a proposed reward."""
    from chainbreaker.ops.rewards import decide_reward

    status = decide_reward(get_workspace(), code, user=STATE.settings.user, approve=not reject, why=why)
    console.print(t(f"{safe(code)}：{safe(status)}", f"{safe(code)}: {safe(status)}"))


@reward_app.command("pay")
def reward_pay_command(code: str = typer.Argument(..., help="举报查询码。"),
                       reference: str = typer.Option(..., "--reference", help="发放凭证号。")) -> None:
    """登记奖励发放（仅 admin），显示举报人联系方式。Record the payout of an approved reward (admin only)."""
    from chainbreaker.ops.rewards import pay_reward

    out = pay_reward(get_workspace(), code, user=STATE.settings.user, role=claimed_role(), reference=reference)
    who = t("匿名举报人（凭查询码与密码领取）", "anonymous tipster (claims with code and passphrase)") if out["anonymous"] \
        else " ".join(filter(None, [out["tipster_name"], out["tipster_phone"]]))
    console.print(t(f"已登记发放 {safe(out['amount'])} 元，领取人：{safe(who)}",
                    f"Payout of {safe(out['amount'])} yuan recorded; recipient: {safe(who)}"))


@app.command("share")
def share_command(
    case: str = typer.Option(..., "--case", help="案件编号。"),
    kind: str = typer.Option(..., "--kind", help="freeze（银行冻结清单）| exit（边检出境管控名单）| blocklist（封堵清单）| indicators（STIX/MISP）。"),
    to: str = typer.Option(..., "--to", help="接收单位。"),
    out: Path = typer.Option(..., "--out", "-o", help="输出文件夹。"),
    fmt: str = typer.Option(None, "--format", help="blocklist：hosts|domains|dnsmasq|rpz|adguard；indicators：stix|misp。"),
) -> None:
    """向合作单位共享一个案件的数据包（按需最少，记录谁、何时、给谁、什么）。Share a package with a partner agency."""
    from chainbreaker.ops.sharing import share

    pkg = share(get_workspace(), case, kind, to, out, fmt=fmt, user=STATE.settings.user, role=claimed_role())
    console.print(t(f"已向 {safe(pkg.recipient)} 共享 {safe(pkg.kind)}：{pkg.rows:,} 条。",
                    f"Shared {safe(pkg.kind)} with {safe(pkg.recipient)}: {pkg.rows:,} row(s)."))
    for f in pkg.files:
        console.print(f"  {safe(f)}")


@user_app.command("add")
def user_add_command(username: str = typer.Argument(..., help="用户名。"),
                     role: str = typer.Option("analyst", "--role", help="viewer | analyst | investigator | admin。"),
                     unit: str = typer.Option(None, "--unit", help="所属单位。"),
                     name: str = typer.Option(None, "--name", help="显示名。")) -> None:
    """添加或修改用户及其角色。Add or change a user and its role."""
    from chainbreaker.ops.casework import add_user

    add_user(get_workspace(), username, role=role, unit=unit, display_name=name, who=STATE.settings.user)
    console.print(t(f"用户 {safe(username)}：{safe(role)}", f"User {safe(username)}: {safe(role)}"))


@case_app.command("task")
def case_task_command(number: str = typer.Argument(..., help="案件编号。"),
                      title: str = typer.Option(..., "--title", help="任务内容。"),
                      owner: str = typer.Option(None, "--owner", help="责任人用户名。"),
                      due: str = typer.Option(None, "--due", help="完成期限 YYYY-MM-DD。"),
                      unit: str = typer.Option(None, "--unit", help="承担单位。")) -> None:
    """为案件添加任务（责任人、期限）。Add a task to a case."""
    import datetime as dt

    from chainbreaker.core.errors import InputError
    from chainbreaker.ops.casework import add_case_task

    try:
        day = dt.date.fromisoformat(due) if due else None
    except ValueError as exc:
        raise InputError(f"--due 日期格式应为 YYYY-MM-DD：{due}", f"--due must be YYYY-MM-DD: {due}") from exc
    ws = get_workspace()
    task_id = add_case_task(ws, number, title, owner=owner, due=day, unit=unit, who=STATE.settings.user)
    console.print(t(f"已添加任务 #{safe(task_id)}", f"Task #{safe(task_id)} added"))


@case_app.command("join")
def case_join_command(number: str = typer.Argument(..., help="案件编号。"),
                      unit: str = typer.Option(..., "--unit", help="参战单位。"),
                      role: str = typer.Option("协办", "--role", help="角色（协办、配合…）。")) -> None:
    """集群战役：把单位加入案件。Add a unit to a coordinated takedown."""
    from chainbreaker.ops.casework import join_case

    added = join_case(get_workspace(), number, unit, role=role, who=STATE.settings.user)
    console.print(t(f"{safe(unit)} {'已加入' if added else '已在'}案件 {safe(number)}",
                    f"{safe(unit)} {'joined' if added else 'already in'} case {safe(number)}"))


@case_app.command("show")
def case_show_command(number: str = typer.Argument(..., help="案件编号。")) -> None:
    """案件全貌：单位、战果、关联线索、任务、历史。One case in full."""
    from chainbreaker.core.timefmt import show_time
    from chainbreaker.ops.casework import case_detail

    d = case_detail(get_workspace(), number)
    console.print(f"[bold]{safe(d['number'])}[/] {safe(d['name'])}  {safe(d['supervision'])}  {safe(d['status'])}  "
                  f"{t('立案', 'opened')} {safe(d['opened_on'])}")
    units = "、".join(f"{u}（{r}）" for u, r in d["units"])
    console.print(t(f"  主办 {safe(d['lead_unit'])}；参战 {safe(units or '无')}",
                    f"  lead {safe(d['lead_unit'])}; also {safe(units or 'none')}"))
    console.print(t(f"  团伙 {safe(d['gangs'])}，强制措施 {safe(d['persons_measures'])} 人，平台 {safe(d['platforms'])}，"
                    f"扣押冻结 {safe(d['funds_seized_frozen'])} 元",
                    f"  gangs {safe(d['gangs'])}, persons {safe(d['persons_measures'])}, platforms {safe(d['platforms'])}, "
                    f"funds {safe(d['funds_seized_frozen'])} yuan"))
    for x in d["links"]:
        console.print(f"  {t('关联', 'link')} {safe(x['kind'])} {safe(x['ref'])} {safe(x['chain'])} {safe(x['rule_id'])}")
    for task in d["tasks"]:
        console.print(f"  {t('任务', 'task')} #{safe(task['id'])} {safe(task['title'])} {safe(task['owner'] or '')} "
                      f"{safe(task['due'] or '')} {safe(task['status'])}")
    for h in d["history"]:
        console.print(f"  {safe(show_time(h['at']))} {safe(h['who'])} {safe(h['entity'])} {safe(h['action'])} "
                      f"{safe(h['changes'])}")


@app.command("quarantine")
def quarantine_command(limit: int = typer.Option(200, "--limit", help="最多显示几行。")) -> None:
    """月报导入中被隔离的行及原因（个人信息按角色脱敏，读取记入审计）。Quarantined return rows."""
    from chainbreaker.core.timefmt import show_time
    from chainbreaker.ops.importer import quarantined_rows

    for q in quarantined_rows(get_workspace(), role=claimed_role(), user=STATE.settings.user, limit=limit):
        reason = q["reason_zh"] if STATE.lang == "zh" else q["reason_en"]
        console.print(f"{safe(show_time(q['at']))} {safe(q['file'])} {safe(q['sheet'])} {t('第', 'row ')}{safe(q['row'])}"
                      f"{t('行', '')}: {safe(reason)}")
        console.print("  " + safe("；".join(f"{k}={v}" for k, v in q["cells"].items())))


@tip_app.command("assign")
def tip_assign_command(code: str = typer.Argument(..., help="查询码。"),
                       unit: str = typer.Option(..., "--unit", help="承办单位。"),
                       days: int = typer.Option(7, "--days", help="办理时限（天，自受理日起）。")) -> None:
    """把举报交办给单位并设定办理时限。Assign a tip to a unit with a due date."""
    from chainbreaker.ops.tips import assign_tip

    due = assign_tip(get_workspace(), code, unit, days=days, user=STATE.settings.user)
    console.print(t(f"已交办 {safe(unit)}，办理期限 {safe(due)}", f"Assigned to {safe(unit)}, due {safe(due)}"))


@tip_app.command("set-status")
def tip_set_status_command(code: str = typer.Argument(..., help="查询码。"),
                           status: str = typer.Argument(..., help="待分拣 | 已分拣 | 已立案 | 不予受理。")) -> None:
    """分拣结论（离开“待分拣”即记为已办理）。Record the triage decision."""
    from chainbreaker.ops.tips import set_tip_status

    set_tip_status(get_workspace(), code, status, user=STATE.settings.user)
    console.print(t(f"{safe(code)}：{safe(status)}", f"{safe(code)}: {safe(status)}"))


@case_app.command("link")
def case_link_command(number: str = typer.Argument(..., help="案件编号。"),
                      finding: str = typer.Option(None, "--finding", help="线索编号（带上其证据引用）。"),
                      entity: str = typer.Option(None, "--entity", help="情报实体或行动，写成 类型:键（如 operation:OP-2025-07）。")) -> None:
    """把更多线索或情报实体/行动关联到已有案件。Link a finding or an intel entity/operation to a case."""
    from chainbreaker.ops.cases import link_to_case

    added = link_to_case(get_workspace(), number, finding=finding, entity=entity, user=STATE.settings.user,
                         role=claimed_role())
    console.print(t("已关联。" if added else "已关联过，未重复添加。", "Linked." if added else "Already linked; nothing added."))


@app.command("export")
def export_command(table: str = typer.Argument(..., help="案件库表名（如 ops_case、ops_measure、ops_assessment）。"),
                   fmt: str = typer.Option("csv", "--format", "-f", help="csv | jsonl | parquet | xlsx"),
                   out: Path = typer.Option(..., "--out", "-o", help="输出文件（或文件夹）。")) -> None:
    """导出案件库的表（个人信息按角色脱敏，导出记入审计）。Export an ops table."""
    from chainbreaker.ops.export import export_ops_table

    rows = export_ops_table(get_workspace(), table, fmt, out, role=claimed_role(), user=STATE.settings.user,
                            lang=STATE.lang)
    console.print(t(f"已导出 {rows:,} 行。", f"Exported {rows:,} rows."))
