"""The per-file half of a bank ingest run (逐个文件：存证、识别版式、规范化), in or out of process.

Each file of a run is copied to the evidence store, opened, matched to a layout and normalised
on its own: nothing it produces depends on the other files. So files can be handled by worker
processes (``concurrent.futures`` with a forkserver or spawn context, never fork: the parent
holds DuckDB threads) beside the parent, which normalises files too until none is left, and
keeps everything that spans files — aliases, de-duplication and the one workspace transaction
(``service.py``).

Either way a file's kept legs are written batch by batch to one Arrow IPC file in the run's
scratch folder (cheaper than inserting each batch into DuckDB; the parent loads all of them in one
statement); everything else comes back as a picklable :class:`FileOutcome`. The parent orders the
outcomes by file position, so results do not depend on the number of workers or on which file
finishes first.
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import hashlib
import multiprocessing
import os
import queue
import resource
import select
import signal
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.ipc as ipc

from chainbreaker.chains.funds.bank.dedup import KEY_INPUTS, KEYS, leg_keys
from chainbreaker.chains.funds.bank.directions import DirectionTable
from chainbreaker.chains.funds.bank.fastcsv import OtherWidthRow, fast_batches
from chainbreaker.chains.funds.bank.layouts import bank_from_file_name, detect_layout, expected_header
from chainbreaker.chains.funds.bank.normalise import LEGS, FileContext, FileResult, Normaliser
from chainbreaker.chains.funds.bank.sqlparse import connect
from chainbreaker.core.errors import ChainbreakerError, InputError, WorkspaceError
from chainbreaker.core.ingest.longlines import MAX_LINE_BYTES
from chainbreaker.core.ingest.readers import open_table
from chainbreaker.core.progress import ProgressSink
from chainbreaker.core.timefmt import zone_name
from chainbreaker.core.workspace import Workspace

MAX_DEFAULT_WORKERS = 2  # the reference machine has 2 cores; more processes only contend
# Starting workers costs about 1–2 s (forkserver, imports, DuckDB macros per worker), so by
# default a run uses them only when it would take a few seconds in one process. Rough costs of
# one process on the reference machine: ~0.04 s per file, ~0.08 s per MiB of statements.
SECONDS_PER_FILE = 0.04
SECONDS_PER_MIB = 0.08
PARALLEL_ABOVE_SECONDS = 3.0
# Errors that mean "this file cannot be read", as opposed to a bug: the file is skipped.
UNREADABLE = (csv.Error, UnicodeError, ValueError, OSError, zipfile.BadZipFile, EOFError)


@dataclass(frozen=True)
class RunSpec:
    """What every file of a run needs, sent once to each worker."""

    workspace: Path
    scratch: Path  # the run's scratch folder; leg files go to ``scratch / "legs"``
    profile: dict[str, Any]
    directions: DirectionTable
    # how naive source times are read (setting ``timezone``), fixed by the parent: a forkserver
    # worker does not see environment changes made after the server started
    zone: str = field(default_factory=zone_name)


@dataclass(frozen=True)
class FileJob:
    index: int  # position of the file in the run: outcomes are assembled in this order
    path: Path
    sha256: str


@dataclass
class FileOutcome:
    index: int
    error: ChainbreakerError | None = None  # set when the file is unusable (skipped, quarantined)
    layout: str | None = None
    encoding: str | None = None
    result: FileResult = field(default_factory=FileResult)
    legs_file: Path | None = None  # Arrow IPC file of the kept legs (None: none kept)
    cpu_seconds: float = 0.0  # CPU time of the process that handled the file, while it did
    peak_rss_mb: float = 0.0  # peak memory of that process so far (Linux: ru_maxrss in KiB)


def default_workers(n_files: int, total_bytes: int) -> int:
    """min(2, files, CPU cores, 1 + idle cores), or 1 when the run is too small for workers to pay off.

    A worker only pays when a core would otherwise be idle: on the 2-core reference machine at a
    load of ~6 (other jobs), 300k rows took 7.5–9.6 s with 2 processes and 5.8–6.2 s with 1
    (and ~0.6 CPU s more), while on a quiet machine 2 processes are faster.
    """
    estimate = n_files * SECONDS_PER_FILE + total_bytes / 2**20 * SECONDS_PER_MIB
    if estimate < PARALLEL_ABOVE_SECONDS:
        return 1
    cores = os.cpu_count() or 1
    return max(1, min(MAX_DEFAULT_WORKERS, n_files, cores, 1 + _idle_cores(cores)))


def merge_threads() -> int:
    """DuckDB threads for the ingest process's merges and lake writes: min(CPU cores, 1 + idle cores).

    As for workers, a second thread only pays when a core would otherwise be idle: at a load of
    ~5 on the 2-core reference machine, 300k rows cost 4.18 CPU s (median of 5) in one process
    with one thread against 4.35 with two (DuckDB's default: one per core), less system time."""
    cores = os.cpu_count() or 1
    return max(1, min(cores, 1 + _idle_cores(cores)))


def _idle_cores(cores: int) -> int:
    """Cores the 1-minute load average leaves idle, rounded (all of them where it cannot be read)."""
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):
        return cores
    return max(0, round(cores - load))


