"""The workspace: a folder holding the lake, the evidence store, the run log and the audit log.

Layout::

    <ws>/lake/_manifest.json          which version of every table is current
    <ws>/lake/<table>/<version>/*.parquet
    <ws>/evidence/<aa>/<sha256>       original files, unchanged, content-addressed
    <ws>/runs/<run_id>.json           settings snapshot, code version, inputs, timings, counts
    <ws>/audit.jsonl                  reads of personal data and exports
    <ws>/config/                      per-workspace overrides of rules and thresholds

Writes happen in a :class:`Transaction`: new table versions are written beside the current ones
and become visible together when the manifest is atomically replaced (write new, then swap); a
table dropped in a transaction leaves the manifest in the same swap. A crash before that leaves the
workspace exactly as it was; unreferenced versions are swept on the next write.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import json
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from chainbreaker import __version__
from chainbreaker.core.appendlog import append_durably
from chainbreaker.core.errors import InputError, WorkspaceError
from chainbreaker.core.sql import ident

MANIFEST = "_manifest.json"
_CHUNK = 1 << 20
SCRATCH_DIR = "tmp"
SCRATCH_LOCK = ".owner.lock"  # held (flock) by the job that owns a scratch folder, released when it dies
STALE_UNLOCKED_SECONDS = 60  # a scratch folder of an older version (no lock file) is stale after this


def new_run_id(kind: str) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{kind.replace('.', '-')}-{uuid.uuid4().hex[:8]}"


def code_version() -> str:
    """Package version plus the git commit when running from a checkout."""
    try:
        here = Path(__file__).resolve().parent
        sha = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, timeout=5, check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{__version__}+{sha}" if sha else __version__


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


class Workspace:
    """Handle on a workspace folder. Cheap to create; reads the manifest on demand."""

    def __init__(self, root: Path | str, *, create: bool = True) -> None:
        self.root = Path(root).expanduser().resolve()
        if not self.root.exists():
            if not create:
                raise WorkspaceError(f"工作区不存在：{self.root}", f"Workspace does not exist: {self.root}")
            self.root.mkdir(parents=True)
        elif not self.root.is_dir():
            raise WorkspaceError(f"工作区路径不是文件夹：{self.root}", f"Workspace path is not a folder: {self.root}")
        for sub in ("lake", "evidence", "runs", "config"):
            (self.root / sub).mkdir(exist_ok=True)

    # ---------------------------------------------------------------- paths
    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def evidence_dir(self) -> Path:
        return self.root / "evidence"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def config_dir(self) -> Path:
        return self.root / "config"

    # ------------------------------------------------------------- manifest
    def manifest(self) -> dict[str, Any]:
        path = self.lake / MANIFEST
        if not path.exists():
            return {"tables": {}}
        try:
            return json.loads(path.read_text("utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise WorkspaceError(
                f"工作区清单已损坏：{path}（{exc}）", f"Workspace manifest is damaged: {path} ({exc})"
            ) from exc

    def tables(self) -> dict[str, dict[str, Any]]:
        """Current tables with their manifest entries (version, rows, updated, run_id)."""
        return dict(sorted(self.manifest()["tables"].items()))

    def has_table(self, name: str) -> bool:
        return name in self.manifest()["tables"]

    def table_glob(self, name: str, tables: dict[str, dict[str, Any]] | None = None) -> str:
        """The files of table ``name``; ``tables`` (from :meth:`tables`) when the manifest was read already."""
        entry = (self.manifest()["tables"] if tables is None else tables).get(name)
        if entry is None:
            raise WorkspaceError(
                f"工作区中没有表 {name}。现有表：{', '.join(self.tables()) or '（无）'}",
                f"No table {name} in the workspace. Tables: {', '.join(self.tables()) or '(none)'}",
            )
        return str(self.lake / name / entry["version"] / "*.parquet")

    def read_arrow(self, name: str, columns: list[str] | None = None,
                   tables: dict[str, dict[str, Any]] | None = None) -> pa.Table:
        """Table ``name`` (its ``columns``, default all) as Arrow; ``tables`` as in :meth:`table_glob`."""
        glob = self.table_glob(name, tables)
        cols = ", ".join(f'"{c}"' for c in columns) if columns else "*"
        return duckdb.connect().sql(f"SELECT {cols} FROM read_parquet($1)", params=[glob]).to_arrow_table()

    def duck(self, con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with a view per current table (read-only use)."""
        con = con or duckdb.connect()
        for name in self.tables():
            # paths are parameters, never pasted into SQL (a workspace may be called o'brien "ws")
            con.sql("SELECT * FROM read_parquet($1)", params=[self.table_glob(name)]).create_view(name, replace=True)
        return con

    # -------------------------------------------------------------- evidence
    def evidence_path(self, sha256: str) -> Path:
        return self.evidence_dir / sha256[:2] / sha256

    def store_evidence(self, path: Path) -> str:
        """Copy ``path`` into the evidence store (once) and return its SHA-256."""
        digest = sha256_file(path)
        target = self.evidence_path(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".partial")
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)
            with contextlib.suppress(OSError):
                os.chmod(target, 0o444)
        return digest

    def store_evidence_bytes(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.evidence_path(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".partial")
            tmp.write_bytes(data)
            os.replace(tmp, target)
        return digest

    # ------------------------------------------------------------------ runs
    def runs(self) -> list[dict[str, Any]]:
        """Run records, oldest first (by finish time: run ids only resolve to the second)."""
        out = []
        for path in self.runs_dir.glob("*.json"):
            with contextlib.suppress(OSError, json.JSONDecodeError):
                out.append(json.loads(path.read_text("utf-8")))
        return sorted(out, key=lambda r: (str(r.get("finished", "")), str(r.get("run_id", ""))))

    # ----------------------------------------------------------------- audit
    @property
    def audit_path(self) -> Path:
        return self.root / "audit.jsonl"

    def audit(self, action: str, *, user: str = "local", role: str = "analyst", **detail: Any) -> None:
        """Append one line to the audit log (personal-data reads and exports), flushed to disk.

        Raises :class:`WorkspaceError` when the line cannot be written (read-only workspace or
        audit file, disk full): whatever was about to be done must then not be done.

        The role is recorded as what it is: ``role_claimed`` is true for a role given with ``--role``
        (``role_source: "cli"``) or by the ``role`` setting (``"setting"``), which nobody checked;
        only a face with its own logins may pass a ``Role`` whose source is ``"login"``.
        """
        record = {
            "time": dt.datetime.now(dt.UTC).isoformat(),
            "user": user,
            "os_user": _os_user(),
            "role": str(role),
            "role_claimed": bool(getattr(role, "claimed", True)),
            "role_source": getattr(role, "source", "setting"),
            "action": action,
            **detail,
        }
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        try:
            append_durably(self.audit_path, line)  # on disk when it returns; concurrent lines share one fsync
        except OSError as exc:
            raise WorkspaceError(
                f"无法写入审计日志 {self.audit_path}（{exc.strerror or exc}）；没有审计记录就不能导出或读取个人信息。"
                "请检查工作区是否只读、磁盘是否已满。",
                f"Cannot write the audit log {self.audit_path} ({exc.strerror or exc}); nothing is exported or "
                "read without an audit record. Check that the workspace is writable and the disk not full.",
            ) from exc

    @contextlib.contextmanager
    def audited(self, action: str, *, user: str = "local", role: str = "analyst",
                **detail: Any) -> Iterator[dict[str, Any]]:
        """Audit before data (审计先行): an intent record, the work, then a completion record.

        The intent line (``phase: start``) is written first; if it cannot be written the work does
        not start. The body may put figures (rows written...) into the yielded dict; they go into
        the completion line (``phase: done``). A failing body gets a ``phase: failed`` line (best
        effort) and its exception goes on. The three lines share one ``audit_id``.
        """
        audit_id = uuid.uuid4().hex[:16]
        self.audit(action, user=user, role=role, phase="start", audit_id=audit_id, **detail)
        result: dict[str, Any] = {}
        try:
            yield result
        except BaseException as exc:
            with contextlib.suppress(WorkspaceError):
                self.audit(action, user=user, role=role, phase="failed", audit_id=audit_id,
                           error=type(exc).__name__, **detail)
            raise
        self.audit(action, user=user, role=role, phase="done", audit_id=audit_id, **{**detail, **result})

    # ----------------------------------------------------------- transaction
    @contextlib.contextmanager
    def transaction(self, kind: str, *, inputs: list[str] | None = None,
                    settings: dict[str, Any] | None = None) -> Iterator[Transaction]:
        """Stage table writes and commit them all at once, or none at all."""
        lock_path = self.root / ".lock"
        with open(lock_path, "a+") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise WorkspaceError(
                    f"工作区正被另一个任务写入：{self.root}。请等待其结束后重试。",
                    f"Another job is writing to the workspace {self.root}; wait for it to finish.",
                ) from exc
            self._sweep()
            tx = Transaction(self, kind, inputs or [], settings or {})
            try:
                yield tx
            except BaseException:
                tx.abort()
                raise
            else:
                tx.commit()
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _sweep(self) -> None:
        """Delete table versions that no manifest entry points at (left by crashed or old runs)."""
        manifest = self.manifest()
        keep = {(t, e["version"]) for t, e in manifest["tables"].items()}
        keep |= {(t, v) for t, vs in manifest.get("previous", {}).items() for v in vs}
        for table_dir in self.lake.iterdir():
            if not table_dir.is_dir():
                continue
            for version in table_dir.iterdir():
                if (table_dir.name, version.name) not in keep:
                    shutil.rmtree(version, ignore_errors=True)
            if not any(table_dir.iterdir()):
                table_dir.rmdir()
        for stray in self.lake.glob(MANIFEST + ".*.tmp"):
            stray.unlink(missing_ok=True)
        self._sweep_scratch()

    # --------------------------------------------------------------- scratch
    @contextlib.contextmanager
    def scratch(self, prefix: str) -> Iterator[Path]:
        """A scratch folder ``tmp/<prefix>-<random>/`` for one job, removed when the job ends.

        The job holds a lock on a file inside it; when the job dies without cleaning up (kill -9,
        power loss) the lock goes with it, and the next writer sweeps the folder (``_sweep``).
        """
        folder = self.root / SCRATCH_DIR / f"{prefix}-{uuid.uuid4().hex[:12]}"
        folder.mkdir(parents=True)
        owner = open(folder / SCRATCH_LOCK, "w")  # noqa: SIM115 - held for the whole job
        try:
            fcntl.flock(owner, fcntl.LOCK_EX)
            yield folder
        finally:
            owner.close()
            shutil.rmtree(folder, ignore_errors=True)
            with contextlib.suppress(OSError):
                folder.parent.rmdir()  # only when empty

    def _sweep_scratch(self) -> None:
        """Remove scratch folders whose job is gone: its lock is free (or, without a lock file, it is old)."""
        tmp = self.root / SCRATCH_DIR
        if not tmp.is_dir():
            return
        for folder in tmp.iterdir():
            if not folder.is_dir():
                continue
            lock = folder / SCRATCH_LOCK
            try:
                if not lock.exists():
                    if time.time() - folder.stat().st_mtime > STALE_UNLOCKED_SECONDS:
                        shutil.rmtree(folder, ignore_errors=True)
                    continue
                with open(lock, "a") as fh:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: its job is running
                    shutil.rmtree(folder, ignore_errors=True)
            except (BlockingIOError, FileNotFoundError):
                continue
        with contextlib.suppress(OSError):
            tmp.rmdir()


class Transaction:
    """Staged writes of one run. Use through :meth:`Workspace.transaction`."""

    def __init__(self, ws: Workspace, kind: str, inputs: list[str], settings: dict[str, Any]) -> None:
        self.ws = ws
        self.kind = kind
        self.run_id = new_run_id(kind)
        self.inputs = list(inputs)
        self.settings = settings
        self.counts: dict[str, Any] = {}
        self.timings: dict[str, float] = {}
        self.staged: dict[str, dict[str, Any]] = {}
        self.dropped: set[str] = set()  # tables leaving the manifest at commit
        self.started = time.time()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._pending: dict[str, tuple[Path, Future[None]]] = {}  # table -> (version folder, its writer)
        self._threads: ThreadPoolExecutor | None = None

    # A DuckDB connection whose views show committed tables overlaid with staged ones.
    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = self.ws.duck()
            self._con.execute("SET preserve_insertion_order = true")
            for name in self.dropped:
                self._con.execute(f"DROP VIEW IF EXISTS {ident(name)}")
        return self._con

    def _version_dir(self, name: str) -> Path:
        version = f"v-{self.run_id}-{uuid.uuid4().hex[:6]}"
        path = self.ws.lake / name / version
        path.mkdir(parents=True)
        return path

    def current_glob(self, name: str) -> str | None:
        self.flush(name)
        if name in self.staged:
            return str(self.staged[name]["path"] / "*.parquet")
        if name in self.dropped:
            return None
        if self.ws.has_table(name):
            return self.ws.table_glob(name)
        return None

    def has_table(self, name: str) -> bool:
        return self.current_glob(name) is not None

    def write(self, name: str, data: Any, *, mode: str = "replace", plain: tuple[str, ...] = ()) -> int:
        """Stage a new version of table ``name``.

        ``data`` is a pyarrow Table or RecordBatchReader, a pandas DataFrame, a DuckDB relation,
        an Ibis expression, or a SQL query string run on :attr:`con`. ``mode="append"`` keeps the
        current rows (files are hard-linked, not copied) and adds these. ``plain``: columns written
        without Parquet dictionary encoding (values that rarely repeat, such as hash keys: the
        dictionary only costs time there); honoured for Arrow data, ignored for SQL and relations.
        """
        target = self._new_version(name, mode)
        self._write_part(data, _part(target), plain)
        return self._adopt(name, target)

    def write_in_background(self, name: str, table: pa.Table, *, mode: str = "replace",
                            plain: tuple[str, ...] = ()) -> None:
        """Stage a new version of table ``name`` as :meth:`write` does, with the Parquet file written
        on a thread of this transaction while the caller goes on (pyarrow's writer releases the GIL).

        Only for Arrow tables, which nothing changes. The version is staged by :meth:`flush`, which
        the next write of the same table, :meth:`current_glob` of it (``has_table``) and
        :meth:`commit` call; until then the table's views on :attr:`con` show its previous version.
        A writer's error is raised there; the transaction then writes nothing, as for any error.
        """
        if not isinstance(table, pa.Table):  # anything else may run SQL on `con`, which is not thread-safe
            raise TypeError(f"write_in_background takes a pyarrow Table, not {type(table).__name__}")
        target = self._new_version(name, mode)
        if self._threads is None:
            self._threads = ThreadPoolExecutor(2, thread_name_prefix="cb-write")
        self._pending[name] = (target, self._threads.submit(self._write_part, table, _part(target), plain))

    def drop(self, name: str) -> None:
        """Remove table ``name`` from the workspace when the transaction commits (nothing if it has none).

        Within the transaction the table is gone at once (:meth:`has_table`, the views on :attr:`con`);
        a later write of it in the same transaction makes a new table. The dropped version stays on
        disk until the next transaction has committed (a reader that opened it a moment ago can
        finish), then the sweep removes it.
        """
        self.flush(name)
        entry = self.staged.pop(name, None)
        if entry is not None:
            shutil.rmtree(entry["path"], ignore_errors=True)
        self.dropped.add(name)
        if self._con is not None:
            self._con.execute(f"DROP VIEW IF EXISTS {ident(name)}")

    def flush(self, name: str | None = None) -> None:
        """Stage the background writes of table ``name`` (None: of every table), raising their errors."""
        for table in [name] if name is not None else list(self._pending):
            if table in self._pending:
                target, writer = self._pending[table]
                writer.result()  # an error keeps the entry: abort() waits for the writers, then removes their folders
                self._adopt(table, target)
                del self._pending[table]

    def _new_version(self, name: str, mode: str) -> Path:
        """A new version folder of ``name``; with ``mode="append"`` holding the current files (hard links)."""
        if mode not in ("replace", "append"):
            raise ValueError(mode)
        self.flush(name)  # a pending background write of ``name`` is older than this version: stage it first
        target = self._version_dir(name)
        if mode == "append":
            previous = self.current_glob(name)
            if previous is not None:
                for i, part in enumerate(sorted(Path(previous).parent.glob("*.parquet"))):
                    os.link(part, target / f"old-{i:05d}-{part.name}")
        return target

    def _adopt(self, name: str, target: Path) -> int:
        """Make the written version folder ``target`` the staged version of ``name``; its rows."""
        glob = str(target / "*.parquet")
        self.dropped.discard(name)  # written again after a drop (and the write succeeded): a new table
        rows = int(self.con.execute("SELECT count(*) FROM read_parquet(?)", [glob]).fetchall()[0][0])
        self.staged[name] = {"path": target, "rows": rows}
        self.con.sql("SELECT * FROM read_parquet($1)", params=[glob]).create_view(name, replace=True)
        return rows

    def _write_part(self, data: Any, part: Path, plain: tuple[str, ...] = ()) -> None:
        if isinstance(data, str):
            self.con.execute(f"COPY ({data}) TO ? (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 262144)",
                             [str(part)])
            return
        if isinstance(data, duckdb.DuckDBPyRelation):
            data.write_parquet(str(part), compression="zstd")
            return
        if hasattr(data, "to_pyarrow") and not isinstance(data, pa.Table):  # Ibis expression
            data = data.to_pyarrow()
        if hasattr(data, "to_parquet") and not isinstance(data, pa.Table):  # pandas
            data = pa.Table.from_pandas(data, preserve_index=False)
        if isinstance(data, pa.RecordBatchReader):
            with pq.ParquetWriter(part, data.schema, compression="zstd",
                                  use_dictionary=_dictionary_columns(data.schema, plain)) as writer:
                for batch in data:
                    writer.write_batch(batch)
            return
        if isinstance(data, pa.Table):
            pq.write_table(data, part, compression="zstd", use_dictionary=_dictionary_columns(data.schema, plain))
            return
        raise InputError(f"无法写入类型 {type(data).__name__}", f"Cannot write data of type {type(data).__name__}")

    def store_evidence(self, path: Path) -> str:
        return self.ws.store_evidence(path)

    @contextlib.contextmanager
    def timed(self, step: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[step] = round(self.timings.get(step, 0.0) + time.perf_counter() - start, 3)

    def abort(self) -> None:
        self._stop_threads()  # running writers finish before their folders go
        for target, _ in self._pending.values():
            shutil.rmtree(target, ignore_errors=True)
        self._pending.clear()
        if self._con is not None:
            self._con.close()
        for entry in self.staged.values():
            shutil.rmtree(entry["path"], ignore_errors=True)
        self.staged.clear()

    def _stop_threads(self) -> None:
        if self._threads is not None:
            self._threads.shutdown(wait=True)
            self._threads = None

    def commit(self) -> None:
        try:
            self.flush()
        except BaseException:
            self.abort()
            raise
        self._stop_threads()
        if self._con is not None:
            self._con.close()
            self._con = None
        manifest = self.ws.manifest()
        now = dt.datetime.now(dt.UTC).isoformat()
        previous: dict[str, list[str]] = {}
        dropped = []
        for name in sorted(self.dropped):
            old = manifest["tables"].pop(name, None)
            if old is not None:
                previous[name] = [old["version"]]
                dropped.append(name)
        for name, entry in self.staged.items():
            old = manifest["tables"].get(name)
            if old is not None:
                previous[name] = [old["version"]]
            manifest["tables"][name] = {
                "version": entry["path"].name,
                "rows": entry["rows"],
                "updated": now,
                "run_id": self.run_id,
            }
        # Keep the version just replaced so a reader that opened it a moment ago can finish; that of a
        # table dropped by an earlier transaction is let go (no later write would replace it).
        manifest["previous"] = {**{k: v for k, v in manifest.get("previous", {}).items()
                                   if k not in previous and k in manifest["tables"]}, **previous}
        record = {
            "run_id": self.run_id,
            "kind": self.kind,
            "code_version": code_version(),
            "started": dt.datetime.fromtimestamp(self.started, dt.UTC).isoformat(),
            "finished": now,
            "seconds": round(time.time() - self.started, 3),
            "inputs": self.inputs,
            "settings": self.settings,
            "timings": self.timings,
            "counts": self.counts,
            "tables_written": {k: v["rows"] for k, v in self.staged.items()},
            **({"tables_dropped": dropped} if dropped else {}),
        }
        tmp = self.ws.lake / f"{MANIFEST}.{uuid.uuid4().hex[:6]}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.ws.lake / MANIFEST)
        (self.ws.runs_dir / f"{self.run_id}.json").write_text(
            json.dumps(record, ensure_ascii=False, indent=1, default=str), "utf-8"
        )


def _part(version: Path) -> Path:
    return version / f"part-{uuid.uuid4().hex[:8]}.parquet"


def _dictionary_columns(schema: pa.Schema, plain: tuple[str, ...]) -> bool | list[str]:
    """pyarrow's ``use_dictionary``: every column but those in ``plain``."""
    if not plain:
        return True
    return [name for name in schema.names if name not in plain]


@functools.cache
def _os_user() -> str:
    """The operating-system account that ran the command (recorded beside the claimed role)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid:{os.getuid()}"
