"""The fast reader against the shared reader on damaged bytes: same batches, byte for byte.

The fast reader splits the file's bytes and decodes only non-ASCII columns, once per distinct
value; the shared reader decodes the whole stream. Cells are drawn from text, padding, null tokens
and raw byte pieces that break GB18030 and UTF-8 (stray lead bytes, four-byte GB18030 sequences cut
after one to three bytes, a U+FFFD written as such), placed anywhere: at the end of a cell, of a row
with too many or too few fields, of the file without a final line break. Blank lines and small
reads and Arrow blocks are drawn too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainbreaker.chains.funds.bank import fastcsv
from chainbreaker.core.ingest.readers import open_table

HEADER = ["交易卡号", "账户开户名称", "交易时间", "交易金额", "收付标志", "摘要说明"]
TEXT = st.sampled_from(["6222021001112223334", "张伟", "转账", "2023-03-01 10:15:30", "1,234.50", "出", "进",
                        "\\N", "-", "", " ", "'123", "'张三", "备注 A", "\u3000工资\u3000", "\ufffd", "abc"])
# byte pieces that do not decode on their own: GB18030 lead bytes and cut four-byte sequences
# (0x81 0x30 0x81 0x30 is U+0080), a UTF-8 lead byte and a cut three-byte sequence
DAMAGE = st.sampled_from([b"\x81", b"\x81\x30", b"\x81\x30\x81", b"\xfe", b"\xff", b"\x80", b"\xe5", b"\xe5\xb7",
                          b"\x84\x31\xa4\x37", b"\x81\x30\x81\x30"])


@st.composite
def cells(draw, encoding: str) -> bytes:
    parts = draw(st.lists(st.one_of(TEXT.map(lambda t: t.encode(encoding)), DAMAGE), min_size=1, max_size=3))
    pad = draw(st.sampled_from([b"", b"\t", b" "]))
    return b"".join(parts) + pad


@st.composite
def files(draw):
    encoding = draw(st.sampled_from(["gb18030", "utf-8"]))
    delimiter = draw(st.sampled_from([",", "\t", ";"]))
    d = delimiter.encode()
    width = len(HEADER)
    lines = [d.join((h + ("\t" if delimiter != "\t" else "")).encode(encoding) for h in HEADER)]
    # columns that hold one value on every row (unused columns of \\N, 币种, a damaged constant)
    fixed = draw(st.dictionaries(st.integers(0, width - 1), cells(encoding), max_size=width))
    for _ in range(draw(st.integers(1, 30))):
        kind = draw(st.sampled_from(["row"] * 6 + ["short", "long", "blank"]))
        n = {"row": width, "short": draw(st.integers(1, width - 1)), "long": width + draw(st.integers(1, 2)),
             "blank": 0}[kind]
        lines.append(d.join(fixed[i] if i in fixed else draw(cells(encoding)) for i in range(n)))
    end = draw(st.sampled_from([b"\r\n", b"\n", b""]))
    return encoding, delimiter, b"\r\n".join(lines) + end


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files(), st.sampled_from([None, 7]))
def test_fast_reader_decodes_damaged_bytes_like_the_shared_reader(tmp_path: Path, monkeypatch, drawn,
                                                                 block: int | None) -> None:
    encoding, delimiter, data = drawn
    path = tmp_path / "中国工商银行交易明细信息.csv"
    path.write_bytes(data)
    if block:  # bytes read (and decoded) a few at a time; Arrow blocks of a few rows
        monkeypatch.setattr(fastcsv, "_BLOCK", 1024)
        monkeypatch.setattr(fastcsv, "_DECODE_CHUNK", block)
    table = open_table(path, expected=lambda name: name in HEADER)
    if table.encoding not in (encoding, "utf-8-sig") or table.delimiter != delimiter or table.header != HEADER:
        return  # the sniffers read this draw otherwise; both readers would read the same other table
    fast = fastcsv.fast_batches(table, batch_rows=8)
    assert fast is not None
    careful = list(fast)
    assert _rows(iter(careful)) == _rows(table.batches())
    # the file's bytes served as they are: the same batches, one for one, or the signal to read it
    # again the careful way when a row has a wrong number of fields
    plain = fastcsv.fast_batches(table, batch_rows=8, plain=True)
    assert plain is not None
    other_width = any(b.column("_extra").null_count < b.num_rows or any(b.column("_short").to_pylist())
                      for b in careful) or _has_other_width_blank(data, delimiter, len(HEADER))
    try:
        got = list(plain)
    except fastcsv.OtherWidthRow:
        assert other_width  # never for a file whose rows all have the header's width
        return
    # (a file that is not split as bytes is read the careful way either way)
    assert [b.to_pylist() for b in got] == [b.to_pylist() for b in careful]


def _has_other_width_blank(data: bytes, delimiter: str, width: int) -> bool:
    """Whether a line of the data rows has a wrong number of fields yet holds no value (the careful
    reader skips it without a trace; the plain one stops at it)."""
    lines = data.replace(b"\r\n", b"\n").split(b"\n")[1:]
    return any(line and line.count(delimiter.encode()) != width - 1 for line in lines)


def test_batches_hold_exactly_batch_rows_rows_however_the_bytes_are_served(tmp_path: Path, monkeypatch) -> None:
    """A batch is what a statement's signed amounts are judged by: the plain and the Latin-1 serving
    (whose Arrow blocks hold other numbers of rows) must cut a file into the same batches."""
    rows = [f"6222{i:015d},张伟{i % 7},2023-03-01 10:15:30,{i}.50,出,转账{i % 3}" for i in range(1000)]
    path = tmp_path / "中国工商银行交易明细信息.csv"
    path.write_bytes(("\r\n".join([",".join(HEADER), *rows]) + "\r\n").encode("gb18030"))
    monkeypatch.setattr(fastcsv, "_BLOCK", 4096)
    table = open_table(path, expected=lambda name: name in HEADER)
    careful = list(fastcsv.fast_batches(table, batch_rows=300) or [])
    plain = list(fastcsv.fast_batches(table, batch_rows=300, plain=True) or [])
    assert [b.num_rows for b in careful] == [b.num_rows for b in plain] == [300, 300, 300, 100]
    assert [b.to_pylist() for b in careful] == [b.to_pylist() for b in plain]


def test_bytes_are_split_only_where_that_equals_decoding_first(tmp_path: Path) -> None:
    """GB18030 with | (a trail byte), or a last line that ends inside a damaged sequence with no line
    break after it: the file is decoded as a whole, and the batches still equal the shared reader's."""
    cases = {"pipe.csv": "交易卡号|账户开户名称\r\n6222|张伟\r\n".encode("gb18030") + b"6223|\x81|\r\n",
             "tail.csv": "交易卡号,账户开户名称\r\n6222,张伟\r\n".encode("gb18030") + b"6223,x\x81\x30\x81",
             "tail-lf.csv": "交易卡号,账户开户名称\r\n6222,张伟\r\n".encode("gb18030") + b"6223,x\x81\x30\n"}
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        table = open_table(path, expected=lambda h: h in HEADER)
        scan = fastcsv._scan(table)
        assert scan.unquoted and scan.last_lines is not None
        assert not fastcsv._splits_as_bytes(table, scan.last_lines)
        fast = fastcsv.fast_batches(table)
        assert fast is not None
        assert _rows(fast) == _rows(table.batches())


