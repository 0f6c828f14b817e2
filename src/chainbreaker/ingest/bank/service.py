"""``ingest_bank``: bank statements (调单) into the lake, all or nothing.

Order of work: hash every file and skip those already ingested (same SHA-256 in
``ingested_files``); copy each remaining original into the evidence store; recognise its layout;
normalise it batch by batch (rejected rows to ``quarantine``); resolve card/account-number
aliases; de-duplicate transfers seen from both sides; then write ``transactions``,
``transaction_sources``, ``accounts``, ``persons``, ``quarantine`` and ``ingested_files`` in one
workspace transaction, so a crash anywhere leaves the workspace as it was.

A file whose header matches no layout (or that cannot be read at all) is skipped: it gets a
quarantine row with row 0 and the reason, it is not recorded in ``ingested_files`` (so it can be
ingested later with ``--profile``), and the other files of the run are ingested. When no file of
the run could be used the run fails with that file's error and writes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from chainbreaker.errors import ChainbreakerError, InputError
from chainbreaker.ingest.bank.dedup import assign_transfers
from chainbreaker.ingest.bank.directions import DirectionTable
from chainbreaker.ingest.bank.fastcsv import fast_batches
from chainbreaker.ingest.bank.layouts import bank_from_file_name, detect_layout, expected_header
from chainbreaker.ingest.bank.normalise import (
    ACCOUNT_ROWS,
    LEGS,
    PERSON_ROWS,
    FileContext,
    FileResult,
    Normaliser,
)
from chainbreaker.ingest.bank.progress import Progress
from chainbreaker.ingest.bank.sqlparse import connect
from chainbreaker.ingest.bank.tables import write_accounts, write_persons, write_transactions
from chainbreaker.ingest.mapping import load_profile
from chainbreaker.ingest.quarantine import Quarantine
from chainbreaker.ingest.readers import expand_paths, open_table
from chainbreaker.model.schemas import INGESTED_FILES
from chainbreaker.workspace import Workspace, sha256_file

SOURCE_KIND = "bank"
DIRECTION_OVERRIDE = "bank_direction_codes.yaml"
ALIASES = pa.schema([("alias", pa.string()), ("card", pa.string())])


@dataclass
class IngestSummary:
    files: int = 0  # files ingested by this run
    files_skipped_already_ingested: int = 0
    rows_read: int = 0
    rows_kept: int = 0
    quarantined_by_reason: dict[str, int] = field(default_factory=dict)
    duplicates_merged: int = 0
    files_failed: list[tuple[str, str]] = field(default_factory=list)  # (file name, message)
    layouts: dict[str, int] = field(default_factory=dict)
    transfers_new: int = 0
    accounts: int = 0
    persons_new: int = 0
    unknown_direction_codes: dict[str, int] = field(default_factory=dict)  # "bank：code" -> rows
    run_id: str | None = None

    @property
    def rows_quarantined(self) -> int:
        return sum(self.quarantined_by_reason.values())


def _ingested_shas(ws: Workspace) -> set[str]:
    if not ws.has_table("ingested_files"):
        return set()
    return {r for r in ws.read_arrow("ingested_files", ["file_sha256"]).column(0).to_pylist() if r}


def _stored_sources(tx: Any) -> str | None:
    if not tx.has_table("transaction_sources"):
        return None
    names = {r[0] for r in tx.con.execute("DESCRIBE transaction_sources").fetchall()}
    if {"k_serial", "k_time"} <= names:
        return "SELECT txn_id, k_serial, k_time FROM transaction_sources"
    return None


def _aliases(con: Any, legs: pa.Table, accounts: pa.Table, stored: pa.Table | None) -> pa.Table:
    """Account number → card number, learnt from rows that carry both (交易卡号 and 交易账号).

    Aliases of earlier runs are kept in the lake table ``bank_account_aliases`` so that a statement
    ingested later that names the account by its number still meets the card.
    """
    con.register("al_legs", legs.select(["own_card", "own_acct"]))
    con.register("al_accts", accounts.select(["card_no", "acct_no"]))
    con.register("al_stored", stored if stored is not None else ALIASES.empty_table())
    try:
        return con.sql("""
            SELECT alias, min(card) AS card FROM (
              SELECT own_acct AS alias, own_card AS card FROM al_legs
              WHERE own_acct IS NOT NULL AND own_card IS NOT NULL AND own_acct <> own_card
              UNION SELECT acct_no, card_no FROM al_accts
              WHERE acct_no IS NOT NULL AND card_no IS NOT NULL AND acct_no <> card_no
              UNION SELECT alias, card FROM al_stored
            ) GROUP BY alias ORDER BY alias
        """).to_arrow_table().cast(ALIASES)
    finally:
        for name in ("al_legs", "al_accts", "al_stored"):
            con.unregister(name)


def _apply_aliases(con: Any, legs: pa.Table, aliases: pa.Table) -> pa.Table:
    if aliases.num_rows == 0 or legs.num_rows == 0:
        return legs
    con.register("ap_legs", legs)
    con.register("ap_alias", aliases)
    try:
        cols = ", ".join(
            'coalesce(fa.card, l.from_account) AS from_account' if f.name == "from_account" else
            'coalesce(ta.card, l.to_account) AS to_account' if f.name == "to_account" else f'l."{f.name}"'
            for f in LEGS)
        out = con.sql(f"""
            SELECT {cols} FROM (SELECT *, row_number() OVER () AS __n FROM ap_legs) l
            LEFT JOIN ap_alias fa ON fa.alias = l.from_account
            LEFT JOIN ap_alias ta ON ta.alias = l.to_account ORDER BY l.__n
        """).to_arrow_table()
        return out.cast(LEGS)
    finally:
        con.unregister("ap_legs")
        con.unregister("ap_alias")


def _concat(parts: list[pa.Table], schema: pa.Schema) -> pa.Table:
    if not parts:
        return schema.empty_table()
    return pa.concat_tables([p.select(schema.names).cast(schema) for p in parts])


def ingest_bank(ws: Workspace, paths: list[Path], profile: Path | None = None,
                progress: bool = True) -> IngestSummary:
    """Ingest bank statements, account and person files under ``paths`` (files or folders)."""
    files = expand_paths([Path(p) for p in paths])
    if not files:
        raise InputError("没有找到可导入的表格文件（CSV/TXT/XLSX）。",
                         "No table files (CSV/TXT/XLSX) found to ingest.")
    prof = load_profile(profile)
    directions = DirectionTable.load(ws.config_dir / DIRECTION_OVERRIDE)
    summary = IngestSummary()
    done = _ingested_shas(ws)
    todo: list[tuple[Path, str]] = []
    seen: set[str] = set()
    for path in files:
        sha = sha256_file(path)
        if sha in done or sha in seen:
            summary.files_skipped_already_ingested += 1
            continue
        seen.add(sha)
        todo.append((path, sha))
    if not todo:
        return summary

    settings = {"profile": str(profile) if profile else None, "direction_table": directions.banks}
    with ws.transaction("ingest.bank", inputs=[str(p) for p, _ in todo], settings=settings) as tx:
        summary.run_id = tx.run_id
        quarantine = Quarantine(SOURCE_KIND, tx.run_id)
        con = connect()
        legs: list[pa.Table] = []
        accounts: list[pa.Table] = []
        persons: list[pa.Table] = []
        file_rows: list[dict[str, Any]] = []
        errors: list[ChainbreakerError] = []
        layouts: Counter[str] = Counter()
        unknown: Counter[str] = Counter()
        with Progress(enabled=progress, files=[p for p, _ in todo]) as bar, tx.timed("normalise"):
            for path, sha in todo:
                ws.store_evidence(path)
                try:
                    table = open_table(path, expected=expected_header)
                    detected = detect_layout(path, table.header, prof)
                    ctx = FileContext(path.name, sha, bank_from_file_name(path), {},
                                      default_currency="CNY" if _chinese(table.header) else None)
                    ctx.direction_map = directions.for_bank(ctx.bank, detected.mapping.values.get("direction"))
                    batches = fast_batches(table) or table.batches()
                    result = Normaliser(con, detected.layout, detected.mapping, ctx).feed(bar.track(path, batches))
                except ChainbreakerError as exc:
                    errors.append(exc)
                    quarantine.add(path.name, sha, 0, "file_unusable", raw={"path": str(path)}, detail=exc.zh)
                    summary.files_failed.append((path.name, exc.zh))
                    continue
                except (csv.Error, UnicodeError, ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
                    err = InputError(f"{path.name} 无法读取：{exc}", f"{path.name} cannot be read: {exc}")
                    errors.append(err)
                    quarantine.add(path.name, sha, 0, "file_unusable", raw={"path": str(path)}, detail=err.zh)
                    summary.files_failed.append((path.name, err.zh))
                    continue
                _collect(result, path, sha, quarantine, legs, accounts, persons)
                unknown.update(result.unknown_codes)
                layouts[detected.layout] += 1
                summary.rows_read += result.rows_read
                summary.rows_kept += result.rows_kept
                file_rows.append({
                    "file_sha256": sha, "file_name": path.name, "path": str(path), "source_kind": SOURCE_KIND,
                    "layout": detected.layout, "encoding": table.encoding, "rows_read": result.rows_read,
                    "rows_kept": result.rows_kept, "rows_quarantined": len(result.rejected),
                    "run_id": tx.run_id, "ingested_at": dt.datetime.now(dt.UTC),
                })
        if not file_rows:
            raise errors[0]
        summary.files = len(file_rows)
        summary.layouts = dict(layouts)
        summary.unknown_direction_codes = dict(unknown)

        with tx.timed("dedup"):
            all_legs = _concat(legs, LEGS)
            all_accounts = _concat(accounts, ACCOUNT_ROWS)
            legs.clear()  # the concatenated tables own the data now; keep one copy in memory
            accounts.clear()
            stored = ws.read_arrow("bank_account_aliases") if ws.has_table("bank_account_aliases") else None
            aliases = _aliases(con, all_legs, all_accounts, stored)
            all_legs = _apply_aliases(con, all_legs, aliases)
            dd = assign_transfers(tx.con, all_legs, _stored_sources(tx)) if all_legs.num_rows else None
            if dd is not None:
                all_legs = dd.legs  # same rows plus keys; drop the un-keyed copy
        with tx.timed("write"):
            if dd is not None:
                counts = write_transactions(tx, dd)
                summary.transfers_new = counts["transfers_new"]
                summary.duplicates_merged = dd.merged
            if all_legs.num_rows or all_accounts.num_rows:
                summary.accounts = write_accounts(tx, all_accounts, all_legs)
            summary.persons_new = write_persons(tx, _concat(persons, PERSON_ROWS))
            if aliases.num_rows and (stored is None or aliases.num_rows != stored.num_rows):
                tx.write("bank_account_aliases", aliases, mode="replace")
            if len(quarantine):
                tx.write("quarantine", quarantine.table(), mode="append")
            tx.write("ingested_files", pa.Table.from_pylist(file_rows, schema=INGESTED_FILES), mode="append")
        summary.quarantined_by_reason = dict(quarantine.by_reason)
        tx.counts.update({
            "files": summary.files, "files_failed": len(summary.files_failed), "rows_read": summary.rows_read,
            "rows_kept": summary.rows_kept, "quarantined": summary.quarantined_by_reason,
            "duplicates_merged": summary.duplicates_merged, "transfers_new": summary.transfers_new,
            "unknown_direction_codes": summary.unknown_direction_codes,
        })
        con.close()
    return summary


def _chinese(header: list[str]) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for h in header for ch in h)


def _collect(result: FileResult, path: Path, sha: str, quarantine: Quarantine, legs: list[pa.Table],
             accounts: list[pa.Table], persons: list[pa.Table]) -> None:
    legs.extend(result.legs)
    accounts.extend(result.accounts)
    persons.extend(result.persons)
    for rej in result.rejected:
        quarantine.add(path.name, sha, rej.row, rej.reason, raw=rej.raw, detail=rej.detail)
