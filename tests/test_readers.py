"""The shared ingest helpers: readers, header mapping, value parsing, quarantine."""

from __future__ import annotations

import codecs
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainbreaker.core.errors import ConfigError, InputError, MappingError
from chainbreaker.core.ingest.mapping import load_profile, match_score, resolve_columns
from chainbreaker.core.ingest.quarantine import Quarantine
from chainbreaker.core.ingest.readers import clean_value, expand_paths, open_table, sniff_encoding
from chainbreaker.core.ingest.values import parse_amount, parse_date, parse_time, reason_zh

SPEC = {"account": ["交易卡号", "account"], "amount": ["交易金额", "amount"], "ts": ["交易时间", "time"]}


@pytest.mark.parametrize(("raw", "clean"), [
    ("6222021001112223334\t", "6222021001112223334"), ('="0200001001000123456"', "0200001001000123456"),
    ("'6217000010001234567", "6217000010001234567"), ("\\N", None), ("-", None), ("  ", None), ("NULL", None),
    ("\u3000张伟\t", "张伟"), ("- 100", "- 100"),
])
def test_clean_value(raw: str, clean: str | None) -> None:
    assert clean_value(raw) == clean


def test_sniff_encoding() -> None:
    assert sniff_encoding("交易时间".encode("utf-8-sig")) == "utf-8-sig"
    assert sniff_encoding("交易时间".encode()) == "utf-8"
    assert sniff_encoding("交易时间".encode("gbk")) == "gb18030"
    assert sniff_encoding("交易时间".encode()[:-1]) == "utf-8"  # a character cut by the sample end


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-8", "utf-8-sig"])
def test_open_csv_with_title_row_and_tabs(tmp_path: Path, encoding: str) -> None:
    text = "中国工商银行交易明细\r\n交易卡号\t,交易金额\t,交易时间\t\r\n6222021001112223334\t,\"1,234.50\"\t,\\N\r\n"
    path = tmp_path / "a.csv"
    path.write_bytes(text.encode(encoding))
    table = open_table(path, expected=lambda h: h in {"交易卡号", "交易金额", "交易时间"})
    assert table.header == ["交易卡号", "交易金额", "交易时间"] and table.header_row == 2
    rows = list(table.rows())
    assert rows == [(3, ["6222021001112223334", "1,234.50", None], False)]
    batch = next(table.batches())
    assert batch.column("_row").to_pylist() == [3] and batch.column("交易金额").to_pylist() == ["1,234.50"]


def test_batches_flag_short_long_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_bytes(b"a,b,c\n1,2,3\n1,2\n1,2,3,4\n" + "x,\ufffdy,z\n".encode())
    batch = next(open_table(path, expected=lambda h: h in {"a", "b", "c"}).batches())
    assert batch.column("_short").to_pylist() == [False, True, False, False]
    assert batch.column("_extra").to_pylist() == [None, None, "4", None]
    assert batch.column("_bad").to_pylist() == [False, False, False, True]


def test_open_table_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError):
        open_table(empty)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(InputError):
        open_table(binary)
    bad_xlsx = tmp_path / "x.xlsx"
    bad_xlsx.write_bytes(b"PK\x03\x04broken")
    with pytest.raises(InputError):
        open_table(bad_xlsx)


