"""One gambling operation across the four chains, as small files written by the test (never checked in).

* tech: a gambling page on a loopback server shows the payee card ``COLLECT`` (收款卡);
* funds: 调单 statements: many bettors pay ``COLLECT`` at night, ``COLLECT`` forwards to the settlement
  card ``SETTLE`` within minutes; ``SETTLE``'s account file names its holder 王老板 (``BOSS_ID``);
* promotion: the seized platform 金沙 has 王老板 (``BOSS_ID``) as its top agent with a downline whose
  deposits went to ``COLLECT``;
* people: 王老板 left for 柬埔寨 and has not come back (滞留);
* and someone unrelated (``OTHER_ID``) with a card, a trip and nothing else.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from chainbreaker.core.workspace import Workspace
from ingest_bank.builders import ACCOUNT_HEADER, HEADER_34, row34, write_csv

COLLECT = "6222021001112220001"
SETTLE = "6228480012345670002"
BOSS_ID = "110105198001010016"
BOSS_NAME = "王老板"
BOSS_PHONE = "13800138000"
OTHER_ID = "440524198801010011"
OTHER_CARD = "6217000010009990003"
PLATFORM = "金沙"
BETTORS = [f"62170000100012{i:05d}" for i in range(30)]


@dataclass
class Scenario:
    ws: Workspace
    site_url: str
    folder: Path


def _fix_id(first17: str) -> str:
    from chainbreaker.core.model.identifiers import ResidentID

    return first17 + ResidentID.check_digit(first17)


def bank_files(folder: Path) -> None:
    """Statements of COLLECT (night-time fan-in from 30 bettors, fast forwarding to SETTLE) and SETTLE."""
    rows, settle_rows = [], []
    base = dt.datetime(2026, 3, 2, 22, 0)
    n = 0
    for day in range(6):
        for i, bettor in enumerate(BETTORS):
            when = base + dt.timedelta(days=day, minutes=i * 3)
            amount = 5000 + i * 100
            n += 1
            rows.append(row34(交易卡号=COLLECT, 账户开户名称="李四", 交易时间=when.strftime("%Y-%m-%d %H:%M:%S"),
                              交易金额=f"{amount}.00", 收付标志="进", 交易对手账卡号=bettor, 对手户名=f"客户{i}",
                              交易流水号=f"C{n:06d}", 交易类型="网银转账"))
        out_at = base + dt.timedelta(days=day, hours=1, minutes=40)
        total = sum(5000 + i * 100 for i in range(len(BETTORS)))
        n += 1
        rows.append(row34(交易卡号=COLLECT, 账户开户名称="李四", 交易时间=out_at.strftime("%Y-%m-%d %H:%M:%S"),
                          交易金额=f"{total}.00", 收付标志="出", 交易对手账卡号=SETTLE, 对手户名=BOSS_NAME,
                          交易流水号=f"C{n:06d}", 交易类型="网银转账", IP地址="103.45.67.89"))
        settle_rows.append(row34(交易卡号=SETTLE, 账户开户名称=BOSS_NAME, 开户人证件号码=BOSS_ID,
                                 交易时间=out_at.strftime("%Y-%m-%d %H:%M:%S"), 交易金额=f"{total}.00", 收付标志="进",
                                 交易对手账卡号=COLLECT, 对手户名="李四", 交易流水号=f"C{n:06d}", 交易类型="网银转账"))
    write_csv(folder / "中国工商银行交易明细信息.csv", HEADER_34, rows)
    write_csv(folder / "中国农业银行交易明细信息.csv", HEADER_34, settle_rows)
    write_csv(folder / "中国农业银行账户信息.csv", ACCOUNT_HEADER, [[f"{v}\t" for v in [
        BOSS_NAME, BOSS_ID, SETTLE, SETTLE, "2019-06-18", "10.00", "10.00", "人民币", "0200001", "福田支行", "正常",
        "钞", "\\N", "个人结算账户", "中国农业银行", "103.45.67.89"]]])
    write_csv(folder / "中国建设银行交易明细信息.csv", HEADER_34, [
        row34(交易卡号=OTHER_CARD, 账户开户名称="赵无关", 开户人证件号码=OTHER_ID, 交易时间="2026-03-03 10:00:00",
              交易金额="300.00", 收付标志="出", 交易对手账卡号="6217000010008880004", 对手户名="房东", 交易流水号="X1")])


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def platform_files(folder: Path) -> None:
    """金沙's members (王老板 A001 on top, two agents, downline players), deposits into COLLECT, bets."""
    members = [["A001", "", "wanglaoban", BOSS_NAME, BOSS_ID, BOSS_PHONE, SETTLE, "2025-01-01 10:00:00"]]
    for a in range(2):
        agent = f"B{a:03d}"
        members.append([agent, "A001", f"agent{a}", f"代理{a}", _fix_id(f"32010219900101{a:02d}1"), "", "",
                        "2025-02-01 10:00:00"])
        for p in range(6):
            members.append([f"P{a}{p:02d}", agent, f"player{a}{p}", f"玩家{a}{p}", "", "", BETTORS[a * 6 + p],
                            "2025-03-01 10:00:00"])
    _write(folder / "members.csv", ["会员ID", "上级ID", "会员账号", "真实姓名", "身份证号", "手机号", "银行卡号", "注册时间"],
           members)
    deposits, bets = [], []
    n = 0
    for m in members[3:]:
        if not m[0].startswith("P"):
            continue
        for d in range(4):
            n += 1
            deposits.append([f"D{n:05d}", m[0], "20000.00", "银行卡", COLLECT, "成功",
                             f"2026-03-0{2 + d} 22:{n % 60:02d}:00"])
            bets.append([f"O{n:05d}", m[0], "百家乐", f"2026030{2 + d}", "20000.00", "19000.00",
                         f"2026-03-0{2 + d} 23:{n % 60:02d}:00"])
    _write(folder / "deposits.csv", ["订单号", "会员ID", "充值金额", "支付方式", "收款账号", "状态", "充值时间"], deposits)
    _write(folder / "bets.csv", ["注单号", "会员ID", "游戏名称", "期号", "投注金额", "派彩金额", "投注时间"], bets)


