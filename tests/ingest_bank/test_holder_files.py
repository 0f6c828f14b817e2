"""人员信息 / 账户信息 files as banks really spell them: name, ID type and ID number under many headers,
recognised by synonyms and joined to the accounts by ID number."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainbreaker.chains.funds.bank.service import ingest_bank

from .builders import write_csv, write_xlsx

HOLDERS = [  # (name, ID number as the bank writes it, canonical ID, card, account number)
    ("张伟", "11010519491231002x", "11010519491231002X", "6222021001112223334", "0200001001000123456"),
    ("李娜", "440524800101001", "440524198001010013", "6228480012345678901", "12345601040012345"),
    ("陈静", "E12345678", "E12345678", "6217000010001234567", "44050166123400001234"),
]
TYPES = ["居民身份证", "身份证", "护照"]

# (人员信息 header, 账户信息 header, encoding or xlsx) as different banks write them
VARIANTS = {
    "icbc": (["客户名称", "证照类型", "证照号码", "联系手机", "住宅地址"],
             ["账户开户名称", "开户人证件号码", "交易卡号", "交易账号", "开户日期", "账户状态"], "gb18030"),
    "ccb": (["姓名", "证件类型", "证件号码", "手机号码", "通讯地址"],
            ["户名", "证件类型", "证件号码", "卡号", "账号", "开户行"], "utf-8-sig"),
    "abc": (["户名", "证件种类", "身份证号", "联系电话", "家庭住址"],
            ["客户名称", "证件种类", "身份证号码", "银行卡号", "客户账号", "开户网点"], "gb18030"),
    "cmb": (["账户名称", "身份证件类型", "开户人证件号码", "移动电话", "居住地址"],
            ["开户人姓名", "证照类型", "证照号码", "借记卡号", "账户号码", "开户日期"], "xlsx"),
    "english": (["Name", "ID Type", "ID Number", "Mobile", "Address"],
                ["Customer Name", "ID Type", "ID No.", "Card No", "Account No", "Bank"], "utf-8"),
}


def _write(path: Path, header: list[str], rows: list[list[str]], how: str) -> None:
    if how == "xlsx":
        path.parent.mkdir(parents=True, exist_ok=True)
        write_xlsx(path.with_suffix(".xlsx"), header, rows, title="查询结果")
    else:
        write_csv(path, header, [[f"{v}\t" for v in r] for r in rows], encoding=how)


def _account_row(header: list[str], holder: tuple, id_type: str, with_name: bool) -> list[str]:
    name, raw_id, _, card, acct = holder
    values = {0: name if with_name else "", 1: id_type, 2: raw_id, 3: card, 4: acct}
    extra = {"开户日期": "2019-11-02", "账户状态": "正常", "开户行": "中国建设银行", "开户网点": "东莞南城支行",
             "Bank": "ICBC"}
    if "类型" not in header[1] and "种类" not in header[1] and "Type" not in header[1]:
        values = {0: values[0], 1: raw_id, 2: card, 3: acct}
    return [values.get(i, extra.get(h, "")) for i, h in enumerate(header)]


@pytest.mark.parametrize("bank", sorted(VARIANTS))
def test_holder_files_are_recognised_and_joined_to_accounts(ws, tmp_path: Path, bank: str) -> None:
    person_header, account_header, how = VARIANTS[bank]
    folder = tmp_path / f"{bank}调单"
    _write(folder / "人员信息.csv", person_header,
           [[h[0], t, h[1], "13800138000", "深圳"] for h, t in zip(HOLDERS, TYPES, strict=True)], how)
    # the account file names nobody: the names come from 人员信息 through the ID number
    _write(folder / "银行账户信息.csv", account_header,
           [_account_row(account_header, h, t, with_name=False) for h, t in zip(HOLDERS, TYPES, strict=True)], how)
    s = ingest_bank(ws, [folder], progress=None, workers=1)
    assert s.layouts == {"persons": 1, "accounts": 1} and not s.files_failed, (s.layouts, s.files_failed)
    persons = {p["id_number"]: p["name"] for p in ws.read_arrow("persons").to_pylist()}
    assert persons == {h[2]: h[0] for h in HOLDERS}
    accounts = {a["account"]: a for a in ws.read_arrow("accounts").to_pylist()}
    assert set(accounts) == {h[3] for h in HOLDERS}
    for name, _, canonical, card, _acct in HOLDERS:
        assert accounts[card]["holder_id"] == canonical
        assert accounts[card]["holder_name"] == name, (bank, card)


def test_a_passport_number_is_not_read_as_a_first_generation_id(ws, tmp_path: Path) -> None:
    folder = tmp_path / "调单"
    write_csv(folder / "人员信息.csv", ["姓名", "证件类型", "证件号码"],
              [["Ana", "护照", "440524800101001"], ["李娜", "居民身份证", "440524800101001"]])
    ingest_bank(ws, [folder], progress=None, workers=1)
    assert sorted(p["id_number"] for p in ws.read_arrow("persons").to_pylist()) == [
        "440524198001010013", "440524800101001"]


def test_persons_of_a_later_run_name_the_accounts_of_an_earlier_one(ws, tmp_path: Path) -> None:
    holder = HOLDERS[0]
    write_csv(tmp_path / "第一批" / "账户信息.csv", ["证件号码", "卡号", "开户行"], [[holder[1], holder[3], "工商银行"]])
    ingest_bank(ws, [tmp_path / "第一批"], progress=None, workers=1)
    assert ws.read_arrow("accounts").to_pylist()[0]["holder_name"] is None
    write_csv(tmp_path / "第二批" / "人员信息.csv", ["姓名", "身份证号"], [[holder[0], holder[2]]])
    ingest_bank(ws, [tmp_path / "第二批"], progress=None, workers=1)
    assert ws.read_arrow("accounts").to_pylist()[0]["holder_name"] == holder[0]
