"""Evidence workbook (证据工作簿) for one suspect: summary, upline path, every downline member with
totals, the threshold sheet with sources, and the person merges. In Chinese.

Seized strings are data, never formulas: cells go through ``exports_xlsx.write_cell`` (no
formulas, no hyperlinks, formula-like text neutralised); times are Excel datetimes in the
configured zone; the file is written through ``exports.output_file`` (audit first, temporary
file, completion, rename). Personal values are masked by what they are for the caller's role
(``model/masking.py``: names, ID and phone numbers, cards, addresses, in columns and in text) before
anything is written, and the audit record lists the masked columns with their kinds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from chainbreaker.chains.promotion.thresholds import load_rules
from chainbreaker.core.errors import InputError
from chainbreaker.core.exports import output_file
from chainbreaker.core.exports_xlsx import CellFormats, safe_workbook, write_cell
from chainbreaker.core.model.finding import query
from chainbreaker.core.model.masking import mask_record, mask_table_report, mask_text
from chainbreaker.core.sql import lit
from chainbreaker.core.timefmt import now_local, zone_label, zone_name
from chainbreaker.core.workspace import Workspace

KIND_ZH = {"offence": "入罪条件", "aggravation": "情节严重（加重处罚情节，非立案门槛）", "counting": "认定规则"}


THRESHOLD_HEAD = {"rule_id": "规则编号", "name": "名称", "kind": "性质", "metric": "指标", "threshold": "阈值",
                  "value": "本案数值", "status": "是否达到", "law": "法律依据", "source": "出处", "effective": "生效日期",
                  "note": "备注"}


def threshold_rows(rules: dict[str, Any], findings: list[dict[str, Any]], am: dict[str, Any] | None,
                   basis: str) -> list[dict[str, Any]]:
    """定罪量刑标准 for one suspect: every threshold rule with this suspect's value and whether it is met
    (a rule is met when its finding fired); the workbook's sheet and the web's agent card show these."""
    fired = {f["rule_id"]: json.loads(f["facts"]) if isinstance(f["facts"], str) else (f["facts"] or {})
             for f in findings}
    out = []
    for rid, rule in rules["rules"].items():
        facts = fired.get(rid, {})
        value = facts.get("value", "")
        status = "达到" if rid in fired else ("未设定" if rid == "OG" else ("未评估" if rid in ("N10-S4", "N10-H") else "未达到"))
        if rid == "N10-S2" and not facts and am:
            value = str(am[rules["rules"]["AMT"]["bases"][basis]["column"]])
        elif rid == "N10-S3" and not facts and am:
            value = am["downline_persons"]
        out.append({"rule_id": rid, "name": rule.get("name_zh", ""), "kind": KIND_ZH.get(rule.get("kind", ""), rule.get("kind", "")),
                    "metric": rule.get("metric", ""), "threshold": "" if rule.get("value") is None else rule.get("value"),
                    "value": value, "status": status, "law": rule.get("law_zh", ""), "source": rule.get("source", ""),
                    "effective": rule.get("effective", ""),
                    "note": rule.get("note_zh", "") + ("（依据待核实）" if rule.get("unverified") else "")})
    return out


def member_totals(con: Any, member_id: str, platform: str | None, role: str) -> dict[str, Any]:
    """The one ``promotion_member_totals`` row of ``member_id`` (on ``platform`` when given); a clear
    error, with the id as ``role`` may see it, when there is none or the id is on several platforms."""
    where = "member_id = ?" + (" AND platform = ?" if platform else "")
    args = [member_id] + ([platform] if platform else [])
    totals = con.sql(f"SELECT * FROM promotion_member_totals WHERE {where}", params=args).to_arrow_table().to_pylist()
    shown = mask_text(member_id, role)
    if not totals:
        raise InputError(f"找不到会员 {shown}" + (f"（平台 {platform}）" if platform else "") + "。",
                         f"No member {shown}" + (f" on platform {platform}" if platform else "") + ".")
    if len(totals) > 1:
        plats = "、".join(t["platform"] for t in totals)
        raise InputError(f"会员ID {shown} 在多个平台出现（{plats}），请指定平台（--platform）。",
                         f"Member id {shown} exists on several platforms ({plats}); choose one (--platform).")
    return dict(totals[0])


def workbook_file_name(member_id: str) -> str:
    """The file written when ``--out`` is a folder."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in member_id)[:80] or "member"
    return f"证据工作簿_{safe}.xlsx"


