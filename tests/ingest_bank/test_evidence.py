"""The evidence copy of a statement is the file its rows cite: stored under the SHA-256 taken
before the run, checked while it is copied."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from chainbreaker.chains.funds.bank import service
from chainbreaker.chains.funds.bank.service import ingest_bank
from chainbreaker.core.workspace import Workspace

from .builders import abc_statement, icbc_statement


def test_every_ingested_file_is_stored_under_the_digest_its_rows_cite(ws: Workspace, tmp_path: Path) -> None:
    paths = [icbc_statement(tmp_path / "a"), abc_statement(tmp_path / "b")]
    ingest_bank(ws, [tmp_path], progress=None, workers=1)
    cited = set(ws.read_arrow("transactions", ["src_sha256"]).column(0).to_pylist())
    for path in paths:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        stored = ws.evidence_path(digest)
        assert stored.read_bytes() == path.read_bytes()
        assert not os.access(stored, os.W_OK) or os.geteuid() == 0  # read-only (root may write anyway)
    assert cited <= {hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    assert not list(ws.evidence_dir.rglob("*.partial"))


def test_a_file_changed_after_it_was_hashed_is_refused_not_stored(ws: Workspace, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    changed = icbc_statement(tmp_path / "a")
    kept = abc_statement(tmp_path / "b")
    real = service.sha256_file
    # the digest taken before the run is that of the file's earlier content
    before = hashlib.sha256(changed.read_bytes() + b"old line\r\n").hexdigest()
    monkeypatch.setattr(service, "sha256_file", lambda p: before if p == changed else real(p))
    summary = ingest_bank(ws, [tmp_path], progress=None, workers=1)
    assert summary.files == 1
    assert [name for name, _ in summary.files_failed] == [changed.name]
    assert "导入过程中被修改" in summary.files_failed[0][1]
    assert not ws.evidence_path(before).exists()
    assert ws.evidence_path(real(kept)).exists()
    assert {r for r in ws.read_arrow("transactions", ["src_file"]).column(0).to_pylist()} == {kept.name}
    assert not list(ws.evidence_dir.rglob("*.partial"))
