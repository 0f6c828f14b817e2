"""``chainbreaker ingest platform``: load a seized platform database into the lake.

Every source table is recognised (members, bets, deposits, withdrawals, rebates) by its columns and
name, mapped to canonical fields (synonyms, or a YAML profile), cast in DuckDB SQL with ``TRY_CAST``
(no per-row Python loop), and split into kept rows and quarantined rows with a reason. Lake tables
written: ``platform_members``, ``platform_bets``, ``platform_deposits``, ``platform_withdrawals``,
``platform_rebates`` (each with a ``platform`` column and ``src_sha256``/``src_file``/``src_row``),
``platform_payments`` and the platform rows of ``accounts`` (see :mod:`chainbreaker.promotion.links`),
``quarantine`` and ``ingested_files``. Re-ingesting the same files is a no-op; ingesting a platform
again replaces that platform's rows of the table kinds supplied and leaves other platforms alone.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from chainbreaker.errors import InputError, MappingError
from chainbreaker.ingest.mapping import load_profile, match_score, normalise_header, resolve_columns
from chainbreaker.ingest.values import REASONS_ZH, cast_offset_time_sql, offset_time_sql, register_reasons
from chainbreaker.model.schemas import INGESTED_FILES, QUARANTINE
from chainbreaker.promotion.sources import RawTable, platform_files, read_sources
from chainbreaker.promotion.spec import (
    FAILED_STATUSES,
    FIELDS,
    MONEY_FIELDS,
    NAME_HINTS,
    REBATE_KINDS,
    REQUIRED,
    TIME_FIELDS,
)
from chainbreaker.timefmt import zone_name
from chainbreaker.workspace import Workspace

KINDS = tuple(FIELDS)
LAKE_TABLE = {k: f"platform_{k}" for k in KINDS}
EXTRA_REASONS = {
    "dump_syntax": "SQL 转储语句语法错误（该语句其余部分未能读取，原文保存在 raw 中）",
    "member_missing": "会员ID为空",
    "table_unrecognised": "无法识别的表（不是会员、注单、充值、提现或佣金表）",
}
register_reasons(EXTRA_REASONS)
_TIME_FORMATS = ["%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y%m%d%H%M%S", "%Y%m%d %H:%M:%S",
                 "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H时%M分%S秒", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日"]


@dataclass
class PlatformIngestSummary:
    platform: str
    files: int = 0
    files_skipped_already_ingested: int = 0
    tables: dict[str, str] = field(default_factory=dict)  # source table -> kind
    rows_read: int = 0
    rows_kept: dict[str, int] = field(default_factory=dict)
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    run_id: str = ""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def classify_table(raw: RawTable, profile: dict[str, Any]) -> str | None:
    """Which kind of platform table this is, by profile, required columns, names and file name."""
    forced = _table_profile(raw, profile).get("kind")
    if forced:
        if forced not in KINDS:
            raise MappingError(f"映射配置中的表类型“{forced}”无效，可选：{'、'.join(KINDS)}",
                               f"Table kind '{forced}' in the profile is invalid; use one of {KINDS}")
        return str(forced)
    norm = {normalise_header(h) for h in raw.header}
    best: tuple[float, str] | None = None
    lname = raw.name.lower()
    for kind, spec in FIELDS.items():
        if not all(any(normalise_header(s) in norm for s in spec[f]) for f in REQUIRED[kind]):
            continue
        score = float(match_score(raw.header, spec))
        if any(h in lname for h in NAME_HINTS[kind]):
            score += 5
        if best is None or score > best[0]:
            best = (score, kind)
    return best[1] if best else None


def _table_profile(raw: RawTable, profile: dict[str, Any]) -> dict[str, Any]:
    tables = profile.get("tables") or {}
    for key in (raw.name, raw.file_name, raw.path.name, raw.path.stem):
        if key in tables:
            return dict(tables[key] or {})
    return {}


_NULLS = "('', '\\N', '-', '--', 'NULL', 'null', 'None')"


def _money_slow(c: str) -> str:
    # Decorated amounts ("1,234.50元"); only evaluated where the plain cast failed.
    full = f"translate({c}, '０１２３４５６７８９．－＋', '0123456789.-+')"
    return f"TRY_CAST(regexp_replace({full}, '[,，\\s元¥￥]|RMB|CNY|rmb|cny', '', 'g') AS DECIMAL(18,2))"


def _time_slow(c: str) -> str:
    fmts = ", ".join(_lit(f) for f in _TIME_FORMATS)
    return (f"CASE WHEN regexp_matches({c}, '^\\d{{10}}$') THEN to_timestamp(TRY_CAST({c} AS BIGINT)) "
            f"WHEN {offset_time_sql(c)} THEN {cast_offset_time_sql(c)} "
            f"ELSE timezone({_lit(zone_name())}, coalesce(TRY_CAST({c} AS TIMESTAMP), try_strptime({c}, [{fmts}]))) END")


def _shanghai(t: str) -> str:
    """Naive time ``t`` read in the configured zone (setting ``timezone``), as UTC."""
    zone = zone_name()
    if zone != "Asia/Shanghai":
        return f"timezone({_lit(zone)}, {t})"
    # Asia/Shanghai is UTC+8 without daylight saving since 1992: plain arithmetic there, ICU before.
    return (f"CASE WHEN {t} >= TIMESTAMP '1992-01-01' THEN make_timestamptz(epoch_us({t}) - 28800000000) "
            f"ELSE timezone('Asia/Shanghai', {t}) END")


def _stage_sql(raw: RawTable, kind: str, view: str, cols: dict[str, str], platform: str) -> str:
    """SELECT producing canonical columns plus ``_reason``/``_detail`` for one raw table.

    Layers, so that each value is cleaned and cast once: trimmed text, null tokens removed
    (``c_*``), a fast plain cast (``f_*``), the typed value (slow parsing only where the fast cast
    failed), and the reason a row is rejected (the first failing check).
    """
    mapped = [(fld, src) for fld, src in cols.items() if fld in FIELDS[kind]]
    # trim() with a character set is slow; only padded values (a leading/trailing blank) pay for it.
    l1 = ", ".join(f"CASE WHEN regexp_matches({_q(src)}, '^\\s|\\s$') THEN trim({_q(src)}, ' \t\r\n\u3000') "
                   f"ELSE {_q(src)} END AS {_q('t_' + fld)}" for fld, src in mapped)
    l2 = ", ".join(f"CASE WHEN {_q('t_' + fld)} IN {_NULLS} THEN NULL ELSE {_q('t_' + fld)} END AS {_q('c_' + fld)}"
                   for fld, _ in mapped)
    l3 = []
    for fld, _ in mapped:
        c = _q("c_" + fld)
        if fld in MONEY_FIELDS:
            l3.append(f"TRY_CAST({c} AS DECIMAL(18,2)) AS {_q('f_' + fld)}")
        elif fld in TIME_FIELDS:
            l3.append(f"CASE WHEN length({c}) = 19 THEN TRY_CAST({c} AS TIMESTAMP) END AS {_q('f_' + fld)}")
    exprs: dict[str, str] = {}
    reasons: list[tuple[str, str, str]] = [
        ("_bad", "bad_bytes", ""), ("_extra IS NOT NULL", "too_many_fields", ""), ("_short", "too_few_fields", "")]
    for fld in FIELDS[kind]:
        src = cols.get(fld)
        if src is None:
            exprs[fld] = "NULL::VARCHAR" if fld not in MONEY_FIELDS | TIME_FIELDS else (
                "NULL::DECIMAL(18,2)" if fld in MONEY_FIELDS else "NULL::TIMESTAMPTZ")
            continue
        c, f = _q("c_" + fld), _q("f_" + fld)
        if fld in MONEY_FIELDS:
            exprs[fld] = f"coalesce({f}, {_money_slow(c)})"
            reasons.append((f"{c} IS NOT NULL AND {_q(fld)} IS NULL", "amount_invalid", src))
        elif fld in TIME_FIELDS:
            exprs[fld] = f"CASE WHEN {f} IS NOT NULL THEN {_shanghai(f)} ELSE {_time_slow(c)} END"
            reasons.append((f"{c} IS NOT NULL AND {_q(fld)} IS NULL", "time_invalid", src))
        else:
            exprs[fld] = c
    reasons.insert(0, ("member_id IS NULL", "member_missing", cols.get("member_id", "")))
    if kind == "members":
        exprs["id_number"] = f"upper(regexp_replace({exprs['id_number']}, '\\s', '', 'g'))"
        exprs["phone"] = (f"regexp_replace(regexp_replace({exprs['phone']}, '[^0-9]', '', 'g'), "
                          f"'^(86|0086)(1\\d{{10}})$', '\\2')")
        exprs["bank_card"] = f"regexp_replace({exprs['bank_card']}, '[\\s-]', '', 'g')"
    if kind in ("deposits", "withdrawals"):
        acct = "payee_account" if kind == "deposits" else "bank_card"
        exprs[acct + "_raw"] = exprs[acct]
        exprs[acct] = (f"NULLIF(regexp_replace(regexp_replace({exprs[acct]}, '[\\s-]', '', 'g'), "
                       f"'_[0-9A-Za-z]{{1,5}}$', ''), '')")
        failed = ", ".join(_lit(s) for s in FAILED_STATUSES)
        exprs["ok"] = f"coalesce(lower({exprs['status']}) NOT IN ({failed}), true)"
    if kind == "rebates":
        cases = " ".join(f"WHEN {exprs['kind']} LIKE {_lit('%' + k + '%')} THEN {_lit(v)}" for k, v in REBATE_KINDS.items())
        exprs["kind_class"] = f"(CASE {cases} ELSE 'commission' END)"
    reason = "CASE " + " ".join(f"WHEN {cond} THEN {_lit(code)}" for cond, code, _ in reasons) + " END"
    detail = "CASE " + " ".join(f"WHEN {cond} THEN {_lit(col)}" for cond, _, col in reasons) + " END"
    select = ", ".join(f"{e} AS {_q(f)}" for f, e in exprs.items())
    c_cols = ", ".join(_q("c_" + f) for f, _ in mapped)
    keep = "src_row, _ord, _bad, _extra, _short"
    out_cols = ", ".join(_q(f) for f in exprs)
    return (f"SELECT {_lit(platform)} AS platform, {out_cols}, {_lit(raw.sha256)} AS src_sha256, "
            f"{_lit(raw.file_name)} AS src_file, src_row, _ord, {reason} AS _reason, {detail} AS _detail FROM ("
            f"SELECT {select}, {c_cols}, {keep} FROM ("
            f"SELECT *{', ' + ', '.join(l3) if l3 else ''} FROM ("
            f"SELECT {l2}, {keep} FROM ("
            f"SELECT {l1}, _row::BIGINT AS src_row, _ord, _bad, _extra, _short FROM {_q(view)}))))")


CANONICAL_COLUMNS: dict[str, list[str]] = {
    "members": ["platform", *FIELDS["members"]],
    "bets": ["platform", *FIELDS["bets"]],
    "deposits": ["platform", *FIELDS["deposits"], "payee_account_raw", "ok"],
    "withdrawals": ["platform", *FIELDS["withdrawals"], "bank_card_raw", "ok"],
    "rebates": ["platform", *FIELDS["rebates"], "kind_class"],
}
_KEY = {"members": "member_id", "bets": "order_id", "deposits": "order_id", "withdrawals": "order_id"}


def ingest_platform(ws: Workspace, path: Path, platform: str, profile: Path | None = None) -> PlatformIngestSummary:
    """Ingest a folder of CSV/XLSX, a MySQL dump or a SQLite file as platform ``platform``."""
    platform = (platform or "").strip()
    if not platform:
        raise InputError("请用 --platform 指定平台名称。", "Give the platform name with --platform.")
    prof = load_profile(profile)
    paths = platform_files(Path(path))
    if not paths:
        raise InputError(f"{path} 中没有可导入的文件（CSV/XLSX/SQL/SQLite）。",
                         f"No importable files (CSV/XLSX/SQL/SQLite) in {path}.")
    summary = PlatformIngestSummary(platform)
    done: set[str] = set()
    if ws.has_table("ingested_files"):
        con = ws.duck()
        done = {r[0] for r in con.sql(
            f"SELECT file_sha256 FROM ingested_files WHERE layout LIKE {_lit('platform:' + platform + ':%')}").fetchall()}
        con.close()
    with ws.transaction("promotion.ingest", inputs=[str(p) for p in paths],
                        settings={"platform": platform, "profile": str(profile) if profile else None}) as tx:
        sources = read_sources(paths, tx.store_evidence, done)
        summary.run_id = tx.run_id
        summary.files = len(sources.files)
        summary.files_skipped_already_ingested = sum(1 for _, sha, _ in sources.files if sha in done)
        if not sources.tables and not sources.problems:
            summary.notes.append("all_files_already_ingested")
            tx.counts.update({"files": summary.files, "skipped": summary.files_skipped_already_ingested})
            return summary
        con = tx.con
        tmp = ws.root / "tmp" / tx.run_id
        tmp.mkdir(parents=True, exist_ok=True)
        try:
            _stage_all(tx, con, sources, prof, platform, summary, tmp, done)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return summary


def _stage_all(tx: Any, con: Any, sources: Any, prof: dict[str, Any], platform: str,
               summary: PlatformIngestSummary, tmp: Path, done: set[str]) -> None:
    """Cast every source table once into a staging Parquet file, then split kept/quarantined rows."""
    from chainbreaker.settings import get_settings

    con.execute(f"SET memory_limit = '{get_settings().duckdb_memory_limit}'")
    con.execute("SET temp_directory = ?", [str(tmp / "spill")])
    con.execute("SET enable_progress_bar = false")
    quarantine_sql: list[str] = []
    staged: dict[str, list[str]] = {k: [] for k in KINDS}
    per_file: dict[str, dict[str, int]] = {}
    raw_views: dict[str, str] = {}  # src_file -> view holding the raw strings (for quarantine JSON)
    for i, raw in enumerate(sources.tables):
        view = f"_raw_{i}"
        assert raw.register is not None
        raw.register(con, view)
        raw_views[raw.file_name] = view
        per_file.setdefault(raw.sha256, {"read": 0, "kept": 0, "quarantined": 0})
        kind = classify_table(raw, prof)
        if kind is None:
            n = int(con.sql(f"SELECT count(*) FROM {_q(view)}").fetchall()[0][0])
            summary.rows_read += n
            per_file[raw.sha256]["read"] += n
            summary.notes.append(f"unrecognised:{raw.file_name}")
            if n:
                quarantine_sql.append(
                    f"SELECT {_lit(raw.file_name)} AS file_name, {_lit(raw.sha256)} AS file_sha256, _row AS row, "
                    f"'table_unrecognised' AS reason_code, NULL AS _detail, to_json(r) AS raw FROM {_q(view)} r")
            continue
        tprof = _table_profile(raw, prof)
        mapping = resolve_columns(raw.header, FIELDS[kind], required=REQUIRED[kind], profile=tprof,
                                  file_name=raw.file_name)
        summary.tables[raw.file_name] = kind
        part = tmp / f"stage_{i}.parquet"
        with tx.timed(f"cast_{kind}"):
            con.execute(f"COPY ({_stage_sql(raw, kind, view, mapping.columns, platform)}) TO ? "
                        "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 262144)", [str(part)])
        staged[kind].append(str(part))
    for file_name, sha, prob in sources.problems:
        quarantine_sql.append(
            f"SELECT {_lit(file_name + ('#' + prob.table if prob.table else ''))} AS file_name, {_lit(sha)} AS file_sha256, "
            f"{prob.line}::BIGINT AS row, 'dump_syntax' AS reason_code, {_lit(prob.message)} AS _detail, "
            f"{_lit(json.dumps({'sql': prob.text}, ensure_ascii=False))} AS raw")
    for kind, parts in staged.items():
        if not parts:
            continue
        cols = CANONICAL_COLUMNS[kind]
        con.read_parquet(parts).create_view(f"_all_{kind}", replace=True)  # paths never pasted into SQL
        key = _KEY.get(kind)
        # Duplicated keys: a hash aggregate finds the keys, a window orders only those rows.
        if key:
            con.execute(f"""
                CREATE OR REPLACE TEMP TABLE _dup_{kind} AS
                SELECT src_file, _ord, {_q(key)} AS dup_key FROM (
                    SELECT src_file, _ord, {_q(key)}, row_number() OVER (PARTITION BY {_q(key)} ORDER BY src_file, _ord) AS rn
                    FROM _all_{kind} WHERE _reason IS NULL AND {_q(key)} IN (
                        SELECT {_q(key)} FROM _all_{kind} WHERE _reason IS NULL AND {_q(key)} IS NOT NULL
                        GROUP BY 1 HAVING count(*) > 1))
                WHERE rn > 1""")
        else:
            con.execute(f"CREATE OR REPLACE TEMP TABLE _dup_{kind} AS SELECT NULL::VARCHAR AS src_file, "
                        f"NULL::BIGINT AS _ord, NULL::VARCHAR AS dup_key WHERE false")
        select_cols = ", ".join(f"a.{_q(c)}" for c in cols) + ", a.src_sha256, a.src_file, a.src_row"
        new_rows = (f"SELECT {select_cols} FROM _all_{kind} a ANTI JOIN _dup_{kind} d USING (src_file, _ord) "
                    f"WHERE a._reason IS NULL")
        name = LAKE_TABLE[kind]
        sql = (f"SELECT * FROM {_q(name)} WHERE platform <> {_lit(platform)} UNION ALL {new_rows}"
               if tx.has_table(name) else new_rows)
        with tx.timed(f"write_{kind}"):
            tx.write(name, sql)
        rejected = (f"SELECT src_file, src_sha256, src_row, _ord, _reason AS reason_code, _detail FROM _all_{kind} "
                    f"WHERE _reason IS NOT NULL UNION ALL SELECT d.src_file, a.src_sha256, a.src_row, d._ord, "
                    f"'duplicate_key', {_lit(key or '')} FROM _dup_{kind} d JOIN _all_{kind} a USING (src_file, _ord)")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _rej_{kind} AS {rejected}")
        for sha, n in con.sql(f"SELECT src_sha256, count(*) FROM _all_{kind} GROUP BY 1").fetchall():
            per_file[sha]["read"] += int(n)
            summary.rows_read += int(n)
        for sha, n in con.sql(f"SELECT src_sha256, count(*) FROM _rej_{kind} GROUP BY 1").fetchall():
            per_file[sha]["quarantined"] += int(n)
        summary.rows_kept[kind] = int(con.sql(f"SELECT count(*) FROM _all_{kind}").fetchall()[0][0]) - int(
            con.sql(f"SELECT count(*) FROM _rej_{kind}").fetchall()[0][0])
        # The original values of rejected rows, looked up in their source view (only those rows).
        for src_file in [r[0] for r in con.sql(f"SELECT DISTINCT src_file FROM _rej_{kind}").fetchall()]:
            view = raw_views[src_file]
            quarantine_sql.append(
                f"SELECT j.src_file AS file_name, j.src_sha256 AS file_sha256, j.src_row AS row, j.reason_code, "
                f"j._detail, to_json(r) AS raw FROM _rej_{kind} j JOIN {_q(view)} r ON r._ord = j._ord "
                f"WHERE j.src_file = {_lit(src_file)}")
    if quarantine_sql:
        reasons = REASONS_ZH
        case = "CASE " + " ".join(f"WHEN reason_code = {_lit(k)} THEN {_lit(v)}" for k, v in reasons.items()) + " ELSE reason_code END"
        q_union = " UNION ALL ".join(f"({s})" for s in quarantine_sql)
        qtable = con.sql(
            f"SELECT 'platform' AS source_kind, file_name, file_sha256, row, reason_code, "
            f"{case} || CASE WHEN _detail IS NOT NULL AND _detail <> '' THEN '：' || _detail ELSE '' END AS reason, "
            f"raw, {_lit(tx.run_id)} AS run_id FROM ({q_union})").to_arrow_table().cast(QUARANTINE)
        for code, n in con.sql(f"SELECT reason_code, count(*) FROM ({q_union}) GROUP BY 1 ORDER BY 1").fetchall():
            summary.quarantined_by_reason[code] = int(n)
        if qtable.num_rows:
            tx.write("quarantine", qtable, mode="append")
        for r in con.sql(f"SELECT file_sha256, count(*) FROM ({q_union}) WHERE reason_code IN "
                         f"('dump_syntax', 'table_unrecognised') GROUP BY 1").fetchall():
            per_file.setdefault(r[0], {"read": 0, "kept": 0, "quarantined": 0})["quarantined"] += int(r[1])
    for stats in per_file.values():
        stats["kept"] = max(0, stats["read"] - stats["quarantined"])
    now = dt.datetime.now(dt.UTC)
    files_rows = [{
        "file_sha256": sha, "file_name": p.name, "path": str(p), "source_kind": "platform",
        "layout": f"platform:{platform}:{fmt}", "encoding": "",
        "rows_read": per_file.get(sha, {}).get("read", 0), "rows_kept": per_file.get(sha, {}).get("kept", 0),
        "rows_quarantined": per_file.get(sha, {}).get("quarantined", 0), "run_id": tx.run_id, "ingested_at": now,
    } for p, sha, fmt in sources.files if sha not in done]
    tx.write("ingested_files", pa.Table.from_pylist(files_rows, schema=INGESTED_FILES), mode="append")
    from chainbreaker.promotion.links import write_platform_accounts

    with tx.timed("links"):
        tx.counts["platform_accounts"] = write_platform_accounts(tx)
    tx.counts.update({"rows_read": summary.rows_read, "rows_kept": summary.rows_kept,
                      "quarantined": summary.quarantined_by_reason, "tables": summary.tables})
