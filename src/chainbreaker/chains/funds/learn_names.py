"""Chinese and English names of the ``funds learn`` features, for explanations (特征名称).

:func:`feature_label` names every feature the model can use: fixed names for the per-account
features and rules for the families (``w7_in_fan_max``, ``nb_mean_degree``, ``nbw_max_sg_src_sinks``,
``scr_*``/``risk_*`` screening facts). A name it does not know is returned as is.
"""

from __future__ import annotations

import re

BASE: dict[str, tuple[str, str]] = {
    "n": ("交易笔数", "transfers"),
    "degree": ("对手方数", "counterparties"),
    "night_share": ("夜间交易占比", "night-time share"),
    "active_days": ("活跃天数", "active days"),
    "max_day_n": ("单日最多笔数", "most transfers in a day"),
    "gap_mean": ("平均间隔(天)", "mean gap (days)"),
    "gap_std": ("间隔标准差", "gap spread"),
    "gap_min": ("最短间隔(天)", "shortest gap (days)"),
    "span_days": ("活动跨度(天)", "active span (days)"),
    "burstiness": ("突发性", "burstiness"),
    "tx_per_active_day": ("每活跃日笔数", "transfers per active day"),
    "reciprocal_cp": ("双向往来对手方数", "two-way counterparties"),
    "reciprocal_oneoff": ("一次性双向往来数", "one-off two-way counterparties"),
    "fan_in_ratio": ("集中转入比", "fan-in ratio"),
    "fan_out_ratio": ("分散转出比", "fan-out ratio"),
    "pass_through": ("过渡比(进出相抵)", "pass-through ratio"),
    "net_flow": ("净流入比", "net inflow ratio"),
    "oneoff_in_share": ("一次性付款人占比", "share of one-off payers"),
    "oneoff_out_share": ("一次性收款人占比", "share of one-off payees"),
    "in_out_lag_days": ("首笔进到首笔出间隔(天)", "days from first in to first out"),
    "two_hop_out": ("两跳转出路径数", "two-hop outgoing paths"),
    "two_hop_in": ("两跳转入路径数", "two-hop incoming paths"),
    "out_to_oneoff_hubs": ("转给一次性收款枢纽数", "payments to one-off collection hubs"),
    "in_from_oneoff_hubs": ("来自一次性付款枢纽数", "receipts from one-off paying hubs"),
    "oneoff_scc_size": ("一次性关系强连通分量大小", "one-off strongly connected component size"),
    "oneoff_cycle_len": ("一次性关系最短环长", "shortest one-off cycle"),
    "sg_src_sinks": ("分散-汇聚(作为源头)的汇点数", "scatter-gather sinks (as source)"),
    "sg_src_max_mids": ("分散-汇聚(作为源头)最多中间账户", "scatter-gather intermediaries (as source)"),
    "sg_dst_sources": ("分散-汇聚(作为汇点)的源头数", "scatter-gather sources (as sink)"),
    "sg_dst_max_mids": ("分散-汇聚(作为汇点)最多中间账户", "scatter-gather intermediaries (as sink)"),
    "sg_mid_pairs": ("作为分散-汇聚中间账户次数", "scatter-gather pairs served as intermediary"),
    "tcycle2": ("时序回流环(2户)数", "time-respecting 2-cycles"),
    "tcycle3": ("时序回流环(3户)数", "time-respecting 3-cycles"),
    "tcycle4": ("时序回流环(4户)数", "time-respecting 4-cycles"),
    "tcycle_any": ("时序回流环数", "time-respecting cycles"),
    "cad_in_off": ("收到偏离付款人节奏的转账笔数", "receipts off the payer's cadence"),
    "cad_in_off_share": ("收到偏离付款人节奏的转账占比", "share of receipts off the payer's cadence"),
    "cad_in_payer_reg_min": ("付款人付款规律性(最低)", "payers' regularity (lowest)"),
    "cad_in_payer_reg_mean": ("付款人付款规律性(平均)", "payers' regularity (mean)"),
    "cad_out_off": ("偏离自身节奏的转出笔数", "payments off the own cadence"),
    "cad_out_off_share": ("偏离自身节奏的转出占比", "share of payments off the own cadence"),
    "cad_out_reg": ("自身付款规律性", "own payment regularity"),
    "lbl_in_pos_share": ("来自已确认涉案账户的转入金额占比", "share of inflow from confirmed accounts"),
    "lbl_out_pos_share": ("转给已确认涉案账户的金额占比", "share of outflow to confirmed accounts"),
    "lbl_pos_cp": ("已确认涉案对手方数", "confirmed positive counterparties"),
    "lbl_neg_cp": ("已确认正常对手方数", "confirmed clean counterparties"),
    "lbl_pos_cp_share": ("已标注对手方中涉案占比", "share of confirmed positives among labelled counterparties"),
}

