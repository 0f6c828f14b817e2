"""Writers of realistic 调单 files for the tests (generated into tmp_path, never checked in)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from chainbreaker.synth.bank_layouts import STD34

HEADER_34 = list(STD34)  # the 34-column 交易明细信息 layout, one definition (synth.bank_layouts)
ACCOUNT_HEADER = [
    "账户开户名称", "开户人证件号码", "交易卡号", "交易账号", "账号开户时间", "账户余额", "可用余额", "币种",
    "开户网点代码", "开户网点", "账户状态", "钞汇标志名称", "销户日期", "账户类型", "账号开户银行", "最后登录IP",
]
PERSON_HEADER = ["客户名称", "证照类型", "证照号码", "单位地址", "住宅地址", "住宅电话", "单位电话", "联系手机", "工作单位"]

# Statement subjects and counterparties (names, IDs with valid GB 11643 check digits).
ZHANG = {"card": "6222021001112223334", "acct": "0200001001000123456", "name": "张伟", "id": "11010519491231002X"}
LI = {"card": "6228480012345678901", "acct": "12345601040012345", "name": "李娜", "id": "440524188001010014"}
WANG = {"card": "6217000010001234567", "name": "王芳"}


def row34(**kw: str) -> list[str]:
    """A 34-column row; unspecified cells are the bank's null marker ``\\N``; tabs pad like Excel exports."""
    values = {h: "\\N" for h in HEADER_34}
    values.update({"交易币种": "人民币", "交易是否成功": "成功", "现金标志": "转账", "查询反馈结果原因": "-"})
    values.update(kw)
    return [f"{values[h]}\t" for h in HEADER_34]


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "gb18030",
              title: str | None = None, tab_header: bool = True) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    if title:
        w.writerow([title])
    w.writerow([f"{h}\t" if tab_header else h for h in header])
    w.writerows(rows)
    data = buf.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    if encoding == "utf-8-sig":
        path.write_bytes(data.encode("utf-8-sig"))
    else:
        path.write_bytes(data.encode(encoding))
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[object]], title: str | None = None) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def icbc_statement(folder: Path) -> Path:
    """张伟's 中国工商银行 statement: pays 李娜 (农业银行), receives from 王芳, withdraws cash."""
    rows = [
        row34(交易卡号=ZHANG["card"], 交易账号=ZHANG["acct"], 账户开户名称=ZHANG["name"], 开户人证件号码=ZHANG["id"],
              交易时间="2023-03-01 10:15:30", 交易金额="5,000.00", 交易余额="12000.00", 收付标志="出",
              交易对手账卡号=LI["card"], 对手户名=LI["name"], 对手开户银行="中国农业银行", 摘要说明="转账",
              IP地址="183.14.22.101", MAC地址="3C-97-0E-12-AB-CD", 交易流水号="ICBC20230301000123", 交易类型="网银转账"),
        row34(交易卡号=ZHANG["card"], 交易账号=ZHANG["acct"], 账户开户名称=ZHANG["name"], 开户人证件号码=ZHANG["id"],
              交易时间="2023-03-01 22:40:05", 交易金额="800.00", 交易余额="12800.00", 收付标志="进",
              交易对手账卡号=WANG["card"], 对手户名=WANG["name"], 对手开户银行="中国建设银行", 摘要说明="红包",
              交易流水号="ICBC20230301000456", 交易类型="手机银行"),
        row34(交易卡号=ZHANG["card"], 交易账号="", 账户开户名称=ZHANG["name"], 开户人证件号码=ZHANG["id"],
              交易时间="20230302093000", 交易金额="2000", 交易余额="10800.00", 收付标志="出", 现金标志="现金",
              摘要说明="ATM取款", 交易流水号="ICBC20230302000789", 交易类型="ATM"),
    ]
    return write_csv(folder / "中国工商银行交易明细信息.csv", HEADER_34, rows)


def abc_statement(folder: Path) -> Path:
    """李娜's 中国农业银行 statement: the same 5,000 from 张伟, written with his account number and a suffix."""
    rows = [
        row34(交易卡号="", 交易账号=LI["card"], 账户开户名称=LI["name"], 开户人证件号码=LI["id"],
              交易时间="2023-03-01 10:15:30", 交易金额="5000.00", 交易余额="5300.00", 收付标志="进",
              交易对手账卡号=ZHANG["acct"] + "_156", 对手户名=ZHANG["name"], 对手开户银行="中国工商银行",
              摘要说明="转账", 交易流水号="ABC88812301", 交易类型="跨行转入"),
        row34(交易卡号=LI["card"], 交易账号=LI["acct"], 账户开户名称=LI["name"], 开户人证件号码=LI["id"],
              交易时间="2023-03-01 10:20:11", 交易金额="4,990.00", 交易余额="310.00", 收付标志="出",
              交易对手账卡号=WANG["card"], 对手户名=WANG["name"], 对手开户银行="中国建设银行", 摘要说明="货款",
              交易流水号="ABC88812302", 交易类型="网银转账"),
    ]
    return write_csv(folder / "中国农业银行交易明细信息.csv", HEADER_34, rows)


def account_files(folder: Path) -> list[Path]:
    icbc = write_csv(folder / "中国工商银行账户信息.csv", ACCOUNT_HEADER, [[f"{v}\t" for v in [
        ZHANG["name"], ZHANG["id"], ZHANG["card"], ZHANG["acct"], "2015-06-18", "10800.00", "10800.00", "人民币",
        "0200001", "中国工商银行深圳福田支行", "正常", "钞", "\\N", "个人结算账户", "中国工商银行", "183.14.22.101"]]])
    abc = write_csv(folder / "中国农业银行账户信息.csv", ACCOUNT_HEADER, [[f"{v}\t" for v in [
        LI["name"], LI["id"], LI["card"], LI["acct"], "2019-11-02", "310.00", "310.00", "人民币",
        "4410", "中国农业银行东莞南城支行", "正常", "钞", "-", "个人结算账户", "中国农业银行", "113.88.1.7"]]])
    persons = write_csv(folder / "人员信息.csv", PERSON_HEADER, [
        [f"{v}\t" for v in [ZHANG["name"], "居民身份证", ZHANG["id"], "-", "广东省深圳市福田区福华路18号", "-", "-",
                            "13800138000", "深圳市某贸易有限公司"]],
        [f"{v}\t" for v in [LI["name"], "居民身份证", LI["id"], "-", "广东省东莞市南城区宏图路3号", "-", "-",
                            "13912345678", "\\N"]],
    ])
    return [icbc, abc, persons]


def request_folder(root: Path, name: str = "任务流水号202303150001") -> Path:
    folder = root / name
    icbc_statement(folder)
    abc_statement(folder)
    account_files(folder)
    return folder