def test_expand_paths(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/1.csv", "a/b/2.xlsx", "a/b/~$2.xlsx", "a/readme.pdf", "a/b/3.csv.gz"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in expand_paths([tmp_path / "a"])] == ["1.csv", "2.xlsx", "3.csv.gz"]
    with pytest.raises(InputError):
        expand_paths([tmp_path / "missing"])


def test_resolve_columns_synonyms_profile_and_errors(tmp_path: Path) -> None:
    m = resolve_columns(["交易卡号\t", "AMOUNT", "Time", "其他"], SPEC, required=["account", "amount", "ts"])
    assert m.columns == {"account": "交易卡号\t", "amount": "AMOUNT", "ts": "Time"} and m.unmapped == ["其他"]
    m = resolve_columns(["卡", "发生额", "时间"], SPEC, profile={"columns": {"account": "卡", "amount": "发生额",
                                                                            "ts": "时间"}})
    assert m.columns["amount"] == "发生额"
    with pytest.raises(MappingError) as info:
        resolve_columns(["卡", "金额"], SPEC, required=["account"], file_name="x.csv")
    assert "x.csv" in info.value.zh and "卡、金额" in info.value.zh
    with pytest.raises(MappingError):
        resolve_columns(["卡"], SPEC, profile={"columns": {"account": "卡号"}})
    assert match_score(["交易卡号", "amount", "x"], SPEC) == 2
    bad = tmp_path / "p.yaml"
    bad.write_text("columns: [1, 2]\n", "utf-8")
    with pytest.raises(ConfigError):
        load_profile(bad)
    assert load_profile(None) == {}


def test_parse_amount_and_time() -> None:
    assert parse_amount("1,234.50元") == (Decimal("1234.50"), None)
    assert parse_amount("(12.30)") == (Decimal("-12.30"), None)
    assert parse_amount("12.345") == (Decimal("12.35"), None)
    assert parse_amount("abc") == (None, "amount_invalid")
    assert parse_amount(None) == (None, "amount_missing")
    assert parse_time("2023-02-30 10:00:00") == (None, "time_impossible")
    assert parse_time("2023-03-01 10:15:30") == (dt.datetime(2023, 3, 1, 2, 15, 30, tzinfo=dt.UTC), None)
    assert parse_time("2023-03-01T10:15:30+00:00")[0] == dt.datetime(2023, 3, 1, 10, 15, 30, tzinfo=dt.UTC)
    assert parse_time("soon") == (None, "time_invalid")
    assert parse_date("2015-06-18") == (dt.date(2015, 6, 18), None)
    assert reason_zh("time_impossible") == "日期不存在或超出范围" and reason_zh("new_code") == "new_code"


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2))
def test_parse_amount_round_trips_formatted_values(value: Decimal) -> None:
    text = f"{value:,.2f}元"
    assert parse_amount(text) == (value, None)


def test_quarantine_table() -> None:
    q = Quarantine("bank", "run-1")
    q.add("a.csv", "ab" * 32, 7, "amount_invalid", raw={"交易金额": "x"}, detail="第 7 行")
    t = q.table()
    assert len(q) == 1 and q.by_reason == {"amount_invalid": 1}
    row = t.to_pylist()[0]
    assert row["reason"] == "金额无法识别：第 7 行" and row["raw"] == '{"交易金额": "x"}' and row["row"] == 7


# ------------------------------------------------------------ encodings (Big5, UTF-16, GB18030)
def _pool(encoding: str, first: int, last: int) -> str:
    """Common characters of a double-byte charset (GB2312 一级汉字 / Big5 常用字), read from the codec."""
    out = []
    for lead in range(first >> 8, (last >> 8) + 1):
        for trail in [*range(0x40, 0x7F), *range(0xA1, 0xFF)]:
            if not first <= (lead << 8 | trail) <= last:
                continue
            try:
                out.append(bytes((lead, trail)).decode(encoding))
            except UnicodeDecodeError:
                continue
    return "".join(out)


GB_COMMON = _pool("gb2312", 0xB0A1, 0xD7FE)
BIG5_COMMON = _pool("big5", 0xA440, 0xC67E)  # C6A1-C8FE: kana of the ETEN extension
TAIWAN_EXPORT = "會員帳號,上級代理,真實姓名,儲值金額,註冊時間\nA1001,,陳志明,\"1,000.00\",2025/03/01 12:00:00\nA1002,A1001,林淑芬,500,2025/03/02 08:30:00\n"
UTF16_VARIANTS = [
    ("utf-16", TAIWAN_EXPORT.encode("utf-16")),  # with BOM (SQL Server / Excel "Unicode text")
    ("utf-16-le", TAIWAN_EXPORT.encode("utf-16-le")),
    ("utf-16-be", TAIWAN_EXPORT.encode("utf-16-be")),
    ("utf-16-be+bom", codecs.BOM_UTF16_BE + TAIWAN_EXPORT.encode("utf-16-be")),
]


