"""One bad file in a platform run: skipped with a quarantined reason, the rest ingested, bounded time
and memory; a clear Chinese error when nothing could be read; never an internal error."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import chainbreaker
from chainbreaker.chains.promotion.ingest import ingest_platform
from chainbreaker.core.errors import InputError
from chainbreaker.core.workspace import Workspace

SRC = Path(chainbreaker.__file__).resolve().parents[1]  # children import the same code as this process


def good_files(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "会员.csv").write_text("会员ID,上级ID,手机号\n1,,13900000001\n2,1,\n3,2,\n", "utf-8")
    (folder / "注单.csv").write_bytes("注单号,会员ID,投注金额\nA1,3,10\nA2,3,20\n".encode("gb18030"))


def damaged_sqlite(path: Path, *, truncate: bool) -> None:
    """A real SQLite file, then damaged: cut in half, or one data page of the second table overwritten."""
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE a_members(uid TEXT, pid TEXT)")
    con.executemany("INSERT INTO a_members VALUES (?, ?)", [(f"S{i}", None if i == 0 else "S0") for i in range(50)])
    con.execute("CREATE TABLE b_bets(order_no TEXT, uid TEXT, bet_amount TEXT)")
    con.executemany("INSERT INTO b_bets VALUES (?, ?, ?)", [(f"B{i}", "S1", "5") for i in range(5000)])
    con.commit()
    page = con.execute("PRAGMA page_size").fetchall()[0][0]
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'b_bets'").fetchall()[0][0]
    con.close()
    data = bytearray(path.read_bytes())
    if truncate:
        path.write_bytes(bytes(data[: len(data) // 2]))
        return
    # the b_bets root page points at its leaves; garbage there breaks b_bets only
    start = (root - 1) * page
    data[start + 8: start + page] = b"\xa5" * (page - 8)
    path.write_bytes(bytes(data))


def write_bad_files(folder: Path) -> None:
    (folder / "empty.csv").write_bytes(b"")
    (folder / "blank.txt").write_bytes(b"\r\n  \r\n")
    (folder / "binary.csv").write_bytes(bytes(range(256)) * 64)
    (folder / "header_only.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (folder / "notadb.sqlite").write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096)
    damaged_sqlite(folder / "truncated.db", truncate=True)
    damaged_sqlite(folder / "damaged.sqlite", truncate=False)
    (folder / "empty.sql").write_text("\n-- nothing here\n", "utf-8")
    with open(folder / "long_line.csv", "w", encoding="utf-8") as fh:  # a 10 MB line after a valid header
        fh.write("注单号,会员ID,投注金额\nL1,2,10\n")
        fh.write("L2,2," + "9" * (10 << 20) + "\n")
        fh.write("L3,2,30\n")
    with open(folder / "single_line.csv", "w", encoding="utf-8") as fh:  # the header, then 10 MB without a line break
        fh.write("注单号,会员ID,投注金额\n" + "x," * (5 << 20))


CHILD = """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from chainbreaker.core.workspace import Workspace
from chainbreaker.chains.promotion.ingest import ingest_platform
s = ingest_platform(Workspace(sys.argv[1]), Path(sys.argv[2]), "坏样本")
peak = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")][0] / 1024
print("RESULT " + json.dumps({"seconds": time.perf_counter() - t0, "peak_mb": peak, "kept": s.rows_kept,
                              "failed": [f[0] for f in s.files_failed], "reasons": s.quarantined_by_reason}))