def resolve_workers(requested: int | None, n_files: int, total_bytes: int) -> int:
    """``requested`` (None: the default) limited to the number of files."""
    if requested is None:
        return default_workers(n_files, total_bytes)
    if requested < 1:
        raise InputError(f"并行进程数必须至少为 1（当前为 {requested}）。",
                         f"The number of workers must be at least 1 (got {requested}).")
    return max(1, min(requested, n_files))


class ScratchError(WorkspaceError):
    """The run's scratch folder cannot be written (disk full?): the run stops; no file is skipped for it."""


def keys_path(legs_file: Path) -> Path:
    """The de-duplication keys of a leg file (``k_serial, k_time``, row for row), beside it."""
    return legs_file.with_suffix(".keys.arrow")


class _LegFile:
    """Kept legs of one file, appended batch by batch to an Arrow IPC file; at the end their
    de-duplication keys go to :func:`keys_path` (the columns they need are held until then)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        self._writer: ipc.RecordBatchFileWriter | None = None
        self._key_inputs: list[pa.Table] = []

    def write(self, table: pa.Table) -> None:
        legs = table.select(LEGS.names).cast(LEGS)
        try:
            if self._writer is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._writer = ipc.new_file(str(self.path), LEGS)
            self._writer.write_table(legs)
        except OSError as exc:
            raise self._error(exc) from exc
        self._key_inputs.append(legs.select(list(KEY_INPUTS)))
        self.rows += table.num_rows

    def close(self, con: duckdb.DuckDBPyConnection | None = None) -> Path | None:
        """Finish the file; with ``con``, also compute and write its legs' keys."""
        if self._writer is not None:
            try:
                self._writer.close()
            except OSError as exc:
                raise self._error(exc) from exc
            finally:
                self._writer = None
        if con is not None and self.rows:
            keys = leg_keys(con, pa.concat_tables(self._key_inputs))
            try:
                with ipc.new_file(str(keys_path(self.path)), KEYS) as writer:
                    writer.write_table(keys)
            except OSError as exc:
                raise self._error(exc) from exc
        self._key_inputs.clear()
        return self.path if self.rows else None

    def _error(self, exc: OSError) -> ScratchError:
        folder = self.path.parent
        return ScratchError(f"无法写入临时文件夹 {folder}（磁盘已满？）：{exc}。工作区未改变。",
                            f"Cannot write to the scratch folder {folder} (disk full?): {exc}. "
                            "The workspace is unchanged.")

    def discard(self) -> None:
        with contextlib.suppress(OSError, ChainbreakerError):  # the run's scratch folder goes anyway
            self.close()
            self.path.unlink(missing_ok=True)
            keys_path(self.path).unlink(missing_ok=True)


