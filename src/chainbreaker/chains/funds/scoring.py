"""From the scored account table to ``account_risk`` rows and findings with explanations.

The numbers come from :mod:`chainbreaker.chains.funds.typologies` (Ibis, any engine); this module only
ranks, names the rules that fired, picks the key facts and writes the bilingual explanations.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pyarrow as pa

from chainbreaker.chains.funds.rules import RULE_NAMES
from chainbreaker.core.model.finding import SEVERITY_BOUNDS, Finding, severity_for

SIGNALS = ("paofen", "fast_in_out", "fan_in", "fan_out", "card_pool", "dormant", "network", "upstream",
           "night", "round_amount", "loop", "transit")

# Facts shown for each rule (column names of the feature table).
RULE_FACTS: dict[str, tuple[str, ...]] = {
    "paofen": ("n_payers", "small_in_share", "n_payees", "max_daily_in", "fast_in_share", "retention"),
    "fast_in_out": ("n_in", "fast_in_share", "fast_gap_min", "amt_in", "amt_out", "retention"),
    "fan_in": ("n_payers", "n_payees", "top_payee_share", "fast_in_share"),
    "fan_out": ("n_payees", "n_payers", "top_payer_share", "fast_out_share"),
    "card_pool": ("pool_holders", "pool_device"),
    "dormant": ("max_gap_days", "wake_date", "wake_rn", "n_before"),
    "network": ("n_flagged_payers", "flagged_in_share", "amt_in"),
    "upstream": ("n_flagged_payers", "flagged_in_amt", "amt_in", "flagged_in_share", "flagged_feed_share"),
    "night": ("night_share", "pop_night", "n_all"),
    "round_amount": ("round_share", "pop_round", "n_all"),
    "loop": ("loop_partner", "loop_partners"),
    "transit": ("flow_class", "net_flow", "n_in", "n_out"),
}

FLOW_CLASS_ZH = {"source": "来源", "transit": "中转", "sink": "沉淀", "mixed": "混合", "unknown": "样本不足"}


def clean_value(value: Any) -> Any:
    """JSON-friendly, engine-independent fact values (floats rounded to 4 places)."""
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    if hasattr(value, "as_tuple"):  # Decimal
        return str(value)
    return value


def _pct(x: Any) -> str:
    return "-" if x is None else f"{float(x) * 100:.0f}%"


def explain(rule: str, f: dict[str, Any], p: dict[str, Any]) -> tuple[str, str]:
    """One sentence per rule, Chinese and English, from the account's facts."""
    w = p["fast_in_out"]["window_minutes"]
    if rule == "paofen":
        return (f"{f['n_payers']} 个不同付款方小额转入（{_pct(f['small_in_share'])} 不超过 {p['paofen']['small_max_amount']} 元），"
                f"{_pct(f['fast_in_share'])} 的转入资金在 {w} 分钟内转给 {f['n_payees']} 个账户，留存 {_pct(f['retention'])}，"
                f"单日最高转入 {f['max_daily_in']} 元，符合跑分收款卡特征。",
                f"{f['n_payers']} distinct payers sent small amounts ({_pct(f['small_in_share'])} ≤ {p['paofen']['small_max_amount']}); "
                f"{_pct(f['fast_in_share'])} of the money left within {w} min to {f['n_payees']} accounts; retention "
                f"{_pct(f['retention'])}; peak day inflow {f['max_daily_in']}: a 跑分 collection-card signature.")
    if rule == "fast_in_out":
        gap = f.get("fast_gap_min")
        gap_s = "-" if gap is None else f"{float(gap):.0f}"
        return (f"{f['n_in']} 笔转入中 {_pct(f['fast_in_share'])} 的资金在 {w} 分钟内转出（平均间隔 {gap_s} 分钟），"
                f"转入 {f['amt_in']} 元、转出 {f['amt_out']} 元，特征比 (入-出)/入 = {_pct(f['retention'])}。",
                f"{_pct(f['fast_in_share'])} of the money of {f['n_in']} inbound transfers left within {w} min "
                f"(mean gap {gap_s} min); in {f['amt_in']}, out {f['amt_out']}, ratio (in-out)/in = {_pct(f['retention'])}.")
    if rule == "fan_in":
        return (f"资金来自 {f['n_payers']} 个不同账户，{_pct(f['top_payee_share'])} 转给同一个账户（分散转入、集中转出）。",
                f"Money from {f['n_payers']} distinct accounts; {_pct(f['top_payee_share'])} went to one account.")
    if rule == "fan_out":
        return (f"{_pct(f['top_payer_share'])} 的资金来自同一账户，转给 {f['n_payees']} 个不同账户，"
                f"{_pct(f['fast_out_share'])} 在 {w} 分钟内转出（集中转入、分散转出）。",
                f"{_pct(f['top_payer_share'])} of the money came from one account and went to {f['n_payees']} accounts, "
                f"{_pct(f['fast_out_share'])} within {w} min of arriving.")
    if rule == "card_pool":
        return (f"设备 {f['pool_device']} 被 {f['pool_holders']} 名不同持卡人使用（疑似卡池/工作室）。",
                f"Device {f['pool_device']} was used by {f['pool_holders']} different holders (likely a card pool).")
    if rule == "dormant":
        return (f"账户休眠 {float(f['max_gap_days'] or 0):.0f} 天后于 {f['wake_date']} 突然活跃：此后 {f['wake_rn']} 笔交易，"
                f"此前仅 {f['n_before']} 笔。",
                f"Dormant for {float(f['max_gap_days'] or 0):.0f} days, active again from {f['wake_date']}: {f['wake_rn']} "
                f"transfers since (only {f['n_before']} before).")
    if rule == "network":
        return (f"{_pct(f['flagged_in_share'])} 的转入资金来自 {f['n_flagged_payers']} 个已识别的可疑账户（疑似结算/归集账户）。",
                f"{_pct(f['flagged_in_share'])} of inbound money came from {f['n_flagged_payers']} flagged accounts "
                "(likely a settlement account).")
    if rule == "upstream":
        return _explain_upstream(f)
    if rule == "night":
        return (f"夜间（0-6时）交易占 {_pct(f['night_share'])}，全体账户为 {_pct(f['pop_night'])}。",
                f"Night-time (00-06) share {_pct(f['night_share'])} vs {_pct(f['pop_night'])} for all accounts.")
    if rule == "round_amount":
        return (f"整百金额交易占 {_pct(f['round_share'])}，全体账户为 {_pct(f['pop_round'])}。",
                f"Round-amount share {_pct(f['round_share'])} vs {_pct(f['pop_round'])} for all accounts.")
    if rule == "loop":
        return (f"与 {f['loop_partner']} 等 {f['loop_partners']} 个账户形成时间有序的资金回路。",
                f"On a time-ordered money loop with {f['loop_partners']} partner(s), e.g. {f['loop_partner']}.")
    if rule == "transit":
        cls = f.get("flow_class") or "unknown"
        return (f"资金性质：{FLOW_CLASS_ZH.get(cls, cls)}（净流入比 {_pct(f['net_flow'])}，转入 {f['n_in']} 笔、转出 {f['n_out']} 笔）。",
                f"Flow class: {cls} (net flow {_pct(f['net_flow'])}, {f['n_in']} in, {f['n_out']} out).")
    raise KeyError(rule)


