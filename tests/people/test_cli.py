from __future__ import annotations

from typer.testing import CliRunner

from chainbreaker.faces.cli.main import app


def test_cli_ingest_analyze_mask_and_register(travel_files, tmp_path, monkeypatch):
    out, data = travel_files
    ws = tmp_path / "ws"
    runner = CliRunner()

    def run(*args: str):
        r = runner.invoke(app, ["--workspace", str(ws), *args], catch_exceptions=False)
        assert r.exit_code == 0, r.output
        return r.output

    text = run("ingest", "travel", str(out / "travel"))
    assert "出入境记录" in text and "隔离" in text
    text = run("people", "analyze", "--as-of", str(data.as_of))
    assert "travel.stranded" in text and "团伙" in text
    truth = data.truth_persons.to_pandas()
    some = sorted(truth[truth.stranded == 1].id_number)
    viewer = run("people", "stranded", "--limit", "500", "--role", "viewer")
    assert not any(i in viewer for i in some)  # ID numbers masked for a viewer
    inv = run("people", "stranded", "--limit", "500", "--role", "investigator")
    assert any(i in inv for i in some)
    run("people", "register", "propose")
    pending = run("people", "register", "list", "--pending")
    assert "赌博劳务人员" in pending
    run("people", "register", "add", some[0], "-r", "赌博劳务人员", "--why", "核实")
    run("people", "register", "set-status", some[0], "核查", "--why", "开始核查")
    shown = run("people", "register", "show", some[0], "--role", "viewer")
    assert "核查" in shown and some[0] not in shown
    assert "people.register.show" in (ws / "audit.jsonl").read_text("utf-8")
    assert "KHM" in run("people", "destinations")


def test_cli_user_errors_are_bilingual_without_traceback(tmp_path):
    import subprocess
    import sys

    ws = tmp_path / "ws"
    r = subprocess.run([sys.executable, "-m", "chainbreaker.faces.cli.main", "--workspace", str(ws), "people", "analyze",
                        "--as-of", "2026-13-01"], capture_output=True, text=True)
    assert r.returncode == 2 and "YYYY-MM-DD" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "chainbreaker.faces.cli.main", "--workspace", str(ws), "--lang", "en",
                        "people", "analyze"], capture_output=True, text=True)
    assert r.returncode == 2 and "ingest travel" in " ".join(r.stderr.split()) and "Traceback" not in r.stderr


def test_every_people_command_and_parameter_is_documented():
    from pathlib import Path

    import yaml

    from chainbreaker.chains.people.params import DEFAULT_PATH
    from chainbreaker.faces.cli.people import app as people_app
    from chainbreaker.faces.cli.people import register_app

    doc = (Path(__file__).resolve().parents[2] / "docs" / "people.md").read_text("utf-8")
    for cmd in people_app.registered_commands:
        assert f"people {cmd.name}" in doc, cmd.name
    for cmd in register_app.registered_commands:
        assert f"register {cmd.name}" in doc, cmd.name
    for name in yaml.safe_load(DEFAULT_PATH.read_text("utf-8"))["params"]:
        assert f"`{name}`" in doc, name


def test_cli_unknown_engine_or_bad_spark_master_is_a_clear_error(tmp_path):
    import subprocess
    import sys

    ws = tmp_path / "ws"
    base = [sys.executable, "-m", "chainbreaker.faces.cli.main", "--workspace", str(ws)]
    for chain in ("people", "promotion"):
        r = subprocess.run([*base, chain, "analyze", "--engine", "flink"], capture_output=True, text=True)
        assert r.returncode == 2 and "未知引擎 flink" in r.stderr and "Traceback" not in r.stderr, r.stderr
        r = subprocess.run([*base, chain, "analyze", "--engine", "spark", "--spark-master", "http://x;rm"],
                           capture_output=True, text=True)
        assert r.returncode == 2 and "Spark 主节点地址无效" in r.stderr and "Traceback" not in r.stderr, r.stderr
