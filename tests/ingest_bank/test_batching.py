"""Ingesting the same files in one run or in several gives the same lake: the payer's own row is a
transfer's provenance whichever statement arrived first (docs: the payer's row wins, the payee's
fills gaps)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainbreaker.chains.funds.bank.service import ingest_bank
from chainbreaker.synth.bank import generate_province

from .builders import abc_statement, account_files, icbc_statement


def _lake(ws) -> dict[str, list]:
    tx = sorted(ws.read_arrow("transactions").to_pylist(), key=lambda r: r["txn_id"])
    src = sorted(ws.read_arrow("transaction_sources").to_pylist(), key=lambda r: (r["src_sha256"], r["src_row"]))
    return {"transactions": tx, "transaction_sources": src}


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("order", ["payee first", "payer first"])
def test_two_runs_keep_the_payers_row_like_one_run(tmp_path: Path, order: str) -> None:
    from chainbreaker.core.workspace import Workspace

    folder = tmp_path / "调单"
    payer, payee = icbc_statement(folder), abc_statement(folder)  # 张伟 pays 李娜 5,000
    infos = account_files(folder)  # (李娜's bank names 张伟 by his account number: 账户信息 links it to his card)
    one = Workspace(tmp_path / "one")
    ingest_bank(one, [folder], progress=None, workers=1)
    two = Workspace(tmp_path / "two")
    first, second = (payee, payer) if order == "payee first" else (payer, payee)
    ingest_bank(two, [first, *infos], progress=None, workers=1)
    ingest_bank(two, [second], progress=None, workers=1)
    a, b = _lake(one), _lake(two)
    shared = [r for r in a["transactions"] if r["requested_side"] == "both"]
    assert len(shared) == 1 and shared[0]["src_file"] == payer.name  # the payer's row is the provenance
    assert a == b


def test_a_province_ingested_in_batches_matches_one_run(tmp_path: Path) -> None:
    """A synthetic province (both sides of a third of the transfers) split over three runs."""
    from chainbreaker.core.workspace import Workspace

    statements = generate_province(tmp_path / "p", n_transactions=5000, seed=3).statements_dir
    files = _files(statements)
    one = Workspace(tmp_path / "one")
    ingest_bank(one, [statements], progress=None, workers=1)
    many = Workspace(tmp_path / "many")
    for part in (files[1::3], files[2::3], files[0::3]):  # an order unrelated to payer/payee
        ingest_bank(many, part, progress=None, workers=1)
    a, b = _lake(one), _lake(many)
    both = sum(r["requested_side"] == "both" for r in a["transactions"])
    assert both > 100
    differ = [x["txn_id"] for x, y in zip(a["transactions"], b["transactions"], strict=True) if x != y]
    assert not differ, f"{len(differ)} of {len(a['transactions'])} transfers differ"
    assert a["transaction_sources"] == b["transaction_sources"]