SIDE = {"in": ("转入", "incoming"), "out": ("转出", "outgoing")}
FLOW = {
    "n": ("笔数", "count"), "sum": ("金额合计", "total"), "mean": ("平均金额", "mean amount"),
    "max": ("最大金额", "largest amount"), "min": ("最小金额", "smallest amount"), "std": ("金额标准差", "amount spread"),
    "cp": ("对手方数", "counterparties"), "round_share": ("整百金额占比", "whole-hundred share"),
    "oneoff": ("一次性对手方数", "one-off counterparties"), "pair_mean": ("每对手方平均笔数", "transfers per counterparty"),
    "pair_max": ("每对手方最多笔数", "most transfers with one counterparty"),
}
WINDOW = {
    "fan_max": ("最多对手方", "largest fan"), "fan_mean": ("平均对手方", "mean fan"),
    "deg_max": ("最多笔数", "most transfers"), "amt_max": ("最大金额合计", "largest total"),
    "amt_mean": ("平均金额合计", "mean total"), "amt_std": ("金额合计标准差", "spread of totals"),
    "windows": ("活跃窗口数", "active windows"),
}
AGG = {"mean": ("平均", "mean"), "max": ("最大", "max")}
CTX_AGG = {"max": ("最大", "max"), "min": ("最小", "min"), "mean": ("平均", "mean")}


def feature_label(name: str) -> tuple[str, str]:
    """(Chinese, English) name of a feature column."""
    if name in BASE:
        return BASE[name]
    m = re.fullmatch(r"(in|out)_(.+)", name)
    if m and m.group(2) in FLOW:
        side, what = SIDE[m.group(1)], FLOW[m.group(2)]
        return f"{side[0]}{what[0]}", f"{side[1]} {what[1]}"
    m = re.fullmatch(r"w(\d+)_(in|out)_(.+)", name)
    if m:
        days, side, rest = m.group(1), SIDE[m.group(2)], m.group(3)
        ge = re.fullmatch(r"fan_ge(\d+)", rest)
        if ge:
            return (f"{days}天窗口{side[0]}对手方≥{ge.group(1)}的窗口数",
                    f"{days}-day windows with {side[1]} fan ≥ {ge.group(1)}")
        if rest in WINDOW:
            return f"{days}天窗口{side[0]}{WINDOW[rest][0]}", f"{days}-day window {side[1]} {WINDOW[rest][1]}"
    m = re.fullmatch(r"ctx(\d+)_(in|out)_p(deg|excess|fan)_(max|min|mean)", name)
    if m:
        return _context_label(*m.groups())
    m = re.fullmatch(r"w(\d+)_pass_(max|windows)", name)
    if m:
        days = m.group(1)
        if m.group(2) == "max":
            return f"{days}天窗口内最大过渡比", f"largest {days}-day pass-through"
        return f"{days}天窗口过渡比≥0.5的窗口数", f"{days}-day windows passing on half or more"
    m = re.fullmatch(r"(nbw?)_(mean|max)_(.+)", name)
    if m:
        inner_zh, inner_en = feature_label(m.group(3))
        agg = AGG[m.group(2)]
        return f"对手方{agg[0]}{inner_zh}", f"counterparties' {agg[1]} {inner_en}"
    m = re.fullmatch(r"tw_(in|out)_(mean|max)_(.+)", name)
    if m:
        inner_zh, inner_en = feature_label(m.group(3))
        who = ("付款人", "payers'") if m.group(1) == "in" else ("收款人", "payees'")
        agg = AGG[m.group(2)]
        return f"按笔加权{who[0]}{agg[0]}{inner_zh}", f"{who[1]} {agg[1]} {inner_en} (per transfer)"
    m = re.fullmatch(r"(scr|risk)_(.+)", name)
    if m:
        return (f"筛查指标 {m.group(2)}" if m.group(1) == "scr" else f"风险评分 {m.group(2)}",
                f"screening {m.group(2)}" if m.group(1) == "scr" else f"risk {m.group(2)}")
    return name, name


def _context_label(days: str, side: str, kind: str, agg: str) -> tuple[str, str]:
    """Names of the counterparty-activity-at-transfer-time features (``ctx{days}_{side}_p{kind}_{agg}``)."""
    if side == "in":
        when_zh, who_zh, deg_zh, fan_zh = "转入时", "付款人", "转出笔数", "收款人数"
        who_en, deg_en, fan_en = "payer's", "outgoing transfers", "payees"
    else:
        when_zh, who_zh, deg_zh, fan_zh = "转出时", "收款人", "转入笔数", "付款人数"
        who_en, deg_en, fan_en = "payee's", "incoming transfers", "payers"
    what_zh = {"deg": deg_zh, "excess": f"{deg_zh}/其常态", "fan": fan_zh}[kind]
    what_en = {"deg": deg_en, "excess": f"{deg_en} over its usual", "fan": fan_en}[kind]
    agg_zh, agg_en = CTX_AGG[agg]
    return (f"{when_zh}{who_zh}同{days}天窗口{what_zh}({agg_zh})",
            f"{who_en} {what_en} in the same {days}-day window ({agg_en})")
