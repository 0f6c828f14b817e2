"""The funds commands end to end through the real CLI entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from chainbreaker.core.errors import ChainbreakerError
from chainbreaker.faces.cli.main import app

from .scenario import Book, write_lake


def run(ws: Path, *args: str):
    return CliRunner().invoke(app, ["--workspace", str(ws), *args])


def test_screen_trace_suggest_commands(tmp_path: Path, book: Book) -> None:
    from chainbreaker.core.workspace import Workspace

    ws_path = tmp_path / "ws"
    write_lake(Workspace(ws_path), book, requested={a for a in book.roles if not a.startswith("G")})
    result = run(ws_path, "funds", "screen", "--top", "5")
    assert result.exit_code == 0, result.output
    assert "覆盖情况" in result.output and "CARD" in result.output and "可疑账户" in result.output
    out = tmp_path / "trace.graphml"
    result = run(ws_path, "funds", "trace", "CARD2", "--direction", "down", "--hops", "3", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "MULE" in result.output and out.read_text("utf-8").startswith("<?xml")
    result = run(ws_path, "--lang", "en", "funds", "trace", "SETTLE", "-d", "up", "--hops", "2",
                 "--min-amount", "1000", "--window-hours", "48", "--out", str(tmp_path / "t.json"))
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "t.json").read_text("utf-8"))["direction"] == "up"
    result = run(ws_path, "funds", "suggest", "--json", "-n", "5")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows and all(r["account"].startswith("G") for r in rows)
    assert all(r["first_ts"].endswith("+08:00") and "T" in r["first_ts"] for r in rows)  # zoned, not naive UTC
    trace_json = json.loads((tmp_path / "t.json").read_text("utf-8"))
    assert trace_json["edges"] and all(e["ts"].endswith("+08:00") for e in trace_json["edges"])
    result = run(ws_path, "runs", "--last", "1")
    assert result.exit_code == 0 and '"started": "' in result.output and "+08:00" in result.output, result.output


def test_user_errors_have_no_traceback(tmp_path: Path) -> None:
    """Through the real entry point: a clear message and exit code 2, never a traceback."""
    from chainbreaker.core.workspace import Workspace

    ws_path = tmp_path / "ws"
    b = Book(2)
    b.account("A", "normal")
    b.account("B", "normal")
    b.pay("A", "B", 100, b.at(0, 10))
    write_lake(Workspace(ws_path), b)
    bad = tmp_path / "bad.yaml"
    bad.write_text("paofen: {daily_cap: lots}\n", "utf-8")
    cases = [
        (["funds", "trace", "NOPE"], "NOPE"),
        (["funds", "trace", "A", "--out", str(tmp_path / "x.png")], ".graphml"),
        (["funds", "suggest"], "funds screen"),
    ]
    for args, word in cases:
        result = run(ws_path, "--lang", "en", *args)
        assert isinstance(result.exception, ChainbreakerError), (args, result.output)
        assert word in result.exception.message("en")
    # The real entry point prints the message plainly: exit code 2, no traceback.
    proc = subprocess.run([sys.executable, "-m", "chainbreaker.faces.cli.main", "--workspace", str(ws_path),
                           "funds", "screen", "--rules", str(bad)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "daily_cap" in proc.stderr
    assert not Workspace(ws_path).has_table("account_risk")
