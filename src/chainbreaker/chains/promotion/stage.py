"""The SQL that casts one raw platform table into canonical columns (类型转换与校验).

Every source table is exposed to DuckDB as strings and cast in one statement (no per-row Python
loop): amounts by ``TRY_CAST(... AS DECIMAL(18,2))`` with a regex fallback for decorated values
(``1,234.50元``), times by a direct cast with fallbacks for other formats; naive times are in the
configured zone (setting ``timezone``, default Asia/Shanghai), stored UTC. Codes explained in
column comments (``0待支付 1成功 2失败``) are decoded, amounts in 分/厘 are converted to yuan, and an
upline of ``0`` or ``-1`` (网狐 ``SpreaderID = 0``, ``pid`` default 0) means "no upline". Each row
gets the first reason it is rejected, if any.
"""

from __future__ import annotations

from chainbreaker.chains.promotion.classify import TableRole
from chainbreaker.chains.promotion.rawstore import RawTable
from chainbreaker.chains.promotion.spec import (
    FAILED_STATUSES,
    FIELDS,
    MONEY_FIELDS,
    REBATE_KINDS,
    TIME_FIELDS,
)
from chainbreaker.core.ingest.values import cast_offset_time_sql, offset_time_sql
from chainbreaker.core.sql import ident, lit
from chainbreaker.core.timefmt import zone_name

