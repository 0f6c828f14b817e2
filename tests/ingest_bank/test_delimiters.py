"""Delimiter sniffing: a tab-separated statement whose amounts read ``1,234.50`` is split on tabs,
a comma-separated one whose cells end in a padding tab is split on commas (shared reader and the
fast Arrow reader alike)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainbreaker.chains.funds.bank.fastcsv import fast_batches
from chainbreaker.chains.funds.bank.service import ingest_bank
from chainbreaker.core.ingest.readers import open_table

from .builders import HEADER_34, LI, ZHANG, row34


def _write(path: Path, header: list[str], rows: list[list[str]], delimiter: str, encoding: str,
           pad: str = "") -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow([h + pad for h in header])
    w.writerows([[c + pad for c in r] for r in rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _statement_rows(n: int) -> list[list[str]]:
    rows = []
    for i in range(n):
        r = row34(交易卡号=ZHANG["card"], 账户开户名称=ZHANG["name"], 交易时间=f"2023-03-{1 + i % 28:02d} 10:15:30",
                  交易金额=f"{1 + i:,}{i % 10},234.50", 交易余额="12,000.00", 收付标志="出",
                  交易对手账卡号=LI["card"], 对手户名=LI["name"], 交易流水号=f"SN{i}")
        rows.append([c.rstrip("\t") for c in r])
    return rows


def test_tab_separated_statement_with_thousands_separators_is_split_on_tabs(ws, tmp_path: Path) -> None:
    path = _write(tmp_path / "中国建设银行交易明细信息.txt", HEADER_34, _statement_rows(12), "\t", "gb18030")
    table = open_table(path)
    assert table.delimiter == "\t" and table.header == HEADER_34
    s = ingest_bank(ws, [path], progress=None, workers=1)
    assert s.rows_kept == 12 and s.rows_quarantined == 0
    amounts = sorted(r["amount"] for r in ws.read_arrow("transactions").to_pylist())
    assert amounts[0] == Decimal("10234.50") and amounts[-1] == Decimal("121234.50")


def test_comma_separated_statement_padded_with_tabs_is_split_on_commas(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.csv", HEADER_34, _statement_rows(3), ",", "utf-8", pad="\t")
    table = open_table(path)
    assert table.delimiter == "," and table.header == HEADER_34


AMOUNTS = st.builds(lambda a, b: f"{a:,}.{b:02d}", st.integers(0, 10**9), st.integers(0, 99))
WORDS = st.text(st.sampled_from(list("张伟李娜转账工资货款ABCxyz0123456789 ")), min_size=1, max_size=8).map(str.strip).filter(bool)
CELLS = st.one_of(AMOUNTS, WORDS, st.sampled_from(["\\N", "-", "2023-03-01 10:15:30", "6222021001112223334"]))


@st.composite
def tables(draw):
    width = draw(st.integers(2, 12))
    header = [f"列{i}" for i in range(width)]
    rows = draw(st.lists(st.lists(CELLS, min_size=width, max_size=width), min_size=1, max_size=25))
    return header, rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tables(), st.sampled_from(["\t", ",", "|", ";"]), st.sampled_from(["gb18030", "utf-8", "utf-8-sig"]),
       st.booleans())
def test_sniffed_delimiter_reads_the_table_back(tmp_path: Path, table, delimiter: str, encoding: str,
                                                 pad: bool) -> None:
    header, rows = table
    padding = "\t" if pad and delimiter != "\t" else ""  # banks pad comma files with tabs, never tab files
    path = _write(tmp_path / f"t{abs(hash((delimiter, encoding, pad)))}.csv", header, rows, delimiter, encoding,
                  padding)
    opened = open_table(path)
    assert opened.delimiter == delimiter
    assert opened.header == header
    expected = [[None if c in ("\\N", "-") else c for c in r] for r in rows]
    expected = [r for r in expected if any(c is not None for c in r)]  # rows of nulls only are skipped
    assert [v for _, v, _ in opened.rows() if any(c is not None for c in v)] == expected
    fast = fast_batches(opened)
    if fast is not None:  # the fast reader agrees on the same file
        got = [[b.column(i)[j].as_py() for i in range(len(header))] for b in fast for j in range(b.num_rows)]
        assert got == expected


def test_grouped_amounts_in_every_cell_do_not_make_a_tab_file_comma_separated(tmp_path: Path) -> None:
    """Found by the property test above: two tab-separated columns of ``1,000.00`` under a header
    without commas were sniffed as comma-separated (the comma split the rows, not the header, into
    three fields, and every tab-split cell held a comma)."""
    rows = [["1,000.00", "1,000.00"], ["1,000.00", "1,000.00"]]
    for encoding in ("gb18030", "utf-8"):
        path = _write(tmp_path / f"amounts-{encoding}.csv", ["列0", "列1"], rows, "\t", encoding)
        opened = open_table(path)
        assert opened.delimiter == "\t"
        assert opened.header == ["列0", "列1"]
