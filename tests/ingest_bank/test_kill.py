"""kill -9 of a running ``chainbreaker ingest bank``: its worker processes die with it (within
seconds, not after finishing their files) and the next writer sweeps its scratch folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .builders import HEADER_34, LI, ZHANG, request_folder

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc to follow processes")


def _big_statement(path: Path, rows: int, card: str, cp: str) -> Path:
    """A plain 34-column GB18030 statement of ``rows`` rows (tab-padded, as banks export them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cells = {h: "\\N" for h in HEADER_34}
    cells.update({"交易卡号": card, "账户开户名称": "张伟", "收付标志": "出", "交易对手账卡号": cp, "对手户名": "李娜",
                  "交易币种": "人民币", "交易是否成功": "成功", "摘要说明": "转账"})
    header = ",".join(f"{h}\t" for h in HEADER_34)
    template = ",".join("{" + h + "}\t" if h in ("交易时间", "交易金额", "交易流水号") else f"{cells[h]}\t" for h in HEADER_34)
    with open(path, "w", encoding="gb18030", newline="") as fh:
        fh.write(header + "\r\n")
        for i in range(rows):
            fh.write(template.format(**{"交易时间": f"2023-{1 + i % 12:02d}-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:{i % 59:02d}",
                                        "交易金额": f"{100 + i % 9000}.{i % 100:02d}", "交易流水号": f"SN{card[-4:]}{i}"}) + "\r\n")
    return path


def _children() -> dict[int, int]:
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            out[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    return out


def _descendants(pid: int) -> set[int]:
    parents = _children()
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - found
        found |= frontier
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_workers_die_with_a_killed_ingest_and_the_next_writer_sweeps_its_scratch(tmp_path: Path) -> None:
    package = tmp_path / "调单"
    for k, (card, cp) in enumerate([(ZHANG["card"], LI["card"]), (LI["card"], ZHANG["card"])]):
        _big_statement(package / f"银行{k}交易明细信息.csv", 220_000, card, cp)
    ws = tmp_path / "ws"
    cli = subprocess.Popen([sys.executable, "-m", "chainbreaker.faces.cli.main", "--workspace", str(ws), "ingest", "bank",
                            "--no-progress", "--workers", "2", str(package)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    workers: set[int] = set()
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and cli.poll() is None:
            workers = _descendants(cli.pid)
            legs = list((ws / "tmp").glob("ingest-bank-*/legs/*.arrow"))
            # the fork server and a worker, and the worker and the ingest process both at work
            if len(workers) >= 2 and len(legs) >= 2:
                break
            time.sleep(0.2)
        assert cli.poll() is None and len(workers) >= 2, "the ingest finished or never started its worker"
        scratch = list((ws / "tmp").glob("ingest-bank-*"))
        os.kill(cli.pid, signal.SIGKILL)
        cli.wait(timeout=10)
        start = time.monotonic()
        while any(_running(p) for p in workers) and time.monotonic() - start < 5:
            time.sleep(0.1)
        alive = [p for p in workers if _running(p)]
        assert not alive, f"still running {time.monotonic() - start:.1f} s after kill -9 of the ingest: {alive}"
    finally:
        for p in workers:
            if _running(p):
                os.kill(p, signal.SIGKILL)
    assert len(scratch) == 1 and scratch[0].exists()  # left behind by the killed run

    small = request_folder(tmp_path / "小")
    nxt = subprocess.run([sys.executable, "-m", "chainbreaker.faces.cli.main", "--workspace", str(ws), "ingest", "bank",
                          "--no-progress", "--workers", "1", str(small)], capture_output=True, text=True, timeout=120)
    assert nxt.returncode == 0, nxt.stderr
    assert not scratch[0].exists()
    assert not (ws / "tmp").exists()
