"""End to end on a small synthetic province (chainbreaker.synth) against its ground truth, and the CLI."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chainbreaker.chains.funds.bank.service import ingest_bank

from .builders import request_folder

synth_bank = pytest.importorskip("chainbreaker.synth.bank")


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("province")
    synth_bank.generate_province(out, n_transactions=5000, seed=11)
    return out


def test_generated_province_matches_its_ground_truth(ws, province: Path) -> None:
    s = ingest_bank(ws, [province / "statements"], progress=None)
    assert not s.files_failed and s.unknown_direction_codes == {}
    con = ws.duck()
    con.execute(f"CREATE VIEW truth AS SELECT * FROM read_parquet('{province / 'truth' / 'transactions.parquet'}')")
    with open(province / "truth" / "dirty_rows.csv", encoding="utf-8") as fh:
        dirty = list(csv.DictReader(fh))
    # Every dirty row the generator planted is quarantined, with the generator's reason.
    q = {(r[0], r[1]): r[2] for r in con.execute(
        "SELECT file_name, row, reason_code FROM quarantine WHERE row > 0").fetchall()}
    for d in dirty:
        assert q.get((Path(d["file"]).name, int(d["row"]))) == d["reason_code"], d
    assert sum(s.quarantined_by_reason.values()) == len(dirty)

    # Every ingested transfer is a true one, stored once; a true transfer is missing only when all
    # of its statement rows were dirty.
    key = "x.from_account = t.from_account AND x.to_account IS NOT DISTINCT FROM t.to_account " \
          "AND x.amount = t.amount AND x.ts = t.ts"
    extra = con.execute(f"SELECT count(*) FROM transactions x ANTI JOIN truth t ON {key}").fetchall()[0][0]
    assert extra == 0
    missing = con.execute(f"SELECT serial_no FROM truth t ANTI JOIN transactions x ON {key}").fetchall()
    dirty_serials = {d["serial_no"] for d in dirty}
    assert all(m[0] in dirty_serials for m in missing)
    n_truth = con.execute("SELECT count(*) FROM truth").fetchall()[0][0]
    n_txn = con.execute("SELECT count(*) FROM transactions").fetchall()[0][0]
    assert n_txn == n_truth - len(missing)
    both = con.execute("SELECT count(*) FROM truth WHERE requested_side = 'both'").fetchall()[0][0]
    assert s.duplicates_merged >= both - len(dirty)

    # Statement subjects are requested accounts; counterparties only seen in statements are not.
    with open(province / "truth" / "accounts.csv", encoding="utf-8") as fh:
        truth_acc = {r["account"]: r for r in csv.DictReader(fh)}
    acc = {r[0]: r[1] for r in con.execute("SELECT account, requested FROM accounts").fetchall()}
    wrong = [a for a, req in acc.items() if a in truth_acc and bool(int(truth_acc[a]["requested"])) != req]
    assert not wrong
    assert ingest_bank(ws, [province / "statements"], progress=None).files == 0


def test_cli_prints_chinese_summary(tmp_path: Path) -> None:
    from chainbreaker.faces.cli.main import app

    folder = request_folder(tmp_path)
    result = CliRunner().invoke(app, ["--workspace", str(tmp_path / "ws"), "ingest", "bank", str(folder)])
    assert result.exit_code == 0, result.output
    assert "导入文件：5" in result.output and "读取行数：9" in result.output and "双方重复交易合并：1" in result.output
    again = CliRunner().invoke(app, ["--workspace", str(tmp_path / "ws"), "ingest", "bank", str(folder)])
    assert "没有新文件，工作区未改变。" in again.output
