"""Must show (issue 13): a workbook whose totals are the seed's figures comes back exactly in the
bulletin — distinct persons, exact yuan — on SQLite and on PostgreSQL; the other bulletin files are
real DOCX, self-contained HTML with SVG charts, and a formula-free ranking workbook."""

from __future__ import annotations

import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from chainbreaker.core.errors import InputError
from chainbreaker.ops.assess import assess_month
from chainbreaker.ops.bulletin import write_bulletin
from chainbreaker.ops.bulletin_model import headline
from chainbreaker.ops.figures import parse_period
from chainbreaker.ops.importer import import_returns

from .seed_workbook import SEED, build


def test_seed_figures_come_back_exactly_in_the_bulletin(ops_ws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import_returns(ops_ws, build(tmp_path / "returns.xlsx"))
    import_returns(ops_ws, build(tmp_path / "returns.xlsx"))  # a second import must not count twice
    _, files = write_bulletin(ops_ws, "2025-01..2025-10", tmp_path / "out")
    got = json.loads((tmp_path / "out" / "bulletin.json").read_text("utf-8"))
    assert {k: got[k] for k in SEED} == SEED
    assert got["measures"] > got["persons_measures"]  # several measures for some persons, counted once
    assert Decimal(got["funds_seized_frozen"]) == Decimal("2700000000.00")
    assert got["headline"] == (
        "2025年1月至10月，全省公安机关共侦办跨境赌博案件336起（其中公安部督办案件14起、省厅督办案件29起），"
        "打掉犯罪团伙261个，对1578名犯罪嫌疑人采取强制措施，捣毁赌博平台55个，扣押冻结涉案资金27.00亿元。")
    assert sum(m["cases"] for m in got["months"]) == 336
    assert sum(u["cases"] for u in got["units"]) == 336 and len(got["units"]) == 8
    assert sum(Decimal(u["funds_seized_frozen"]) for u in got["units"]) == Decimal("2700000000.00")
    assert sum(Decimal(m["funds_seized_frozen"]) for m in got["months"]) == Decimal("2700000000.00")
    assert [f.name for f in files] == ["bulletin.json", "bulletin.docx", "bulletin.html", "ranking.xlsx"]

    from docx import Document

    text = "\n".join(p.text for p in Document(str(tmp_path / "out" / "bulletin.docx")).paragraphs)
    assert "打击跨境赌博工作通报" in text and got["headline"] in text

    html = (tmp_path / "out" / "bulletin.html").read_text("utf-8")
    assert html.count("<svg") == 3 and "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html

    wb = load_workbook(tmp_path / "out" / "ranking.xlsx")
    sheet = wb.worksheets[0]
    assert [c.value for c in sheet[1]][:4] == ["排名", "单位", "得分", "环比"]
    assert sheet.max_row == 1 + 8  # eight units
    with zipfile.ZipFile(tmp_path / "out" / "ranking.xlsx") as z:
        assert not any("<f>" in z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))


def test_assessment_scores_ranks_and_trend(ops_ws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wb = Workbook()
    wb.active.title = "案件"
    wb["案件"].append(["案件编号", "案件名称", "督办级别", "立案日期", "主办单位"])
    for i, (unit, day) in enumerate([("甲市公安局", "2025-09-03"), ("甲市公安局", "2025-10-03"),
                                     ("甲市公安局", "2025-10-04"), ("乙市公安局", "2025-10-05"),
                                     ("丙县公安局", "2025-09-09")]):
        wb["案件"].append([f"C-{i}", f"案{i}", "部督" if i == 1 else "无", day, unit])
    wb.save(tmp_path / "r.xlsx")
    import_returns(ops_ws, tmp_path / "r.xlsx")
    scheme = tmp_path / "scheme.yaml"
    scheme.write_text("version: t1\ncap: 1\nmetrics:\n  cases: {weight: 3, target: 2}\n"
                      "  cases_ministry: {weight: 1, target: 1}\ntargets:\n  乙市公安局: {cases: 1}\n", "utf-8")
    _, sep = assess_month(ops_ws, "2025-09", scheme_path=scheme)
    assert {r.unit: r.score for r in sep} == {"甲市公安局": Decimal("37.50"), "丙县公安局": Decimal("37.50"),
                                              "乙市公安局": Decimal("0.00")}
    assert [r.rank for r in sep] == [1, 1, 3]  # ties share a rank
    used, oct_ = assess_month(ops_ws, "2025-10", scheme_path=scheme)
    by_unit = {r.unit: r for r in oct_}
    assert used.version == "t1"
    assert by_unit["甲市公安局"].score == Decimal("100.00") and by_unit["甲市公安局"].rank == 1
    assert by_unit["乙市公安局"].score == Decimal("75.00")  # its own target of one case a month
    assert by_unit["甲市公安局"].trend == Decimal("62.50") and by_unit["丙县公安局"].trend == Decimal("-37.50")


def test_bad_scheme_and_period_are_clear_errors(ops_ws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from chainbreaker.core.errors import ConfigError

    bad = tmp_path / "bad.yaml"
    bad.write_text("metrics:\n  bribes: {weight: 1, target: 1}\n", "utf-8")
    with pytest.raises(ConfigError, match="unknown metric"):
        assess_month(ops_ws, "2025-10", scheme_path=bad)
    bad.write_text("metrics:\n  cases: {weight: 1, target: 0}\n", "utf-8")
    with pytest.raises(ConfigError, match="positive"):
        assess_month(ops_ws, "2025-10", scheme_path=bad)
    for text in ("2025-13", "2025-10..2025-01", "last month"):
        with pytest.raises(InputError):
            parse_period(text)


def test_headline_for_one_month_without_supervised_cases() -> None:
    values = {"cases": 3, "cases_ministry": 0, "cases_province": 0, "gangs": 1, "persons_measures": 7,
              "platforms": 0, "funds_seized_frozen": Decimal("35000.50")}
    assert headline(parse_period("2025-10"), values) == (  # type: ignore[arg-type]
        "2025年10月，全省公安机关共侦办跨境赌博案件3起，打掉犯罪团伙1个，对7名犯罪嫌疑人采取强制措施，"
        "捣毁赌博平台0个，扣押冻结涉案资金3.50万元。")


def test_hostile_unit_names_stay_inert_in_every_bulletin_file(ops_ws, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hostile = '=HYPERLINK("http://x.test")<script>alert(1)</script>[bold]'
    wb = Workbook()
    wb.active.title = "案件"
    wb["案件"].append(["案件编号", "案件名称", "督办级别", "立案日期", "主办单位"])
    wb["案件"].append(["H-1", "案", "无", "2025-10-02", hostile])
    wb["案件"].cell(2, 5).data_type = "s"  # text that looks like a formula, as a unit might type it
    wb.save(tmp_path / "r.xlsx")
    import_returns(ops_ws, tmp_path / "r.xlsx")
    write_bulletin(ops_ws, "2025-10", tmp_path / "out")
    html = (tmp_path / "out" / "bulletin.html").read_text("utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    cell = load_workbook(tmp_path / "out" / "ranking.xlsx").worksheets[0].cell(2, 2).value
    assert cell.startswith("'=")
    from docx import Document

    doc = Document(str(tmp_path / "out" / "bulletin.docx"))
    assert any("<script>" in c.text for t in doc.tables for row in t.rows for c in row.cells)  # shown as text