_TIME_FORMATS = ["%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y%m%d%H%M%S", "%Y%m%d %H:%M:%S",
                 "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H时%M分%S秒", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日"]
NO_UPLINE = ("0", "-1")


_NULLS = "('', '\\N', '-', '--', 'NULL', 'null', 'None')"


def _money_slow(c: str) -> str:
    # Decorated amounts ("1,234.50元"); only evaluated where the plain cast failed.
    full = f"translate({c}, '０１２３４５６７８９．－＋', '0123456789.-+')"
    return f"TRY_CAST(regexp_replace({full}, '[,，\\s元¥￥]|RMB|CNY|rmb|cny', '', 'g') AS DECIMAL(18,2))"


def _time_slow(c: str) -> str:
    fmts = ", ".join(lit(f) for f in _TIME_FORMATS)
    return (f"CASE WHEN regexp_matches({c}, '^\\d{{10}}$') THEN to_timestamp(TRY_CAST({c} AS BIGINT)) "
            f"WHEN regexp_matches({c}, '^\\d{{13}}$') THEN to_timestamp(TRY_CAST({c} AS BIGINT) / 1000) "
            f"WHEN {offset_time_sql(c)} THEN {cast_offset_time_sql(c)} "
            f"ELSE timezone({lit(zone_name())}, coalesce(TRY_CAST({c} AS TIMESTAMP), try_strptime({c}, [{fmts}]))) END")


def _shanghai(t: str) -> str:
    """Naive time ``t`` read in the configured zone (setting ``timezone``), as UTC."""
    zone = zone_name()
    if zone != "Asia/Shanghai":
        return f"timezone({lit(zone)}, {t})"
    # Asia/Shanghai is UTC+8 without daylight saving since 1992: plain arithmetic there, ICU before.
    return (f"CASE WHEN {t} >= TIMESTAMP '1992-01-01' THEN make_timestamptz(epoch_us({t}) - 28800000000) "
            f"ELSE timezone('Asia/Shanghai', {t}) END")


def stage_sql(raw: RawTable, role: TableRole, view: str, platform: str) -> str:
    """SELECT producing canonical columns plus ``_reason``/``_detail`` for one raw table.

    Layers, so that each value is cleaned and cast once: trimmed text, null tokens removed
    (``c_*``), a fast plain cast (``f_*``), the typed value (slow parsing only where the fast cast
    failed), and the reason a row is rejected (the first failing check).
    """
    kind = role.kind
    assert kind is not None
    cols = role.columns
    mapped = [(fld, src) for fld, src in cols.items() if fld in FIELDS[kind]]
    # trim() with a character set is slow; only padded values (a leading/trailing blank) pay for it.
    l1 = ", ".join(f"CASE WHEN regexp_matches({ident(src)}, '^\\s|\\s$') THEN trim({ident(src)}, ' \t\r\n\u3000') "
                   f"ELSE {ident(src)} END AS {ident('t_' + fld)}" for fld, src in mapped)
    l2 = ", ".join(f"CASE WHEN {ident('t_' + fld)} IN {_NULLS} THEN NULL ELSE {ident('t_' + fld)} END AS {ident('c_' + fld)}"
                   for fld, _ in mapped)
    l3 = []
    for fld, _ in mapped:
        c = ident("c_" + fld)
        if fld in MONEY_FIELDS:
            l3.append(f"TRY_CAST({c} AS DECIMAL(18,2)) AS {ident('f_' + fld)}")
        elif fld in TIME_FIELDS:
            l3.append(f"CASE WHEN length({c}) = 19 THEN TRY_CAST({c} AS TIMESTAMP) END AS {ident('f_' + fld)}")
    exprs: dict[str, str] = {}
    reasons: list[tuple[str, str, str]] = [
        ("_bad", "bad_bytes", ""), ("_extra IS NOT NULL", "too_many_fields", ""), ("_short", "too_few_fields", "")]
    for fld in FIELDS[kind]:
        src = cols.get(fld)
        if src is None:
            exprs[fld] = "NULL::VARCHAR" if fld not in MONEY_FIELDS | TIME_FIELDS else (
                "NULL::DECIMAL(18,2)" if fld in MONEY_FIELDS else "NULL::TIMESTAMPTZ")
            continue
        c, f = ident("c_" + fld), ident("f_" + fld)
        if fld in MONEY_FIELDS:
            exprs[fld] = f"coalesce({f}, {_money_slow(c)})"
            if fld in role.scale:  # 分/厘 → 元
                exprs[fld] = f"CAST(({exprs[fld]}) * {lit(role.scale[fld])}::DECIMAL(18,4) AS DECIMAL(18,2))"
            reasons.append((f"{c} IS NOT NULL AND {ident(fld)} IS NULL", "amount_invalid", src))
        elif fld in TIME_FIELDS:
            exprs[fld] = f"CASE WHEN {f} IS NOT NULL THEN {_shanghai(f)} ELSE {_time_slow(c)} END"
            reasons.append((f"{c} IS NOT NULL AND {ident(fld)} IS NULL", "time_invalid", src))
        elif fld in role.values:  # codes explained in the column comment or the profile
            cases = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in role.values[fld].items())
            exprs[fld] = f"(CASE {c} {cases} ELSE {c} END)"
        else:
            exprs[fld] = c
    reasons.insert(0, ("member_id IS NULL", "member_missing", cols.get("member_id", "")))
    if kind == "members":
        no_upline = ", ".join(lit(v) for v in NO_UPLINE)
        exprs["upline_id"] = f"(CASE WHEN {exprs['upline_id']} IN ({no_upline}) THEN NULL ELSE {exprs['upline_id']} END)"
        exprs["id_number"] = f"upper(regexp_replace({exprs['id_number']}, '\\s', '', 'g'))"
        exprs["phone"] = (f"regexp_replace(regexp_replace({exprs['phone']}, '[^0-9]', '', 'g'), "
                          f"'^(86|0086)(1\\d{{10}})$', '\\2')")
        exprs["bank_card"] = f"regexp_replace({exprs['bank_card']}, '[\\s-]', '', 'g')"
    if kind in ("deposits", "withdrawals"):
        acct = "payee_account" if kind == "deposits" else "bank_card"
        exprs[acct + "_raw"] = exprs[acct]
        exprs[acct] = (f"NULLIF(regexp_replace(regexp_replace({exprs[acct]}, '[\\s-]', '', 'g'), "
                       f"'_[0-9A-Za-z]{{1,5}}$', ''), '')")
        failed = ", ".join(lit(s) for s in FAILED_STATUSES)
        exprs["ok"] = f"coalesce(lower({exprs['status']}) NOT IN ({failed}), true)"
    if kind == "rebates":
        cases = " ".join(f"WHEN {exprs['kind']} LIKE {lit('%' + k + '%')} THEN {lit(v)}" for k, v in REBATE_KINDS.items())
        exprs["kind_class"] = f"(CASE {cases} ELSE 'commission' END)"
    reason = "CASE " + " ".join(f"WHEN {cond} THEN {lit(code)}" for cond, code, _ in reasons) + " END"
    detail = "CASE " + " ".join(f"WHEN {cond} THEN {lit(col)}" for cond, _, col in reasons) + " END"
    select = ", ".join(f"{e} AS {ident(f)}" for f, e in exprs.items())
    c_cols = ", ".join(ident("c_" + f) for f, _ in mapped)
    keep = "src_row, _ord, _bad, _extra, _short"
    out_cols = ", ".join(ident(f) for f in exprs)
    return (f"SELECT {lit(platform)} AS platform, {out_cols}, {lit(raw.sha256)} AS src_sha256, "
            f"{lit(raw.file_name)} AS src_file, src_row, _ord, {reason} AS _reason, {detail} AS _detail FROM ("
            f"SELECT {select}, {c_cols}, {keep} FROM ("
            f"SELECT *{', ' + ', '.join(l3) if l3 else ''} FROM ("
            f"SELECT {l2}, {keep} FROM ("
            f"SELECT {l1}, _row::BIGINT AS src_row, _ord, _bad, _extra, _short FROM {ident(view)}))))")


CANONICAL_COLUMNS: dict[str, list[str]] = {
    "members": ["platform", *FIELDS["members"]],
    "bets": ["platform", *FIELDS["bets"]],
    "deposits": ["platform", *FIELDS["deposits"], "payee_account_raw", "ok"],
    "withdrawals": ["platform", *FIELDS["withdrawals"], "bank_card_raw", "ok"],
    "rebates": ["platform", *FIELDS["rebates"], "kind_class"],
}
KEY = {"members": "member_id", "bets": "order_id", "deposits": "order_id", "withdrawals": "order_id"}
