"""Files normalised in worker processes: same lake as in one process, and all or nothing on failure."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from chainbreaker.chains.funds.bank import files
from chainbreaker.chains.funds.bank.directions import DirectionTable
from chainbreaker.chains.funds.bank.service import ingest_bank
from chainbreaker.core.errors import ChainbreakerError, InputError
from chainbreaker.core.progress import NoProgress
from chainbreaker.core.workspace import Workspace, sha256_file

from .builders import (
    HEADER_34,
    LI,
    ZHANG,
    abc_statement,
    account_files,
    icbc_statement,
    request_folder,
    row34,
    write_csv,
)

synth_bank = pytest.importorskip("chainbreaker.synth.bank")

TABLES = ("transactions", "transaction_sources", "accounts", "persons", "quarantine", "ingested_files",
          "bank_account_aliases")
RUN_COLUMNS = ("run_id", "ingested_at")  # differ between any two runs


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small province plus 张伟's statement (first run); 李娜's answer with 账户信息, an unusable and a
    dirty file (second run: its shared transfer merges into the stored one)."""
    root = tmp_path_factory.mktemp("package")
    synth_bank.generate_province(root / "province", n_transactions=5000, seed=5)
    icbc_statement(root / "请求1")
    abc_statement(root / "requests")
    account_files(root / "requests")
    write_csv(root / "requests" / "任务说明.csv", ["任务编号", "承办人"], [["2023001", "刘警官"]])
    dirty = [row34(交易卡号=ZHANG["card"], 账户开户名称=ZHANG["name"], 交易时间=ts, 交易金额=amount, 收付标志="出",
                   交易对手账卡号=LI["card"])
             for ts, amount in [("2023-02-30 10:00:00", "10.00"), ("2023-04-01 09:00:00", "x"),
                                ("2023-04-01 09:00:01", "0.00"), ("2023-04-01 09:00:02", "12.00")]]
    write_csv(root / "requests" / "中国建设银行交易明细信息.csv", HEADER_34, dirty)
    return root