PAYERS_NAMED = 5  # flagged payers named in an upstream explanation (the facts list up to PAYERS_LISTED)
PAYERS_LISTED = 20


def _explain_upstream(f: dict[str, Any]) -> tuple[str, str]:
    payers = f.get("flagged_payers") or []
    named = payers[:PAYERS_NAMED]
    zh_list = "、".join(f"{p['account']}（{p['amount']} 元，{p['transfers']} 笔，得分 {p['score']:.2f}）" for p in named)
    en_list = ", ".join(f"{p['account']} ({p['amount']} in {p['transfers']} transfers, score {p['score']:.2f})"
                        for p in named)
    more = len(payers) > PAYERS_NAMED or int(f["n_flagged_payers"] or 0) > len(named)
    return (f"{_pct(f['flagged_in_share'])} 的转入资金（{f['flagged_in_amt']} 元，转入共 {f['amt_in']} 元）来自 "
            f"{f['n_flagged_payers']} 个可疑账户：{zh_list}{'等' if more else ''}；这些账户转出资金的 "
            f"{_pct(f['flagged_feed_share'])} 流入本账户，疑似归集/结算卡（风险沿资金链传导）。",
            f"{_pct(f['flagged_in_share'])} of the inflow ({f['flagged_in_amt']} of {f['amt_in']}) came from "
            f"{f['n_flagged_payers']} flagged accounts: {en_list}{', ...' if more else ''}; "
            f"{_pct(f['flagged_feed_share'])} of what they sent came here: likely a settlement card "
            "(risk along the money chain).")