class _Rows:
    """Tells ``on_rows`` about the rows read, once: a file read a second time (:class:`OtherWidthRow`)
    reports only the rows beyond those its first reading reported."""

    def __init__(self, on_rows: Callable[[int], None] | None) -> None:
        self.on_rows = on_rows
        self.reported = 0
        self.read = 0

    def counted(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        self.read = 0
        for batch in batches:
            self.read += batch.num_rows
            if self.on_rows is not None and self.read > self.reported:
                self.on_rows(self.read - self.reported)
                self.reported = self.read
            yield batch


def normalise_file(job: FileJob, run: RunSpec, con: duckdb.DuckDBPyConnection,
                   on_rows: Callable[[int], None] | None = None) -> FileOutcome:
    """Copy one file to the evidence store and normalise it; an unusable file comes back with ``error``."""
    path = job.path
    cpu = time.process_time()
    try:
        store_evidence(Workspace(run.workspace), path, job.sha256)  # OSError (disk full?) stops the run
    except InputError as exc:  # changed since it was hashed: skipped like an unreadable file
        return FileOutcome(job.index, error=exc, cpu_seconds=time.process_time() - cpu)
    legs = _LegFile(run.scratch / "legs" / f"{job.index:06d}.arrow")
    rows = _Rows(on_rows)
    try:
        table = open_table(path, expected=expected_header, max_line_bytes=MAX_LINE_BYTES)
        detected = detect_layout(path, table.header, run.profile)
        ctx = FileContext(path.name, job.sha256, bank_from_file_name(path), {},
                          default_currency="CNY" if _chinese(table.header) else None)
        ctx.direction_map = run.directions.for_bank(ctx.bank, detected.mapping.values.get("direction"))
        try:
            # the file's bytes as they are; a row with a wrong number of fields stops this reading
            batches = fast_batches(table, plain=True) or table.batches()
            result = Normaliser(con, detected.layout, detected.mapping, ctx,
                                leg_sink=legs.write).feed(rows.counted(batches))
        except OtherWidthRow:  # read again from the start, the way that quarantines such rows
            legs.discard()
            legs = _LegFile(legs.path)
            batches = fast_batches(table) or table.batches()
            result = Normaliser(con, detected.layout, detected.mapping, ctx,
                                leg_sink=legs.write).feed(rows.counted(batches))
        result.reject_long_lines(table.long_lines)
    except ScratchError:
        legs.discard()
        raise
    except ChainbreakerError as exc:
        legs.discard()
        return FileOutcome(job.index, error=exc, cpu_seconds=time.process_time() - cpu)
    except UNREADABLE as exc:
        legs.discard()
        return FileOutcome(job.index, error=InputError(f"{path.name} 无法读取：{exc}",
                                                       f"{path.name} cannot be read: {exc}"),
                           cpu_seconds=time.process_time() - cpu)
    except BaseException:
        legs.discard()
        raise
    try:
        legs_file = legs.close(con)
    except BaseException:
        legs.discard()
        raise
    return FileOutcome(job.index, layout=detected.layout, encoding=table.encoding, result=result,
                       legs_file=legs_file, cpu_seconds=time.process_time() - cpu)


def store_evidence(ws: Workspace, path: Path, sha256: str) -> None:
    """Copy ``path`` into the evidence store under ``sha256``, the digest the ingest process took
    before the run, hashing the bytes as they are copied (one read instead of a second hash and a
    copy): a file whose bytes no longer have that digest is refused, not stored under another name
    than its rows cite. A digest already in the store is not copied again."""
    target = ws.evidence_path(sha256)
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".partial")
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as src, open(tmp, "wb") as dst:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                dst.write(chunk)
        if digest.hexdigest() != sha256:
            raise InputError(f"{path.name} 在导入过程中被修改（SHA-256 不一致），未导入；请在文件不再变动后重新导入。",
                             f"{path.name} changed while it was being ingested (SHA-256 differs) and was not "
                             "ingested; ingest it again once it no longer changes.")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(target, 0o444)


def _chinese(header: list[str]) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for h in header for ch in h)


# ------------------------------------------------------------------------------------ driving
def normalise_files(jobs: list[FileJob], run: RunSpec, workers: int, bar: ProgressSink) -> list[FileOutcome]:
    """Outcomes of ``jobs`` in job order; ``workers`` > 1 normalises that many files at a time (the
    ingest process and ``workers - 1`` worker processes)."""
    if workers <= 1 or len(jobs) <= 1:
        return _in_process(jobs, run, bar)
    return _in_workers(jobs, run, workers, bar)


def _in_process(jobs: list[FileJob], run: RunSpec, bar: ProgressSink) -> list[FileOutcome]:
    con = connect(run.scratch / "duckdb", zone=run.zone)
    try:
        out = []
        for job in jobs:
            bar.start(job.path)
            out.append(normalise_file(job, run, con, bar.advance))
        return out
    finally:
        con.close()


