"""The workspace contract: atomic multi-table commits, crash safety, evidence store, run log, export."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest

from chainbreaker.core.errors import ChainbreakerError, WorkspaceError
from chainbreaker.core.exports import export_table
from chainbreaker.core.workspace import Workspace


def test_commit_is_atomic_across_tables(ws):
    with ws.transaction("test", inputs=["a.csv"]) as tx:
        tx.write("accounts", pa.table({"account": ["A", "B"]}))
        tx.write("pairs", "SELECT a.account AS x, b.account AS y FROM accounts a, accounts b")
        tx.counts["pairs"] = 4
    assert {k: v["rows"] for k, v in ws.tables().items()} == {"accounts": 2, "pairs": 4}
    run = ws.runs()[-1]
    assert run["kind"] == "test" and run["inputs"] == ["a.csv"] and run["tables_written"]["pairs"] == 4

    with pytest.raises(RuntimeError), ws.transaction("test") as tx:
        tx.write("accounts", pa.table({"account": ["C"]}))
        tx.write("extra", pa.table({"x": [1]}))
        raise RuntimeError("crash in the middle")
    assert ws.read_arrow("accounts").column("account").to_pylist() == ["A", "B"]
    assert not ws.has_table("extra")


def test_runs_are_listed_in_the_order_they_finished(ws):
    """Several runs within one second (same run-id stamp) still list oldest first."""
    for i in range(5):
        with ws.transaction("same.second") as tx:
            tx.counts["i"] = i
    assert [r["counts"]["i"] for r in ws.runs()] == [0, 1, 2, 3, 4]


def test_append_keeps_rows_and_decimals(ws):
    money = pa.decimal128(18, 2)
    with ws.transaction("t") as tx:
        tx.write("m", pa.table({"amount": pa.array([Decimal("1.10")], money)}))
    with ws.transaction("t") as tx:
        tx.write("m", pa.table({"amount": pa.array([Decimal("2.25")], money)}), mode="append")
    got = ws.read_arrow("m").column("amount").to_pylist()
    assert sorted(got) == [Decimal("1.10"), Decimal("2.25")]
    assert ws.read_arrow("m").schema.field("amount").type == money


def test_background_writes_are_staged_like_writes(ws):
    """``write_in_background`` stages what ``write`` stages; a later read or write of the table sees it."""
    with ws.transaction("t") as tx:
        tx.write("a", pa.table({"x": [1, 2]}))
        tx.write("b", pa.table({"x": [1, 2]}))
    with ws.transaction("t") as tx:
        tx.write_in_background("a", pa.table({"x": [3]}), mode="append")
        tx.write_in_background("a", pa.table({"x": [4]}), mode="append")  # waits for the first
        tx.write("b", pa.table({"x": [3]}), mode="append")
        tx.write("b", pa.table({"x": [4]}), mode="append")
        assert tx.has_table("a") and tx.con.sql("SELECT sum(x) FROM a").fetchall() == [(10,)]
        tx.write_in_background("c", pa.table({"y": ["z"]}))  # staged by the commit
    assert sorted(ws.read_arrow("a").column("x").to_pylist()) == sorted(ws.read_arrow("b").column("x").to_pylist())
    assert {k: v["rows"] for k, v in ws.tables().items()} == {"a": 4, "b": 4, "c": 1}
    assert ws.runs()[-1]["tables_written"] == {"a": 4, "b": 4, "c": 1}



def test_a_later_replace_wins_over_a_pending_background_write(ws):
    """The background version is older: a replace written after it must be the table's version at commit."""
    with ws.transaction("t") as tx:
        tx.write_in_background("a", pa.table({"x": [1]}))
        tx.write("a", pa.table({"x": [2]}))
    assert ws.read_arrow("a").column("x").to_pylist() == [2]


def test_background_writes_take_arrow_tables_only(ws):
    with pytest.raises(TypeError, match="pyarrow Table"), ws.transaction("t") as tx:
        tx.write_in_background("a", "SELECT 1 AS x")  # type: ignore[arg-type]
    assert "a" not in ws.tables()

