"""The ``chainbreaker ops`` commands end to end, errors without a traceback, every command documented."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from chainbreaker.faces.cli.main import app

from .seed_workbook import build


def test_ops_commands_end_to_end(ops_ws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def run(*args: str) -> str:
        r = runner.invoke(app, ["--workspace", str(ops_ws.root), *args], catch_exceptions=False)
        assert r.exit_code == 0, r.output
        return r.output

    assert "模板已写出" in run("ops", "template", "--out", str(tmp_path / "t.xlsx"))
    text = run("ops", "import", str(build(tmp_path / "returns.xlsx")))
    assert "新增 336" in text and "隔离" in text and "备注" in text
    assert "530102" not in text  # no ID number is printed
    shown = run("--role", "viewer", "ops", "quarantine")
    flat = "".join(shown.split())
    assert "身份证号无效" in flat and "姓名=校***" in flat and "530102********" in flat
    assert "排名" in run("ops", "assess", "--month", "2025-10")
    text = run("--lang", "en", "ops", "bulletin", "--period", "2025-01..2025-10", "--out", str(tmp_path / "b"))
    assert "27.00亿元" in text and (tmp_path / "b" / "ranking.xlsx").exists()
    page = tmp_path / "page.jpg"
    page.write_bytes(b"<html><script>alert(1)</script></html>")
    text = run("ops", "tip", "add", "--text", "网址 https://bet.example.com", "--attach", str(page))
    assert "查询码" in text and "未接收" in text
    assert "https://bet.example.com" in run("ops", "tip", "list")
    run("ops", "user", "add", "zhang", "--role", "investigator")
    run("ops", "case", "task", "YN2025-0001", "--title", "调取流水", "--owner", "zhang", "--due", "2025-11-01")
    run("ops", "case", "join", "YN2025-0001", "--unit", "普洱市公安局")
    shown = run("ops", "case", "show", "YN2025-0001")
    assert "调取流水" in shown and "普洱市公安局" in shown
    audit = (ops_ws.root / "audit.jsonl").read_text("utf-8")
    assert "ops.import" in audit and "ops.bulletin" in audit


def test_ops_user_errors_are_bilingual_without_traceback(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    bad = tmp_path / "bad.xlsx"
    bad.write_text("<html>not a workbook</html>", "utf-8")
    base = [sys.executable, "-m", "chainbreaker.faces.cli.main", "--workspace", str(ws)]
    for args, needle in ((["ops", "import", str(bad)], "XLSX"),
                         (["ops", "assess", "--month", "2025/10"], "YYYY-MM"),
                         (["ops", "bulletin", "--period", "2025-10..2025-01", "--out", str(tmp_path / "o")], "结束月"),
                         (["ops", "case", "open", "--from", "0123456789abcdef"], "findings")):
        env = {k: v for k, v in os.environ.items() if k != "CHAINBREAKER_DATABASE_URL"}
        r = subprocess.run([*base, *args], capture_output=True, text=True, env=env)
        assert r.returncode == 2, r.stderr
        assert needle in r.stderr and "Traceback" not in r.stderr


def test_every_ops_command_is_documented() -> None:
    from chainbreaker.faces.cli.ops import app as ops_app
    from chainbreaker.faces.cli.ops import case_app, reward_app, tip_app, user_app
    from chainbreaker.ops.figures import METRICS

    doc = (Path(__file__).resolve().parents[2] / "docs" / "ops.md").read_text("utf-8")
    for cmd in ops_app.registered_commands:
        assert f"ops {cmd.name}" in doc, cmd.name
    for cmd in case_app.registered_commands:
        assert f"ops case {cmd.name}" in doc, cmd.name
    for cmd in tip_app.registered_commands:
        assert f"ops tip {cmd.name}" in doc, cmd.name
    for cmd in reward_app.registered_commands:
        assert f"ops reward {cmd.name}" in doc, cmd.name
    assert "ops share" in doc and "ops quarantine" in doc
    for cmd in user_app.registered_commands:
        assert f"ops user {cmd.name}" in doc, cmd.name
    for metric in METRICS:
        assert f"`{metric}`" in doc, metric
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    assert "chainbreaker ops" in readme


def test_ops_tables_export_masked_and_audited(ops_ws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import csv

    from chainbreaker.ops.export import export_ops_table
    from chainbreaker.ops.importer import import_returns
    from chainbreaker.ops.tips import submit_tip

    from .seed_workbook import resident_id

    import_returns(ops_ws, build(tmp_path / "r.xlsx"))
    submit_tip(ops_ws, "线索", name="张三", phone="13800138000")
    n = export_ops_table(ops_ws, "ops_suspect", "csv", tmp_path / "s.csv", role="viewer")
    text = (tmp_path / "s.csv").read_text("utf-8-sig")
    assert n == 1578 and resident_id(5) not in text
    assert resident_id(5) in (export_ops_table(ops_ws, "ops_suspect", "csv", tmp_path / "s2.csv", role="investigator")
                              and (tmp_path / "s2.csv").read_text("utf-8-sig"))
    export_ops_table(ops_ws, "ops_tip", "csv", tmp_path / "t.csv", role="investigator")
    with open(tmp_path / "t.csv", encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh))
    assert not any("passphrase" in h or "tipster" in h for h in header)
    export_ops_table(ops_ws, "ops_tip", "xlsx", tmp_path / "t.xlsx", role="admin")
    assert export_ops_table(ops_ws, "ops_seizure", "jsonl", tmp_path / "z.jsonl") == 420
    assert '"ops.export"' in (ops_ws.root / "audit.jsonl").read_text("utf-8")
