"""CLI of intel, where the chains meet: ``chainbreaker intel ...``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from chainbreaker.faces.cli.context import claimed_role, console, get_workspace, safe, shown, t

app = typer.Typer(no_args_is_help=True)

KIND_ZH = {"shows_card": "网站展示的收款账户", "deposit_to": "会员充值付款账户", "withdrawal_to": "会员提现收款账户",
           "holds": "持卡人"}
ORIGIN_ZH = {"platform_deposit": "平台收款账户", "platform_withdrawal": "平台提现账户", "web_indicator": "网页收款线索"}


@app.command("link")
def link_command() -> None:
    """在各链结果之间建立关联（账户线索、links 表、跨链发现；可重复运行）。Link the chains' outputs."""
    from chainbreaker.intel.link import link

    ws = get_workspace()
    res = link(ws)
    console.print(t("跨链关联完成（运行 ", "Cross-chain links made (run ") + safe(res.run_id) + t("）：", "):"))
    for origin, n in res.accounts.items():
        console.print(f"  {safe(t(ORIGIN_ZH.get(origin, origin), origin))} (accounts): {n:,}")
    for kind, n in res.links.items():
        console.print(f"  {safe(t(KIND_ZH.get(kind, kind), kind))} (links): {n:,}")
    for rule, n in res.findings.items():
        console.print(t(f"  跨链发现 {safe(rule)}：{n:,}", f"  findings {safe(rule)}: {n:,}"))
    if not (res.accounts or res.links or any(res.findings.values())):
        console.print(t("  工作区中还没有可关联的链条结果。", "  Nothing to link yet: no chain outputs in the workspace."))


ENTITY_ZH = {"person": "人员", "account": "账户/银行卡", "phone": "电话", "ip": "IP 地址", "mac": "MAC 地址",
             "device": "设备", "wallet": "钱包地址", "site": "网站", "domain": "域名", "member": "平台会员",
             "platform": "平台", "org": "单位"}
LINK_ZH = {**KIND_ZH, "transferred_to": "转账", "agent_of": "上级代理", "member_of": "平台会员",
           "binds_card": "会员绑定银行卡", "has_phone": "登记电话", "used_device": "使用设备/IP", "shows_wallet": "网站展示钱包",
           "shows_phone": "网站展示电话", "on_domain": "所属域名", "travelled_with": "同行", "kin_of": "亲属"}


@app.command("resolve")
def resolve_command() -> None:
    """从各链结果建立实体与关系（entities、entity_sources、entity_links；可重复运行）。Build entities and links."""
    from chainbreaker.intel.entities import resolve

    ws = get_workspace()
    res = resolve(ws)
    console.print(t("实体与关系已建立（运行 ", "Entities and links built (run ") + safe(res.run_id) + t("）：", "):"))
    for kind, n in res.entities.items():
        console.print(f"  {safe(t(ENTITY_ZH.get(kind, kind), kind))} (entities): {n:,}")
    for kind, n in res.links.items():
        console.print(f"  {safe(t(LINK_ZH.get(kind, kind), kind))} (entity_links): {n:,}")
    if res.merged_by_er:
        console.print(t(f"  按人员同一认定（person_clusters）合并：{res.merged_by_er:,}",
                        f"  merged by person_clusters: {res.merged_by_er:,}"))
    if not res.entities:
        console.print(t("  工作区中还没有可建立实体的链条结果。", "  Nothing to resolve yet: no chain outputs in the workspace."))