def fired_rules(row: dict[str, Any], min_signal: float) -> list[str]:
    return [name for name in SIGNALS if (row.get(f"s_{name}") or 0.0) >= min_signal]


def _local_date(day: Any) -> str | None:
    """A local day number (days since 1970-01-01 in the rules' UTC offset) as an ISO date."""
    return None if day is None else (dt.date(1970, 1, 1) + dt.timedelta(days=int(day))).isoformat()


def _ts(epoch: Any) -> dt.datetime | None:
    return None if epoch is None else dt.datetime.fromtimestamp(int(epoch), dt.UTC)


def build_findings(ranked: list[dict[str, Any]], p: dict[str, Any], run_id: str, rules_version: str,
                   evidence: dict[tuple[str, str], tuple[list[dict[str, Any]], int]],
                   payers: dict[str, list[dict[str, Any]]] | None = None) -> list[Finding]:
    """One finding per (flagged account, rule that fired).

    ``payers``: per account, the flagged payers behind its upstream signal (account, amount,
    transfers, score), largest first; listed in that finding's facts and named in its explanation.
    """
    out: list[Finding] = []
    for row in ranked:
        if row["score"] < p["flag_threshold"]:
            break
        rules = fired_rules(row, p["finding_min_signal"])
        row = {**row, "wake_date": _local_date(row.get("wake_day"))}
        for rule in rules:
            facts = {name: clean_value(row.get(name)) for name in RULE_FACTS[rule]}
            facts["signal"] = clean_value(row.get(f"s_{rule}"))
            facts["account_score"] = row["score"]
            refs, total = evidence.get((row["account"], rule), ([], 0))
            facts["evidence_rows_total"] = total
            if rule == "upstream":
                facts["flagged_payers"] = (payers or {}).get(row["account"], [])[:PAYERS_LISTED]
            zh, en = explain(rule, {**row, **facts}, p)
            name_zh, name_en = RULE_NAMES[rule]
            out.append(Finding(
                run_id=run_id, chain="funds", rule_id=f"funds.{rule}", rule_version=rules_version,
                subject_type="account", subject_key=row["account"], score=row["score"],
                severity=severity_for(row["score"]),
                explanation_zh=f"【{name_zh}】账户 {row['account']}：{zh}",
                explanation_en=f"[{name_en}] account {row['account']}: {en}",
                facts=facts, evidence=refs,
                period_start=_ts(row.get("first_epoch")), period_end=_ts(row.get("last_epoch")),
            ))
    return out


def _rank_order(p: dict[str, Any]) -> tuple[str, str]:
    """The rounded score and the ranking order (SQL over ``scored``) shared by the risk table and the flagged rows."""
    score_r = "round(coalesce(score, 0), 6)"
    return score_r, f"{score_r} DESC, coalesce(CAST(amt_in AS DOUBLE), 0) DESC, account"


def _connection(con: Any) -> Any:
    """``con``, or a new in-memory DuckDB database's connection."""
    if con is not None:
        return con
    import duckdb

    return duckdb.connect()


def flagged_rows(scored: pa.Table, p: dict[str, Any], con: Any = None) -> list[dict[str, Any]]:
    """The flagged rows of ``scored`` as dicts, in rank order, with the rounded ``score`` and ``rank``.

    Only these rows go through Python (findings); millions of unflagged accounts do not. The
    flagged rows lead the ranking order (score >= threshold > the rest), so their row number
    among themselves is their rank in :func:`risk_table`. ``con``: a DuckDB connection to run on,
    closed here (a cursor of a database the caller has open: opening an in-memory database and
    closing it cost ~20-40 ms each); by default a database of its own.
    """
    score_r, order = _rank_order(p)
    con = _connection(con)
    try:
        con.register("scored", scored)
        return con.sql(f"""SELECT * EXCLUDE (score), {score_r} AS score, row_number() OVER (ORDER BY {order}) AS rank
                           FROM scored WHERE {score_r} >= {float(p["flag_threshold"])} ORDER BY rank""").to_arrow_table().to_pylist()
    finally:
        con.close()