def write_workbook(ws: Workspace, member_id: str, out: Path, platform: str | None = None,
                   basis: str | None = None, user: str = "local", role: str = "analyst") -> dict[str, int]:
    """Write the workbook for ``member_id``; returns row counts per sheet."""

    if not ws.has_table("agent_metrics"):
        raise InputError("尚未进行代理层级分析。请先运行 chainbreaker promotion analyze。",
                         "No agent analysis yet. Run 'chainbreaker promotion analyze' first.")
    con = ws.duck()
    me = member_totals(con, member_id, platform, role)
    plat = me["platform"]
    rules = load_rules(ws.config_dir)
    basis = basis or rules["rules"]["AMT"].get("default_basis", "stake")
    am_rows = con.sql(f"SELECT * FROM agent_metrics WHERE platform = {lit(plat)} AND member_id = {lit(member_id)}"
                      ).to_arrow_table().to_pylist()
    am = am_rows[0] if am_rows else None
    member = con.sql(f"SELECT * FROM platform_members WHERE platform = {lit(plat)} AND member_id = {lit(member_id)}"
                     ).to_arrow_table().to_pylist()[0]
    # Downline: level-by-level over the effective uplines, never recursion in Python.
    con.execute(f"""CREATE TEMP TABLE down AS SELECT member_id, 0 AS depth FROM promotion_member_totals
                    WHERE platform = {lit(plat)} AND member_id = {lit(member_id)}""")
    con.execute("CREATE TEMP TABLE frontier AS SELECT * FROM down")
    depth = 0
    while int(con.sql("SELECT count(*) FROM frontier").fetchall()[0][0]):
        depth += 1
        con.execute(f"""CREATE OR REPLACE TEMP TABLE frontier AS SELECT t.member_id, {depth} AS depth
                        FROM promotion_member_totals t JOIN frontier f ON t.upline_effective = f.member_id
                        WHERE t.platform = {lit(plat)} AND t.member_id NOT IN (SELECT member_id FROM down)""")
        con.execute("INSERT INTO down SELECT * FROM frontier")
    downline = con.sql(f"""
        SELECT t.member_id AS 会员ID, m.username AS 用户名, t.upline_effective AS 直属上级, d.depth AS 相对层级,
               t.person_id AS 人员编号, m.real_name AS 姓名, t.bets AS 投注笔数, t.stake AS 投注金额,
               t.payout AS 派彩金额, t.deposit AS 充值金额, t.withdrawal AS 提现金额, t.rake + t.dividend AS 佣金分红,
               t.active AS 是否活跃, t.first_activity AS 首次活动, t.last_activity AS 末次活动,
               m.src_file AS 来源文件, m.src_row AS 来源行号, m.src_sha256 AS 来源文件SHA256
        FROM down d JOIN promotion_member_totals t ON t.platform = {lit(plat)} AND t.member_id = d.member_id
        JOIN platform_members m ON m.platform = t.platform AND m.member_id = t.member_id
        WHERE d.depth > 0 ORDER BY d.depth, t.member_id
    """).to_arrow_table()
    path_ids = (am["upline_path"].split(">") if am and am["upline_path"] else [])
    if not am and me["upline_effective"]:
        path_ids = []
        cur = me["upline_effective"]
        while cur and cur not in path_ids and len(path_ids) < 10_000:
            path_ids.insert(0, cur)
            nxt = con.sql(f"SELECT upline_effective FROM promotion_member_totals WHERE platform = {lit(plat)} "
                          f"AND member_id = {lit(cur)}").fetchall()
            cur = nxt[0][0] if nxt else None
    uplines = con.sql(f"""
        SELECT m.member_id AS 会员ID, m.username AS 用户名, m.real_name AS 姓名, m.level AS 平台级别,
               t.level AS 层级, t.stake AS 本人投注, m.register_time AS 注册时间, m.src_file AS 来源文件, m.src_row AS 来源行号
        FROM platform_members m JOIN promotion_member_totals t USING (platform, member_id)
        WHERE m.platform = {lit(plat)} AND list_contains($1, m.member_id) ORDER BY t.level
    """, params=[path_ids]).to_arrow_table() if path_ids else None
    findings = sorted(query(con, chain="promotion", subject=f"{plat}:{member_id}",
                            columns=["rule_id", "severity", "explanation_zh", "facts", "evidence"]).to_pylist(),
                      key=lambda f: f["rule_id"])
    merges = con.sql(f"""SELECT g.person_id AS 人员编号, g.member_id AS 会员ID, g.via_kind AS 关联依据, g.via_value AS 共用值
                         FROM promotion_person_merges g JOIN down d ON d.member_id = g.member_id AND d.depth > 0
                         WHERE g.platform = {lit(plat)} ORDER BY 1, 2""").to_arrow_table() \
        if ws.has_table("promotion_person_merges") else None
    con.close()

    # Mask before anything leaves (脱敏在先): what the role does not see never reaches the file.
    masked_kinds: dict[str, str] = {}
    member, report = mask_record(member, role)
    masked_kinds.update({f"摘要.{k}": v for k, v in report.items()})
    sheets = {"上线路径": uplines, "伞下会员": downline, "人员合并": merges}
    for sheet, table in sheets.items():
        if table is not None:
            sheets[sheet], report = mask_table_report(table, role)
            masked_kinds.update({f"{sheet}.{k}": v for k, v in report.items()})
    uplines, downline, merges = sheets["上线路径"], sheets["伞下会员"], sheets["人员合并"]
    findings = [{**f, "explanation_zh": mask_text(f["explanation_zh"], role)} for f in findings]

    with output_file(ws, out, "promotion.workbook", default_name=workbook_file_name(member_id), user=user,
                     role=role, platform=plat, member_id=member_id, masked_kinds=masked_kinds) as target:
        counts = _write_sheets(target.path, plat, member_id, member, me, am, path_ids, basis, rules, findings,
                               uplines, downline, merges)
        target.result["sheets"] = counts
    return counts


