"""Platform ingest leaves no scratch behind: not in the workspace, not in the temporary folder, not
in the working directory (DuckDB's default spill place), whether the run succeeds or fails."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from chainbreaker.chains.promotion.ingest import ingest_platform
from chainbreaker.core.errors import ChainbreakerError
from chainbreaker.core.workspace import Workspace


@pytest.fixture()
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TMPDIR and the working directory made private, so that anything left there is ours."""
    tmpdir = tmp_path / "systmp"
    cwd = tmp_path / "cwd"
    tmpdir.mkdir()
    cwd.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.chdir(cwd)
    return tmp_path


def _leftovers(root: Path, ws: Workspace) -> list[str]:
    out = [str(p.relative_to(root)) for p in (root / "systmp").rglob("*")]
    out += [str(p.relative_to(root)) for p in (root / "cwd").rglob("*")]
    if (ws.root / "tmp").exists():
        out += [str(p.relative_to(root)) for p in (ws.root / "tmp").rglob("*")] or ["ws/tmp"]
    out += [str(p.relative_to(root)) for p in ws.root.rglob("*.partial")]
    return out


def _platform(folder: Path) -> Path:
    folder.mkdir(parents=True)
    rows = "\n".join(f"{i},{(i - 1) // 3 or ''},1390000{i:04d}" for i in range(1, 400))
    (folder / "会员.csv").write_text("会员ID,上级ID,手机号\n" + rows + "\n", "utf-8")
    bets = "\n".join(f"A{i},{1 + i % 399},{10 + i % 7}" for i in range(3000))
    (folder / "注单.csv").write_bytes(("注单号,会员ID,投注金额\n" + bets + "\n").encode("gb18030"))
    return folder


def test_success_leaves_no_scratch(private_tmp: Path) -> None:
    ws = Workspace(private_tmp / "ws")
    summary = ingest_platform(ws, _platform(private_tmp / "in"), "金沙")
    assert summary.files == 2 and ws.has_table("platform_members")
    assert _leftovers(private_tmp, ws) == []


def test_failure_leaves_no_scratch_and_no_tables(private_tmp: Path) -> None:
    ws = Workspace(private_tmp / "ws")
    folder = private_tmp / "bad"
    folder.mkdir()
    (folder / "会员.csv").write_text("会员ID,上级ID\n1,\n", "utf-8")
    (folder / "注单.csv").write_text("注单号,会员ID,投注金额\nA1,1,十块\n", "utf-8")
    (folder / "坏.sqlite").write_bytes(b"SQLite format 3\x00" + b"\x00" * 50)
    (folder / "只有表头.csv").write_text("foo,bar\n", "utf-8")
    with pytest.raises(ChainbreakerError):
        ingest_platform(ws, folder / "坏.sqlite", "金沙")  # nothing readable: the run fails
    assert not ws.has_table("platform_members")
    assert _leftovers(private_tmp, ws) == []
    ingest_platform(ws, folder, "金沙")  # a partly bad folder: the good files in, the scratch gone
    assert _leftovers(private_tmp, ws) == []
