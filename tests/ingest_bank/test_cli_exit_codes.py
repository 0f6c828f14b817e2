"""Exit codes of ``chainbreaker ingest bank`` through the real command line.

Already-ingested and unrecognised files are warnings; the command fails only when it was given
files and could use none of them. Re-ingesting a folder that holds an unrecognised file changes
nothing and exits 0.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .builders import request_folder, write_csv


def _cli(ws: Path, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chainbreaker.faces.cli.main", "--workspace", str(ws), "ingest", "bank",
                           "--no-progress", *map(str, paths)], capture_output=True, text=True, timeout=180)


def _state(ws: Path) -> tuple[str, list[str]]:
    return (ws / "lake" / "_manifest.json").read_text("utf-8"), sorted(p.name for p in (ws / "runs").glob("*.json"))


def test_reingesting_a_folder_with_an_unrecognised_file_is_a_noop_that_exits_0(tmp_path: Path) -> None:
    folder = request_folder(tmp_path)
    write_csv(folder / "任务说明.csv", ["任务编号", "承办人", "备注说明"], [["2023001", "刘警官", "无"]])
    ws = tmp_path / "ws"
    first = _cli(ws, folder)
    assert first.returncode == 0, first.stderr
    assert "任务说明.csv" in first.stderr  # a warning
    before = _state(ws)

    second = _cli(ws, folder)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "任务说明.csv" in second.stderr and "已导入过而跳过：5" in second.stdout
    assert "工作区未改变" in second.stdout
    assert _state(ws) == before  # not even a second quarantine row for the unrecognised file
    quarantine = json.loads(before[0])["tables"]["quarantine"]["rows"]
    assert quarantine == 1

    # one more file of the same package arrives later: it is ingested, the others stay warnings
    late = write_csv(folder / "补充" / "人员信息.csv", ["客户名称", "证照类型", "证照号码"],
                     [["王芳", "居民身份证", "440524188001010014"]])
    third = _cli(ws, folder)
    assert third.returncode == 0 and "导入文件：1" in third.stdout, third.stdout + third.stderr
    assert late.name in {r["file_name"] for r in _ingested(ws)}


def _ingested(ws: Path) -> list[dict]:
    from chainbreaker.core.workspace import Workspace

    return Workspace(ws).read_arrow("ingested_files").to_pylist()


def test_a_run_that_can_use_none_of_its_files_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    bad = write_csv(tmp_path / "导出" / "任务说明.csv", ["任务编号", "承办人"], [["2023001", "刘警官"]])
    empty = tmp_path / "导出" / "空.csv"
    empty.write_bytes(b"")
    ws = tmp_path / "ws"
    result = _cli(ws, bad.parent)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "错误" in result.stderr and "Traceback" not in result.stderr
    assert not (ws / "lake" / "_manifest.json").exists()
