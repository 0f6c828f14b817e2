"""Hostile strings reach the terminal through file names, headers, values, platform names and errors.

Each command runs through the real entry point (``chainbreaker.faces.cli.main.run``, with its error
handler) on files written here whose names and contents carry rich markup (``[/bold]``, ``[red]``)
and terminal controls (ESC, BEL, CR). The output must show them as text, never crash, never style
the terminal, and the data must be committed as usual.
"""

from __future__ import annotations

import contextlib
import csv
import io
import sys
from pathlib import Path

import pytest

from chainbreaker.core.model.identifiers import ResidentID

CONTROLS = ("\x1b", "\x07", "\r", "\x9b")
CLOSE_TAG = "[/bold]"  # a closing tag with nothing open: rich raises MarkupError
STYLE_TAG = "[red]"  # would restyle the rest of the line
FILE_HOSTILE = "[red]\x1b[2J\x07evil"  # file names cannot hold "/": a style tag and controls


def _id(first17: str) -> str:
    return first17 + ResidentID.check_digit(first17)


ID_A, ID_B = _id("53010219800101123"), _id("53010219851231004")


def cli(*args: str) -> tuple[object, str, str]:
    """Run ``chainbreaker ARGS`` in this process: (exit code or 'crash: ...', stdout, stderr)."""
    from chainbreaker.faces.cli.context import console, err_console
    from chainbreaker.faces.cli.main import run

    out, err = io.StringIO(), io.StringIO()
    argv, sys.argv = sys.argv, ["chainbreaker", *args]
    console.width = err_console.width = 240
    code: object = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            run()
    except SystemExit as exc:
        code = exc.code if exc.code is not None else 0
    except Exception as exc:  # noqa: BLE001 - what the user would see as a traceback
        code = f"crash: {type(exc).__name__}: {exc}"
    finally:
        sys.argv = argv
    return code, out.getvalue(), err.getvalue()


def _clean(text: str) -> None:
    for ch in CONTROLS:
        assert ch not in text, f"control character {ch!r} reached the terminal"


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


CROSSINGS = ["姓名", "身份证号", "证件号码", "出入日期时间", "出入境类别", "前往/归来国家/地区", "出入口岸"]


@pytest.fixture(scope="module")
def travel_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("travel")
    _write(d / f"出入境{FILE_HOSTILE}.csv", CROSSINGS, [
        [f"张三{CLOSE_TAG}{STYLE_TAG}\x1b]0;title\x07", ID_A, "E12345678", "2026-01-05 10:00:00", "出境", "柬埔寨", "昆明长水机场"],
        ["李四", ID_B, "E87654321", "2026-01-05 10:00:00", "出境", f"柬埔寨{CLOSE_TAG}", "昆明长水机场"],
    ])
    return d


def test_travel_file_with_markup_in_its_name_and_values_is_ingested_and_printed_as_text(tmp_path, travel_dir):
    ws = tmp_path / "ws"
    code, out, err = cli("--workspace", str(ws), "ingest", "travel", str(travel_dir))
    assert code == 0, (code, out, err)
    assert "出入境[red]" in out and "evil" in out  # the file name, literally
    _clean(out + err)
    code, out, err = cli("--workspace", str(ws), "--role", "investigator", "people", "analyze", "--as-of", "2026-12-01")
    assert code == 0, (code, out, err)
    code, out, err = cli("--workspace", str(ws), "--role", "investigator", "people", "stranded")
    assert code == 0, (code, out, err)
    assert f"张三{CLOSE_TAG}{STYLE_TAG}" in out
    _clean(out + err)


def test_error_message_with_markup_is_printed_by_the_error_handler(tmp_path):
    bad = _write(tmp_path / "x.csv", ["甲", f"乙{CLOSE_TAG}", "丙\x1b[31m"], [["1", "2", "3"]])
    code, out, err = cli("--workspace", str(tmp_path / "ws"), "ingest", "travel", str(bad))
    assert code == 2, (code, out, err)  # a user error, not a crash of the handler
    assert f"乙{CLOSE_TAG}" in err
    _clean(out + err)
    code, out, err = cli("--workspace", str(tmp_path / "ws"), "people", "register", "show", f"{CLOSE_TAG}\x1b[2J")
    assert code == 2, (code, out, err)
    assert CLOSE_TAG in err
    _clean(out + err)