def test_a_failed_background_write_fails_the_commit_and_writes_nothing(ws, monkeypatch):
    with ws.transaction("t") as tx:
        tx.write("a", pa.table({"x": [1]}))
    manifest = ws.manifest()
    files = sorted(p.relative_to(ws.lake) for p in ws.lake.rglob("*") if p.is_file())
    import pyarrow.parquet as pq

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq, "write_table", no_space)
    with pytest.raises(OSError, match="No space"), ws.transaction("t") as tx:
        tx.write("b", "SELECT 1 AS y")  # DuckDB writes this one
        tx.write_in_background("a", pa.table({"x": [2]}), mode="append")
    assert ws.manifest() == manifest
    assert sorted(p.relative_to(ws.lake) for p in ws.lake.rglob("*") if p.is_file()) == files


def test_drop_removes_a_table_at_commit_and_its_files_later(ws):
    """A dropped table leaves the manifest with the commit; its files go once the next transaction
    has committed (a reader of the last version may still be reading them)."""
    with ws.transaction("t") as tx:
        tx.write("a", pa.table({"x": [1]}))
        tx.write("b", pa.table({"x": [2]}))
    folder = ws.lake / "a"
    with ws.transaction("t") as tx:
        tx.drop("a")
        tx.drop("never-written")  # nothing to drop
        assert not tx.has_table("a") and tx.has_table("b")
        with pytest.raises(duckdb.CatalogException):
            tx.con.sql("SELECT * FROM a")  # the views of a connection opened after the drop
        assert ws.has_table("a")  # not before the commit
    assert set(ws.tables()) == {"b"} and ws.runs()[-1]["tables_dropped"] == ["a"]
    assert any(folder.iterdir())
    with ws.transaction("t"):
        pass
    assert any(folder.iterdir())
    with ws.transaction("t"):  # swept when this starts
        pass
    assert not folder.exists() and set(ws.tables()) == {"b"} and "a" not in ws.manifest()["previous"]


def test_drop_is_undone_by_an_abort_and_by_a_later_write(ws):
    with ws.transaction("t") as tx:
        tx.write("a", pa.table({"x": [1]}))
    with pytest.raises(RuntimeError), ws.transaction("t") as tx:
        tx.drop("a")
        raise RuntimeError("crash")
    assert ws.read_arrow("a").column("x").to_pylist() == [1]
    with ws.transaction("t") as tx:
        tx.write_in_background("a", pa.table({"x": [2]}), mode="append")
        tx.drop("a")  # drops the staged version too
        with pytest.raises(duckdb.CatalogException):
            tx.con.sql("SELECT * FROM a")  # the view of a connection opened before
        tx.write("a", pa.table({"x": [3]}), mode="append")  # a new table: nothing to append to
        assert tx.con.sql("SELECT x FROM a").fetchall() == [(3,)]
    assert ws.read_arrow("a").column("x").to_pylist() == [3]
    assert "tables_dropped" not in ws.runs()[-1]
    assert len(list((ws.lake / "a").iterdir())) == 2  # the new version and the one it replaced


def test_a_failed_write_after_a_drop_keeps_the_drop(ws):
    """Only a write that succeeded makes a dropped table a new one; a background write stays unseen."""
    with ws.transaction("t") as tx:
        tx.write("a", pa.table({"x": [1]}))
        tx.write("b", pa.table({"x": [2]}))
    with ws.transaction("t") as tx:
        tx.drop("b")
        with pytest.raises(ChainbreakerError):
            tx.write("b", object())  # not table data
        assert not tx.has_table("b")
        tx.drop("a")
        tx.write_in_background("a", pa.table({"x": [5]}), mode="append")
        with pytest.raises(duckdb.CatalogException):
            tx.con.sql("SELECT * FROM a")  # neither the dropped rows nor the pending write
        tx.flush("a")
        assert tx.con.sql("SELECT x FROM a").fetchall() == [(5,)]
    assert set(ws.tables()) == {"a"} and ws.read_arrow("a").column("x").to_pylist() == [5]


