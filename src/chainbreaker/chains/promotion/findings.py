"""Findings of the promotion chain: tree problems and the legal threshold rules per suspect.

Aggravation thresholds (N10-S*) are never presented as filing standards: filing for 开设赌场 has no
money floor, and every explanation says so.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa

from chainbreaker.chains.promotion.tree import TreeIssues
from chainbreaker.core.model.finding import Finding, findings_table

CHAIN = "promotion"
AGGRAVATION_NOTE_ZH = "此为开设赌场罪“情节严重”的加重处罚情节；开设赌场罪立案不设金额门槛，不以此数额为立案条件。"
AGGRAVATION_NOTE_EN = ("This is an aggravating circumstance (情节严重) of running a casino; it is not a filing "
                       "threshold (filing has no money floor).")
MAX_EVIDENCE = 50


def _money(v: Any) -> str:
    return f"{Decimal(v or 0):,.2f}"


def _num(v: Any) -> Any:
    if isinstance(v, Decimal):
        return str(v)
    return v


def build_findings(con: duckdb.DuckDBPyConnection, run_id: str, rules: dict[str, Any], basis: str,
                   issues: TreeIssues) -> pa.Table:
    r = rules["rules"]
    version = rules["version"]
    bases = r["AMT"]["bases"]
    basis_col = bases[basis]["column"]
    basis_zh, basis_en = bases[basis]["zh"], bases[basis]["en"]
    out: list[Finding] = []
    out += _tree_findings(run_id, version, issues)

    rows = con.sql(f"""
        WITH merges AS (
            SELECT c.a AS idx, list(struct_pack(member_id := n.member_id, person_id := p.person_id)
                                    ORDER BY n.member_id)[1:{MAX_EVIDENCE}] AS merged
            FROM closure c JOIN person_of p ON p.idx = c.d JOIN nodes n ON n.idx = c.d
            WHERE p.person_idx IN (SELECT person_idx FROM person_of GROUP BY 1 HAVING count(*) > 1)
            GROUP BY 1)
        SELECT am.*, am.{basis_col} AS funds, m.stake AS own_stake, m.payout AS own_payout, m.deposit AS own_deposit,
               m.rake, m.dividend, coalesce(mi.minors, 0) AS minors, mi.minor_ids, mg.merged,
               pm.src_sha256, pm.src_file, pm.src_row
        FROM am JOIN mt m USING (idx) LEFT JOIN minors mi USING (idx) LEFT JOIN merges mg USING (idx)
        JOIN platform_members pm ON pm.platform = am.platform AND pm.member_id = am.member_id
        ORDER BY am.platform, am.member_id
    """).to_arrow_table().to_pylist()
    for a in rows:
        out += _agent_findings(a, run_id, version, r, basis, basis_zh, basis_en)
    out += _helper_findings(con, run_id, version, r)
    return findings_table(out)


def _ev_member(a: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"table": "platform_members", "file_sha256": a["src_sha256"], "file": a["src_file"], "row": a["src_row"],
         "platform": a["platform"], "member_id": a["member_id"]},
        {"table": "agent_metrics", "platform": a["platform"], "member_id": a["member_id"]},
    ]


def _agent_findings(a: dict[str, Any], run_id: str, version: str, r: dict[str, Any], basis: str,
                    basis_zh: str, basis_en: str) -> list[Finding]:
    who = f"平台“{a['platform']}”会员 {a['member_id']}"
    who_en = f"member {a['member_id']} of platform '{a['platform']}'"
    common = {"platform": a["platform"], "member_id": a["member_id"], "level": a["level"],
              "downline_accounts": a["downline_accounts"], "downline_persons": a["downline_persons"],
              "downline_active": a["downline_active"], "funds_basis": basis, "funds_basis_zh": basis_zh,
              "downline_funds": _num(a["funds"]), "own_stake": _num(a["own_stake"]),
              "own_payout": _num(a["own_payout"]), "own_deposit": _num(a["own_deposit"]),
              "own_commission": _num(a["own_commission"])}
    period = {"period_start": a["first_activity"], "period_end": a["last_activity"]}
    ev = _ev_member(a)
    downline_ev = {"table": "platform_bets", "scope": "downline", "platform": a["platform"],
                   "member_id": a["member_id"], "accounts": a["downline_accounts"]}
    found: list[Finding] = []

    def add(rid: str, score: float, zh: str, en: str, facts: dict[str, Any], extra: list[dict[str, Any]] | None = None) -> None:
        found.append(Finding(run_id, CHAIN, rid, "member", f"{a['platform']}:{a['member_id']}", score, zh, en,
                             rule_version=version, facts={**common, **facts}, evidence=ev + (extra or []), **period))

    rule = r["AGT"]
    add("AGT", 0.3, f"{who}有下级账号 {a['direct_downline']} 个（伞下共 {a['downline_accounts']} 个账号），"
        f"依据{rule['law_zh']}（有下级账号的账号可认定为代理），可认定为赌博网站代理。",
        f"{who_en} has {a['direct_downline']} direct sub-accounts ({a['downline_accounts']} in the subtree): an agent "
        f"under {rule['source']}.", {"metric": "direct_downline", "threshold": 1, "value": a["direct_downline"]})
    if a["downline_active"] > 0:
        rule = r["N10-A"]
        add("N10-A", 0.5, f"{who}作为代理，伞下有 {a['downline_active']} 个账号实际投注或充值，依据{rule['law_zh']}，"
            f"担任赌博网站代理并接受投注的，属于开设赌场行为（开设赌场罪立案不设金额门槛）。",
            f"{who_en} acts as an agent and {a['downline_active']} downline accounts bet or deposited: running a "
            f"casino under {rule['source']} (no money floor for filing).",
            {"metric": "downline_active", "threshold": 1, "value": a["downline_active"]}, [downline_ev])

    def aggravation(rid: str, value: Any, shown: str, shown_en: str, extra: list[dict[str, Any]] | None = None,
                    more: dict[str, Any] | None = None) -> None:
        rule = r[rid]
        threshold = rule.get("value")
        if threshold is None or value is None or Decimal(str(value)) < Decimal(str(threshold)):
            return
        add(rid, 0.9, f"{who}{shown}，达到{rule['law_zh']}规定的“{rule['name_zh']}”情形。{AGGRAVATION_NOTE_ZH}",
            f"{who_en}: {shown_en}, meeting '{rule['name_en']}' ({rule['source']}). {AGGRAVATION_NOTE_EN}",
            {"metric": rule["metric"], "threshold": threshold, "value": _num(value), "unit": rule.get("unit"),
             "source": rule["source"], "effective": rule["effective"], **(more or {})}, extra)

    aggravation("N10-S1", a["rake"], f"本人获取佣金（抽头渔利）{_money(a['rake'])} 元",
                f"own commissions (rake-off) {_money(a['rake'])} yuan")
    aggravation("N10-S2", a["funds"], f"伞下赌资 {_money(a['funds'])} 元（认定口径：{basis_zh}）",
                f"downline gambling funds {_money(a['funds'])} yuan (basis: {basis_en})", [downline_ev])
    merged_ev = [{"table": "promotion_person_merges", **m} for m in (a["merged"] or [])]
    aggravation("N10-S3", a["downline_persons"],
                f"伞下参赌人数 {a['downline_persons']} 人（账号 {a['downline_accounts']} 个，按身份证号、手机号、银行卡、设备去重）",
                f"{a['downline_persons']} downline participants ({a['downline_accounts']} accounts, de-duplicated)",
                merged_ev, {"downline_accounts": a["downline_accounts"]})
    aggravation("N10-S5", a["dividend"], f"本人获取分红（利润分成）{_money(a['dividend'])} 元",
                f"own profit share {_money(a['dividend'])} yuan")
    aggravation("N10-S6", a["sub_agents_taking_bets"],
                f"招募的下级代理中有 {a['sub_agents_taking_bets']} 个由其下级接受投注",
                f"{a['sub_agents_taking_bets']} recruited sub-agents take bets")
    minors = [{"table": "platform_members", "platform": a["platform"], "member_id": m} for m in (a["minor_ids"] or [])]
    aggravation("N10-S7", a["minors"], f"直接招揽的会员中有 {a['minors']} 人注册时未满十八周岁（按身份证号出生日期）",
                f"{a['minors']} directly recruited members were under 18 when they registered", minors)

    g = r["G05"]
    persons, funds, rake = a["downline_persons"], Decimal(a["funds"] or 0), Decimal(a["rake"] or 0)
    if persons >= g["min_organised"] and (rake >= Decimal(str(g["rake"])) or funds >= Decimal(str(g["stakes"]))
                                          or persons >= g["participants"]):
        add("G05", 0.6, f"{who}组织 {persons} 人参赌，抽头渔利 {_money(rake)} 元、赌资 {_money(funds)} 元（{basis_zh}），"
            f"符合{g['law_zh']}规定的聚众赌博条件（组织3人以上，且抽头渔利5000元以上、赌资5万元以上或参赌人数20人以上之一）；"
            f"网络赌博代理通常按开设赌场罪认定，此项供参考。",
            f"{who_en} organised {persons} participants (rake {_money(rake)}, funds {_money(funds)}): meets 聚众赌博 "
            f"under {g['source']}; online agents are usually charged with running a casino, shown for reference.",
            {"metric": "downline_persons", "threshold": g["min_organised"], "value": persons,
             "rake": _num(rake), "rake_threshold": g["rake"], "stakes_threshold": g["stakes"],
             "participants_threshold": g["participants"], "source": g["source"]})
    if a["downline_accounts"] != a["downline_persons"]:
        c = r["CNT"]
        add("CNT", 0.2, f"{who}伞下账号 {a['downline_accounts']} 个，经身份证号、手机号、银行卡、设备比对去重后为 "
            f"{a['downline_persons']} 人；依据{c['law_zh']}，一人多号的按实际人数认定参赌人数。合并明细见证据。",
            f"{who_en}: {a['downline_accounts']} downline accounts are {a['downline_persons']} people after "
            f"de-duplication ({c['source']}).",
            {"metric": "downline_persons", "threshold": None, "value": a["downline_persons"],
             "accounts": a["downline_accounts"], "merged_away": a["downline_accounts"] - a["downline_persons"]},
            merged_ev)
    return found


def _helper_findings(con: duckdb.DuckDBPyConnection, run_id: str, version: str, r: dict[str, Any]) -> list[Finding]:
    h = r["N10-H"]
    if h.get("value") is None:
        return []
    threshold = Decimal(str(h["value"]))
    out = []
    rows = con.sql(f"""
        SELECT d.platform, d.payee_account, sum(d.amount) AS amount, count(*) AS deposits,
               count(DISTINCT d.member_id) AS members, min(d.ts) AS f, max(d.ts) AS l,
               list(struct_pack(file_sha256 := d.src_sha256, file := d.src_file, row := d.src_row)
                    ORDER BY d.amount DESC, d.src_row)[1:{MAX_EVIDENCE}] AS sample
        FROM platform_deposits d JOIN (SELECT DISTINCT platform FROM nodes) p USING (platform)
        WHERE d.ok AND d.payee_account IS NOT NULL
        GROUP BY 1, 2 HAVING sum(d.amount) >= {threshold} ORDER BY 1, 2
    """).to_arrow_table().to_pylist()
    for x in rows:
        severe = Decimal(x["amount"]) >= threshold * Decimal(str(h.get("severe_factor", 5)))
        tail = "，达到该数额5倍以上，属“情节严重”" if severe else ""
        unverified = "（该条依据来自二手资料，待核实）" if h.get("unverified") else ""
        out.append(Finding(
            run_id, CHAIN, "N10-H", "account", x["payee_account"], 0.8 if severe else 0.7,
            f"收款账户 {x['payee_account']} 为平台“{x['platform']}”收取 {x['members']} 名会员的充值 {x['deposits']} 笔，"
            f"合计 {_money(x['amount'])} 元，达到{h['law_zh']}规定的收取赌资20万元以上的帮助情形{tail}{unverified}。"
            f"运行 chainbreaker intel link 后该账户进入资金链账户表（origin=platform_deposit），可申请调单。",
            f"Collection account {x['payee_account']} received {_money(x['amount'])} yuan in {x['deposits']} deposits "
            f"from {x['members']} members of '{x['platform']}': payment settlement for a gambling site ({h['source']})"
            + (", 5x the threshold (serious)" if severe else "") + ".",
            rule_version=version,
            facts={"platform": x["platform"], "metric": h["metric"], "threshold": h["value"], "value": str(x["amount"]),
                   "severe": severe, "deposits": x["deposits"], "members": x["members"], "source": h["source"],
                   "unverified": bool(h.get("unverified"))},
            evidence=[{"table": "platform_deposits", **s} for s in x["sample"]], period_start=x["f"], period_end=x["l"]))
    return out


def _tree_findings(run_id: str, version: str, issues: TreeIssues) -> list[Finding]:
    out = []
    for plat, mid, _ in issues.self_refs:
        out.append(Finding(run_id, CHAIN, "TREE-SELF", "member", f"{plat}:{mid}", 0.3,
                           f"平台“{plat}”会员 {mid} 的上级是其本人（自我推荐），已按顶级账号处理，请核实是否为数据篡改或测试账号。",
                           f"Member {mid} of '{plat}' names itself as upline; treated as a root.",
                           rule_version=version, facts={"platform": plat, "member_id": mid, "metric": "upline_id",
                                                        "value": mid, "threshold": None},
                           evidence=[{"table": "platform_members", "platform": plat, "member_id": mid}]))
    for plat, mid, up, _ in issues.orphans:
        out.append(Finding(run_id, CHAIN, "TREE-ORPHAN", "member", f"{plat}:{mid}", 0.3,
                           f"平台“{plat}”会员 {mid} 的上级 {up} 不在数据库中（孤儿账号，可能上级已被删除或数据不全），已按顶级账号处理。",
                           f"Member {mid} of '{plat}' names upline {up}, which is not in the dump; treated as a root.",
                           rule_version=version, facts={"platform": plat, "member_id": mid, "metric": "upline_id",
                                                        "value": up, "threshold": None},
                           evidence=[{"table": "platform_members", "platform": plat, "member_id": mid}]))
    for plat, members in issues.cycles:
        shown = " → ".join(members[:20]) + (" …" if len(members) > 20 else "")
        out.append(Finding(run_id, CHAIN, "TREE-CYCLE", "member", f"{plat}:{members[0]}", 0.4,
                           f"平台“{plat}”存在上级关系循环：{shown} → {members[0]}（共 {len(members)} 个账号）。"
                           f"已在最小会员ID {members[0]} 处断开并作为顶级账号统计，请核实数据是否被篡改。",
                           f"Upline cycle in '{plat}': {shown} -> {members[0]} ({len(members)} accounts); cut at {members[0]}.",
                           rule_version=version, facts={"platform": plat, "metric": "cycle_length", "value": len(members),
                                                        "threshold": None, "members": members[:200]},
                           evidence=[{"table": "platform_members", "platform": plat, "member_id": m} for m in members[:MAX_EVIDENCE]]))
    for plat, n in issues.roots.items():
        if n > 1:
            out.append(Finding(run_id, CHAIN, "TREE-ROOTS", "platform", plat, 0.2,
                               f"平台“{plat}”有 {n} 个顶级账号（多个根节点，含自我推荐、孤儿与断开的循环）；"
                               f"同一平台互无上下级关系的代理不因此当然构成共犯。",
                               f"Platform '{plat}' has {n} roots; agents without an upline/downline link are not "
                               f"co-offenders by that fact alone.",
                               rule_version=version, facts={"platform": plat, "metric": "roots", "value": n, "threshold": 1},
                               evidence=[{"table": "promotion_member_totals", "platform": plat, "tree_status": "root"}]))
    return out