@app.command("path")
def path_command(
    source: str = typer.Argument(..., metavar="FROM", help="起点：网址/域名、卡号/账号、身份证号、手机号、平台:会员ID"),
    target: str = typer.Argument(..., metavar="TO", help="终点（同上）"),
    out: Path = typer.Option(..., "--out", help="输出 JSON 文件 / output JSON file"),
    max_hops: int = typer.Option(6, "--max-hops", help="最多几跳 / at most this many hops"),
    direction: str = typer.Option("any", "--direction", help="any：任意关系；money：按资金方向和时间先后"),
    role: str | None = typer.Option(None, "--role", help="按角色脱敏 / mask for this role"),
) -> None:
    """两个标识之间的最短关系路径（JSON）。Shortest path between two identifiers."""
    from chainbreaker.intel.path import find_path
    from chainbreaker.intel.present import write_json

    ws = get_workspace()
    who = claimed_role(role)
    doc = find_path(ws, source, target, max_hops=max_hops, direction=direction)
    written = write_json(ws, doc, out, "intel.path", who, "path.json", hops=max(len(doc["nodes"]) - 1, 0),
                         direction=direction)
    if doc["nodes"]:
        console.print(t(f"找到 {len(doc['edges'])} 跳的路径：", f"Path of {len(doc['edges'])} hops: ")
                      + " → ".join(shown(n["id"], None, who) for n in doc["nodes"]),  # rich-safe: shown() masks and escapes
                      emoji=False)  # entity ids such as person:ID:... are not emoji codes
    else:
        console.print(t("没有找到路径（nodes 为空）。", "No path found (nodes is empty)."))
    console.print(t("已写出：", "Written: ") + safe(str(written)))


@app.command("dossier")
def dossier_command(
    ident: str = typer.Argument(..., metavar="IDENT", help="身份证号、卡号、手机号、网址、平台:会员ID 或实体编号"),
    out: Path = typer.Option(..., "--out", help="输出文件 / output file"),
    fmt: str = typer.Option("html", "--format", help="html | json | docx"),
    role: str | None = typer.Option(None, "--role", help="按角色脱敏 / mask for this role"),
) -> None:
    """一个实体及其近邻的档案：标识、各链发现、资金进出、平台角色、出入境、网站与证据。Dossier of one entity."""
    from chainbreaker.faces.cli.context import STATE
    from chainbreaker.intel.dossier import write_dossier

    ws = get_workspace()
    written = write_dossier(ws, ident, out, fmt, claimed_role(role), STATE.lang)
    console.print(t("档案已写出：", "Dossier written: ") + safe(str(written)))


@app.command("operations")
def operations_command(
    resolution: float = typer.Option(1.0, "--resolution", help="模块度分辨率，小于 1 得到更少更大的团伙 / below 1: fewer, larger groups"),
    role: str | None = typer.Option(None, "--role", help="按角色脱敏 / mask for this role"),
) -> None:
    """在关系图上划分团伙（Leiden 社区，以发现为锚），写入 operations 表并排名。Find and rank operations."""
    from chainbreaker.intel.operations import operations

    ws = get_workspace()
    who = claimed_role(role)
    res = operations(ws, resolution=resolution)
    console.print(t(f"团伙划分完成（运行 {safe(res.run_id)}）：社区 {res.communities:,}，以发现为锚的团伙 {res.operations:,}，"
                    f"模块度 {res.modularity:.3f}", f"Operations found (run {safe(res.run_id)}): {res.communities:,} "
                    f"communities, {res.operations:,} anchored on findings, modularity {res.modularity:.3f}"))
    for op in res.top:
        persons = json.loads(op["key_persons"])[:3]
        console.print(f"  #{op['rank']:,} {safe(op['operation_id'])} {t('得分', 'score')} {op['score']:.2f} "
                      f"{t('实体', 'entities')} {op['n_entities']:,} {t('链', 'chains')} "
                      f"{safe('、'.join(json.loads(op['finding_chains'])))} {t('资金', 'flow')} {op['total_flow']:,.2f} "
                      + t("关键人员 ", "key persons ") + "、".join(shown(p, "person_key", who) for p in persons),  # rich-safe: shown()
                      emoji=False)
def _attach_entity_resolution() -> None:
    """``intel match``, ``intel judge ...`` and ``intel export`` live in ``faces/cli/intel_er.py``."""
    from chainbreaker.faces.cli import intel_er

    app.registered_commands.extend(intel_er.app.registered_commands)
    app.registered_groups.extend(intel_er.app.registered_groups)


_attach_entity_resolution()
