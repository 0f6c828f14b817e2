"""CLI of intel, where the chains meet: ``chainbreaker intel ...``."""

from __future__ import annotations

import typer

from chainbreaker.faces.cli.context import console, get_workspace, safe, t

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
