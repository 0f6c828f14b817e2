"""Bad input: every rejected row is quarantined with its reason; no traceback, no damage."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chainbreaker.chains.funds.bank.service import ingest_bank
from chainbreaker.chains.funds.bank.sqlparse import connect
from chainbreaker.core.errors import InputError
from chainbreaker.core.ingest.values import parse_amount, parse_time

from .builders import HEADER_34, LI, ZHANG, request_folder, row34, write_csv


def _base(**kw: str) -> list[str]:
    values = dict(交易卡号=ZHANG["card"], 交易账号=ZHANG["acct"], 账户开户名称=ZHANG["name"], 交易时间="2023-03-05 12:00:00",
                  交易金额="100.00", 收付标志="出", 交易对手账卡号=LI["card"], 对手户名=LI["name"])
    values.update(kw)
    return row34(**values)


def test_dirty_statement_rows_are_quarantined_with_reasons(ws, tmp_path: Path) -> None:
    rows = [
        _base(交易金额="1,234.50元", 交易流水号="OK1"),  # formatted amount: parsed, kept
        _base(交易金额="12三4.5", 交易流水号="BAD_AMOUNT"),
        _base(交易时间="2023-02-30 10:00:00"),
        _base(交易时间="上午十点"),
        _base(交易卡号="\\N", 交易账号="-"),
        _base(收付标志="X"),
        _base(交易金额="0.00"),
        _base(交易是否成功="失败"),
        _base(交易金额="5", 交易流水号="OK2"),
        [*_base(), "多余", "字段"],
    ]
    path = write_csv(tmp_path / "中国工商银行交易明细信息.csv", HEADER_34, rows)
    data = path.read_bytes()
    # garbage bytes inside 摘要说明 of a row, and a last line cut short (no newline)
    garbage = ",".join(_base(摘要说明="转\udcff账", 交易流水号="GARBAGE")).encode("gb18030", "surrogateescape")
    truncated = ",".join(_base()[:5]).encode("gb18030")
    path.write_bytes(data + garbage.replace(b"\xff", b"\xff\xfe\xff") + b"\r\n" + truncated)

    s = ingest_bank(ws, [path], progress=None)
    assert s.rows_kept == 2
    assert s.quarantined_by_reason == {
        "amount_invalid": 1, "time_impossible": 1, "time_invalid": 1, "account_missing": 1,
        "direction_unknown": 1, "amount_zero": 1, "txn_failed": 1, "too_many_fields": 1, "bad_bytes": 1,
        "too_few_fields": 1,
    }
    amounts = sorted(r["amount"] for r in ws.read_arrow("transactions").to_pylist())
    assert amounts == [Decimal("5.00"), Decimal("1234.50")]
    q = {r["reason_code"]: r for r in ws.read_arrow("quarantine").to_pylist()}
    assert q["amount_invalid"]["row"] == 3 and json.loads(q["amount_invalid"]["raw"])["交易金额"] == "12三4.5"
    assert q["time_impossible"]["row"] == 4 and q["time_impossible"]["reason"].startswith("日期不存在")
    assert q["too_few_fields"]["row"] == 13 and "截断" in q["too_few_fields"]["reason"]
    assert q["bad_bytes"]["row"] == 12 and q["too_many_fields"]["row"] == 11
    assert all(r["file_name"] == path.name and r["source_kind"] == "bank" for r in q.values())


def test_unreadable_files_do_not_stop_the_run(ws, tmp_path: Path) -> None:
    folder = request_folder(tmp_path)
    (folder / "中国银行交易明细信息.xlsx").write_bytes(b"PK\x03\x04 truncated zip")
    (folder / "空文件.csv").write_bytes(b"")
    s = ingest_bank(ws, [folder], progress=None)
    assert s.files == 5 and {f for f, _ in s.files_failed} == {"中国银行交易明细信息.xlsx", "空文件.csv"}
    q = [r for r in ws.read_arrow("quarantine").to_pylist() if r["row"] == 0]
    assert len(q) == 2 and all(r["reason_code"] == "file_unusable" for r in q)


def test_wrong_encoding_header_is_a_clear_error(ws, tmp_path: Path) -> None:
    path = tmp_path / "中国工商银行交易明细信息.csv"
    path.write_bytes(",".join(HEADER_34).encode("big5", "replace") + b"\r\n1,2,3\r\n")
    with pytest.raises(InputError) as info:
        ingest_bank(ws, [path], progress=None)
    assert "中国工商银行交易明细信息.csv" in info.value.zh and "现有列" in info.value.zh
    assert ws.tables() == {}


def test_missing_path_is_a_clear_error(ws, tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        ingest_bank(ws, [tmp_path / "不存在"], progress=None)
    assert "不存在" in info.value.zh


AMOUNTS = ["1,234.50元", "-1,234.50", "(100.00)", "100-", "abc", "", "１２３．４５", "¥ 5,000", "RMB 12.3", "9999999999999999999",
           "0.01", "-0", "12.345", "1.5E3", "￥-8.00",
           # plain numbers take the fast path of cb_amt (no regular expression); the rest must not
           "5000", "+5", "12.", "0012.50", "-3000.00", ".5", "12.50-", "1_000", " 12.50", "12.50 ", "1 000", "--5"]
TIMES = ["2023-02-30 10:00:00", "2023-02-03 10:00:00", "2023/2/3 1:02:03", "20230203101112", "20230203 101112",
         "2017-01-01T00:00:00Z", "2017-01-01T08:00:00+08:00", "hello", "1970-01-01 00:00:00", "2023年2月3日 10:11:12",
         "2023-02-03", "20230203", "2023-02-03 10:11", "2023-02-03 10:11:12.123456", "2023-13-01", "2023-02-03T10:11:12"]


@pytest.mark.parametrize("text", AMOUNTS)
def test_vectorised_amount_parser_agrees_with_values(text: str) -> None:
    con = connect()
    value, reason = con.execute("SELECT cb_amt(?), cb_amt_reason(?)", [text, text]).fetchall()[0]
    expected, expected_reason = parse_amount(text or None)
    assert (value, reason) == (expected, expected_reason)


@pytest.mark.parametrize("text", TIMES)
def test_vectorised_time_parser_agrees_with_values(text: str) -> None:
    con = connect()
    value, reason = con.execute("SELECT cb_ts(?), cb_ts_reason(?)", [text, text]).fetchall()[0]
    expected, expected_reason = parse_time(text)
    assert reason == expected_reason
    if expected_reason is None:
        assert value == expected


@pytest.mark.parametrize(("encoding", "block"), [("gb18030", None), ("utf-8-sig", None), ("gb18030", 4096)])
def test_fast_csv_reader_gives_the_same_batches_as_the_shared_reader(tmp_path: Path, monkeypatch,
                                                                    encoding: str, block: int | None) -> None:
    import pyarrow as pa

    from chainbreaker.chains.funds.bank import fastcsv
    from chainbreaker.chains.funds.bank.layouts import expected_header
    from chainbreaker.core.ingest.readers import open_table

    rows = [_base(交易流水号=f"SN{i}", 交易金额=f"{i}.50", 摘要说明=" 转账 ", 备注="'123") for i in range(300)]
    rows[5] = [*rows[5], "多余"]
    rows[17] = rows[17][:10]
    rows[40] = [""] * len(HEADER_34)
    path = write_csv(tmp_path / "中国工商银行交易明细信息.csv", HEADER_34, rows, encoding=encoding,
                     title="中国工商银行 账户交易明细")
    data = path.read_bytes()
    path.write_bytes(data.replace(b"SN99", b"SN\xff\xfe99") + ",".join(_base()[:4]).encode())
    monkeypatch.setattr(fastcsv, "SMALL_FILE", 0)
    if block:
        # small blocks: batches before the damaged line are emitted before the decoder has met it
        # (they skip the bad-bytes check), the ones after it are checked
        monkeypatch.setattr(fastcsv, "_BLOCK", block)
        monkeypatch.setattr(fastcsv, "_DECODE_CHUNK", block)
    table = open_table(path, expected=expected_header)
    fast = fastcsv.fast_batches(table, batch_rows=64)
    assert fast is not None
    got = pa.Table.from_batches(list(fast)).sort_by("_row")
    want = pa.Table.from_batches(list(table.batches())).sort_by("_row")
    assert got.num_rows == 300 and got.equals(want)
    # a quoted cell makes it decline
    path.write_bytes(data.replace("转账".encode(encoding.replace("-sig", "")), '"转,账"'.encode("gb18030"), 1))
    assert fastcsv.fast_batches(open_table(path, expected=expected_header)) is None


def test_mostly_utf8_statement_keeps_good_rows_and_quarantines_the_damaged_ones(ws, tmp_path: Path) -> None:
    """A UTF-8 export with two damaged places is read as UTF-8 (names intact), not as GB18030 mojibake."""
    rows = [_base(交易流水号=f"U{i:03d}", 交易金额=f"{i + 1}.00", 摘要说明="工资转账") for i in range(120)]
    path = write_csv(tmp_path / "中国工商银行交易明细信息.csv", HEADER_34, rows, encoding="utf-8")
    data = bytearray(path.read_bytes())
    first = data.index(b"U010")  # a byte cut out of a character, as a bad copy leaves it
    at = data.rindex("工资".encode(), 0, first)  # 摘要说明 comes before 交易流水号 in this layout
    del data[at + 1]
    second = data.index(b"U050")  # one word saved by a GBK tool
    at = data.rindex("工资".encode(), 0, second)
    data[at:at + 6] = "工资".encode("gbk")
    path.write_bytes(bytes(data))
    s = ingest_bank(ws, [path], progress=False)
    assert s.rows_kept == 118 and s.quarantined_by_reason == {"bad_bytes": 2}
    names = {r["from_name"] for r in ws.read_arrow("transactions").to_pylist()}
    assert names == {ZHANG["name"]}  # decoded as UTF-8: no mojibake
    q = ws.read_arrow("quarantine").to_pylist()
    assert sorted(json.loads(r["raw"])["交易流水号"] for r in q) == ["U010", "U050"]


# The range 1980–2100 is about the year written in the text (parse_time), whatever the UTC instant:
# 1980-01-01 00:00 in Shanghai is 1979 in UTC, 2100-12-31 20:00 in New York is 2101 in UTC.
RANGE_EDGES = [
    ("1980-01-01 00:00:00", None), ("1980-01-01 07:59:59", None), ("1979-12-31 23:59:59", "time_impossible"),
    ("1980-01-01", None), ("19800101", None), ("19791231", "time_impossible"), ("1980年1月1日 00:00", None),
    ("2100-12-31 23:59:59", None), ("2100-12-31 20:00", None), ("2101-01-01 00:00:00", "time_impossible"),
    ("21001231235959", None), ("21010101", "time_impossible"), ("2101年1月1日", "time_impossible"),
    # explicit offsets: the year as written with the offset, not the year in UTC
    ("1980-01-01T00:00:00+08:00", None), ("1980-01-01 07:00:00 +0800", None), ("1979-12-31T23:00:00-08:00", "time_impossible"),
    ("1979-12-31 23:59:59Z", "time_impossible"), ("1980-01-01 00:00:00 UTC", None),
    ("2100-12-31T23:00:00-08:00", None), ("2100-12-31 23:59:59-23", None), ("2101-01-01T00:00:00+08:00", "time_impossible"),
    ("2101-01-01 00:00+14:00", "time_impossible"),
    # DuckDB's %Y reads a 3-digit year; parse_time reads no such text
    ("980-01-01", "time_invalid"), ("980-01-01 10:00:00", "time_invalid"),
]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Asia/Tokyo", "America/New_York", "UTC"])
@pytest.mark.parametrize(("text", "reason"), RANGE_EDGES)
def test_time_range_is_the_year_written_in_the_text(text: str, reason: str | None, zone: str) -> None:
    value, got = connect(zone=zone).execute("SELECT cb_ts(?), cb_ts_reason(?)", [text, text]).fetchall()[0]
    expected, expected_reason = parse_time(text, ZoneInfo(zone))
    assert (got, expected_reason) == (reason, reason)
    if reason is None:
        assert value == expected


def test_a_row_of_another_width_reads_the_file_again_and_counts_each_row_once(ws, tmp_path: Path,
                                                                              monkeypatch) -> None:
    """The plain reading (the file's bytes as they are) stops at a row with a wrong number of fields,
    after batches were normalised; the file is read again the careful way: its legs once, the row
    quarantined, and the progress told about every row once."""
    from chainbreaker.chains.funds.bank import fastcsv, files

    rows = [_base(交易流水号=f"SN{i}", 交易金额=f"{i + 1}.00", 摘要说明="工资转账") for i in range(200)]
    rows[150] = [*rows[150], "多余"]
    path = write_csv(tmp_path / "中国工商银行交易明细信息.csv", HEADER_34, rows)
    monkeypatch.setattr(fastcsv, "_BLOCK", 4096)  # blocks of a few rows: batches go out before row 150
    plain_batches: list[int] = []
    real = fastcsv.fast_batches

    def spy(table, batch_rows=1 << 16, plain=False):
        batches = real(table, batch_rows=32, plain=plain)
        if not plain or batches is None:
            return batches
        return (plain_batches.append(b.num_rows) or b for b in batches)

    monkeypatch.setattr(files, "fast_batches", spy)
    told: list[int] = []

    class Sink:
        enabled = True

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def start(self, path):
            return None

        def advance(self, n):
            told.append(n)

    s = ingest_bank(ws, [path], progress=lambda files: Sink())
    assert sum(plain_batches) >= 32  # normalised before the row was met
    assert s.rows_read == 200 and sum(told) == 200
    assert s.rows_kept == 199 and s.quarantined_by_reason == {"too_many_fields": 1}
    assert ws.read_arrow("transaction_sources").num_rows == 199
    q = ws.read_arrow("quarantine").to_pylist()
    assert [r["row"] for r in q] == [152]