"""


def test_bad_files_are_skipped_with_a_reason_in_bounded_time_and_memory(tmp_path: Path) -> None:
    folder = tmp_path / "seized"
    good_files(folder)
    write_bad_files(folder)
    env = {**os.environ, "PYTHONPATH": str(SRC), "CHAINBREAKER_DUCKDB_MEMORY_LIMIT": "512MB"}
    try:  # run in a child: its own peak memory, and a hang fails the test instead of stalling it
        proc = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "ws"), str(folder)], env=env,
                              capture_output=True, text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("platform ingest did not finish within 120 s")
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line, proc.stderr[-3000:]
    out = json.loads(line[len("RESULT "):])
    assert out["peak_mb"] < 900, out  # was 1.8 GB and still growing after minutes
    assert out["kept"] == {"members": 53, "bets": 4}  # 3 + 50 SQLite members; A1, A2, L1, L3
    assert sorted(out["failed"]) == ["binary.csv", "blank.txt", "empty.csv", "header_only.xlsx", "notadb.sqlite",
                                     "truncated.db"]
    ws = Workspace(tmp_path / "ws")
    q = ws.duck().sql("SELECT file_name, row, reason_code, reason, raw FROM quarantine ORDER BY file_name, row").fetchall()
    by_file = {(f, code): (row, reason, raw) for f, row, code, reason, raw in q}
    for name in out["failed"]:
        row, reason, raw = by_file[(name, "file_unusable")]
        assert row == 0 and reason.startswith("文件无法识别或读取") and json.loads(raw)["path"].endswith(name)
    assert by_file[("long_line.csv", "line_too_long")][0] == 3
    assert "10,485,7" in by_file[("long_line.csv", "line_too_long")][1]
    assert by_file[("single_line.csv", "line_too_long")][0] == 2
    assert "b_bets" in next(f for f, code in by_file if code == "table_unreadable")
    assert ("empty.sql", "file_unusable") not in by_file  # an empty dump is a dump without tables, not an error
    files = dict(ws.duck().sql("SELECT file_name, rows_read - rows_kept - rows_quarantined FROM ingested_files").fetchall())
    assert set(files.values()) == {0} and "empty.csv" not in files


def test_nothing_readable_is_a_clear_chinese_error_and_changes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "seized"
    folder.mkdir()
    write_bad_files(folder)
    for name in ("long_line.csv", "single_line.csv", "damaged.sqlite", "empty.sql"):
        (folder / name).unlink()
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(InputError) as info:
        ingest_platform(ws, folder, "坏样本")
    assert "没有导入任何数据" in info.value.zh and "empty.csv（文件为空" in info.value.zh
    assert "notadb.sqlite" in info.value.zh and "Nothing was ingested" in info.value.en
    assert ws.tables() == {}
    cli = subprocess.run([sys.executable, "-c", "from chainbreaker.faces.cli.main import run; run()", "--workspace",
                          str(tmp_path / "ws"), "ingest", "platform", str(folder), "--platform", "x"],
                         env={**os.environ, "PYTHONPATH": str(SRC)}, capture_output=True, text=True, timeout=120,
                         check=False)
    assert cli.returncode == 2 and "没有导入任何数据" in cli.stdout + cli.stderr
    assert "Traceback" not in cli.stdout + cli.stderr and ws.tables() == {}


def test_rerun_with_a_bad_file_is_a_noop_not_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "seized"
    good_files(folder)
    (folder / "empty.csv").write_bytes(b"")
    ws = Workspace(tmp_path / "ws")
    first = ingest_platform(ws, folder, "乙")
    assert first.files_failed and first.rows_kept == {"members": 3, "bets": 2}
    before = ws.tables()
    again = ingest_platform(ws, folder, "乙")
    assert "all_files_already_ingested" in again.notes and [f[0] for f in again.files_failed] == ["empty.csv"]
    assert ws.tables() == before
    q = ws.duck().sql("SELECT count(*) FROM quarantine WHERE reason_code = 'file_unusable'").fetchall()
    assert q == [(1,)]  # recorded by the run that ingested something, not again by the no-op


def test_a_file_the_user_cannot_read_is_skipped(tmp_path: Path) -> None:
    """Permission denied (an export copied from a seized disk as another user). Root reads everything,
    so as root the ingest runs in a child without the capability to override file permissions."""
    folder = tmp_path / "seized"
    good_files(folder)
    secret = folder / "提现.csv"
    secret.write_text("订单号,会员ID,提现金额\nW1,2,100\n", "utf-8")
    os.chmod(secret, 0o000)
    try:
        if os.geteuid() != 0:
            failed = [f[0] for f in ingest_platform(Workspace(tmp_path / "ws"), folder, "丙").files_failed]
        else:
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                pytest.skip("running as root without setpriv: cannot make a file unreadable")
            env = {**os.environ, "PYTHONPATH": str(SRC)}
            proc = subprocess.run([setpriv, "--bounding-set=-dac_override,-dac_read_search", "--", sys.executable,
                                   "-c", CHILD, str(tmp_path / "ws"), str(folder)], env=env, capture_output=True,
                                  text=True, timeout=120, check=False)
            line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
            assert line, proc.stderr[-3000:]
            failed = json.loads(line[len("RESULT "):])["failed"]
        assert failed == ["提现.csv"]
        q = Workspace(tmp_path / "ws").duck().sql(
            "SELECT row, reason FROM quarantine WHERE file_name = '提现.csv'").fetchall()
        assert q[0][0] == 0 and "无法读取" in q[0][1] and "Permission denied" in q[0][1]
    finally:
        os.chmod(secret, 0o600)


def test_progress_reports_every_byte_read(tmp_path: Path) -> None:
    folder = tmp_path / "seized"
    good_files(folder)
    shutil.copy(Path(__file__).parent / "dumps" / "fh_game_mysql.sql", folder / "dump.sql")

    class Recorder:
        def __init__(self) -> None:
            self.total, self.read, self.files = 0, 0, []  # type: ignore[var-annotated]

        def start(self, total_bytes: int) -> None:
            self.total = total_bytes

        def file(self, name: str) -> None:
            self.files.append(name)

        def advance(self, nbytes: int) -> None:
            self.read += nbytes

        def phase(self, zh: str, en: str) -> None:
            pass

    rec = Recorder()
    ingest_platform(Workspace(tmp_path / "ws"), folder, "丁", mariadb="never", progress=rec)
    assert rec.total == sum(p.stat().st_size for p in folder.iterdir()) == rec.read
    assert sorted(rec.files) == ["dump.sql", "会员.csv", "注单.csv"]


def test_mostly_utf8_member_file_keeps_names_and_quarantines_the_damaged_row(tmp_path: Path) -> None:
    """A UTF-8 export with one damaged name is read as UTF-8 (no GB18030 mojibake for the others)."""
    folder = tmp_path / "in"
    folder.mkdir()
    lines = ["会员ID,上级ID,真实姓名"] + [f"{i},{(i - 1) // 3 or ''},张伟{i}" for i in range(1, 60)]
    data = bytearray(("\n".join(lines) + "\n").encode("utf-8"))
    at = data.index("张伟17\n".encode())
    del data[at + 1]  # one byte cut out of 张
    (folder / "会员.csv").write_bytes(bytes(data))
    (folder / "注单.csv").write_text("注单号,会员ID,投注金额\nA1,3,10\n", "utf-8")
    ws = Workspace(tmp_path / "ws")
    ingest_platform(ws, folder, "金沙")
    con = ws.duck()
    names = [r[0] for r in con.sql("SELECT real_name FROM platform_members ORDER BY member_id::INT").fetchall()]
    q = con.sql("SELECT reason_code, row FROM quarantine WHERE source_kind = 'platform'").fetchall()
    con.close()
    assert len(names) == 58 and all(n.startswith("张伟") for n in names)
    assert q == [("bad_bytes", 18)]
