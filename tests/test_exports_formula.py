"""Formula injection (公式注入): no output file of the product holds a formula that came from data.

Hostile values from seized data and crafted statements go through every ingest (bank, platform,
travel); then every output the product writes is scanned: exports of every table in every format,
the promotion evidence workbook, the HTML report, the trace file and the blocklist.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainbreaker.core.exports import FORMATS, export_table, neutralise, neutralise_array
from chainbreaker.core.ingest.readers import clean_value
from chainbreaker.core.ingest.values import unwrap_excel_text
from exports_support import (
    HOSTILE,
    PLAIN_NUMBER,
    TRIGGERS,
    ZHANG_CARD,
    formula_cells_in_csv,
    formula_cells_in_xlsx,
    hostile_crossings,
    hostile_platform,
    hostile_statement,
)


@pytest.fixture(scope="module")
def hostile_ws(tmp_path_factory):
    from chainbreaker.chains.funds.bank.service import ingest_bank
    from chainbreaker.chains.funds.screen import screen
    from chainbreaker.chains.people.analyze import analyze as people_analyze
    from chainbreaker.chains.people.ingest import ingest_travel
    from chainbreaker.chains.promotion.analyze import analyze as promotion_analyze
    from chainbreaker.chains.promotion.ingest import ingest_platform
    from chainbreaker.core.workspace import Workspace

    root = tmp_path_factory.mktemp("hostile")
    ws = Workspace(root / "ws")
    ingest_bank(ws, [hostile_statement(root / "调单" / "任务流水号202403010001").parent], progress=None, workers=1)
    screen(ws)
    ingest_platform(ws, hostile_platform(root / "platform"), "扣押平台")
    promotion_analyze(ws)
    ingest_travel(ws, [hostile_crossings(root / "travel")])
    people_analyze(ws)
    return ws, root


# ------------------------------------------------------------------------------------------ units
@pytest.mark.parametrize("text", list(HOSTILE.values()) + ["=1+1", "+86 138", "-", "@", "\n=1"])
def test_formula_like_text_is_neutralised(text):
    out = neutralise(text)
    if text.startswith(TRIGGERS):
        assert out == "'" + text
    else:
        assert out == text


@pytest.mark.parametrize("number", ["-12.50", "+8613800138000", "-0", "1e5", "-.5", "42"])
def test_numbers_stay_numbers(number):
    assert neutralise(number) == number


@settings(deadline=None)
@given(st.text(max_size=40))
def test_neutralise_never_leaves_a_formula_and_only_adds_a_quote(text):
    out = neutralise(text)
    assert not out.startswith(TRIGGERS) or PLAIN_NUMBER.match(out)
    assert out in (text, "'" + text)
    assert neutralise_array(pa.array([text, None])).to_pylist() == [out, None]


@pytest.mark.parametrize(("raw", "value"), [
    ('="6222021001112223334"', "6222021001112223334"),  # Excel's text guard around a long number
    ('="=2+3"', "=2+3"),                                # the value is data; writers neutralise it again
    ('="a""b"', 'a"b'),                                 # doubled quotes inside an Excel string literal
    ('="a"&"b"', '="a"&"b"'),                           # not one literal: kept as it came
    ('="  6222 "', "6222"),
])
def test_excel_text_wrapper_keeps_the_value(raw, value):
    assert unwrap_excel_text(raw) == value
    assert clean_value(raw + "\t") == value


# ------------------------------------------------------------------------------------------ ingest
def test_identifiers_come_through_the_wrapper_clean_and_text_keeps_its_value(hostile_ws):
    ws, _ = hostile_ws
    con = ws.duck()
    accounts = {r[0] for r in con.sql("SELECT from_account FROM transactions").fetchall()}
    assert ZHANG_CARD in accounts  # ="6222…" became the clean card number, one account with the plain one
    names = {r[0] for r in con.sql("SELECT to_name FROM transactions").fetchall()}
    assert "=2+3" in names and HOSTILE["hyperlink"] in names
    summaries = {r[0] for r in con.sql("SELECT summary FROM transactions").fetchall()}
    assert any(s.startswith('a"b') for s in summaries)  # 摘要说明 and 备注 are joined into one summary


# ------------------------------------------------------------------------------------------ outputs
def test_every_export_of_every_table_holds_no_formula(hostile_ws, tmp_path):
    ws, _ = hostile_ws
    seen_neutralised = set()
    for name in ws.tables():
        for fmt in FORMATS:
            out = tmp_path / f"{name}.{fmt}"
            export_table(ws, name, fmt, out, role="admin")
            if fmt == "csv":
                assert formula_cells_in_csv(out) == [], (name, fmt)
                cells = {c for row in csv.reader(io.StringIO(out.read_text("utf-8-sig"), newline="")) for c in row}
                seen_neutralised |= {k for k, v in HOSTILE.items() if any(c.startswith("'" + v) for c in cells)}
            elif fmt == "xlsx":
                assert formula_cells_in_xlsx(out) == [], (name, fmt)
            elif fmt == "parquet":
                assert pq.read_table(out).num_rows == ws.tables()[name]["rows"]
    # the hostile values really reached the exports (the scan above is not vacuous)
    assert {"hyperlink", "dde", "minus", "at"} <= seen_neutralised


def test_xlsx_export_keeps_the_text_readable_and_numbers_numeric(hostile_ws, tmp_path):
    import openpyxl

    ws, _ = hostile_ws
    out = tmp_path / "t.xlsx"
    export_table(ws, "transactions", "xlsx", out, role="admin")
    sheet = openpyxl.load_workbook(out)["transactions"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, [c for c in r], strict=True)) for r in sheet.iter_rows(min_row=2)]
    names = {r["收款户名"].value for r in rows}
    assert "'" + HOSTILE["hyperlink"] in names and "'=2+3" in names
    amounts = [r["金额（元）"] for r in rows]
    assert all(c.data_type == "n" and c.number_format == "#,##0.00" for c in amounts)
    cards = {r["付款账号"].value for r in rows}
    assert ZHANG_CARD in cards and all(isinstance(c, str) for c in cards)  # long numbers stay text


def test_promotion_workbook_writes_seized_strings_as_text(hostile_ws, tmp_path):
    import openpyxl

    from chainbreaker.chains.promotion.workbook import write_workbook

    ws, _ = hostile_ws
    out = tmp_path / "wb.xlsx"
    write_workbook(ws, "10001", out)
    assert formula_cells_in_xlsx(out) == []
    values = [c.value for s in openpyxl.load_workbook(out).worksheets for r in s.iter_rows() for c in r]
    assert "'" + HOSTILE["hyperlink"] in values  # the agent's username, neutralised
    assert "'" + HOSTILE["dde"] in values and "'" + HOSTILE["at"] in values  # downline username and name


def test_report_trace_and_blocklist_hold_no_live_formula(hostile_ws, tmp_path):
    from chainbreaker.faces.reports.case_report import write_report

    ws, _ = hostile_ws
    result = write_report(ws, tmp_path / "report", role="admin")
    page = Path(result["report"]).read_text("utf-8")
    assert "<script" not in page.lower()
    # HTML is not evaluated as formulas; whatever data reach it are escaped (no raw quotes from data)
    assert "扣押平台" in page and result["chains"] == ["funds", "people", "promotion"]
    assert all(v not in page for v in HOSTILE.values() if '"' in v or "'" in v)
    # the blocklist formats are DNS/proxy/CTI text, not CSV: nothing a spreadsheet would evaluate
    from chainbreaker.chains.tech.blocklist import FORMATS as BLOCKLIST_FORMATS

    assert "csv" not in BLOCKLIST_FORMATS


def test_cli_export_csv_of_seized_members(hostile_ws, tmp_path):
    import os
    import subprocess
    import sys

    ws, _ = hostile_ws
    out = tmp_path / "members.csv"
    env = {**os.environ, "CHAINBREAKER_WORKSPACE": str(ws.root)}
    subprocess.run([sys.executable, "-m", "chainbreaker.faces.cli.main", "export", "platform_members", "--format", "csv",
                    "--out", str(out), "--role", "admin"], check=True, capture_output=True, env=env)
    assert formula_cells_in_csv(out) == []
    assert "'" + HOSTILE["dde"] in out.read_text("utf-8-sig")


def test_every_writer_with_out_pointing_at_a_folder(hostile_ws, tmp_path):
    """workbook, trace, blocklist, export: an existing folder gets the file inside it; never ``<dir>.partial``."""
    import os
    import subprocess
    import sys

    ws, _ = hostile_ws
    folder = tmp_path / "out"
    folder.mkdir()
    env = {**os.environ, "CHAINBREAKER_WORKSPACE": str(ws.root)}

    def cb(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "chainbreaker.faces.cli.main", *args], capture_output=True, text=True,
                              env=env)

    for args in (["promotion", "workbook", "10001", "--out", str(folder)],
                 ["funds", "trace", ZHANG_CARD, "--out", str(folder)],
                 ["tech", "blocklist", "--format", "hosts", "--out", str(folder)],
                 ["export", "transactions", "--format", "csv", "--out", str(folder)]):
        res = cb(*args)
        assert res.returncode == 0 and "Traceback" not in res.stderr, (args, res.stderr)
    assert sorted(p.name for p in folder.iterdir()) == sorted([
        "证据工作簿_10001.xlsx", f"trace-{ZHANG_CARD}-down.json", "blocklist-hosts.txt", "transactions.csv"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing such as out.partial beside it
    assert formula_cells_in_xlsx(folder / "证据工作簿_10001.xlsx") == []
    # a folder where the file name itself is a folder: a clear Chinese error, nothing written
    (folder / "t1.csv").mkdir()
    res = cb("export", "transactions", "--format", "csv", "--out", str(folder / "t1.csv"))
    assert res.returncode == 0  # the folder t1.csv gets transactions.csv inside it
    (folder / "t1.csv" / "transactions.csv").unlink()
    (folder / "t1.csv" / "transactions.csv").mkdir()
    res = cb("export", "transactions", "--format", "csv", "--out", str(folder / "t1.csv"))
    assert res.returncode == 2 and "是一个文件夹" in res.stderr and "Traceback" not in res.stderr
