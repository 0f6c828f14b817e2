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
