"""Ragged rows, empty sheets and mostly-UTF-8 files: the readers never raise IndexError, never
produce mojibake; damaged rows are flagged for the quarantine."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainbreaker.core.errors import InputError
from chainbreaker.core.ingest.encodings import mostly_utf8, sniff_encoding
from chainbreaker.core.ingest.readers import open_table

HEADER = ["交易卡号", "交易时间", "交易金额", "对手账号", "摘要"]
cell = st.one_of(st.none(), st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                                    max_size=12))


@settings(deadline=None, max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(header=st.lists(st.sampled_from(HEADER), min_size=0, max_size=5, unique=True),
       rows=st.lists(st.lists(cell, min_size=0, max_size=9), max_size=12))
def test_arbitrary_ragged_rows_never_raise(header: list[str], rows: list[list[str | None]]) -> None:
    """Whatever the widths, a file either opens and yields every data row flagged by its width, or is a
    clear InputError (empty file, no header): never IndexError or another traceback."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    for r in rows:
        writer.writerow(["" if v is None else v for v in r])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "流水.csv"
        path.write_text(buf.getvalue(), "utf-8")
        try:
            table = open_table(path, expected=lambda h: h in HEADER)
            batches = list(table.batches())
        except InputError as exc:
            assert exc.zh and exc.en
            return
        width = len([h for h in table.header])
        for b in batches:
            d = b.to_pydict()
            for i in range(b.num_rows):
                values = [d[c][i] for c in b.schema.names[:width]]  # the reader's own columns follow
                assert len(values) == width
                if d["_short"][i]:
                    assert values[-1] is None  # padded, flagged for the quarantine (too_few_fields)


def test_empty_sheet_and_blank_file_are_clear_errors(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append([None, None])
    wb.active.append(["", ""])
    wb.save(tmp_path / "空表.xlsx")
    (tmp_path / "空行.csv").write_text("\n\n\n", "utf-8")
    (tmp_path / "逗号.csv").write_text(",,\n", "utf-8")
    for name in ("空表.xlsx", "空行.csv", "逗号.csv"):
        with pytest.raises(InputError) as err:
            open_table(tmp_path / name)
        assert "没有表头" in err.value.zh and "no header" in err.value.en


def test_short_row_is_flagged_not_an_index_error(tmp_path: Path) -> None:
    path = tmp_path / "短行.csv"
    path.write_text("交易卡号,交易时间,交易金额\n6222021234567890123,2024-03-01 08:00:00,100.00\n6222021234567890124\n",
                    "utf-8")
    rows = [r for b in open_table(path).batches() for r in b.to_pylist()]
    assert [r["_short"] for r in rows] == [False, True] and rows[1]["交易金额"] is None


def _damaged_utf8(n_rows: int = 200) -> bytes:
    lines = ["交易卡号,户名,交易时间,交易金额,摘要"]
    lines += [f"622202123456789{i:04d},张伟{i},2024-03-01 08:{i % 60:02d}:00,{i}.50,工资转账" for i in range(n_rows)]
    data = bytearray("\n".join(lines).encode("utf-8") + b"\n")
    # two damaged places, as a bad copy leaves them: a byte cut out of a character, a stray GBK word
    cut = data.index("张伟17,".encode()) + 1
    del data[cut]
    at = data.index("张伟42,".encode())
    data[at:at + len("张伟".encode())] = "张伟".encode("gbk")
    return bytes(data)


def test_mostly_utf8_file_reads_as_utf8_and_flags_the_damaged_rows(tmp_path: Path) -> None:
    data = _damaged_utf8()
    assert mostly_utf8(data) and sniff_encoding(data) == "utf-8"
    path = tmp_path / "流水.csv"
    path.write_bytes(data)
    table = open_table(path)
    assert table.encoding == "utf-8"
    rows = [r for b in table.batches() for r in b.to_pylist()]
    assert len(rows) == 200
    bad = [r for r in rows if r["_bad"]]
    assert [r["交易卡号"] for r in bad] == ["6222021234567890017", "6222021234567890042"]
    good = [r for r in rows if not r["_bad"]]
    assert all(r["户名"].startswith("张伟") and r["摘要"] == "工资转账" for r in good)  # no mojibake


def test_gbk_files_are_not_taken_for_damaged_utf8() -> None:
    text = "\n".join(f"622202123456789{i:04d},张伟{i},工资转账,中国工商银行北京分行" for i in range(100))
    for enc in ("gbk", "gb18030"):
        assert not mostly_utf8(text.encode(enc))
        assert sniff_encoding(text.encode(enc)) == "gb18030"
