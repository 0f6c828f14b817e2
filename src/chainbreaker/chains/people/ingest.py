"""Ingest of travel records: ``chainbreaker ingest travel PATH...``.

Five kinds of file, recognised by their headers (or named by a YAML profile's ``kind:``):
出入境记录 (crossings), 民航订票/离港 (flights), 铁路 (trains), 旅店住宿 (hotels), 亲属关系 (kin).
Rows that cannot be used go to quarantine with the reason; invalid ID numbers are kept and
flagged; the same record delivered twice (two feeds, or a file sent twice under another name) is
stored once and every source row is listed in ``travel_record_sources``. The whole ingest is one
workspace transaction: all tables change together or not at all.

A file that cannot be used (empty, unreadable, binary, an unknown layout, an overlong line) is
skipped with a quarantine row (row 0, ``file_unusable``, the reason) and the other files are
ingested; the run fails only when no file could be used at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from chainbreaker.chains.people.destinations import load_destinations
from chainbreaker.chains.people.schemas import RECORD_SOURCES, TABLES
from chainbreaker.chains.people.travel_rows import FileParser
from chainbreaker.core.errors import ChainbreakerError, InputError, MappingError
from chainbreaker.core.ingest.mapping import load_profile, match_score, normalise_header, resolve_columns
from chainbreaker.core.ingest.quarantine import Quarantine
from chainbreaker.core.ingest.readers import expand_paths, open_table
from chainbreaker.core.ingest.values import register_reasons
from chainbreaker.core.model.schemas import INGESTED_FILES
from chainbreaker.core.workspace import Workspace

TRAVEL_REASONS = {
    "travel_direction_unknown": "出入境类别代码无法识别（应为出境/入境，或在映射 values 中给出代码含义）",
    "travel_direction_missing": "出入境类别为空",
    "travel_time_future": "时间晚于导入时间（未来时间）",
    "travel_flight_missing": "航班号或航班日期为空/无效",
    "travel_train_missing": "车次或发车日期为空/无效",
    "travel_hotel_missing": "旅店名称或入住时间为空/无效",
    "travel_kin_missing": "亲属关系缺少一方的身份信息",
}
register_reasons(TRAVEL_REASONS)

SPECS: dict[str, dict[str, list[str]]] = {
    "crossings": {
        "name": ["姓名", "中文姓名", "name"],
        "nationality": ["国籍/地区", "国籍", "国籍地区", "nationality"],
        "gender": ["性别", "gender", "sex"],
        "id_number": ["身份证号", "公民身份号码", "身份证号码", "id_number"],
        "doc_type": ["证件类别", "证件类型", "证件种类"],
        "doc_no": ["证件号码", "护照号码", "证件号", "doc_no", "passport_no"],
        "birth_date": ["出生日期", "birth_date"],
        "ts": ["出入日期时间", "出入境日期时间", "出入境时间", "出入日期", "通关时间"],
        "port": ["出入口岸", "出入境口岸", "口岸"],
        "visa_type": ["签证种类", "签证类型"],
        "country": ["前往/归来国家/地区", "前往归来国家", "前往国家/地区", "前往国家", "目的地国家"],
        "direction": ["出入境类别", "出入境标志", "出入标识", "出入境方向", "出入境"],
        "transport": ["交通方式"],
        "vehicle": ["交通工具", "交通工具号", "航班车次"],
        "tour_no": ["旅游团号", "团号", "旅行团号"],
        "hukou": ["户籍地", "户籍地址", "户籍"],
    },
    "flights": {
        "name": ["旅客姓名", "姓名"],
        "id_number": ["证件号码", "身份证号", "证件号", "旅客证件号"],
        "flight_no": ["航班号"],
        "flight_date": ["航班日期", "起飞日期", "乘机日期"],
        "seat": ["座位", "座位号", "座位号码"],
        "group_flag": ["团体标识", "团队标识", "团体标志"],
        "cobook_id": ["共同订票标识", "共同订票", "订座记录编号", "PNR"],
        "dep_country": ["离港国家", "出发国家", "离港国家/地区"],
        "arr_country": ["进港国家", "到达国家", "进港国家/地区"],
    },
    "trains": {
        "name": ["姓名", "乘车人姓名", "旅客姓名"],
        "id_number": ["证件号码", "身份证号", "证件号"],
        "train_no": ["车次"],
        "dep_date": ["发车日期", "乘车日期"],
        "car_no": ["车厢号", "车厢"],
        "seat_no": ["座位号", "席位号"],
        "from_station": ["发站", "出发站", "始发站"],
        "to_station": ["到站", "到达站"],
    },
    "hotels": {
        "name": ["姓名", "旅客姓名"],
        "id_number": ["证件号码", "身份证号", "证件号"],
        "hotel_name": ["旅店名称", "旅馆名称", "酒店名称"],
        "room_no": ["房间号码", "房间号", "房号"],
        "checkin": ["入住时间", "入住日期"],
        "checkout": ["离店时间", "退房时间", "离店日期"],
    },
    "kin": {
        "name": ["本人姓名", "姓名"],
        "id_number": ["本人身份证号", "本人证件号码", "身份证号", "证件号码"],
        "kin_name": ["亲属姓名", "关系人姓名"],
        "kin_id_number": ["亲属身份证号", "关系人身份证号", "亲属证件号码", "关系人证件号码"],
        "relation": ["关系", "亲属关系", "与本人关系"],
    },
}
# Fields whose presence identifies a kind of file.
SIGNATURES: dict[str, tuple[str, ...]] = {
    "crossings": ("ts", "direction"),
    "flights": ("flight_no", "flight_date"),
    "trains": ("train_no", "car_no"),
    "hotels": ("hotel_name", "room_no"),
    "kin": ("kin_id_number", "relation"),
}
KIND_ZH = {"crossings": "出入境记录", "flights": "民航订票/离港", "trains": "铁路", "hotels": "旅店住宿", "kin": "亲属关系"}
# What reading a damaged file can raise besides our own errors (as bank ingest: ``ingest/bank/files.py``).
UNREADABLE = (csv.Error, UnicodeError, ValueError, OSError, zipfile.BadZipFile, EOFError)
_KNOWN = {normalise_header(s) for spec in SPECS.values() for syns in spec.values() for s in syns}


def _known_header(name: str) -> bool:
    return normalise_header(name) in _KNOWN


@dataclass
class IngestSummary:
    files: int = 0
    files_skipped_already_ingested: int = 0
    rows_read: int = 0
    rows_kept: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    duplicates_merged: int = 0
    invalid_ids: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    files_failed: list[tuple[str, str]] = field(default_factory=list)  # (file name, Chinese reason)
    run_id: str = ""


def detect_kind(header: list[str], profile: dict[str, Any], file_name: str) -> str:
    """Which kind of travel file a header belongs to."""
    if profile.get("kind"):
        kind = str(profile["kind"])
        if kind not in SPECS:
            raise MappingError(f"映射配置中的 kind“{kind}”无效，应为：{'、'.join(SPECS)}。",
                               f"Profile kind '{kind}' is invalid; use one of {', '.join(SPECS)}.")
        return kind
    norm = {normalise_header(h) for h in header}
    best: tuple[int, str] | None = None
    for kind, spec in SPECS.items():
        sig = SIGNATURES[kind]
        if all(any(normalise_header(s) in norm for s in spec[f]) for f in sig):
            score = match_score(header, spec)
            if best is None or score > best[0]:
                best = (score, kind)
    if best is None:
        raise MappingError(
            f"无法识别 {file_name} 的类型（出入境/民航/铁路/旅店/亲属关系）。现有列：{'、'.join(header)}。"
            "可用 --profile 指定 kind 与列名映射。",
            f"Cannot tell what kind of travel file {file_name} is. Columns: {', '.join(header)}. "
            "Use --profile with 'kind:' and a column mapping.",
        )
    return best[1]


def _read_file(path: Path, sha: str, prof: dict[str, Any], now: dt.datetime, q: Quarantine,
               nat: Callable[[str | None], str | None]) -> tuple[str, list[dict[str, Any]], int, str]:
    """Kind, canonical records, rows read and encoding of one travel file (raises when unusable)."""
    tf = open_table(path, expected=_known_header)
    kind = detect_kind(tf.header, prof, path.name)
    mapping = resolve_columns(tf.header, SPECS[kind], required=list(SIGNATURES[kind]),
                              any_of=[("id_number", "doc_no")] if kind == "crossings" else None,
                              profile=prof, file_name=path.name)
    parser = FileParser(kind, mapping.columns, tf.header, mapping.values, now, q, path.name, sha, nationality=nat)
    rows: list[dict[str, Any]] = []
    n_read = 0
    for rownum, values, had_bad in tf.rows():
        if all(v is None for v in values):
            continue
        n_read += 1
        rec = parser.row(rownum, values, had_bad)
        if rec is not None:
            rows.append(rec)
    return kind, rows, n_read, tf.encoding


def _unreadable(path: Path, exc: BaseException) -> InputError:
    if isinstance(exc, csv.Error) and "field larger" in str(exc):
        return InputError(f"{path.name} 含有超长的一行（超过 {csv.field_size_limit():,} 字符），不是正常的表格文件。",
                          f"{path.name} holds an overlong line (over {csv.field_size_limit():,} characters).")
    return InputError(f"{path.name} 无法读取：{type(exc).__name__}", f"{path.name} cannot be read: {exc}")


def _skip(q: Quarantine, summary: IngestSummary, path: Path, sha: str, exc: ChainbreakerError) -> ChainbreakerError:
    """A file that cannot be used: one quarantine row (row 0) with the reason; the run goes on."""
    q.add(path.name, sha, 0, "file_unusable", raw={"path": str(path)}, detail=exc.zh)
    summary.files_failed.append((path.name, exc.zh))
    return exc


def _already_ingested(ws: Workspace) -> set[str]:
    if not ws.has_table("ingested_files"):
        return set()
    t = ws.read_arrow("ingested_files", ["file_sha256", "source_kind"])
    return {s for s, k in zip(t["file_sha256"].to_pylist(), t["source_kind"].to_pylist(), strict=True)
            if k == "travel"}


def ingest_travel(ws: Workspace, paths: list[Path], profile: Path | None = None,
                  now: dt.datetime | None = None, progress: Callable[[str], None] | None = None) -> IngestSummary:
    """Ingest travel files into the lake (one atomic transaction)."""
    files = expand_paths(paths)
    if not files:
        raise InputError("没有找到可导入的表格文件（CSV/TXT/XLSX）。", "No table files (CSV/TXT/XLSX) found to ingest.")
    prof = load_profile(profile)
    now = now or dt.datetime.now(dt.UTC)
    summary = IngestSummary()
    seen = _already_ingested(ws)
    nat = load_destinations(ws.config_dir).code_for
    with ws.transaction("people.ingest", inputs=[str(p) for p in files],
                        settings={"profile": str(profile) if profile else None}) as tx:
        summary.run_id = tx.run_id
        q = Quarantine("travel", tx.run_id)
        records: dict[str, list[dict[str, Any]]] = {k: [] for k in SPECS}
        ingested: list[dict[str, Any]] = []
        errors: list[ChainbreakerError] = []
        for path in files:
            summary.files += 1
            try:
                sha = ws.store_evidence(path)
            except OSError as exc:
                errors.append(_skip(q, summary, path, "", _unreadable(path, exc)))
                continue
            if sha in seen:
                summary.files_skipped_already_ingested += 1
                continue
            before = len(q)
            try:
                got = _read_file(path, sha, prof, now, q, nat)
            except ChainbreakerError as exc:
                del q.rows[before:]  # the file's row reasons go with it; row 0 says why
                errors.append(_skip(q, summary, path, sha, exc))
                continue
            except UNREADABLE as exc:
                del q.rows[before:]
                errors.append(_skip(q, summary, path, sha, _unreadable(path, exc)))
                continue
            seen.add(sha)
            kind, rows, n_read, encoding = got
            kept = len(rows)
            records[kind].extend(rows)
            summary.invalid_ids += sum(1 for r in rows if kind != "kin" and r.get("id_valid") is False and r.get("id_number"))
            summary.rows_read += n_read
            summary.rows_kept += kept
            summary.by_kind[kind] = summary.by_kind.get(kind, 0) + kept
            ingested.append({"file_sha256": sha, "file_name": path.name, "path": str(path), "source_kind": "travel",
                             "layout": kind, "encoding": encoding, "rows_read": n_read, "rows_kept": kept,
                             "rows_quarantined": len(q) - before, "run_id": tx.run_id, "ingested_at": now})
            if progress:
                progress(f"{path.name}: {KIND_ZH[kind]} {kept:,}/{n_read:,}")
        if not ingested and not summary.files_skipped_already_ingested:
            if len(errors) == 1:
                raise errors[0]
            raise InputError(
                "没有可导入的文件：" + "；".join(f"{n}（{why}）" for n, why in summary.files_failed),
                "No file could be ingested: " + "; ".join(f"{n} ({e.en})" for (n, _), e in
                                                         zip(summary.files_failed, errors, strict=True)))
        q.by_reason = Counter(r["reason_code"] for r in q.rows)
        with tx.timed("merge"):
            for kind, rows in records.items():
                if rows:
                    summary.duplicates_merged += _merge(tx, kind, rows)
        if len(q):
            tx.write("quarantine", q.table(), mode="append")
        if ingested:
            tx.write("ingested_files", pa.Table.from_pylist(ingested, schema=INGESTED_FILES), mode="append")
        summary.quarantined_by_reason = dict(Counter(q.by_reason))
        tx.counts.update(rows_read=summary.rows_read, rows_kept=summary.rows_kept,
                         duplicates_merged=summary.duplicates_merged, invalid_ids=summary.invalid_ids,
                         quarantined=sum(summary.quarantined_by_reason.values()), by_kind=summary.by_kind,
                         files_failed=[name for name, _ in summary.files_failed])
    return summary


def _merge(tx: Any, kind: str, rows: list[dict[str, Any]]) -> int:
    """Union new rows with the table's current rows; one row per record_id. Returns rows merged away."""
    table_name, schema = TABLES[kind]
    new = pa.Table.from_pylist(rows, schema=schema)
    sources = new.select(["record_id", "src_sha256", "src_file", "src_row"]).append_column(
        "kind", pa.array([kind] * new.num_rows, pa.string())).append_column(
        "run_id", pa.array([tx.run_id] * new.num_rows, pa.string())).select(RECORD_SOURCES.names)
    tx.write("travel_record_sources", sources.cast(RECORD_SOURCES), mode="append")
    tx.con.register("_new_travel", new)
    cols = ", ".join(f'"{c}"' for c in schema.names if c != "n_sources")
    old = f"SELECT {cols}, n_sources, 0 AS _o FROM {table_name}" if tx.has_table(table_name) else None
    union = (old + " UNION ALL " if old else "") + f"SELECT {cols}, n_sources, 1 AS _o FROM _new_travel"
    if kind == "crossings":
        union = _relink_sql(union)
    before = int(tx.con.sql(f"SELECT count(*) FROM ({union})").fetchall()[0][0])
    sql = f"""
        SELECT {cols}, _n AS n_sources FROM (
            SELECT *, sum(n_sources) OVER (PARTITION BY record_id) AS _n,
                   row_number() OVER (PARTITION BY record_id ORDER BY _o, src_sha256, src_row) AS _rn
            FROM ({union})
        ) WHERE _rn = 1
    """
    merged = tx.con.sql(sql).to_arrow_table()
    tx.con.unregister("_new_travel")
    after = tx.write(table_name, merged.select(schema.names).cast(schema))
    return before - after