def risk_table(scored: pa.Table, p: dict[str, Any], run_id: str, rules_version: str, con: Any = None) -> pa.Table:
    """The ``account_risk`` table: every account of ``scored`` ranked (DuckDB over the Arrow result).

    Runs on a connection of its own (``con``, closed here, as in :func:`flagged_rows`), so the
    screening computes it on a thread beside the evidence.
    """
    m = float(p["finding_min_signal"])
    fired = ", ".join(f"CASE WHEN coalesce(s_{n}, 0) >= {m} THEN '{n}' END" for n in SIGNALS)
    zh = ", ".join(f"CASE WHEN coalesce(s_{n}, 0) >= {m} THEN '{RULE_NAMES[n][0]}' END" for n in SIGNALS)
    en = ", ".join(f"CASE WHEN coalesce(s_{n}, 0) >= {m} THEN '{RULE_NAMES[n][1]}' END" for n in SIGNALS)
    signals = ", ".join(f"'{n}', round(coalesce(s_{n}, 0), 4)" for n in SIGNALS)
    facts = ", ".join(f"'{c}', {('round(' + c + ', 4)') if c in _FLOAT_FACTS else c}" for c in _RISK_FACTS)
    sev = " ".join(f"WHEN round(score, 6) >= {lim} THEN '{name}'" for lim, name in SEVERITY_BOUNDS)
    score_r, order = _rank_order(p)
    thr = float(p["flag_threshold"])
    con = _connection(con)
    try:
        con.execute("SET enable_progress_bar = false")  # on a thread beside the screening's own output
        con.register("scored", scored)
        # the ranking window sorts the narrow key columns only
        return con.sql(f"""
            SELECT account, {score_r} AS score, row_number() OVER (ORDER BY {order}) AS rank,
                   CASE {sev} ELSE 'info' END AS severity,
                   {score_r} >= {thr} AS flagged,
                   concat_ws(',', {fired}) AS rules_fired, flow_class,
                   round(core, 6) AS core, round(context, 6) AS context,
                   CAST(amt_in AS DECIMAL(38,2)) AS amt_in, CAST(amt_out AS DECIMAL(38,2)) AS amt_out,
                   CAST(n_in AS BIGINT) AS n_in, CAST(n_out AS BIGINT) AS n_out,
                   CAST(json_object({facts}, 'signals', json_object({signals})) AS VARCHAR) AS key_facts,
                   coalesce(nullif(concat_ws('、', {zh}), ''), '无明显特征') AS summary_zh,
                   coalesce(nullif(concat_ws(', ', {en}), ''), 'no typology') AS summary_en,
                   '{run_id}' AS run_id, '{rules_version}' AS rules_version
            FROM scored ORDER BY rank""").to_arrow_table().cast(ACCOUNT_RISK)
    finally:
        con.close()


_RISK_FACTS = ("flow_class", "n_payers", "n_payees", "fast_in_share", "fast_gap_min", "retention", "net_flow", "night_share",
               "round_share", "max_daily_in", "pool_holders", "pool_device", "max_gap_days", "loop_partners",
               "n_flagged_payers", "flagged_in_share", "flagged_feed_share", "first_epoch", "last_epoch")
_FLOAT_FACTS = {"fast_in_share", "fast_gap_min", "retention", "net_flow", "night_share", "round_share",
                "max_gap_days", "flagged_in_share", "flagged_feed_share"}


MONEY = pa.decimal128(38, 2)
ACCOUNT_RISK = pa.schema([
    ("account", pa.string()), ("score", pa.float64()), ("rank", pa.int64()), ("severity", pa.string()),
    ("flagged", pa.bool_()), ("rules_fired", pa.string()), ("flow_class", pa.string()),
    ("core", pa.float64()), ("context", pa.float64()), ("amt_in", MONEY), ("amt_out", MONEY),
    ("n_in", pa.int64()), ("n_out", pa.int64()), ("key_facts", pa.string()),
    ("summary_zh", pa.string()), ("summary_en", pa.string()), ("run_id", pa.string()),
    ("rules_version", pa.string()),
])
