"""A workspace whose path holds quotes (``o'brien "ws"``) works end to end: ingest, screen, trace,
suggest and export (no SQL is built by pasting a path into a string)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.ingest_bank.builders import LI, ZHANG, request_folder

from .scenario import Book, write_lake


def _cli(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chainbreaker.faces.cli.main", "--workspace", str(ws), *args],
                          capture_output=True, text=True, timeout=300)


def test_ingest_screen_trace_suggest_export_in_a_quoted_workspace(tmp_path: Path, book: Book) -> None:
    from chainbreaker.core.workspace import Workspace

    root = tmp_path / "案件 o'brien \"ws\""
    ws_path = root / "工作区 'a' \"b\""
    folder = request_folder(root / "调单 'x'")
    ingest = _cli(ws_path, "ingest", "bank", "--no-progress", "--workers", "2", str(folder))
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    ws = Workspace(ws_path)
    assert ws.read_arrow("transactions").num_rows == 4
    again = _cli(ws_path, "ingest", "bank", "--no-progress", str(folder))
    assert again.returncode == 0, again.stderr

    trace = _cli(ws_path, "funds", "trace", ZHANG["card"], "--out", str(root / "trace 'a'.json"))
    assert trace.returncode == 0, trace.stdout + trace.stderr
    assert LI["card"] in {n["account"] for n in json.loads((root / "trace 'a'.json").read_text("utf-8"))["nodes"]}

    write_lake(ws, book, requested={a for a in book.roles if not a.startswith("G")})  # findings to speak of
    screen = _cli(ws_path, "funds", "screen")
    assert screen.returncode == 0, screen.stdout + screen.stderr
    assert ws.read_arrow("findings").num_rows > 0
    suggest = _cli(ws_path, "funds", "suggest", "--json")
    assert suggest.returncode == 0, suggest.stderr
    for table in ("transactions", "account_risk", "findings"):
        out = root / f"{table} 'x' \"y\".csv"
        export = _cli(ws_path, "export", table, "--format", "csv", "--out", str(out))
        assert export.returncode == 0, export.stdout + export.stderr
        assert out.stat().st_size > 0
    assert not (ws_path / "tmp").exists() and not list(ws_path.glob(".funds-screen-*"))
