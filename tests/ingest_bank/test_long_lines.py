"""A damaged line of megabytes (超长行) after a valid header: the file's good rows are kept, the line is
quarantined with a Chinese reason, in bounded time and memory, whichever reader handles the file."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainbreaker.chains.funds.bank.service import ingest_bank
from chainbreaker.core.ingest.longlines import LineGuard, LongLine

from .builders import HEADER_34, LI, ZHANG, row34, write_csv


def _statement(path: Path, encoding: str, long_at: int, long_bytes: int, quoted: bool) -> Path:
    rows = [row34(交易卡号=ZHANG["card"], 账户开户名称=ZHANG["name"], 交易时间=f"2023-03-01 10:{i:02d}:30",
                  交易金额="100.00", 收付标志="出", 交易对手账卡号=LI["card"], 对手户名=LI["name"],
                  摘要说明='转账"备注"' if quoted and i == 0 else "转账")
            for i in range(6)]
    write_csv(path, HEADER_34, rows, encoding=encoding)
    lines = path.read_bytes().split(b"\r\n")
    junk = ("损坏" * 4).encode(encoding) + b"#@!~" * 8 + b"9" * long_bytes  # no line break for megabytes
    lines.insert(long_at - 1, junk)
    path.write_bytes(b"\r\n".join(lines))
    return path


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8"])
@pytest.mark.parametrize("quoted", [False, True], ids=["fast-reader", "shared-reader"])
def test_a_10mb_line_is_quarantined_and_the_good_rows_kept(ws, tmp_path: Path, encoding: str, quoted: bool) -> None:
    path = _statement(tmp_path / "调单" / "中国工商银行交易明细信息.csv", encoding, long_at=4, long_bytes=10 << 20,
                      quoted=quoted)
    started = time.perf_counter()
    s = ingest_bank(ws, [path.parent], progress=None, workers=1)
    assert time.perf_counter() - started < 30
    assert not s.files_failed and s.rows_kept == 6 and s.quarantined_by_reason == {"line_too_long": 1}
    q = ws.read_arrow("quarantine").to_pylist()
    assert len(q) == 1 and q[0]["row"] == 4 and q[0]["reason_code"] == "line_too_long"
    assert q[0]["reason"].startswith("该行过长") and "10.0 MiB" in q[0]["reason"]
    raw = json.loads(q[0]["raw"])
    assert raw["_preview"].startswith("损坏") and raw["_bytes"] >= 10 << 20 and len(raw["_preview"]) <= 200
    src_rows = sorted(r["src_row"] for r in ws.read_arrow("transactions").to_pylist())
    assert src_rows == [2, 3, 5, 6, 7, 8]  # the line numbers of the others did not shift


def test_memory_stays_bounded_through_the_cli(tmp_path: Path) -> None:
    """A 64 MB line costs the ingest process no more than a few MB: the guard holds at most 1 MiB of it."""
    small = _statement(tmp_path / "a" / "中国工商银行交易明细信息.csv", "gb18030", 4, 1 << 10, quoted=False)
    big = _statement(tmp_path / "b" / "中国工商银行交易明细信息.csv", "gb18030", 4, 64 << 20, quoted=False)
    peaks = []
    for folder in (small.parent, big.parent):
        code = (
            "import resource,sys; from chainbreaker.faces.cli.main import run; sys.argv=['chainbreaker','--workspace',"
            f"{str(folder.parent / (folder.name + '-ws'))!r},'ingest','bank',{str(folder)!r},'--workers','1','--no-progress'];"
            "\ntry:\n  run()\nfinally:\n  print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                             env={**os.environ, "CHAINBREAKER_LANG": "zh"})
        assert out.returncode == 0, out.stderr
        assert "该行过长" not in out.stderr
        peaks.append(int(out.stdout.rsplit("PEAK", 1)[1]) / 1024)
    assert peaks[1] - peaks[0] < 40, peaks  # MiB; reading the line whole would add 64 MiB or more


def _split(data: bytes) -> list[bytes]:
    return data.split(b"\n")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"x")), min_size=1, max_size=30),
       st.integers(1, 25), st.integers(1, 64), st.booleans())
def test_guard_blanks_exactly_the_long_lines(lines: list[bytes], max_bytes: int, chunk: int, final_newline: bool) -> None:
    data = b"\n".join(lines) + (b"\n" if final_newline else b"")
    found: list[LongLine] = []
    out = io.BufferedReader(LineGuard(io.BytesIO(data), "latin-1", found, max_bytes, chunk_size=chunk)).read()
    expected = [b"" if len(line) > max_bytes else line for line in lines]
    assert out == b"\n".join(expected) + (b"\n" if final_newline else b"")
    assert [(f.line, f.size) for f in found] == [(i + 1, len(line)) for i, line in enumerate(lines) if len(line) > max_bytes]
    assert all(f.preview == line[:200].decode("latin-1") for f, line in zip(found, [x for x in lines if len(x) > max_bytes],
                                                                          strict=True))