def test_workspace_path_and_export_target_with_markup(tmp_path, travel_dir):
    # "[" in a workspace path is a glob character for DuckDB's Parquet reads: controls only here
    ws = tmp_path / "ws\x1bc\x07(evil)"
    assert cli("--workspace", str(ws), "ingest", "travel", str(travel_dir))[0] == 0
    code, out, err = cli("--workspace", str(ws), "tables")
    assert code == 0, (code, out, err)
    assert "wsc(evil)" in out
    _clean(out + err)
    target = tmp_path / f"out{FILE_HOSTILE}.csv"
    code, out, err = cli("--workspace", str(ws), "export", "travel_crossings", "--format", "csv", "--out", str(target))
    assert code == 0, (code, out, err)
    assert target.exists() and "out[red]" in out
    _clean(out + err)


def test_platform_name_with_markup_commits_and_prints(tmp_path):
    from chainbreaker.synth.platform import export_platform, generate_platform

    p = generate_platform("pyramid", 60, 300, seed=3)
    src = export_platform(p, tmp_path / "dump", formats=("csv",))["csv"]
    ws = tmp_path / "ws"
    name = f"平台{CLOSE_TAG}{STYLE_TAG}\x1b[2J"
    code, out, err = cli("--workspace", str(ws), "ingest", "platform", str(src), "--platform", name)
    assert code == 0, (code, out, err)
    assert f"平台{CLOSE_TAG}{STYLE_TAG}" in out
    _clean(out + err)
    for args in (["promotion", "analyze"], ["promotion", "top"], ["promotion", "thresholds"]):
        code, out, err = cli("--workspace", str(ws), *args)
        assert code == 0, (args, code, out, err)
        _clean(out + err)
    assert f"平台{CLOSE_TAG}" in cli("--workspace", str(ws), "promotion", "top")[1]


def test_bank_run_reports_a_skipped_file_with_markup_in_its_name(tmp_path):
    from chainbreaker.synth.bank import generate_province

    province = generate_province(tmp_path / "province", 5000, 5)
    folder = next(p for p in province.statements_dir.iterdir() if p.is_dir())
    (folder / f"附件{FILE_HOSTILE}.csv").write_bytes(b"\x00\x01garbage" * 100)
    ws = tmp_path / "ws"
    code, out, err = cli("--workspace", str(ws), "ingest", "bank", "--no-progress", str(province.statements_dir))
    assert code == 0, (code, out, err)
    assert "附件[red]" in err
    _clean(out + err)
    for args in (["funds", "screen"], ["funds", "suggest"], ["funds", "trace", f"{CLOSE_TAG}6222"]):
        code, out, err = cli("--workspace", str(ws), *args)
        assert code in (0, 2), (args, code, out, err)
        _clean(out + err)


def test_safe_strips_controls_and_escapes_markup():
    from rich.console import Console

    from chainbreaker.faces.cli.context import safe

    text = safe(f"a{CLOSE_TAG}{STYLE_TAG}b\x1b[31mc\x07d\re\x9bf\u202eg\nh\ti")
    buf = io.StringIO()
    Console(file=buf, width=200, color_system=None).print(text)
    shown = buf.getvalue()
    assert f"a{CLOSE_TAG}{STYLE_TAG}b[31mcdefg h" in shown
    _clean(shown)


def test_emoji_codes_in_data_stay_text() -> None:
    """Rich turns ``:id:`` into an emoji unless told not to; data such as ``person:ID:110...`` must print as typed."""
    from chainbreaker.faces.cli.context import console, safe

    with console.capture() as cap:
        console.print(safe("person:ID:110105194912310025 :smile: :id:"))
    assert "person:ID:110105194912310025 :smile: :id:" in cap.get()