def _write_sheets(path: Path, plat: str, member_id: str, member: dict[str, Any], me: dict[str, Any],
                  am: dict[str, Any] | None, path_ids: list[str], basis: str, rules: dict[str, Any],
                  findings: list[dict[str, Any]], uplines: Any, downline: Any, merges: Any) -> dict[str, int]:
    zone = zone_name()
    wb = safe_workbook(path)
    fmts = CellFormats.add(wb)
    bold, wrap = fmts.bold, fmts.wrap
    counts: dict[str, int] = {}

    s = wb.add_worksheet("摘要")
    s.set_column(0, 0, 22)
    s.set_column(1, 1, 90)
    basis_zh = rules["rules"]["AMT"]["bases"][basis]["zh"]
    summary: list[tuple[str, Any]] = [
        ("平台", plat), ("会员ID", member_id), ("用户名", member.get("username")), ("姓名", member.get("real_name")),
        ("层级（顶级=1）", me["level"]), ("上线路径", " > ".join(path_ids) or "（顶级账号）"),
        ("树结构状态", me["tree_status"]),
        ("直属下级数", am["direct_downline"] if am else 0), ("伞下账号数", am["downline_accounts"] if am else 0),
        ("伞下参赌人数（去重后）", am["downline_persons"] if am else 0),
        ("伞下活跃账号数", am["downline_active"] if am else 0),
        ("伞下投注金额", am["downline_stake"] if am else 0), ("伞下派彩金额", am["downline_payout"] if am else 0),
        ("伞下充值金额", am["downline_deposit"] if am else 0), ("本人佣金及分红", am["own_commission"] if am else 0),
        ("本人投注金额", me["stake"]), ("本人充值金额", me["deposit"]),
        ("有下级的下级代理数", am["sub_agents_with_downline"] if am else 0),
        (f"首次活动（{zone_label(zone)}）", am["first_activity"] if am else me["first_activity"]),
        (f"末次活动（{zone_label(zone)}）", am["last_activity"] if am else me["last_activity"]),
        ("赌资认定口径", f"{basis}：{basis_zh}"), ("规则版本", rules["version"]),
        ("说明", "“情节严重”各项为加重处罚情节；开设赌场罪立案不设金额门槛。金额单位：元。"),
        (f"生成时间（{zone_label(zone)}）", now_local(zone)),
    ]
    for i, (k, v) in enumerate(summary):
        write_cell(s, i, 0, k, fmts, zone, bold)
        write_cell(s, i, 1, v, fmts, zone, wrap)
    row = len(summary) + 1
    write_cell(s, row, 0, "研判结论", fmts, zone, bold)
    for f in findings:
        row += 1
        write_cell(s, row, 0, f["rule_id"], fmts, zone)
        write_cell(s, row, 1, f["explanation_zh"], fmts, zone, wrap)
    counts["摘要"] = row + 1

    def table_sheet(name: str, table: Any) -> None:
        sh = wb.add_worksheet(name)
        if table is None:
            counts[name] = 0
            return
        for j, f in enumerate(table.schema):
            head = f"{f.name}（{zone_label(zone)}）" if pa.types.is_timestamp(f.type) else f.name
            write_cell(sh, 0, j, head, fmts, zone, bold)
        for i, r in enumerate(table.to_pylist(), start=1):
            for j, v in enumerate(r.values()):
                write_cell(sh, i, j, v, fmts, zone)
        sh.set_column(0, len(table.column_names), 16)
        sh.freeze_panes(1, 0)
        counts[name] = table.num_rows

    table_sheet("上线路径", uplines)
    table_sheet("伞下会员", downline)

    th = wb.add_worksheet("定罪量刑标准")
    head = list(THRESHOLD_HEAD.values())
    for j, h in enumerate(head):
        write_cell(th, 0, j, h, fmts, zone, bold)
    for i, r in enumerate(threshold_rows(rules, findings, am, basis), start=1):
        for j, key in enumerate(THRESHOLD_HEAD):
            write_cell(th, i, j, r[key], fmts, zone)
    th.set_column(0, 10, 18)
    th.set_column(7, 7, 60)
    counts["定罪量刑标准"] = len(rules["rules"])
    table_sheet("人员合并", merges)
    wb.close()
    return counts
