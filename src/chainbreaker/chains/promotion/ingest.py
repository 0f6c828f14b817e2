"""``chainbreaker ingest platform``: load a seized platform database into the lake (平台数据导入).

Every source table is recognised (members, bets, deposits, withdrawals, rebates) by its columns,
their comments and its name (:mod:`chainbreaker.chains.promotion.classify`), cast in DuckDB SQL
(:mod:`chainbreaker.chains.promotion.stage`), and split into kept rows and quarantined rows with a reason.
Lake tables written: ``platform_members``, ``platform_bets``, ``platform_deposits``,
``platform_withdrawals``, ``platform_rebates`` (each with a ``platform`` column and
``src_sha256``/``src_file``/``src_row``), ``platform_payments``
(:mod:`chainbreaker.chains.promotion.payments`), ``quarantine`` and ``ingested_files``. The payee and
withdrawal cards reach the shared ``accounts`` table through ``chainbreaker intel link``. Re-ingesting the
same files is a no-op; ingesting a platform again replaces that platform's rows of the table kinds
supplied and leaves other platforms alone. A file that cannot be read is skipped with a row-0
quarantine record and the others are ingested; when no file could be read the run fails with a
clear message and the workspace is unchanged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from chainbreaker.chains.promotion.classify import TableRole, classify
from chainbreaker.chains.promotion.mariadb import Server
from chainbreaker.chains.promotion.payments import write_platform_payments
from chainbreaker.chains.promotion.rawstore import RawStore
from chainbreaker.chains.promotion.sources import (
    FileFailure,
    NoProgress,
    Progress,
    ReadOptions,
    SourceSet,
    platform_files,
    read_sources,
)
from chainbreaker.chains.promotion.spec import FIELD_ZH, FIELDS, REQUIRED
from chainbreaker.chains.promotion.stage import CANONICAL_COLUMNS, KEY, lit, q, stage_sql
from chainbreaker.core.errors import InputError, MappingError
from chainbreaker.core.ingest.mapping import load_profile
from chainbreaker.core.ingest.values import REASONS_ZH, register_reasons
from chainbreaker.core.model.schemas import INGESTED_FILES, QUARANTINE
from chainbreaker.core.workspace import Workspace

KINDS = tuple(FIELDS)
LAKE_TABLE = {k: f"platform_{k}" for k in KINDS}
EXTRA_REASONS = {
    "dump_syntax": "SQL 转储语句语法错误（该语句其余部分未能读取，原文保存在 raw 中）",
    "member_missing": "会员ID为空",
    "table_unrecognised": "无法识别的表（不是会员、注单、充值、提现或佣金表）",
    "line_too_long": "该行过长，已跳过（原文见证据文件）",
    "csv_syntax": "CSV 格式错误（引号未闭合？），这些行未能读取",
    "table_unreadable": "表无法完整读取（数据库文件损坏？），其余部分未导入",
    "restore_error": "在 MariaDB 中还原时该语句出错",
}
register_reasons(EXTRA_REASONS)
WHOLE_FILE_REASONS = ("dump_syntax", "table_unrecognised", "line_too_long", "csv_syntax", "table_unreadable",
                      "restore_error", "file_unusable")


@dataclass
class PlatformIngestSummary:
    platform: str
    files: int = 0
    files_skipped_already_ingested: int = 0
    tables: dict[str, str] = field(default_factory=dict)  # source table -> kind
    roles: dict[str, tuple[str, str]] = field(default_factory=dict)  # source table -> why (zh, en)
    rows_read: int = 0
    rows_kept: dict[str, int] = field(default_factory=dict)
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    files_failed: list[tuple[str, str, str]] = field(default_factory=list)  # (file, zh, en)
    messages: list[tuple[str, str]] = field(default_factory=list)  # (zh, en) notes for the user
    notes: list[str] = field(default_factory=list)
    run_id: str = ""


def ingest_platform(ws: Workspace, path: Path, platform: str, profile: Path | None = None, *,
                    mariadb: str = "auto", progress: Progress | None = None,
                    mariadb_url: str | None = None) -> PlatformIngestSummary:
    """Ingest a folder of CSV/XLSX, SQL dumps or SQLite files as platform ``platform``.

    ``mariadb``: ``auto`` | ``always`` | ``never`` — when dumps are restored into MariaDB (see
    :func:`chainbreaker.chains.promotion.sources._read_dump_file`).
    """
    platform = (platform or "").strip()
    if not platform:
        raise InputError("请用 --platform 指定平台名称。", "Give the platform name with --platform.")
    prof = load_profile(profile)
    paths = platform_files(Path(path))
    if not paths:
        raise InputError(f"{path} 中没有可导入的文件（CSV/XLSX/SQL/SQLite）。",
                         f"No importable files (CSV/XLSX/SQL/SQLite) in {path}.")
    if mariadb_url is None:
        from chainbreaker.core.settings import get_settings

        mariadb_url = get_settings().mariadb_url
    options = ReadOptions(mariadb, Server.from_url(mariadb_url), progress or NoProgress())
    summary = PlatformIngestSummary(platform)
    done: set[str] = set()
    if ws.has_table("ingested_files"):
        con = ws.duck()
        done = {r[0] for r in con.sql(
            f"SELECT file_sha256 FROM ingested_files WHERE layout LIKE {lit('platform:' + platform + ':%')}").fetchall()}
        con.close()
    # One scratch folder per run, removed with its parent when empty whatever happens (a killed run's
    # folder is swept by the next writer: ``Workspace.scratch``).
    with ws.transaction("promotion.ingest", inputs=[str(p) for p in paths],
                        settings={"platform": platform, "profile": str(profile) if profile else None,
                                  "mariadb": mariadb}) as tx, ws.scratch("platform") as tmp:
        store = RawStore(tmp / "raw")
        with tx.timed("read"):
            sources = read_sources(paths, tx.store_evidence, done, store, options)
        summary.run_id = tx.run_id
        summary.files = len(sources.files) + len(sources.failures)
        summary.files_skipped_already_ingested = sum(1 for f in sources.files if f[1] in done)
        summary.messages.extend(sources.notes)
        summary.files_failed = [(f.path.name, f.zh, f.en) for f in sources.failures]
        if not sources.tables:
            if sources.failures and not summary.files_skipped_already_ingested:
                raise _nothing_readable(sources.failures)
            summary.notes.append("all_files_already_ingested")
            tx.counts.update({"files": summary.files, "skipped": summary.files_skipped_already_ingested,
                              "failed": len(sources.failures)})
            return summary
        options.progress.phase("类型转换与校验", "Casting and checking")
        try:
            _stage_all(tx, tx.con, sources, store, prof, platform, summary, tmp, done)
        finally:  # DuckDB spills into the scratch folder: point it back before the folder goes
            with contextlib.suppress(duckdb.Error):  # a failed statement may have closed the connection
                tx.con.execute("RESET temp_directory")
    return summary


def _nothing_readable(failures: list[FileFailure]) -> InputError:
    zh = "；".join(f"{f.path.name}（{f.zh}）" for f in failures[:10])
    en = "; ".join(f"{f.path.name} ({f.en})" for f in failures[:10])
    more_zh = f" 等 {len(failures)} 个文件" if len(failures) > 10 else ""
    more_en = f" and {len(failures) - 10} more" if len(failures) > 10 else ""
    return InputError(f"没有导入任何数据：所有文件都无法读取：{zh}{more_zh}。工作区未改变。",
                      f"Nothing was ingested: no file could be read: {en}{more_en}. The workspace is unchanged.",
                      hint="请检查文件是否完整（未截断、未损坏），或导出为 CSV 后重试。")


def _role(raw: Any, prof: dict[str, Any]) -> TableRole:
    role = classify(raw, prof)
    if role.kind is not None:
        missing = [f for f in REQUIRED[role.kind] if f not in role.columns]
        if missing:
            names = "、".join(f"{f}（{FIELD_ZH.get(f, f)}）" for f in missing)
            raise MappingError(
                f"{raw.file_name} 中找不到必需的列：{names}。现有列：{'、'.join(raw.header) or '（无）'}。可用 --profile 指定列名映射。",
                f"Required column(s) {', '.join(missing)} not found in {raw.file_name}. Columns present: "
                f"{', '.join(raw.header) or '(none)'}. Use --profile to map them.", fields={m: "missing" for m in missing})
    return role


def _stage_all(tx: Any, con: Any, sources: SourceSet, store: RawStore, prof: dict[str, Any], platform: str,
               summary: PlatformIngestSummary, tmp: Path, done: set[str]) -> None:
    """Cast every source table once into a staging Parquet file, then split kept/quarantined rows."""
    from chainbreaker.core.settings import get_settings

    con.execute(f"SET memory_limit = '{get_settings().duckdb_memory_limit}'")
    con.execute(f"SET temp_directory = {lit(str(tmp / 'spill'))}")
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
        role = _role(raw, prof)
        summary.roles[raw.file_name] = (role.why("zh"), role.why("en"))
        if role.kind is None:
            n = int(con.sql(f"SELECT count(*) FROM {q(view)}").fetchall()[0][0])
            summary.rows_read += n
            per_file[raw.sha256]["read"] += n
            summary.notes.append(f"unrecognised:{raw.file_name}")
            if n:
                quarantine_sql.append(
                    f"SELECT {lit(raw.file_name)} AS file_name, {lit(raw.sha256)} AS file_sha256, _row AS row, "
                    f"'table_unrecognised' AS reason_code, NULL AS _detail, to_json(r) AS raw FROM {q(view)} r")
            continue
        summary.tables[raw.file_name] = role.kind
        part = tmp / f"stage_{i}.parquet"
        with tx.timed(f"cast_{role.kind}"):
            con.execute(f"COPY ({stage_sql(raw, role, view, platform)}) TO {lit(str(part))} "
                        f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 262144)")
        staged[role.kind].append(lit(str(part)))
    problems = store.problems.sql()
    if problems:
        quarantine_sql.append(problems)
    for f in sources.failures:
        quarantine_sql.append(
            f"SELECT {lit(f.path.name)} AS file_name, {lit(f.sha256)} AS file_sha256, 0::BIGINT AS row, "
            f"'file_unusable' AS reason_code, {lit(f.zh)} AS _detail, "
            f"{lit(json.dumps({'path': str(f.path), 'error': f.en}, ensure_ascii=False))} AS raw")
    for kind, parts in staged.items():
        if parts:
            _split_kind(tx, con, kind, parts, platform, summary, per_file, raw_views, quarantine_sql)
    if quarantine_sql:
        _write_quarantine(tx, con, quarantine_sql, summary, per_file)
    for stats in per_file.values():
        stats["kept"] = max(0, stats["read"] - stats["quarantined"])
    now = dt.datetime.now(dt.UTC)
    files_rows = [{
        "file_sha256": sha, "file_name": p.name, "path": str(p), "source_kind": "platform",
        "layout": f"platform:{platform}:{fmt}", "encoding": encoding,
        "rows_read": per_file.get(sha, {}).get("read", 0), "rows_kept": per_file.get(sha, {}).get("kept", 0),
        "rows_quarantined": per_file.get(sha, {}).get("quarantined", 0), "run_id": tx.run_id, "ingested_at": now,
    } for p, sha, fmt, encoding in sources.files if sha not in done]
    tx.write("ingested_files", pa.Table.from_pylist(files_rows, schema=INGESTED_FILES), mode="append")
    with tx.timed("payments"):
        tx.counts["platform_payments"] = write_platform_payments(tx)
    tx.counts.update({"rows_read": summary.rows_read, "rows_kept": summary.rows_kept,
                      "quarantined": summary.quarantined_by_reason, "tables": summary.tables,
                      "files_failed": [f[0] for f in summary.files_failed]})


def _split_kind(tx: Any, con: Any, kind: str, parts: list[str], platform: str, summary: PlatformIngestSummary,
                per_file: dict[str, dict[str, int]], raw_views: dict[str, str], quarantine_sql: list[str]) -> None:
    """Kept rows of one kind to the lake (replacing this platform's rows), rejected ones to quarantine."""
    cols = CANONICAL_COLUMNS[kind]
    con.execute(f"CREATE OR REPLACE TEMP VIEW _all_{kind} AS SELECT * FROM read_parquet([{', '.join(parts)}])")
    key = KEY.get(kind)
    # Duplicated keys: a hash aggregate finds the keys, a window orders only those rows.
    if key:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _dup_{kind} AS
            SELECT src_file, _ord, {q(key)} AS dup_key FROM (
                SELECT src_file, _ord, {q(key)}, row_number() OVER (PARTITION BY {q(key)} ORDER BY src_file, _ord) AS rn
                FROM _all_{kind} WHERE _reason IS NULL AND {q(key)} IN (
                    SELECT {q(key)} FROM _all_{kind} WHERE _reason IS NULL AND {q(key)} IS NOT NULL
                    GROUP BY 1 HAVING count(*) > 1))
            WHERE rn > 1""")
    else:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _dup_{kind} AS SELECT NULL::VARCHAR AS src_file, "
                    f"NULL::BIGINT AS _ord, NULL::VARCHAR AS dup_key WHERE false")
    select_cols = ", ".join(f"a.{q(c)}" for c in cols) + ", a.src_sha256, a.src_file, a.src_row"
    new_rows = (f"SELECT {select_cols} FROM _all_{kind} a ANTI JOIN _dup_{kind} d USING (src_file, _ord) "
                f"WHERE a._reason IS NULL")
    name = LAKE_TABLE[kind]
    sql = (f"SELECT * FROM {q(name)} WHERE platform <> {lit(platform)} UNION ALL {new_rows}"
           if tx.has_table(name) else new_rows)
    with tx.timed(f"write_{kind}"):
        tx.write(name, sql)
    rejected = (f"SELECT src_file, src_sha256, src_row, _ord, _reason AS reason_code, _detail FROM _all_{kind} "
                f"WHERE _reason IS NOT NULL UNION ALL SELECT d.src_file, a.src_sha256, a.src_row, d._ord, "
                f"'duplicate_key', {lit(key or '')} FROM _dup_{kind} d JOIN _all_{kind} a USING (src_file, _ord)")
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
            f"j._detail, to_json(r) AS raw FROM _rej_{kind} j JOIN {q(view)} r ON r._ord = j._ord "
            f"WHERE j.src_file = {lit(src_file)}")


def _write_quarantine(tx: Any, con: Any, quarantine_sql: list[str], summary: PlatformIngestSummary,
                      per_file: dict[str, dict[str, int]]) -> None:
    case = "CASE " + " ".join(f"WHEN reason_code = {lit(k)} THEN {lit(v)}" for k, v in REASONS_ZH.items()) + " ELSE reason_code END"
    q_union = " UNION ALL ".join(f"({s})" for s in quarantine_sql)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _quarantine AS SELECT 'platform' AS source_kind, file_name, file_sha256, "
                f"row, reason_code, {case} || CASE WHEN _detail IS NOT NULL AND _detail <> '' THEN '：' || _detail "
                f"ELSE '' END AS reason, raw, {lit(tx.run_id)} AS run_id FROM ({q_union})")
    for code, n in con.sql("SELECT reason_code, count(*) FROM _quarantine GROUP BY 1 ORDER BY 1").fetchall():
        summary.quarantined_by_reason[code] = int(n)
    qtable = con.sql("SELECT * FROM _quarantine").to_arrow_table().cast(QUARANTINE)
    if qtable.num_rows:
        tx.write("quarantine", qtable, mode="append")
    # Records that are not rows of a recognised table: counted as read and quarantined, so that
    # rows_read = kept + quarantined for every file (unrecognised tables were counted as read already).
    whole = ", ".join(lit(c) for c in WHOLE_FILE_REASONS)
    for sha, code, n in con.sql(f"SELECT file_sha256, reason_code, count(*) FROM _quarantine "
                                f"WHERE reason_code IN ({whole}) GROUP BY 1, 2").fetchall():
        stats = per_file.setdefault(sha, {"read": 0, "kept": 0, "quarantined": 0})
        stats["quarantined"] += int(n)
        if code != "table_unrecognised":
            stats["read"] += int(n)
            summary.rows_read += int(n)
