"""A return workbook whose totals are the seed's campaign figures (issue 13), written with openpyxl.

336 cases (14 部督, 29 省督), 261 gangs, 1,578 distinct persons under coercive measures (some with
two or three measures), 55 platforms, 2,700,000,000.00 yuan seized or frozen as the exact sum of
amounts with fen — some typed as numbers, some as text such as ``1,234.56元``. A title row sits above
the headers of one sheet, some headers are synonyms, and a few bad rows must be quarantined without
touching the totals.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

from chainbreaker.core.model.identifiers import ResidentID

SEED = {"cases": 336, "cases_ministry": 14, "cases_province": 29, "gangs": 261, "persons_measures": 1578,
        "platforms": 55, "funds_seized_frozen": "2700000000.00"}
UNITS = ("昆明市公安局", "曲靖市公安局", "玉溪市公安局", "红河州公安局", "西双版纳州公安局", "德宏州公安局",
         "临沧市公安局", "普洱市公安局")
BAD_ROWS = 5  # rows below that must be quarantined


def resident_id(n: int) -> str:
    birth = dt.date(1970, 1, 1) + dt.timedelta(days=(n * 37) % 12000)
    first17 = f"530102{birth:%Y%m%d}{n % 1000:03d}"
    return first17 + ResidentID.check_digit(first17)


def _day(rng: random.Random) -> dt.date:
    return dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(0, 304))  # 2025-01-01 .. 2025-10-31


def amounts(rng: random.Random, total: Decimal, n: int) -> list[Decimal]:
    """``n`` positive amounts with fen that add up to exactly ``total``."""
    parts = [Decimal(rng.randrange(100_000, 20_000_000_00)) / 100 for _ in range(n - 1)]
    scale = (total * Decimal("0.9")) / sum(parts)
    parts = [(p * scale).quantize(Decimal("0.01")) for p in parts]
    return [*parts, total - sum(parts)]


def build(path: Path, *, seed: int = 13) -> Path:
    rng = random.Random(seed)
    wb = Workbook()
    ws = wb.active
    ws.title = "案件"
    ws.append(["2025年1-10月打击跨境赌博战果统计表"])  # a title row above the headers
    ws.append(["案号", "案件名称", "督办级别", "立案时间", "承办单位"])  # header synonyms
    levels = ["部督"] * 14 + ["省督"] * 29 + ["市督"] * 60 + ["无"] * (336 - 14 - 29 - 60)
    cases = []
    for i, level in enumerate(levels):
        number = f"YN2025-{i + 1:04d}"
        cases.append(number)
        day = _day(rng)
        ws.append([number, f"“{i + 1}号”跨境网络赌博案", level if i % 7 else ("公安部督办" if level == "部督" else level),
                   day if i % 3 else day.strftime("%Y年%m月%d日"), UNITS[i % len(UNITS)]])
    ws.append(["YN2025-BAD1", "坏日期案", "无", "2025-13-45", UNITS[0]])  # bad: impossible date

    g = wb.create_sheet("团伙")
    g.append(["团伙编号", "案件编号", "团伙名称", "打掉日期"])
    for i in range(261):
        g.append([f"TH-{i + 1:04d}", cases[i % len(cases)], f"第{i + 1}号团伙", _day(rng)])
    g.append(["TH-BAD1", "YN2099-0001", "无主团伙", "2025-03-01"])  # bad: unknown case

    m = wb.create_sheet("强制措施")
    m.append(["身份证号码", "姓名", "案件编号", "措施", "日期"])
    for n in range(1578):
        pid, case, first = resident_id(n), cases[n % len(cases)], _day(rng)
        m.append([pid, f"嫌疑人{n}", case, "刑拘" if n % 2 else "刑事拘留", first])
        if n % 4 == 0:  # several measures for one person: still one person
            m.append([pid, f"嫌疑人{n}", case, "逮捕", first + dt.timedelta(days=30)])
        if n % 50 == 0:
            m.append([pid, f"嫌疑人{n}", case, "取保候审", first + dt.timedelta(days=60)])
    m.append([resident_id(1)[:-1] + ("0" if resident_id(1)[-1] != "0" else "1"), "校验位错", cases[0], "逮捕", "2025-02-02"])

    p = wb.create_sheet("涉案平台")
    p.append(["平台名称", "案件编号", "捣毁日期"])
    for i in range(55):
        p.append([f"平台{i + 1:02d}.example", cases[(i * 5) % len(cases)], _day(rng)])

    z = wb.create_sheet("扣押冻结")
    z.append(["案件编号", "类型", "金额(元)", "日期"])
    for i, amount in enumerate(amounts(rng, Decimal(SEED["funds_seized_frozen"]), 420)):
        cell: object = float(amount) if i % 3 else f"{amount:,}元"
        z.append([cases[i % len(cases)], "冻结" if i % 2 else "扣押", cell, _day(rng)])
    z.append([cases[0], "冻结", "1000.005", "2025-05-05"])  # bad: finer than a fen
    z.append([cases[0], "没收", "1000", "2025-05-05"])  # bad: unknown type
    wb.create_sheet("备注").append(["本表由市局汇总"])
    wb.save(path)
    return path
