"""``chainbreaker share ...`` (成员单位共享): thin commands over ``ops/sharing.py``."""

from __future__ import annotations

from pathlib import Path

import typer

from chainbreaker.faces.cli.context import STATE, claimed_role, console, get_workspace, safe, t

app = typer.Typer(no_args_is_help=True)


def _user() -> str:
    return STATE.settings.user


@app.command("make")
def share_make_command(
    kind: str = typer.Argument(..., help="freeze（止付冻结名单）| blocklist（封堵清单）| indicators（STIX/MISP）| exit_control（边控名单）。"),
    to: str = typer.Option(..., "--to", help="接收单位名称。"),
    agency_type: str = typer.Option(..., "--agency-type", help="单位类型：bank | telecom | border | police。"),
    out: Path = typer.Option(Path("share"), "--out", help="输出文件夹（在其中新建数据包文件夹）。"),
    min_score: float = typer.Option(0.5, "--min-score", help="最低得分。"),
    role: str = typer.Option(None, "--role", help="用户角色。"),
) -> None:
    """为成员单位生成共享数据包（按单位类型脱敏、审计并登记）。Make a package for a partner agency."""
    from chainbreaker.ops import sharing

    shared = sharing.make_package(get_workspace(), kind, to, agency_type, out, user=_user(),
                                  role=str(claimed_role(role)), min_score=min_score)
    console.print(t(f"数据包 {safe(shared.package_id)}：{shared.rows:,} 条，文件 {len(shared.files)} 个，位于 {safe(shared.folder)}；"
                    f"脱敏类型：{safe('、'.join(shared.masked_kinds) or '无')}",
                    f"Package {safe(shared.package_id)}: {shared.rows:,} rows, {len(shared.files)} files in {safe(shared.folder)}; "
                    f"masked: {safe(', '.join(shared.masked_kinds) or 'none')}"))


@app.command("list")
def share_list_command() -> None:
    """已共享的数据包登记（谁、什么、给谁、何时）。Packages shared so far."""
    from chainbreaker.core.timefmt import show_time
    from chainbreaker.ops import sharing

    for p in sharing.packages(get_workspace()):
        console.print(safe(f"{p['package_id']}  {p['kind']} → {p['agency']}（{p['agency_type']}）  {p['rows']:,} 条  "
                           f"{p['made_by']}  {show_time(p['made_at'])}"))