def travel_files(folder: Path) -> None:
    """王老板 left for 柬埔寨 in 2025 and never came back; 赵无关 went to 日本 and came back."""
    from chainbreaker.synth.travel import CROSSING_HEADER

    def row(name: str, idn: str, doc: str, when: str, direction: str, country: str) -> list[str]:
        return [name, "中国", "男", idn, "普通护照", doc, "", when, "昆明长水机场", "", country, direction, "航空", "",
                "", "云南省昆明市"]

    _write(folder / "出入境记录.csv", CROSSING_HEADER, [
        row(BOSS_NAME, BOSS_ID, "E90000001", "2025-05-01 08:00:00", "出境", "柬埔寨"),
        row("赵无关", OTHER_ID, "E90000002", "2025-06-01 08:00:00", "出境", "日本"),
        row("赵无关", OTHER_ID, "E90000002", "2025-06-08 08:00:00", "入境", "日本")])


def page(card: str) -> bytes:
    return (f"<html><head><title>金沙娱乐 充值中心</title></head><body>真人视讯 百家乐 电子游艺 老虎机 体育投注 首存送彩金 "
            f"无限返水<form><input name='amount'><button>立即存款</button></form>"
            f"<p>收款人：李四 收款卡号：{card}</p></body></html>").encode()


def build(root: Path) -> Scenario:
    """Write the files, run every chain on them (real ingest/screen/analyze/scan), return the workspace."""
    from chainbreaker.chains.funds.bank.service import ingest_bank
    from chainbreaker.chains.funds.screen import screen
    from chainbreaker.chains.people.analyze import analyze as analyze_travel
    from chainbreaker.chains.people.ingest import ingest_travel
    from chainbreaker.chains.promotion.analyze import analyze as analyze_platform
    from chainbreaker.chains.promotion.ingest import ingest_platform
    from chainbreaker.chains.tech.scan import scan
    from support.kitserver import RawServer

    for d in ("bank", "platform", "travel"):
        (root / d).mkdir(parents=True)
    bank_files(root / "bank")
    platform_files(root / "platform")
    travel_files(root / "travel")
    ws = Workspace(root / "ws")
    ingest_bank(ws, [root / "bank"], progress=False, workers=1)
    screen(ws)
    ingest_platform(ws, root / "platform", PLATFORM)
    analyze_platform(ws)
    ingest_travel(ws, [root / "travel"])
    analyze_travel(ws, dt.date(2026, 6, 1))
    server = RawServer({"/": (200, {"Content-Type": "text/html; charset=utf-8"}, page(COLLECT))})
    try:
        url = server.url("/")
        scan(ws, [url], own_sites=True)
    finally:
        server.close()
    return Scenario(ws, url, root)