def mp_context() -> multiprocessing.context.BaseContext:
    """forkserver where available (workers start from a clean, preloaded server), else spawn."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        # only takes effect before the server first starts; serverinit keeps pandas out of it
        ctx.set_forkserver_preload([f"{__package__}.serverinit", __name__])
        return ctx
    return multiprocessing.get_context("spawn")


def start_server() -> None:
    """Start the fork server now (where forkserver is the start method), so that it imports this
    module while the ingest process still hashes the files and opens the workspace: the workers
    are then forked from a ready server (the imports cost ~0.6–1 s that would otherwise be waited
    for). A server started for a run that then needs no workers only idles until the process ends."""
    if mp_context().get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


def _in_workers(jobs: list[FileJob], run: RunSpec, workers: int, bar: ProgressSink) -> list[FileOutcome]:
    """The ingest process and ``workers - 1`` worker processes normalise the files together.

    The ingest process would otherwise only wait, and a worker costs a process start, the import
    of the calling program and its own DuckDB connection (~0.3 CPU s, and ~0.5–1 s before its
    first row): so the ingest process takes files too, from the first moment. Files are taken
    largest first from one shared counter (a process that finishes early takes the next file, and
    the last files to start are the small ones); outcomes are put back in job order.
    """
    ctx = mp_context()
    order = sorted(jobs, key=lambda j: -_size(j.path))  # stable: files of equal size keep their order
    taken = ctx.Value("q", 0)  # position in ``order`` of the next file to take (with its lock)
    rows: Any = ctx.Queue() if bar.enabled else None
    outcomes: dict[int, FileOutcome] = {}
    pool = ProcessPoolExecutor(workers - 1, mp_context=ctx, initializer=_worker_start,
                               initargs=(run, rows, os.getpid(), order, taken))
    try:
        futures = [pool.submit(_worker_files) for _ in range(workers - 1)]

        def advance(n: int) -> None:
            bar.advance(n)
            _drain(rows, jobs, bar)

        con = connect(run.scratch / "duckdb", zone=run.zone)
        try:
            while (job := _take(order, taken)) is not None:
                for fut in futures:  # a worker's error (or death) stops the run before the next file
                    if fut.done():
                        fut.result()
                bar.start(job.path)
                outcomes[job.index] = normalise_file(job, run, con, advance)
        finally:
            con.close()
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            _drain(rows, jobs, bar)
        for fut in futures:
            outcomes.update((o.index, o) for o in fut.result())  # a worker's unexpected error is raised here
        _drain(rows, jobs, bar)
    except KeyboardInterrupt:
        _stop_workers(pool)  # Ctrl-C: do not wait for the running files
        raise
    except BrokenProcessPool as exc:
        raise ChainbreakerError(
            "导入子进程意外退出（可能是内存不足或被系统终止）；工作区未改变。可加 --workers 1 在单个进程中重试。",
            "An ingest worker process stopped unexpectedly (out of memory or killed?); the workspace is "
            "unchanged. Retry with --workers 1 to ingest in one process.") from exc
    finally:
        # Running files finish (so nothing writes into the scratch folder after it is removed);
        # files not started yet are dropped: nobody takes another one.
        with taken.get_lock():
            taken.value = len(order)
        pool.shutdown(wait=True, cancel_futures=True)
        if rows is not None:
            rows.close()
    return [outcomes[job.index] for job in jobs]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # unreadable: normalise_file says why


def _take(order: list[FileJob], taken: Any) -> FileJob | None:
    """The next file nobody has taken yet, or None."""
    with taken.get_lock():
        i = taken.value
        if i >= len(order):
            return None
        taken.value = i + 1
    return order[i]


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    # ``_processes`` is private but has been stable since Python 3.2; without it the pool waits.
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        with contextlib.suppress(OSError, ValueError):
            proc.terminate()


def _drain(rows: Any, jobs: list[FileJob], bar: ProgressSink) -> None:
    while rows is not None:
        try:
            index, n = rows.get_nowait()
        except queue.Empty:
            return
        bar.start(jobs[index].path)
        bar.advance(n)


def die_with(ingest_pid: int) -> None:
    """End this worker as soon as the ingest process is gone (kill -9, out of memory, a crash).

    Without it a worker keeps normalising its file for minutes after its parent died, and then
    waits for work forever. Two mechanisms, because each has a gap:

    * Linux ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the worker when its parent
      dies. A forkserver worker's parent is the fork server, which exits when the ingest process
      closes its end of the server's "alive" pipe, that is when the ingest process dies.
    * a watchdog thread on the ingest process itself: a ``pidfd`` that becomes readable when it
      exits (Linux 5.3+), else a poll every half second; it ends the worker with ``os._exit``.
    """
    if sys.platform.startswith("linux"):
        parent = os.getppid()
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)
    threading.Thread(target=_watch, args=(ingest_pid,), name="ingest-watchdog", daemon=True).start()


_PR_SET_PDEATHSIG = 1


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch(pid: int) -> None:
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = -1
    if fd >= 0:
        select.select([fd], [], [])  # readable once the process has exited
        os._exit(1)
    while _alive(pid):
        time.sleep(0.5)
    os._exit(1)


# State of a worker process, set once by the pool's initializer.
_WORKER: dict[str, Any] = {}


def _worker_start(run: RunSpec, rows: Any, ingest_pid: int, order: list[FileJob] | None = None,
                  taken: Any = None) -> None:
    # Ctrl-C is the parent's to handle (it stops the workers); a worker interrupted while idle
    # would print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with(ingest_pid)
    _WORKER.update(run=run, rows=rows, order=order, taken=taken,
                   con=connect(run.scratch / f"duckdb-{os.getpid()}", zone=run.zone))


def _worker_files() -> list[FileOutcome]:
    """Outcomes of the files this worker took from the shared counter, until none is left."""
    out = []
    while (job := _take(_WORKER["order"], _WORKER["taken"])) is not None:
        out.append(_worker_file(job))
    return out


def _worker_file(job: FileJob) -> FileOutcome:
    rows = _WORKER["rows"]
    report = None if rows is None else (lambda n: rows.put((job.index, n)))
    outcome = normalise_file(job, _WORKER["run"], _WORKER["con"], report)
    outcome.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return outcome