def test_killed_process_leaves_workspace_unchanged(tmp_path):
    root = tmp_path / "ws"
    ws = Workspace(root)
    with ws.transaction("seed") as tx:
        tx.write("t", pa.table({"x": [1, 2, 3]}))
    script = textwrap.dedent(f"""
        import os, signal, pyarrow as pa
        from chainbreaker.core.workspace import Workspace
        ws = Workspace({str(root)!r})
        with ws.transaction("victim") as tx:
            tx.write("t", pa.table({{"x": [9]}}))
            tx.write("u", pa.table({{"y": [9]}}))
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], check=False)
    assert proc.returncode == -signal.SIGKILL
    ws2 = Workspace(root)
    assert ws2.read_arrow("t").column("x").to_pylist() == [1, 2, 3]
    assert not ws2.has_table("u")
    # the orphaned versions are swept by the next writer
    with ws2.transaction("next") as tx:
        tx.write("v", pa.table({"z": [1]}))
    versions = [p.name for p in (root / "lake" / "t").iterdir()]
    assert versions == [ws2.tables()["t"]["version"]]


def test_concurrent_writer_is_refused(ws):
    with ws.transaction("a"), pytest.raises(WorkspaceError), ws.transaction("b"):
        pass


def test_evidence_is_content_addressed(ws, tmp_path):
    f = tmp_path / "建设银行交易明细信息.csv"
    f.write_bytes("交易卡号\t,交易金额\t\n6222\t,100\t\n".encode("gb18030"))
    sha = ws.store_evidence(f)
    assert ws.store_evidence(f) == sha
    assert ws.evidence_path(sha).read_bytes() == f.read_bytes()


def test_unknown_table_error_lists_tables(ws):
    with pytest.raises(WorkspaceError) as err:
        ws.read_arrow("nope")
    assert "nope" in err.value.zh


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "xlsx"])
def test_export_masks_personal_data_and_audits(ws, tmp_path, fmt):
    with ws.transaction("t") as tx:
        tx.write("persons", pa.table({"id_number": ["11010519491231002X"], "name": ["张三丰"],
                                      "phone": ["13800138000"], "account": ["6222021234567890"]}))
    out = tmp_path / f"persons.{fmt}"
    assert export_table(ws, "persons", fmt, out, role="viewer") == 1
    if fmt in ("csv", "jsonl"):
        text = out.read_text("utf-8-sig")
        assert "110105********002X" in text and "138****8000" in text and "张**" in text
        assert "6222021234567890" not in text and "6222********7890" in text  # cards: masked for viewer
    audit = [json.loads(line) for line in (ws.root / "audit.jsonl").read_text("utf-8").splitlines()]
    assert audit[-1]["action"] == "export" and audit[-1]["masked"] == ["account", "id_number", "name", "phone"]
    export_table(ws, "persons", fmt, out, role="investigator")
    assert json.loads((ws.root / "audit.jsonl").read_text("utf-8").splitlines()[-1])["masked"] == []


def test_cli_tables_export_and_plain_errors(tmp_path):
    root = tmp_path / "ws"
    ws = Workspace(root)
    with ws.transaction("t") as tx:
        tx.write("t1", pa.table({"a": [1, 2]}))
    env = {**os.environ, "CHAINBREAKER_WORKSPACE": str(root)}
    cb = [sys.executable, "-m", "chainbreaker.faces.cli.main"]
    out = subprocess.run([*cb, "tables"], capture_output=True, text=True, env=env, check=True)
    assert "t1" in out.stdout
    res = subprocess.run([*cb, "export", "t1", "--format", "csv", "--out", str(tmp_path / "t1.csv")],
                         capture_output=True, text=True, env=env, check=True)
    assert (tmp_path / "t1.csv").exists() and "2" in res.stdout
    bad = subprocess.run([*cb, "export", "missing", "--format", "csv", "--out", str(tmp_path / "x.csv")],
                         capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "missing" in bad.stderr


def test_ctrl_c_during_an_ingest_exits_130_and_writes_nothing(tmp_path):
    """Ctrl-C while the demo ingests (worker processes running): message, exit code 130, no half-written lake."""
    root = tmp_path / "ws"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "chainbreaker.faces.cli.main", "--workspace", str(root), "demo",
                             "--out", str(tmp_path / "report")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    assert proc.stdout is not None
    for line in proc.stdout:  # the second step line: the bank ingest has started
        if "导入调单" in line or "bank statements" in line:
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "已中断" in err and "Traceback" not in err
    assert not Workspace(root).has_table("transactions")


@pytest.mark.parametrize("raised", ["duckdb", "runtime"])
def test_ctrl_c_inside_a_duckdb_query_is_an_interrupt_not_an_internal_error(monkeypatch, capsys, raised):
    import duckdb

    from chainbreaker.faces.cli import main

    exc = duckdb.InterruptException("INTERRUPT Error: Interrupted!") if raised == "duckdb" else RuntimeError("Query interrupted")

    def app(**kwargs):
        raise exc

    monkeypatch.setattr(main, "app", app)
    with pytest.raises(SystemExit) as stop:
        main.run()
    assert stop.value.code == 130
    assert "内部错误" not in capsys.readouterr().err


# ------------------------------------------------------------------ audit before data (审计先行)
@contextlib.contextmanager
def _read_only(path):
    """Make ``path`` unwritable for this process, also as root (immutable attribute), then restore it."""
    mode = path.stat().st_mode
    path.chmod(0o555 if path.is_dir() else 0o444)
    immutable = False
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False).returncode != 0:
            path.chmod(mode)
            pytest.skip("running as root and chattr +i is not supported here: cannot make a file read-only")
        immutable = True
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=False)
        path.chmod(mode)


def _audit(ws):
    return [json.loads(line) for line in (ws.root / "audit.jsonl").read_text("utf-8").splitlines()]


def _persons(ws):
    with ws.transaction("t") as tx:
        tx.write("persons", pa.table({"id_number": ["11010519491231002X"], "name": ["张三丰"],
                                      "phone": ["13800138000"], "account": ["6222021234567890"]}))


def test_export_audits_intent_then_completion_with_one_id(ws, tmp_path):
    _persons(ws)
    export_table(ws, "persons", "csv", tmp_path / "p.csv", role="viewer")
    start, done = _audit(ws)[-2:]
    assert (start["phase"], done["phase"]) == ("start", "done") and start["audit_id"] == done["audit_id"]
    assert start["action"] == done["action"] == "export" and start["out"] == str(tmp_path / "p.csv")
    assert done["rows"] == 1 and done["masked"] == ["account", "id_number", "name", "phone"]  # cards too
    assert start["time"] <= done["time"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet", "jsonl"])
def test_read_only_audit_file_leaves_no_export_behind(ws, tmp_path, fmt):
    _persons(ws)
    (ws.root / "audit.jsonl").write_text("", "utf-8")
    out = tmp_path / "out" / f"persons.{fmt}"
    with _read_only(ws.root / "audit.jsonl"), pytest.raises(WorkspaceError) as err:
        export_table(ws, "persons", fmt, out, role="investigator")
    assert "审计日志" in err.value.zh and "只读" in err.value.zh
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []  # no temporary file either


def test_read_only_workspace_leaves_no_export_behind(tmp_path):
    root = tmp_path / "ws"
    ws = Workspace(root)
    _persons(ws)
    out = tmp_path / "clear.csv"
    with _read_only(root), pytest.raises(WorkspaceError):
        export_table(ws, "persons", "csv", out, role="admin")  # clear data, and no audit line possible
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["ws"]


def test_cli_export_with_a_read_only_audit_file_is_a_clear_error(tmp_path):
    root = tmp_path / "ws"
    ws = Workspace(root)
    _persons(ws)
    (root / "audit.jsonl").write_text("", "utf-8")
    env = {**os.environ, "CHAINBREAKER_WORKSPACE": str(root)}
    out = tmp_path / "persons.xlsx"
    with _read_only(root / "audit.jsonl"):
        res = subprocess.run([sys.executable, "-m", "chainbreaker.faces.cli.main", "export", "persons", "--format", "xlsx",
                              "--out", str(out)], capture_output=True, text=True, env=env)
    assert res.returncode == 2 and "无法写入审计日志" in res.stderr and "Traceback" not in res.stderr
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["ws"]


def test_failed_write_is_audited_and_keeps_the_previous_file(ws, tmp_path):
    _persons(ws)
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "persons.csv"
    export_table(ws, "persons", "csv", out)
    before = out.read_bytes()
    with _read_only(folder), pytest.raises(ChainbreakerError):
        export_table(ws, "persons", "csv", out)  # the temporary file cannot be created
    assert out.read_bytes() == before and sorted(p.name for p in folder.iterdir()) == ["persons.csv"]
    start, failed = _audit(ws)[-2:]
    assert (start["phase"], failed["phase"]) == ("start", "failed") and start["audit_id"] == failed["audit_id"]


# ------------------------------------------------------------------ --out pointing at a folder or a file
def test_cli_export_into_a_folder_names_the_file_and_leaves_no_partial(tmp_path):
    root = tmp_path / "ws"
    ws = Workspace(root)
    with ws.transaction("t") as tx:
        tx.write("t1", pa.table({"a": [1, 2]}))
    folder = tmp_path / "out"
    folder.mkdir()
    env = {**os.environ, "CHAINBREAKER_WORKSPACE": str(root)}
    res = subprocess.run([sys.executable, "-m", "chainbreaker.faces.cli.main", "export", "t1", "--format", "xlsx",
                          "--out", str(folder)], capture_output=True, text=True, env=env, check=True)
    assert (folder / "t1.xlsx").is_file() and str(folder / "t1.xlsx") in res.stdout.replace("\n", "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "ws"]


def test_report_and_demo_out_pointing_at_a_file_is_a_clear_error(tmp_path):
    root = tmp_path / "ws"
    ws = Workspace(root)
    with ws.transaction("t") as tx:
        tx.write("t1", pa.table({"a": [1]}))
    afile = tmp_path / "report.html"
    afile.write_text("old", "utf-8")
    env = {**os.environ, "CHAINBREAKER_WORKSPACE": str(root)}
    for cmd in (["report", "--out", str(afile)], ["demo", "--out", str(afile)], ["synth", "bank", "--out", str(afile)],
                ["synth", "travel", "--out", str(afile)], ["synth", "platform", str(afile)]):
        res = subprocess.run([sys.executable, "-m", "chainbreaker.faces.cli.main", *cmd], capture_output=True, text=True,
                             env=env)
        assert res.returncode == 2 and "--out 须为文件夹" in res.stderr and "Traceback" not in res.stderr, cmd
    assert afile.read_text("utf-8") == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "ws"]


def test_export_audit_lists_masked_columns_with_their_kinds(ws, tmp_path):
    """The audit says what was masked and as what, also for columns whose NAME says nothing."""
    with ws.transaction("t") as tx:
        tx.write("people", pa.table({"证件": ["11010519491231002X"], "联系": ["13800138000"],
                                     "备注": ["回电 13900139000"], "金额": ["12.50"]}))
    export_table(ws, "people", "jsonl", tmp_path / "p.jsonl", role="viewer")
    start, done = [json.loads(x) for x in (ws.root / "audit.jsonl").read_text("utf-8").splitlines()][-2:]
    assert start["phase"] == "start" and done["phase"] == "done"
    assert start["masked_kinds"] == {"证件": "id_number", "联系": "phone", "备注": "free_text"}
    export_table(ws, "people", "jsonl", tmp_path / "q.jsonl", role="investigator")
    assert json.loads((ws.root / "audit.jsonl").read_text("utf-8").splitlines()[-1])["masked_kinds"] == {}
