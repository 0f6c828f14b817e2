"""Export matrix (导出): every table of a demo workspace (all four chains) × every format, read back.

Checks per file: row count; no formula anywhere; lists/structs as JSON (text in CSV/XLSX, arrays in
JSONL, native in Parquet); times in the configured zone (text with the zone's offset in CSV/JSONL,
Excel datetimes in XLSX, the UTC instant in Parquet); amounts as two-decimal numbers in XLSX; the
Chinese header with the canonical name in the hidden sheet.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from chainbreaker.core.exports import FORMATS, export_table, is_nested
from chainbreaker.core.model.labels import column_label, has_label
from exports_support import formula_cells_in_csv

ZONE_RE = r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?\+08:00$"


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory, domain_model):
    """The real demo (bank, travel, platform, loopback website scan) plus clusters, domains and a model."""
    from chainbreaker.chains.funds.learn import learn
    from chainbreaker.chains.tech.clusters import run_clusters
    from chainbreaker.chains.tech.domain_model import classify_file
    from chainbreaker.core.workspace import Workspace
    from chainbreaker.faces.reports.demo.people import run_demo as people_demo
    from chainbreaker.faces.reports.demo.pipeline import run_demo_pipeline
    from chainbreaker.faces.reports.demo.promotion import run_demo as promotion_demo
    from chainbreaker.faces.reports.demo.tech import run_demo as tech_demo

    root = tmp_path_factory.mktemp("matrix")
    ws = Workspace(root / "ws")
    # the demo's own steps, with the other chains' sections at a smaller size than `chainbreaker demo`
    run_demo_pipeline(ws, root / "report", transactions=5000, seed=7, sections={})
    people_demo(ws, root / "people", n_people=300)
    promotion_demo(ws, root / "promotion", n_members=300, n_bets=3000)
    tech_demo(ws, root / "tech")
    run_clusters(ws)
    domains = root / "domains.txt"
    domains.write_text("bet365-cn-vip.com\nexample.gov.cn\nwww.pku.edu.cn\n", "utf-8")
    classify_file(ws, domains, model_path=domain_model)
    risk = ws.read_arrow("account_risk").sort_by("rank").to_pylist()
    labels = root / "labels.csv"
    labels.write_text("account,label\n" + "".join(f"{r['account']},1\n" for r in risk[:20])
                      + "".join(f"{r['account']},0\n" for r in risk[-40:]), "utf-8")
    learn(ws, labels, n_estimators=20, compare_baseline=False)
    return ws


def _csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"), newline="")))


def _local(value: dt.datetime, zone: str = "Asia/Shanghai") -> dt.datetime:
    return value.astimezone(ZoneInfo(zone))


def test_every_table_has_a_chinese_label_for_every_column(demo_ws):
    missing = [f"{name}.{col}" for name in demo_ws.tables() for col in demo_ws.read_arrow(name).column_names
               if not has_label(name, col)]
    assert missing == [], "add these columns to src/chainbreaker/core/model/labels.yaml"


def test_export_matrix_every_table_every_format(demo_ws, tmp_path):
    ws = demo_ws
    tables = ws.tables()
    assert {"travel_groups", "travel_pairs", "transactions", "platform_bets", "findings", "tech_pages",
            "tech_clusters", "tech_domains", "account_model_scores"} <= set(tables)
    checked_lists = checked_times = 0
    for name in tables:
        stored = ws.read_arrow(name)
        schema = stored.schema
        nested = [f.name for f in schema if is_nested(f.type)]
        times = [f.name for f in schema if pa.types.is_timestamp(f.type)]
        money = [f.name for f in schema if pa.types.is_decimal(f.type)]
        first = {c: next((v for v in stored.column(c).to_pylist() if v is not None), None) for c in schema.names}
        paths = {}
        for fmt in FORMATS:
            paths[fmt] = tmp_path / f"{name}.{fmt}"
            assert export_table(ws, name, fmt, paths[fmt], role="admin") == stored.num_rows, (name, fmt)
        assert not list(tmp_path.glob("*.partial")) and not list(tmp_path.glob(".*.partial"))

        # Parquet: the table as stored (native lists, UTC instants, decimals)
        back = pq.read_table(paths["parquet"])
        assert back.num_rows == stored.num_rows and back.schema.equals(schema), name
        for c in times:
            assert back.schema.field(c).type.tz in ("UTC", "Etc/UTC")

        # CSV: canonical header, row count, no formula, JSON text for lists, zoned times
        rows = _csv_rows(paths["csv"])
        assert len(rows) == stored.num_rows and (not rows or list(rows[0]) == schema.names), name
        assert formula_cells_in_csv(paths["csv"]) == [], name
        for c in nested:
            idx = next((i for i, v in enumerate(stored.column(c).to_pylist()) if v is not None), None)
            if idx is not None:
                assert json.loads(rows[idx][c]) == stored.column(c)[idx].as_py() or isinstance(
                    json.loads(rows[idx][c]), dict), (name, c)
                checked_lists += 1
        for c in times:
            idx = next((i for i, v in enumerate(stored.column(c).to_pylist()) if v is not None), None)
            if idx is not None:
                text = rows[idx][c]
                assert text.endswith("+08:00"), (name, c, text)
                assert dt.datetime.fromisoformat(text) == stored.column(c)[idx].as_py(), (name, c)
                checked_times += 1

        # JSONL: arrays for lists, ISO times with the zone's offset, exact decimal strings
        lines = [json.loads(line) for line in paths["jsonl"].read_text("utf-8").splitlines()]
        assert len(lines) == stored.num_rows, name
        for c in nested:
            if first[c] is not None:
                assert any(isinstance(r[c], list | dict) for r in lines), (name, c)
        for c in times:
            if first[c] is not None:
                text = next(r[c] for r in lines if r[c] is not None)
                assert "T" in text and text.endswith("+08:00"), (name, c, text)
        for c in money:
            if first[c] is not None:
                assert Decimal(next(r[c] for r in lines if r[c] is not None)) == next(
                    v for v in stored.column(c).to_pylist() if v is not None)

        # XLSX: checked in the next test for a sample of tables (opening every workbook is slow)
    assert checked_lists >= 4 and checked_times >= 10


@pytest.mark.parametrize("name", ["transactions", "travel_groups", "findings", "agent_metrics", "tech_pages",
                                  "funds_suggestions", "travel_trips", "accounts"])
def test_xlsx_export_types_headers_and_no_formulas(demo_ws, tmp_path, name):
    import openpyxl

    from exports_support import formula_cells_in_xlsx

    ws = demo_ws
    stored = ws.read_arrow(name)
    out = tmp_path / f"{name}.xlsx"
    export_table(ws, name, "xlsx", out, role="admin")
    assert formula_cells_in_xlsx(out) == []
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [name, "字段说明"] and wb["字段说明"].sheet_state == "hidden"
    sheet = wb[name]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    info = {r[2]: r[1] for r in wb["字段说明"].iter_rows(min_row=2, max_row=len(stored.schema) + 1, values_only=True)}
    assert list(info) == stored.schema.names  # the hidden sheet carries the canonical names, in order
    for f, head in zip(stored.schema, header, strict=True):
        assert head.startswith(column_label(name, f.name)) and info[f.name] == column_label(name, f.name)
        if pa.types.is_timestamp(f.type):
            assert head.endswith("（北京时间）")
    assert sheet.max_row == stored.num_rows + 1
    firsts = {f.name: next((i for i, v in enumerate(stored.column(f.name).to_pylist()) if v is not None), None)
              for f in stored.schema}
    needed = max((i for i in firsts.values() if i is not None), default=0)
    rows = list(sheet.iter_rows(min_row=2, max_row=needed + 2))
    for j, f in enumerate(stored.schema):
        values = stored.column(f.name).to_pylist()
        i = firsts[f.name]
        if i is None:
            continue
        cell = rows[i][j]
        if pa.types.is_decimal(f.type):
            assert cell.data_type == "n" and cell.number_format == "#,##0.00" and Decimal(str(cell.value)) == values[i]
        elif pa.types.is_timestamp(f.type):
            want = _local(values[i]).replace(tzinfo=None)
            assert cell.is_date and abs(cell.value - want) < dt.timedelta(milliseconds=1), f.name  # Excel keeps ms
        elif is_nested(f.type):
            assert isinstance(json.loads(cell.value), list | dict)
        elif pa.types.is_string(f.type):
            assert cell.data_type == "s"  # identifiers such as 6222… stay text


def test_non_default_zone_shifts_what_users_read_not_the_instant(demo_ws, tmp_path, monkeypatch):
    import openpyxl

    monkeypatch.setenv("CHAINBREAKER_TIMEZONE", "Asia/Tokyo")
    ws = demo_ws
    stored = ws.read_arrow("transactions")
    first = stored.column("ts")[0].as_py()
    export_table(ws, "transactions", "csv", tmp_path / "t.csv")
    text = _csv_rows(tmp_path / "t.csv")[0]["ts"]
    assert text.endswith("+09:00") and dt.datetime.fromisoformat(text) == first
    assert text[:19] == _local(first, "Asia/Tokyo").strftime("%Y-%m-%d %H:%M:%S")
    export_table(ws, "transactions", "xlsx", tmp_path / "t.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "t.xlsx")["transactions"]
    col = stored.schema.names.index("ts")
    assert sheet.cell(1, col + 1).value == "交易时间（Asia/Tokyo）"
    assert sheet.cell(2, col + 1).value == _local(first, "Asia/Tokyo").replace(tzinfo=None)
    export_table(ws, "transactions", "parquet", tmp_path / "t.parquet")
    assert pq.read_table(tmp_path / "t.parquet").column("ts")[0].as_py() == first  # the same UTC instant


def test_negative_amounts_are_numbers_not_neutralised_text(tmp_path, ws):
    money = pa.decimal128(18, 2)
    with ws.transaction("t") as tx:
        tx.write("ledger", pa.table({"amount": pa.array([Decimal("-12.50"), Decimal("3.00")], money),
                                     "note": ["-12.50", "-1+1"], "n": [-3, 4]}))
    export_table(ws, "ledger", "csv", tmp_path / "l.csv")
    rows = _csv_rows(tmp_path / "l.csv")
    assert [r["amount"] for r in rows] == ["-12.50", "3.00"] and [r["n"] for r in rows] == ["-3", "4"]
    assert [r["note"] for r in rows] == ["-12.50", "'-1+1"]
    import openpyxl

    export_table(ws, "ledger", "xlsx", tmp_path / "l.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "l.xlsx")["ledger"]
    assert sheet["A2"].value == -12.5 and sheet["A2"].data_type == "n" and sheet["C2"].value == -3


def test_export_into_an_existing_folder_writes_inside_it(tmp_path, ws):
    with ws.transaction("t") as tx:
        tx.write("t1", pa.table({"a": [1, 2]}))
    folder = tmp_path / "exports"
    folder.mkdir()
    for fmt in FORMATS:
        assert export_table(ws, "t1", fmt, folder) == 2
        assert (folder / f"t1.{fmt}").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "ws"]  # no exports.partial beside it
    assert not [p for p in folder.iterdir() if "partial" in p.name]