@pytest.mark.parametrize(("label", "data"), [
    ("big5", TAIWAN_EXPORT.encode("big5")), ("cp950", TAIWAN_EXPORT.encode("cp950")),
    ("big5hkscs", TAIWAN_EXPORT.encode("big5hkscs")), *UTF16_VARIANTS,
])
def test_big5_and_utf16_exports_are_not_read_as_gb18030(tmp_path: Path, label: str, data: bytes) -> None:
    encoding = sniff_encoding(data)
    assert encoding != "gb18030"
    assert data.decode(encoding).lstrip("\ufeff") == TAIWAN_EXPORT
    path = tmp_path / f"會員_{label.replace('+', '_')}.csv"
    path.write_bytes(data)
    table = open_table(path, expected=lambda h: h in {"會員帳號", "上級代理", "儲值金額"})
    assert table.header == ["會員帳號", "上級代理", "真實姓名", "儲值金額", "註冊時間"]
    rows = [values for _, values, bad in table.rows() if not bad]
    assert rows == [["A1001", None, "陳志明", "1,000.00", "2025/03/01 12:00:00"],
                    ["A1002", "A1001", "林淑芬", "500", "2025/03/02 08:30:00"]]


def test_gb18030_still_wins_for_mainland_text_and_binary_is_still_refused(tmp_path: Path) -> None:
    mainland = "会员账号,上级代理,真实姓名,充值金额\n10001,,张伟,100\n10002,10001,王芳,200\n"
    for enc in ("gb18030", "gbk", "gb2312"):
        assert sniff_encoding(mainland.encode(enc)) == "gb18030"
    assert sniff_encoding(mainland.encode("utf-8")) == "utf-8"
    binary = tmp_path / "bin.csv"
    binary.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(InputError, match="binary"):
        open_table(binary)


def _csv_text(draw: st.DrawFn, pool: str) -> str:
    word = st.text(alphabet=pool, min_size=2, max_size=4)
    header = draw(st.lists(word, min_size=3, max_size=5, unique=True))
    rows = draw(st.lists(st.tuples(st.text(alphabet=pool, min_size=2, max_size=3), st.integers(0, 10**9),
                                   st.text(alphabet=pool + " ", min_size=3, max_size=12)), min_size=3, max_size=8))
    lines = [",".join(header)] + [f"{n},{amount}.00,{remark}" for n, amount, remark in rows]
    return "\r\n".join(lines) + "\r\n"


@st.composite
def _encoded_export(draw: st.DrawFn) -> tuple[str, str, bytes]:
    encoding = draw(st.sampled_from(["gb18030", "gbk", "big5", "cp950", "big5hkscs", "utf-8", "utf-8-sig",
                                     "utf-16", "utf-16-le", "utf-16-be", "utf-16-be+bom"]))
    pool = GB_COMMON if encoding.startswith("gb") else BIG5_COMMON if "big5" in encoding or encoding == "cp950" \
        else GB_COMMON + BIG5_COMMON
    text = _csv_text(draw, pool)
    if encoding == "utf-16-be+bom":
        return encoding, text, codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    return encoding, text, text.encode(encoding)


@settings(deadline=None)  # the first call builds the character tables; the machine is shared
@given(_encoded_export())
def test_random_chinese_text_round_trips_through_every_encoding(case: tuple[str, str, bytes]) -> None:
    """Random Chinese exports in GB18030/GBK, Big5 (cp950, HKSCS), UTF-8 and UTF-16 (LE/BE, with and
    without BOM) are detected and decode back to the same text."""
    label, text, data = case
    detected = sniff_encoding(data)
    assert data.decode(detected).lstrip("\ufeff") == text, (label, detected)
    if "big5" in label or label == "cp950":
        assert detected != "gb18030"