def _lake(ws: Workspace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in TABLES:
        table = ws.read_arrow(name)
        rows = table.drop_columns([c for c in RUN_COLUMNS if c in table.column_names]).to_pylist()
        out[name] = rows if name == "quarantine" else sorted(rows, key=repr)  # quarantine: in file order
    return out


def test_workers_do_not_change_the_lake(tmp_path: Path, package: Path) -> None:
    lakes, summaries = [], []
    for workers in (1, 2):
        ws = Workspace(tmp_path / f"ws{workers}")
        first = ingest_bank(ws, [package / "province" / "statements", package / "请求1"], progress=None,
                            workers=workers)
        second = ingest_bank(ws, [package / "requests"], progress=None, workers=workers)
        assert ws.runs()[-1]["settings"]["workers"] == workers
        lakes.append(_lake(ws))
        summaries.append([{**vars(s), "run_id": None} for s in (first, second)])
        assert not (ws.root / "tmp").exists()
    assert summaries[0] == summaries[1]
    assert summaries[0][0]["files"] > 50 and summaries[0][1]["files_failed"][0][0] == "任务说明.csv"
    assert summaries[0][1]["duplicates_merged"] == 1  # 李娜's leg joined the transfer stored by run 1
    assert {r["reason_code"] for r in lakes[0]["quarantine"]} >= {"file_unusable", "time_impossible", "amount_zero"}
    for name in TABLES:
        assert lakes[0][name] == lakes[1][name], name


def test_workers_normalise_without_pandas(tmp_path: Path, package: Path) -> None:
    """pyarrow would import pandas into the fork server (~0.3 CPU s) though no worker uses it: a
    worker normalises statements with the ingest process's result and pandas still not imported."""
    ctx = files.mp_context()
    if ctx.get_start_method() != "forkserver":
        pytest.skip("needs the forkserver start method")
    paths = [package / "请求1" / "中国工商银行交易明细信息.csv",
             sorted((package / "province" / "statements").rglob("*交易明细*.csv"))[0]]
    jobs = [files.FileJob(i, p, sha256_file(p)) for i, p in enumerate(paths)]
    ws = Workspace(tmp_path / "ws")
    with ws.scratch("ingest-bank") as scratch:
        here = files._in_process(jobs, files.RunSpec(ws.root, scratch / "here", {}, DirectionTable.load()),
                                 NoProgress())
        run = files.RunSpec(ws.root, scratch / "there", {}, DirectionTable.load())
        with ProcessPoolExecutor(1, mp_context=ctx, initializer=files._worker_start,
                                 initargs=(run, None, os.getpid())) as pool:
            there = [pool.submit(files._worker_file, job).result() for job in jobs]
            assert pool.submit(eval, "'pandas' in __import__('sys').modules").result() is False
        for a, b in zip(here, there, strict=True):
            assert a.error is None and b.error is None and a.result.rows_read > 0
            assert b.result == a.result
            assert a.legs_file and b.legs_file
            assert files.ipc.open_file(str(b.legs_file)).read_all().equals(
                files.ipc.open_file(str(a.legs_file)).read_all())


SCRIPT = """
import json, sys
from pathlib import Path

import pandas  # an analyst's script that uses pandas elsewhere

from chainbreaker.chains.funds.bank.service import ingest_bank
from chainbreaker.core.workspace import Workspace

if __name__ == "__main__":
    summary = ingest_bank(Workspace(sys.argv[1]), [Path(sys.argv[2])], progress=None, workers=3)
    print(json.dumps({"files": summary.files, "transfers": summary.transfers_new,
                      "workers": Workspace(sys.argv[1]).runs()[-1]["settings"]["workers"]}))
"""


def test_a_script_that_imports_pandas_can_use_workers(tmp_path: Path) -> None:
    """Every worker imports the calling script (``multiprocessing`` does): pandas is kept out of the
    fork server, but not out of that import. Before, a script that imports pandas stopped with
    "导入子进程意外退出" as soon as it used workers."""
    if files.mp_context().get_start_method() != "forkserver":
        pytest.skip("needs the forkserver start method")
    folder = request_folder(tmp_path)
    script = tmp_path / "analysis.py"
    script.write_text(SCRIPT, "utf-8")
    run = subprocess.run([sys.executable, str(script), str(tmp_path / "ws"), str(folder)], capture_output=True,
                         text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["workers"] == 3 and out["files"] == 5 and out["transfers"] > 0


def test_unusable_file_in_a_worker_keeps_its_message(ws: Workspace, tmp_path: Path) -> None:
    folder = request_folder(tmp_path)
    write_csv(folder / "任务说明.csv", ["任务编号", "承办人", "备注说明"], [["2023001", "刘警官", "无"]])
    s = ingest_bank(ws, [folder], progress=None, workers=2)
    assert s.files == 5 and s.files_failed[0][0] == "任务说明.csv"
    assert "任务编号、承办人、备注说明" in s.files_failed[0][1]  # the Chinese message survived the process boundary


def _seeded(ws: Workspace, tmp_path: Path) -> tuple[Path, dict[str, Any], list[Path], int]:
    first, second = tmp_path / "请求1", tmp_path / "请求2"
    icbc_statement(first)
    abc_statement(second)
    account_files(second)
    ingest_bank(ws, [first], progress=None)
    manifest = json.loads((ws.lake / "_manifest.json").read_text("utf-8"))
    listing = sorted(p.relative_to(ws.lake) for p in ws.lake.rglob("*"))
    return second, manifest, listing, len(ws.runs())


def _unchanged(ws: Workspace, manifest: dict[str, Any], listing: list[Path], runs: int) -> None:
    assert json.loads((ws.lake / "_manifest.json").read_text("utf-8")) == manifest
    assert sorted(p.relative_to(ws.lake) for p in ws.lake.rglob("*")) == listing
    assert len(ws.runs()) == runs
    assert not (ws.root / "tmp").exists()  # scratch (leg files, DuckDB spill) removed


@pytest.fixture()
def forked_workers(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Workers forked from the test process, so that they see the test's monkeypatches."""
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs the fork start method")
    monkeypatch.setattr(files, "mp_context", lambda: multiprocessing.get_context("fork"))
    return monkeypatch


def test_a_failing_worker_leaves_the_workspace_unchanged(ws: Workspace, tmp_path: Path,
                                                         forked_workers: pytest.MonkeyPatch) -> None:
    second, manifest, listing, runs = _seeded(ws, tmp_path)
    real = files.normalise_file

    def fails_on_accounts(job: files.FileJob, *args: Any) -> files.FileOutcome:
        if "账户信息" in job.path.name:
            raise RuntimeError("disk pulled out")
        return real(job, *args)

    forked_workers.setattr(files, "normalise_file", fails_on_accounts)
    with pytest.raises(RuntimeError, match="disk pulled out"):
        ingest_bank(ws, [second], progress=None, workers=2)
    _unchanged(ws, manifest, listing, runs)
    forked_workers.undo()
    s = ingest_bank(ws, [second], progress=None, workers=2)  # nothing was recorded as ingested
    assert s.files == 4 and s.duplicates_merged == 1


def test_a_worker_that_dies_fails_clearly_and_changes_nothing(ws: Workspace, tmp_path: Path,
                                                              forked_workers: pytest.MonkeyPatch) -> None:
    second, manifest, listing, runs = _seeded(ws, tmp_path)

    ingest_pid, died = os.getpid(), tmp_path / "worker-died"
    real = files.normalise_file

    def dies(job: files.FileJob, *args: Any) -> files.FileOutcome:
        if os.getpid() == ingest_pid:  # the ingest process normalises files too: its file waits for the death
            deadline = time.monotonic() + 60
            while not died.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            return real(job, *args)
        died.touch()
        os._exit(9)  # as if killed by the OOM killer

    forked_workers.setattr(files, "normalise_file", dies)
    with pytest.raises(ChainbreakerError) as info:
        ingest_bank(ws, [second], progress=None, workers=2)
    assert "--workers 1" in info.value.zh and "unchanged" in info.value.en
    _unchanged(ws, manifest, listing, runs)


def test_the_ingest_process_normalises_files_beside_its_workers(ws: Workspace, tmp_path: Path,
                                                                forked_workers: pytest.MonkeyPatch) -> None:
    """``workers=2``: the ingest process and one worker process take the files (it used to start two
    workers and wait for them)."""
    folder = request_folder(tmp_path)
    log = tmp_path / "pids"
    real = files.normalise_file

    def logged(job: files.FileJob, *args: Any) -> files.FileOutcome:
        with open(log, "a") as fh:
            fh.write(f"{os.getpid()}\n")
        time.sleep(0.3)  # neither process can take every file before the other starts
        return real(job, *args)

    forked_workers.setattr(files, "normalise_file", logged)
    s = ingest_bank(ws, [folder], progress=None, workers=2)
    pids = log.read_text().split()
    assert s.files == 5 and len(pids) == 5
    assert len(set(pids)) == 2 and str(os.getpid()) in pids


@pytest.mark.parametrize("workers", [1, 2])
def test_a_full_scratch_disk_stops_the_run_instead_of_skipping_files(
        ws: Workspace, tmp_path: Path, forked_workers: pytest.MonkeyPatch, workers: int) -> None:
    second, manifest, listing, runs = _seeded(ws, tmp_path)

    def no_space(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    forked_workers.setattr(files.ipc, "new_file", no_space)
    with pytest.raises(files.ScratchError) as info:
        ingest_bank(ws, [second], progress=None, workers=workers)
    assert "磁盘已满" in info.value.zh and "No space left" in info.value.en
    _unchanged(ws, manifest, listing, runs)


def test_worker_count_defaults_and_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    big, tiny = 100 << 20, 50_000
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.3, 0.3, 0.3))
    assert files.resolve_workers(None, 10, big) == 2 and files.resolve_workers(None, 1, big) == 1
    assert files.resolve_workers(None, 200, tiny) == 2  # many small files: per-file work adds up
    assert files.resolve_workers(None, 5, tiny) == 1  # starting workers would cost more than it saves
    assert files.resolve_workers(4, 10, tiny) == 4 and files.resolve_workers(4, 3, big) == 3
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert files.resolve_workers(None, 10, big) == 1
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert files.resolve_workers(None, 10, big) == 2
    monkeypatch.setattr(os, "getloadavg", lambda: (1.6, 1.0, 1.0))  # less than half a core idle: no worker
    assert files.resolve_workers(None, 10, big) == 1
    assert files.resolve_workers(2, 10, big) == 2  # asked for: whatever the load
    monkeypatch.setattr(os, "getloadavg", lambda: (6.0, 6.0, 6.0))
    assert files.resolve_workers(None, 10, big) == 1
    with pytest.raises(InputError):
        files.resolve_workers(0, 10, big)


def test_setting_and_cli_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from chainbreaker.faces.cli.main import app

    folder = request_folder(tmp_path)
    ws = Workspace(tmp_path / "ws")
    ingest_bank(ws, [folder / "中国工商银行交易明细信息.csv"], progress=None)
    assert ws.runs()[-1]["settings"]["workers"] == 1  # a small run stays in the ingest process
    monkeypatch.setenv("CHAINBREAKER_INGEST_WORKERS", "2")
    ingest_bank(ws, [folder / "中国农业银行交易明细信息.csv", folder / "人员信息.csv"], progress=None)
    assert ws.runs()[-1]["settings"]["workers"] == 2
    monkeypatch.setenv("CHAINBREAKER_INGEST_WORKERS", "1")
    result = CliRunner().invoke(app, ["--workspace", str(ws.root), "ingest", "bank", "--workers", "2", str(folder)])
    assert result.exit_code == 0, result.output
    assert ws.runs()[-1]["settings"]["workers"] == 2
    bad = CliRunner().invoke(app, ["--workspace", str(ws.root), "ingest", "bank", "--workers", "0", str(folder)])
    assert bad.exit_code != 0


def test_keys_made_per_file_give_the_lake_of_keys_made_over_all_legs(tmp_path: Path, package: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers compute each file's de-duplication keys; a file where an account alias applies gets
    them again in the ingest process. Both give the keys computed over all legs at once."""
    from chainbreaker.chains.funds.bank import service

    used: dict[str, int] = {"worker": 0, "again": 0}
    real_path, real_keys = service.keys_path, service.leg_keys

    def counted_path(path: Path) -> Path:
        used["worker"] += 1
        return real_path(path)

    def counted_keys(con: Any, legs: Any) -> Any:
        used["again"] += 1
        return real_keys(con, legs)

    monkeypatch.setattr(service, "keys_path", counted_path)
    monkeypatch.setattr(service, "leg_keys", counted_keys)
    lakes = []
    for mode in ("per file", "all legs"):
        if mode == "all legs":
            monkeypatch.setattr(service, "_staged_keys", lambda *args: None)
        ws = Workspace(tmp_path / mode.replace(" ", "-"))
        ingest_bank(ws, [package / "province" / "statements", package / "请求1"], progress=None, workers=2)
        ingest_bank(ws, [package / "requests"], progress=None, workers=2)
        lakes.append(_lake(ws))
        if mode == "per file":
            assert used["worker"] > 10 and used["again"] > 0, used  # both paths were taken
    for name in TABLES:
        assert lakes[0][name] == lakes[1][name], name


def test_merge_threads_follow_the_idle_cores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ingest process's DuckDB merges use a second thread only when a core is idle; the run records it."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    assert files.merge_threads() == 2
    monkeypatch.setattr(os, "getloadavg", lambda: (5.0, 5.0, 5.0))
    assert files.merge_threads() == 1
    ws = Workspace(tmp_path / "ws")
    ingest_bank(ws, [request_folder(tmp_path) / "中国工商银行交易明细信息.csv"], progress=None)
    assert ws.runs()[-1]["settings"]["merge_threads"] == 1
