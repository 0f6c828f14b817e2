"""Through ingest: an account or ID number written with invisible characters, separators or full-width
digits is one account / one person, and the transfer seen from both sides is stored once."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainbreaker.chains.funds.bank.service import ingest_bank

from .builders import ACCOUNT_HEADER, HEADER_34, LI, PERSON_HEADER, ZHANG, row34, write_csv

SPELLINGS = {
    "zero-width space": ZHANG["card"][:6] + "\u200b" + ZHANG["card"][6:],
    "BOM inside": "\ufeff" + ZHANG["card"],
    "word joiner": ZHANG["card"][:10] + "\u2060" + ZHANG["card"][10:],
    "dashes": "-".join([ZHANG["card"][:4], ZHANG["card"][4:8], ZHANG["card"][8:12], ZHANG["card"][12:16],
                        ZHANG["card"][16:]]),
    "spaces": " ".join([ZHANG["card"][:4], ZHANG["card"][4:8], ZHANG["card"][8:12], ZHANG["card"][12:16],
                        ZHANG["card"][16:]]),
    "full-width": "".join(chr(ord(c) + 0xFEE0) for c in ZHANG["card"]),
}


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig"])
@pytest.mark.parametrize("how", sorted(SPELLINGS))
def test_counterparty_spelling_does_not_split_the_account(ws, tmp_path: Path, how: str, encoding: str) -> None:
    folder = tmp_path / "调单"
    write_csv(folder / "中国工商银行交易明细信息.csv", HEADER_34, [
        row34(交易卡号=ZHANG["card"], 账户开户名称=ZHANG["name"], 开户人证件号码=ZHANG["id"],
              交易时间="2023-03-01 10:15:30", 交易金额="5000.00", 收付标志="出",
              交易对手账卡号=LI["card"], 对手户名=LI["name"], 交易流水号="ICBC1"),
    ])
    # 李娜's bank writes 张伟's card its own way
    write_csv(folder / "中国农业银行交易明细信息.csv", HEADER_34, [
        row34(交易卡号=LI["card"], 账户开户名称=LI["name"], 交易时间="2023-03-01 10:15:30", 交易金额="5000.00",
              收付标志="进", 交易对手账卡号=SPELLINGS[how], 对手户名=ZHANG["name"], 交易流水号="ABC1"),
    ], encoding=encoding)
    s = ingest_bank(ws, [folder], progress=None, workers=1)
    assert s.rows_kept == 2 and s.transfers_new == 1 and s.duplicates_merged == 1
    accounts = {r["account"] for r in ws.read_arrow("accounts").to_pylist()}
    assert accounts == {ZHANG["card"], LI["card"]}


def test_id_numbers_and_accounts_in_account_and_person_files_are_normalised(ws, tmp_path: Path) -> None:
    folder = tmp_path / "调单"
    zw_id = ZHANG["id"][:6] + "\u200b" + ZHANG["id"][6:].lower()
    write_csv(folder / "中国工商银行账户信息.csv", ACCOUNT_HEADER, [[f"{v}\t" for v in [
        ZHANG["name"], zw_id, SPELLINGS["dashes"], ZHANG["acct"], "2015-06-18", "10.00", "10.00", "人民币",
        "0200001", "福田支行", "正常", "钞", "\\N", "个人结算账户", "中国工商银行", "183.14.22.101"]]])
    write_csv(folder / "人员信息.csv", PERSON_HEADER, [[f"{v}\t" for v in [
        ZHANG["name"], "居民身份证", "110105-19491231-002X", "-", "深圳", "-", "-", "+86 138-0013-8000", "-"]]])
    ingest_bank(ws, [folder], progress=None, workers=1)
    acc = ws.read_arrow("accounts").to_pylist()
    assert [(a["account"], a["holder_id"]) for a in acc] == [(ZHANG["card"], ZHANG["id"])]
    persons = ws.read_arrow("persons").to_pylist()
    assert [(p["id_number"], p["phone"]) for p in persons] == [(ZHANG["id"], "13800138000")]