def _relink_sql(union: str) -> str:
    """Link a record whose ID number failed validation to the person with the same document number,
    nationality and name (when exactly one such person has a valid ID); the record keeps its
    ``id_valid = false`` flag and says ``key_source = 'doc_link'``. Record ids are recomputed so that
    the same crossing from two feeds is recognised as one."""
    return f"""
        WITH u AS ({union}),
        docmap AS (
            SELECT nationality, doc_no, name, min(person_key) AS pk, count(DISTINCT person_key) AS n
            FROM u WHERE id_valid AND doc_no IS NOT NULL GROUP BY 1, 2, 3
        ),
        r AS (
            SELECT u.* REPLACE (
                       CASE WHEN NOT u.id_valid AND d.n = 1 THEN d.pk ELSE u.person_key END AS person_key,
                       CASE WHEN NOT u.id_valid AND d.n = 1 THEN 'doc_link' ELSE u.key_source END AS key_source)
            FROM u LEFT JOIN docmap d ON NOT u.id_valid AND d.doc_no = u.doc_no
                 AND d.nationality IS NOT DISTINCT FROM u.nationality AND d.name IS NOT DISTINCT FROM u.name
        )
        SELECT r.* REPLACE (substr(sha1(concat_ws('|', 'crossings', person_key, CAST(epoch_us(ts) AS VARCHAR),
                                                  direction, coalesce(port, ''))), 1, 20) AS record_id)
        FROM r
    """
