"""``ingest_bank``: bank statements (调单) into the lake, all or nothing.

Order of work: hash every file and skip those already ingested (same SHA-256 in
``ingested_files``); copy each remaining original into the evidence store; recognise its layout;
normalise it batch by batch (rejected rows to ``quarantine``) — these per-file steps run in up to
``workers`` processes (``files.py``) and their outcomes are taken in file order; resolve
card/account-number aliases; de-duplicate transfers seen from both sides; then write ``transactions``,
``transaction_sources``, ``accounts``, ``persons``, ``quarantine`` and ``ingested_files`` in one
workspace transaction, so a crash anywhere leaves the workspace as it was.

A file whose header matches no layout (or that cannot be read at all) is skipped: it gets a
quarantine row with row 0 and the reason, it is not recorded in ``ingested_files`` (so it can be
ingested later with ``--profile``), and the other files of the run are ingested. Files already
ingested are skipped too. Both are warnings: a run fails (with the first unusable file's error,
writing nothing) only when it was given files and could use none of them, neither now nor before.
Re-ingesting a folder that holds an unrecognised file therefore stays a no-op: nothing is written,
not even a second quarantine row for that file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from chainbreaker.chains.funds.bank.dedup import KEYS, assign_transfers, leg_keys
from chainbreaker.chains.funds.bank.directions import DirectionTable
from chainbreaker.chains.funds.bank.files import (
    FileJob,
    RunSpec,
    keys_path,
    merge_threads,
    normalise_files,
    resolve_workers,
    start_server,
)
from chainbreaker.chains.funds.bank.normalise import ACCOUNT_ROWS, LEGS, PERSON_ROWS, FileResult
from chainbreaker.chains.funds.bank.sqlparse import MEMORY_LIMIT
from chainbreaker.chains.funds.bank.tables import write_accounts, write_persons, write_transactions
from chainbreaker.core.errors import ChainbreakerError, InputError
from chainbreaker.core.ingest.mapping import load_profile
from chainbreaker.core.ingest.quarantine import Quarantine
from chainbreaker.core.ingest.readers import expand_paths
from chainbreaker.core.model.schemas import INGESTED_FILES
from chainbreaker.core.progress import ProgressFactory, no_progress
from chainbreaker.core.settings import get_settings
from chainbreaker.core.workspace import Transaction, Workspace, sha256_file

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


class _NothingNew(Exception):
    """Raised inside the transaction to roll it back: no file is usable, but others were ingested before."""


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


def _aliases(con: Any, leg_pairs: pa.Table, accounts: pa.Table, stored: pa.Table | None) -> pa.Table:
    """Account number → card number, learnt from rows that carry both (交易卡号 and 交易账号).

    ``leg_pairs`` holds the statements' ``own_acct, own_card`` pairs (:func:`_leg_pairs`). Aliases
    of earlier runs are kept in the lake table ``bank_account_aliases`` so that a statement
    ingested later that names the account by its number still meets the card.
    """
    con.register("al_accts", accounts.select(["card_no", "acct_no"]))
    con.register("al_stored", stored if stored is not None else ALIASES.empty_table())
    con.register("al_legs", leg_pairs)
    try:
        return con.sql("""
            SELECT alias, min(card) AS card FROM (
              SELECT acct_no AS alias, card_no AS card FROM al_accts
              WHERE acct_no IS NOT NULL AND card_no IS NOT NULL AND acct_no <> card_no
              UNION SELECT alias, card FROM al_stored
              UNION SELECT own_acct, own_card FROM al_legs
            ) GROUP BY alias ORDER BY alias
        """).to_arrow_table().cast(ALIASES)
    finally:
        for name in ("al_accts", "al_stored", "al_legs"):
            con.unregister(name)


def _leg_pairs(paths: list[Path]) -> pa.Table:
    """Distinct ``own_acct, own_card`` pairs of the staged legs that differ (two columns read, memory-mapped)."""
    parts = []
    for batch in _read_legs(paths):
        acct, card = batch.column("own_acct"), batch.column("own_card")
        mask = pc.fill_null(pc.not_equal(acct, card), False)
        if pc.any(mask).as_py():
            parts.append(pa.table({"own_acct": acct.filter(mask), "own_card": card.filter(mask)}))
    if not parts:
        return pa.table({"own_acct": pa.array([], pa.string()), "own_card": pa.array([], pa.string())})
    return pa.concat_tables(parts).group_by(["own_acct", "own_card"]).aggregate([])


def _aliased(batches: Iterator[pa.RecordBatch], aliases: pa.Table) -> Iterator[pa.RecordBatch]:
    """The legs with account numbers replaced by the card they are an alias of (``aliases``)."""
    if aliases.num_rows == 0:
        yield from batches
        return
    alias, card = aliases.column("alias").combine_chunks(), aliases.column("card").combine_chunks()
    for batch in batches:
        cols = list(batch.columns)
        for name in ("from_account", "to_account"):
            i = batch.schema.get_field_index(name)
            cols[i] = pc.coalesce(pc.take(card, pc.index_in(cols[i], value_set=alias)), cols[i])
        yield pa.RecordBatch.from_arrays(cols, schema=batch.schema)


def _staged_keys(con: Any, leg_files: list[Path], aliases: pa.Table) -> pa.Table:
    """The de-duplication keys of all staged legs, in stream order.

    Each file's keys were computed by the process that normalised it (``files.py``), before the
    run's account aliases were known. A file in which an alias rewrites an account gets its keys
    again here, from the rewritten legs (a rewritten account changes the keys of its legs, and
    may change the occurrence numbers of other legs of the file).
    """
    alias = aliases.column("alias").combine_chunks() if aliases.num_rows else None
    parts = []
    for path in leg_files:
        if alias is not None and _touches(path, alias):
            legs = pa.Table.from_batches(list(_aliased(_read_legs([path]), aliases)), schema=LEGS)
            parts.append(leg_keys(con, legs))
            continue
        with pa.memory_map(str(keys_path(path))) as source:
            parts.append(ipc.open_file(source).read_all())
    return pa.concat_tables(parts) if parts else KEYS.empty_table()


def _touches(path: Path, alias: pa.Array) -> bool:
    """Whether any from/to account of the leg file ``path`` is an alias (an account number with a card)."""
    for batch in _read_legs([path]):
        for name in ("from_account", "to_account"):
            if pc.any(pc.is_in(batch.column(name), value_set=alias)).as_py():
                return True
    return False


def _concat(parts: list[pa.Table], schema: pa.Schema) -> pa.Table:
    if not parts:
        return schema.empty_table()
    return pa.concat_tables([p.select(schema.names).cast(schema) for p in parts])


def ingest_bank(ws: Workspace, paths: list[Path], profile: Path | None = None,
                progress: ProgressFactory | None = None, workers: int | None = None) -> IngestSummary:
    """Ingest bank statements, account and person files under ``paths`` (files or folders).

    ``progress``: makes the sink that is told about files and rows read (the CLI passes a rich bar;
    None shows nothing).
    ``workers``: processes that read and normalise files in parallel (1 = in this process; None =
    the ``ingest_workers`` setting, else min(2, files, CPU cores, 1 + idle cores by the 1-minute load
    average) for runs big enough to gain from it). The result does not depend on it.
    """
    files = expand_paths([Path(p) for p in paths])
    if not files:
        raise InputError("没有找到可导入的表格文件（CSV/TXT/XLSX）。",
                         "No table files (CSV/TXT/XLSX) found to ingest.")
    if workers is None:
        workers = get_settings().ingest_workers
    if resolve_workers(workers, len(files), sum(p.stat().st_size for p in files)) > 1:
        start_server()  # overlaps the workers' start-up with the hashing below
    prof = load_profile(profile)
    directions = DirectionTable.load(ws.config_dir / DIRECTION_OVERRIDE)
    summary = IngestSummary()
    wall, cpu = time.perf_counter(), time.process_time()
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
    hashing = {"hash": round(time.perf_counter() - wall, 3), "hash_cpu": round(time.process_time() - cpu, 3)}
    n_workers = resolve_workers(workers, len(todo), sum(p.stat().st_size for p, _ in todo))

    settings = {"profile": str(profile) if profile else None, "direction_table": directions.banks,
                "workers": n_workers, "merge_threads": merge_threads()}
    # Scratch space for staged legs and DuckDB spill files (tmp/ingest-bank-*): removed at the end,
    # or swept by the next writer when this process is killed (see Workspace.scratch).
    with ws.scratch("ingest-bank") as workdir:
        try:
            run = RunSpec(ws.root, workdir, prof, directions)
            return _run(ws, todo, run, n_workers, settings, summary, progress, hashing)
        except _NothingNew:
            summary.run_id = None  # rolled back: the workspace is as it was
            return summary


def _run(ws: Workspace, todo: list[tuple[Path, str]], run: RunSpec, workers: int,
         settings: dict[str, Any], summary: IngestSummary, progress: ProgressFactory | None,
         timings: dict[str, float]) -> IngestSummary:
    workdir = run.scratch
    with ws.transaction("ingest.bank", inputs=[str(p) for p, _ in todo], settings=settings) as tx:
        tx.timings.update(timings)
        tx.con.execute("SET temp_directory = ?", [str(workdir / "duckdb")])
        tx.con.execute("SET enable_progress_bar = false")
        tx.con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        tx.con.execute(f"SET threads = {int(settings['merge_threads'])}")
        summary.run_id = tx.run_id
        quarantine = Quarantine(SOURCE_KIND, tx.run_id)
        accounts: list[pa.Table] = []
        persons: list[pa.Table] = []
        leg_files: list[Path] = []
        file_rows: list[dict[str, Any]] = []
        errors: list[ChainbreakerError] = []
        layouts: Counter[str] = Counter()
        unknown: Counter[str] = Counter()
        jobs = [FileJob(i, path, sha) for i, (path, sha) in enumerate(todo)]
        with (progress or no_progress)([p for p, _ in todo]) as bar, _phase(tx, "normalise", "normalise_ingest_cpu"):
            outcomes = normalise_files(jobs, run, workers, bar)
        # CPU spent on the files (in worker processes it is not in this process's own CPU time)
        tx.timings["normalise_cpu"] = round(sum(o.cpu_seconds for o in outcomes), 3)
        for job, out in zip(jobs, outcomes, strict=True):  # file order, whatever order they finished in
            path, sha = job.path, job.sha256
            if out.error is not None:
                errors.append(out.error)
                quarantine.add(path.name, sha, 0, "file_unusable", raw={"path": str(path)}, detail=out.error.zh)
                summary.files_failed.append((path.name, out.error.zh))
                continue
            result = out.result
            if out.legs_file is not None:
                leg_files.append(out.legs_file)
            _collect(result, path, sha, quarantine, accounts, persons)
            unknown.update(result.unknown_codes)
            layouts[str(out.layout)] += 1
            summary.rows_read += result.rows_read
            summary.rows_kept += result.rows_kept
            file_rows.append({
                "file_sha256": sha, "file_name": path.name, "path": str(path), "source_kind": SOURCE_KIND,
                "layout": out.layout, "encoding": out.encoding, "rows_read": result.rows_read,
                "rows_kept": result.rows_kept, "rows_quarantined": len(result.rejected),
                "run_id": tx.run_id, "ingested_at": dt.datetime.now(dt.UTC),
            })
        if not file_rows:
            if summary.files_skipped_already_ingested:
                raise _NothingNew  # the rest of the run is already in the lake: warn, change nothing
            raise errors[0]
        summary.files = len(file_rows)
        summary.layouts = dict(layouts)
        summary.unknown_direction_codes = dict(unknown)

        all_accounts = _concat(accounts, ACCOUNT_ROWS)
        stored = ws.read_arrow("bank_account_aliases") if ws.has_table("bank_account_aliases") else None
        with _phase(tx, "dedup"):
            aliases = _aliases(tx.con, _leg_pairs(leg_files), all_accounts, stored)
        dd = None
        if leg_files:
            # The staged legs are read twice (memory-mapped): their keys, then with the keys attached.
            with _phase(tx, "dedup"):
                keys = _staged_keys(tx.con, leg_files, aliases)
                dd = assign_transfers(tx.con, lambda: _aliased(_read_legs(leg_files), aliases), LEGS,
                                      _stored_sources(tx), keys)
        with _phase(tx, "write"):
            if dd is not None:
                counts = write_transactions(tx, dd)
                summary.transfers_new = counts["transfers_new"]
                summary.duplicates_merged = dd.merged
            all_persons = _concat(persons, PERSON_ROWS)
            if dd is not None or all_accounts.num_rows or (all_persons.num_rows and tx.has_table("accounts")):
                summary.accounts = write_accounts(tx, all_accounts, dd.legs if dd is not None else None, all_persons)
            summary.persons_new = write_persons(tx, all_persons)
            if aliases.num_rows and (stored is None or aliases.num_rows != stored.num_rows):
                tx.write("bank_account_aliases", aliases, mode="replace")
            if len(quarantine):
                tx.write("quarantine", quarantine.table(), mode="append")
            tx.write("ingested_files", pa.Table.from_pylist(file_rows, schema=INGESTED_FILES), mode="append")
            tx.flush()  # the tables written in the background
        summary.quarantined_by_reason = dict(quarantine.by_reason)
        tx.counts.update({
            "files": summary.files, "files_failed": len(summary.files_failed), "rows_read": summary.rows_read,
            "rows_kept": summary.rows_kept, "quarantined": summary.quarantined_by_reason,
            "duplicates_merged": summary.duplicates_merged, "transfers_new": summary.transfers_new,
            "unknown_direction_codes": summary.unknown_direction_codes,
            "worker_peak_rss_mb": round(max(o.peak_rss_mb for o in outcomes), 1),
        })
    return summary


@contextlib.contextmanager
def _phase(tx: Transaction, step: str, cpu_key: str | None = None) -> Iterator[None]:
    """``tx.timed(step)`` (wall seconds) plus the CPU seconds of this process in ``<step>_cpu``.

    The run record thus says where an ingest's time went (``hash``, ``normalise``, ``dedup``,
    ``write``). The files' CPU, in whatever process they were normalised, is ``normalise_cpu``; the
    ingest process's own CPU while they were (its share of the files and the driving) is
    ``normalise_ingest_cpu``.
    """
    key = cpu_key or f"{step}_cpu"
    cpu = time.process_time()
    try:
        with tx.timed(step):
            yield
    finally:
        tx.timings[key] = round(tx.timings.get(key, 0.0) + time.process_time() - cpu, 3)


def _read_legs(paths: list[Path]) -> Iterator[pa.RecordBatch]:
    """The batches of the leg files, memory-mapped (300k legs: +190 MB peak, a pyarrow dataset scan +340 MB)."""
    for path in paths:
        with pa.memory_map(str(path)) as source:
            reader = ipc.open_file(source)
            for i in range(reader.num_record_batches):
                yield reader.get_batch(i)


def _collect(result: FileResult, path: Path, sha: str, quarantine: Quarantine,
             accounts: list[pa.Table], persons: list[pa.Table]) -> None:
    accounts.extend(result.accounts)
    persons.extend(result.persons)
    for rej in result.rejected:
        quarantine.add(path.name, sha, rej.row, rej.reason, raw=rej.raw, detail=rej.detail)