def _rows(batches: Iterator[pa.RecordBatch]) -> list[dict[str, object]]:
    return sorted((row for batch in batches for row in batch.to_pylist()), key=lambda row: int(row["_row"]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(0, 40), min_size=1, max_size=12), st.booleans(), st.integers(1, 50))
def test_scan_finds_a_long_line_where_the_line_guard_does(tmp_path: Path, monkeypatch, lengths: list[int],
                                                           final_break: bool, chunk: int) -> None:
    """The fast reader skips the line guard (a copy of every byte) when its scan finds no line over
    the limit: the scan must find one wherever the guard would blank one, across chunk borders."""
    import io
    from types import SimpleNamespace

    from chainbreaker.core.ingest.longlines import LineGuard

    data = b"\n".join(b"x" * n for n in lengths) + (b"\n" if final_break else b"")
    path = tmp_path / "lines.csv"
    path.write_bytes(data)
    monkeypatch.setattr(fastcsv, "_SCAN_CHUNK", chunk)
    found: list = []
    guard = LineGuard(io.BytesIO(data), "utf-8", found, max_bytes=20, chunk_size=chunk)
    while guard.read(7):
        pass
    scan = fastcsv._scan(SimpleNamespace(path=path, max_line_bytes=20))  # type: ignore[arg-type]
    assert scan.long_lines == bool(found) == any(n > 20 for n in lengths)  # both use has_long_line: the lengths decide
