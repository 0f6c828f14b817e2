"""One bad travel file must not abort the run: it is skipped with a row-0 quarantine reason, the
other files are ingested and the run says so; the run fails only when no file could be used."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from chainbreaker.chains.people.ingest import ingest_travel
from chainbreaker.core.errors import InputError
from chainbreaker.core.model.identifiers import ResidentID

from .conftest import write_csv

HEADER = ["姓名", "身份证号", "证件号码", "出入日期时间", "出入境类别", "前往/归来国家/地区", "出入口岸"]


def _id(first17: str) -> str:
    return first17 + ResidentID.check_digit(first17)


def _good(folder: Path, name: str = "出入境记录.csv", encoding: str = "utf-8") -> Path:
    rows = [["王五", _id("53010219800101123"), "E1234567", "2026-03-01 08:00:00", "出境", "老挝", "磨憨口岸"],
            ["赵六", _id("53010219851231004"), "E7654321", "2026-03-02 09:30:00", "出境", "缅甸", "瑞丽口岸"]]
    return write_csv(folder / name, HEADER, rows, encoding=encoding)


def _bad_files(folder: Path) -> dict[str, str]:
    """Each kind of unusable file; name -> what it is."""
    (folder / "空文件.csv").write_bytes(b"")
    (folder / "乱码.csv").write_bytes(bytes(range(256)) * 40)
    (folder / "坏表格.xlsx").write_bytes(b"PK\x03\x04 not really a workbook" * 10)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")  # a zip, but no workbook inside
    (folder / "空压缩包.xlsx").write_bytes(buf.getvalue())
    (folder / "超长一行.csv").write_bytes(("出入境记录" * 2_100_000).encode("utf-8")[:10_500_000])  # 10 MB, no newline
    write_csv(folder / "别的表.csv", ["甲", "乙"], [["1", "2"]])
    return {"空文件.csv": "empty", "乱码.csv": "binary", "坏表格.xlsx": "broken xlsx", "空压缩包.xlsx": "zip without a workbook",
            "超长一行.csv": "10 MB single line", "别的表.csv": "unknown layout"}


def test_bad_files_are_skipped_and_the_good_one_is_ingested(ws, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _good(folder)
    _good(folder, "出入境记录_gbk.csv", encoding="gb18030")  # same records in another encoding: merged
    bad = _bad_files(folder)
    s = ingest_travel(ws, [folder])
    failed = dict(s.files_failed)
    assert set(bad) <= set(failed), failed
    assert all(why for why in failed.values())
    assert s.by_kind == {"crossings": 4} and s.rows_kept == 4
    assert ws.duck().sql("SELECT count(*) FROM travel_crossings").fetchall() == [(2,)]
    q = ws.duck().sql("SELECT file_name, row, reason_code, reason FROM quarantine WHERE row = 0").fetchall()
    assert {r[0] for r in q} >= set(bad) and all(r[2] == "file_unusable" and r[3] for r in q)
    ingested = {r[0] for r in ws.duck().sql("SELECT file_name FROM ingested_files").fetchall()}
    assert not ingested & set(bad)  # not recorded as ingested: can be ingested later with a profile
    run = [r for r in ws.runs() if r.get("kind") == "people.ingest"][-1]
    assert set(run["counts"]["files_failed"]) == set(failed)
    assert ws.tables()["quarantine"]["rows"] == len(q) + ws.duck().sql(
        "SELECT count(*) FROM quarantine WHERE row > 0").fetchall()[0][0]


def test_a_10_mb_line_after_a_good_header_is_a_quarantined_row_kept_short(ws, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    good = _good(folder)
    with open(good, "a", encoding="utf-8") as fh:
        fh.write("x" * 10_000_000 + "\n")
    s = ingest_travel(ws, [folder])
    assert s.rows_kept == 2 and not s.files_failed
    (row, raw), = ws.duck().sql("SELECT row, raw FROM quarantine").fetchall()
    assert row == 4 and len(raw) < 3000 and "10,000,000" in raw


def test_the_bad_rows_of_a_skipped_file_do_not_stay_behind(ws, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _good(folder)
    (folder / "半截.xlsx").write_bytes(b"PK\x03\x04" + b"\x00" * 300)
    s = ingest_travel(ws, [folder])
    assert [n for n, _ in s.files_failed] == ["半截.xlsx"]
    rows = ws.duck().sql("SELECT file_name, row FROM quarantine").fetchall()
    assert rows == [("半截.xlsx", 0)]


def test_only_bad_files_is_an_error_and_writes_nothing(ws, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _bad_files(folder)
    with pytest.raises(InputError) as exc:
        ingest_travel(ws, [folder])
    assert "空文件.csv" in exc.value.zh and "乱码.csv" in exc.value.zh
    assert ws.tables() == {}


def test_rerun_with_a_bad_file_beside_ingested_ones_is_not_an_error(ws, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _good(folder)
    (folder / "空文件.csv").write_bytes(b"")
    ingest_travel(ws, [folder])
    s = ingest_travel(ws, [folder])
    assert s.files_skipped_already_ingested == 1 and [n for n, _ in s.files_failed] == ["空文件.csv"]


def test_cli_reports_skipped_files_and_exit_codes(tmp_path):
    import subprocess
    import sys

    folder = tmp_path / "in"
    folder.mkdir()
    _good(folder)
    (folder / "空文件.csv").write_bytes(b"")
    base = [sys.executable, "-m", "chainbreaker.faces.cli.main", "--workspace", str(tmp_path / "ws"), "ingest", "travel"]
    r = subprocess.run([*base, str(folder)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "空文件.csv" in r.stdout and "跳过" in r.stdout and "quarantine" in r.stdout
    r = subprocess.run([*base, str(folder / "空文件.csv")], capture_output=True, text=True)
    assert r.returncode == 2 and "空文件.csv" in r.stderr and "Traceback" not in r.stderr
