"""Hash-key columns (and the other columns of one value per row) are written without Parquet
dictionaries; the lake reads the same."""

from __future__ import annotations

import glob
from pathlib import Path

import pyarrow.parquet as pq

from chainbreaker.chains.funds.bank.service import ingest_bank
from chainbreaker.core.workspace import Workspace

from .builders import abc_statement, icbc_statement


def _dictionary_columns(ws: Workspace, table: str) -> set[str]:
    out = set()
    for path in glob.glob(ws.table_glob(table)):
        meta = pq.ParquetFile(path).metadata
        for g in range(meta.num_row_groups):
            for c in range(meta.num_columns):
                column = meta.row_group(g).column(c)
                if column.has_dictionary_page:
                    out.add(column.path_in_schema)
    return out


def test_key_columns_have_no_dictionary(tmp_path: Path) -> None:
    icbc_statement(tmp_path / "a")
    abc_statement(tmp_path / "a")
    ws = Workspace(tmp_path / "ws")
    summary = ingest_bank(ws, [tmp_path / "a"], progress=None, workers=1)
    assert summary.duplicates_merged >= 1  # both sides of a transfer: a txn_id shared by two source rows
    sources = _dictionary_columns(ws, "transaction_sources")
    assert not sources & {"txn_id", "k_serial", "k_time", "src_row"}
    assert {"side", "src_sha256"} <= sources  # the other columns keep theirs
    transactions = _dictionary_columns(ws, "transactions")
    assert not transactions & {"txn_id", "serial_no", "ts", "amount", "src_row"}
    assert {"from_account", "currency", "src_sha256"} <= transactions
    rows = ws.read_arrow("transaction_sources")
    assert all(len(k) == 32 for k in rows.column("k_time").to_pylist())
