"""``chainbreaker serve`` and ``chainbreaker users add``: the web face on the current workspace."""

from __future__ import annotations

import os
import sys

import typer

from chainbreaker.faces.cli.context import STATE, console, get_workspace, safe, t

users_app = typer.Typer(help="网页用户：创建用户、设置角色与密码。", no_args_is_help=True)
WEB_ROLES = "admin | analyst | investigator | commander | partner | tip_reviewer"


def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址（默认只在本机；对外服务请放在 HTTPS 反向代理之后）。"),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="监听端口。"),
    workers: int = typer.Option(1, "--workers", min=1, max=32,
                                help="工作进程数（每个进程各自载入检索快照；会话、CSRF、锁定、频率限制与引用在各进程间共享）。"),
) -> None:
    """启动网页界面与 API（当前工作区与案件数据库）。Serve the web UI and API."""
    import uvicorn

    from chainbreaker.faces.web.app import app_from_env, missing_assets
    from chainbreaker.faces.web.limits import shared_limits
    from chainbreaker.faces.web.refs import workspace_key
    from chainbreaker.ops.db import engine_for

    ws = get_workspace()
    # every worker process builds the application from the CHAINBREAKER_* settings: hand them this command's
    os.environ["CHAINBREAKER_WORKSPACE"] = str(ws.root.resolve())
    os.environ["CHAINBREAKER_LANG"] = STATE.lang
    engine_for(ws)  # migrate the ops database once, here, rather than in N workers at the same moment
    workspace_key(ws)  # the references' key, created once before the workers read it
    store = shared_limits(ws, STATE.settings.web_redis_url).name
    missing = missing_assets()
    if missing:
        console.print(t(f"[yellow]前端库未安装（{safe(', '.join(missing))}）：请先运行 make setup（npm ci）。页面可用，图表不可用。[/]",
                        f"[yellow]Front-end libraries missing ({safe(', '.join(missing))}): run make setup (npm ci) "
                        "first. Pages work; charts do not.[/]"))
    console.print(t(f"网页界面：http://{safe(host)}:{safe(port)}/ （群众举报：/public）工作区 {safe(ws.root)}",
                    f"Web UI: http://{safe(host)}:{safe(port)}/ (public tips: /public), workspace {safe(ws.root)}"))
    console.print(t(f"工作进程 {safe(workers)} 个；频率限制计数：{'Redis' if store == 'redis' else '案件数据库'}。",
                    f"{safe(workers)} worker process(es); rate limits count in {'Redis' if store == 'redis' else 'the ops database'}."))
    if workers == 1:
        uvicorn.run(app_from_env(), host=host, port=port, log_level="warning", proxy_headers=False)
    else:
        uvicorn.run("chainbreaker.faces.web.app:app_from_env", factory=True, workers=workers, host=host, port=port,
                    log_level="warning", proxy_headers=False)


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="用户名。"),
    role: str = typer.Option(..., "--role", help=f"角色：{WEB_ROLES}。"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="从标准输入读取密码（一行）。"),
    unit: str = typer.Option(None, "--unit", help="所属单位。"),
    partner: str = typer.Option(None, "--partner", help="合作单位账户：其共享包的接收单位名称。"),
) -> None:
    """创建或更新网页用户（argon2 密码哈希）。Create or update a web user."""
    from chainbreaker.core.errors import InputError
    from chainbreaker.faces.web.access import ROLES
    from chainbreaker.ops.accounts import set_password

    if role not in ROLES:
        raise InputError(f"角色“{role}”无效，可选：{WEB_ROLES}。", f"Invalid role '{role}'; choose {WEB_ROLES}.")
    if not password_stdin:
        raise InputError("请用 --password-stdin 从标准输入给出密码（不要写在命令行上）。",
                         "Give the password on standard input with --password-stdin (never on the command line).")
    password = sys.stdin.readline().rstrip("\r\n")
    set_password(get_workspace(), name, password, role=role, unit=unit, partner=partner, who=STATE.settings.user)
    console.print(t(f"用户 {safe(name)} 已保存（角色 {safe(role)}）。", f"User {safe(name)} saved (role {safe(role)})."))
