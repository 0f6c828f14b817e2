"""A 调单 folder end to end: layouts, de-duplication across banks, accounts, persons, idempotence."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from chainbreaker.chains.funds.bank import service
from chainbreaker.chains.funds.bank.service import ingest_bank
from chainbreaker.core.errors import MappingError

from .builders import (
    HEADER_34,
    LI,
    WANG,
    ZHANG,
    abc_statement,
    account_files,
    icbc_statement,
    request_folder,
    row34,
    write_csv,
)


def _rows(ws, table: str) -> list[dict]:
    return ws.read_arrow(table).to_pylist()


def test_request_folder_is_ingested_and_the_shared_transfer_stored_once(ws, tmp_path: Path) -> None:
    folder = request_folder(tmp_path)
    s = ingest_bank(ws, [folder], progress=None)
    assert s.files == 5 and s.layouts == {"statement": 2, "accounts": 2, "persons": 1}
    assert s.rows_read == 9 and s.rows_kept == 9 and s.rows_quarantined == 0
    assert s.duplicates_merged == 1 and s.transfers_new == 4

    txns = {(r["from_account"], r["to_account"], r["amount"]): r for r in _rows(ws, "transactions")}
    assert len(txns) == 4
    shared = txns[(ZHANG["card"], LI["card"], Decimal("5000.00"))]
    # 李娜's bank wrote 张伟's account number with a suffix; 账户信息 links it to his card.
    assert shared["requested_side"] == "both"
    assert shared["ts"] == dt.datetime(2023, 3, 1, 2, 15, 30, tzinfo=dt.UTC)
    assert shared["from_balance"] == Decimal("12000.00") and shared["to_balance"] == Decimal("5300.00")
    assert shared["ip"] == "183.14.22.101" and shared["direction_raw"] == "出"
    sources = [r for r in _rows(ws, "transaction_sources") if r["txn_id"] == shared["txn_id"]]
    assert sorted(r["side"] for r in sources) == ["from", "to"]
    assert {r["src_file"] for r in sources} == {"中国工商银行交易明细信息.csv", "中国农业银行交易明细信息.csv"}

    cash = txns[(ZHANG["card"], None, Decimal("2000.00"))]
    assert cash["is_cash"] is True and cash["requested_side"] == "from"
    incoming = txns[(WANG["card"], ZHANG["card"], Decimal("800.00"))]
    assert incoming["requested_side"] == "to" and incoming["from_name"] == "王芳"

    accounts = {r["account"]: r for r in _rows(ws, "accounts")}
    assert set(accounts) == {ZHANG["card"], LI["card"], WANG["card"]}
    assert accounts[ZHANG["card"]]["requested"] and accounts[LI["card"]]["requested"]
    assert accounts[WANG["card"]]["requested"] is False
    z = accounts[ZHANG["card"]]
    assert z["open_date"] == dt.date(2015, 6, 18) and z["status"] == "正常" and z["close_date"] is None
    assert z["last_login_ip"] == "183.14.22.101" and z["balance"] == Decimal("10800.00")
    assert z["holder_id"] == ZHANG["id"] and z["origin"] == "bank"

    persons = {r["id_number"]: r for r in _rows(ws, "persons")}
    assert persons[ZHANG["id"]]["phone"] == "13800138000" and persons[LI["id"]]["workplace"] is None

    files = _rows(ws, "ingested_files")
    assert len(files) == 5 and all(f["encoding"] == "gb18030" for f in files)
    assert not (ws.root / "tmp").exists()  # scratch space of the run is gone
    for f in files:  # every original is in the evidence store, byte for byte
        assert ws.evidence_path(f["file_sha256"]).read_bytes() == Path(f["path"]).read_bytes()


def test_the_run_record_says_where_the_time_went(ws, tmp_path: Path) -> None:
    ingest_bank(ws, [request_folder(tmp_path)], progress=None, workers=1)
    timings = ws.runs()[-1]["timings"]
    steps = ("hash", "normalise", "dedup", "write")
    assert set(timings) == {*steps, *(f"{s}_cpu" for s in steps), "normalise_ingest_cpu"}
    assert all(isinstance(v, float) and v >= 0 for v in timings.values())
    assert timings["write_cpu"] > 0 and timings["normalise_cpu"] > 0


def test_reingesting_changes_nothing(ws, tmp_path: Path) -> None:
    folder = request_folder(tmp_path)
    ingest_bank(ws, [folder], progress=None)
    manifest = (ws.lake / "_manifest.json").read_text("utf-8")
    runs = len(ws.runs())
    again = ingest_bank(ws, [folder, folder / "中国工商银行交易明细信息.csv"], progress=None)
    assert again.files == 0 and again.files_skipped_already_ingested == 6
    assert (ws.lake / "_manifest.json").read_text("utf-8") == manifest
    assert len(ws.runs()) == runs


def test_counterparty_statement_in_a_later_run_merges_into_stored_transfer(ws, tmp_path: Path) -> None:
    first, second = tmp_path / "请求1", tmp_path / "请求2"
    icbc_statement(first)
    account_files(first)
    abc_statement(second)
    ingest_bank(ws, [first], progress=None)
    before = {r["txn_id"]: r for r in _rows(ws, "transactions")}
    s = ingest_bank(ws, [second], progress=None)
    assert s.duplicates_merged == 1 and s.transfers_new == 1
    after = {r["txn_id"]: r for r in _rows(ws, "transactions")}
    assert len(after) == 4 and set(before) <= set(after)
    shared = next(r for r in after.values() if r["amount"] == Decimal("5000.00"))
    assert shared["requested_side"] == "both" and shared["to_balance"] == Decimal("5300.00")
    assert before[shared["txn_id"]]["requested_side"] == "from"
    # 李娜 became a statement subject in the second run.
    accounts = {r["account"]: r for r in _rows(ws, "accounts")}
    assert accounts[LI["card"]]["requested"] is True and accounts[ZHANG["card"]]["status"] == "正常"


def test_identical_transfers_in_one_second_are_not_merged(ws, tmp_path: Path) -> None:
    """Two 100-yuan payments in the same second on one statement are two transfers; the payee's
    statement shows both, and each pairs with one of them."""
    def stmt(name: str, own: dict, cp: dict, flag: str) -> None:
        rows = [row34(交易卡号=own["card"], 账户开户名称=own["name"], 交易时间="2023-05-04 23:59:59",
                      交易金额="100.00", 收付标志=flag, 交易对手账卡号=cp["card"], 对手户名=cp["name"])
                for _ in range(2)]
        write_csv(tmp_path / "请求" / name, HEADER_34, rows)

    stmt("中国工商银行交易明细信息.csv", ZHANG, LI, "出")
    stmt("中国农业银行交易明细信息.csv", LI, ZHANG, "进")
    s = ingest_bank(ws, [tmp_path / "请求"], progress=None)
    assert s.transfers_new == 2 and s.duplicates_merged == 2
    assert {r["requested_side"] for r in _rows(ws, "transactions")} == {"both"}


def test_unrecognised_file_is_skipped_with_a_quarantine_row(ws, tmp_path: Path) -> None:
    folder = request_folder(tmp_path)
    write_csv(folder / "任务说明.csv", ["任务编号", "承办人", "备注说明"], [["2023001", "刘警官", "无"]])
    s = ingest_bank(ws, [folder], progress=None)
    assert s.files == 5 and s.files_failed[0][0] == "任务说明.csv"
    assert "任务编号" in s.files_failed[0][1]
    q = [r for r in _rows(ws, "quarantine") if r["row"] == 0]
    assert len(q) == 1 and q[0]["file_name"] == "任务说明.csv" and q[0]["reason_code"] == "file_unusable"
    assert "任务编号、承办人、备注说明" in q[0]["reason"]
    assert "任务说明.csv" not in {r["file_name"] for r in _rows(ws, "ingested_files")}


def test_a_run_with_no_usable_file_fails_clearly_and_writes_nothing(ws, tmp_path: Path) -> None:
    bad = write_csv(tmp_path / "导出.csv", ["编号", "内容"], [["1", "x"]])
    with pytest.raises(MappingError) as info:
        ingest_bank(ws, [bad], progress=None)
    assert "导出.csv" in info.value.zh and "编号、内容" in info.value.zh
    assert ws.tables() == {}


def test_crash_mid_ingest_leaves_workspace_as_before(ws, tmp_path: Path, monkeypatch) -> None:
    first, second = tmp_path / "请求1", tmp_path / "请求2"
    icbc_statement(first)
    abc_statement(second)
    account_files(second)
    ingest_bank(ws, [first], progress=None)
    manifest = json.loads((ws.lake / "_manifest.json").read_text("utf-8"))
    listing = sorted(p.relative_to(ws.lake) for p in ws.lake.rglob("*"))

    def boom(*args, **kwargs):
        raise RuntimeError("disk pulled out")

    # Transactions and transaction_sources are already staged when accounts fail.
    monkeypatch.setattr(service, "write_accounts", boom)
    with pytest.raises(RuntimeError):
        ingest_bank(ws, [second], progress=None)
    assert json.loads((ws.lake / "_manifest.json").read_text("utf-8")) == manifest
    assert sorted(p.relative_to(ws.lake) for p in ws.lake.rglob("*")) == listing
    monkeypatch.undo()
    s = ingest_bank(ws, [second], progress=None)  # nothing was recorded as ingested by the crash
    assert s.files == 4 and s.duplicates_merged == 1


def test_accounts_of_other_origins_are_kept(ws, tmp_path: Path) -> None:
    import pyarrow as pa

    from chainbreaker.core.model.schemas import ACCOUNTS

    with ws.transaction("test.seed") as tx:
        tx.write("accounts", pa.Table.from_pylist([{"account": "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE",
                                                    "origin": "web_indicator", "requested": False}],
                                                  schema=ACCOUNTS))
    ingest_bank(ws, [request_folder(tmp_path)], progress=None)
    origins = sorted(r["origin"] for r in _rows(ws, "accounts"))
    assert origins == ["bank", "bank", "bank", "web_indicator"]
