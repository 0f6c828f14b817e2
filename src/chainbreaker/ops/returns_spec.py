"""What the monthly returns (月报战果统计表) look like: sheets, headers and their synonyms, and the
parsers of their cells. Each parser returns ``(value, None)`` or ``(None, reason_code)``; none raises
on user data.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from chainbreaker.core.ingest.values import parse_date
from chainbreaker.core.model.identifiers import ResidentID
from chainbreaker.ops.casework_models import MEASURES

MAX_YUAN = Decimal("9999999999999999.99")


@dataclass(frozen=True)
class Column:
    header: str  # the header written by ``ops template``
    field: str
    required: bool
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class SheetSpec:
    name: str
    entity: str
    columns: tuple[Column, ...]
    synonyms: tuple[str, ...] = ()


SHEETS: tuple[SheetSpec, ...] = (
    SheetSpec("案件", "case", (
        Column("案件编号", "case_number", True, ("案号", "案件号", "案件编码")),
        Column("案件名称", "name", True, ("案名", "案件")),
        Column("督办级别", "supervision", False, ("督办", "督办类别", "督办等级", "挂牌督办")),
        Column("立案日期", "opened_on", True, ("立案时间", "立案日")),
        Column("主办单位", "unit", True, ("承办单位", "办案单位", "主侦单位")),
    ), ("案件信息", "案件表", "立案")),
    SheetSpec("团伙", "gang", (
        Column("团伙编号", "gang_number", True, ("团伙号", "团伙编码")),
        Column("案件编号", "case_number", True, ("案号", "案件号", "所属案件编号")),
        Column("团伙名称", "name", False, ("团伙",)),
        Column("打掉日期", "broken_on", True, ("打掉时间", "打掉日")),
    ), ("犯罪团伙", "团伙信息")),
    SheetSpec("强制措施", "measure", (
        Column("身份证号", "id_number", True, ("身份证号码", "公民身份号码", "证件号码", "身份证")),
        Column("姓名", "name", False, ("人员姓名", "嫌疑人姓名")),
        Column("案件编号", "case_number", True, ("案号", "案件号", "所属案件编号")),
        Column("措施", "measure", True, ("强制措施", "措施类型", "强制措施类型")),
        Column("日期", "taken_on", True, ("采取日期", "措施日期", "执行日期")),
        Column("团伙编号", "gang_number", False, ("所属团伙编号", "所属团伙")),
    ), ("人员", "采取强制措施", "强制措施人员")),
    SheetSpec("涉案平台", "platform", (
        Column("平台名称", "name", True, ("平台", "网站名称", "赌博平台")),
        Column("案件编号", "case_number", True, ("案号", "案件号", "所属案件编号")),
        Column("捣毁日期", "taken_down_on", True, ("捣毁时间", "打掉日期")),
    ), ("平台", "捣毁平台", "赌博平台")),
    SheetSpec("扣押冻结", "seizure", (
        Column("案件编号", "case_number", True, ("案号", "案件号", "所属案件编号")),
        Column("类型", "kind", True, ("扣押冻结类型", "资金类型")),
        Column("金额（元）", "amount", True, ("金额", "金额(元)", "涉案金额", "金额元", "扣押冻结金额")),
        Column("日期", "on_date", True, ("扣押冻结日期", "冻结日期", "扣押日期")),
    ), ("涉案资金", "扣押冻结资金", "资金")),
)

LEVEL_SYNONYMS = {
    "部督": "部督", "公安部督办": "部督", "部级督办": "部督", "部挂牌督办": "部督",
    "省督": "省督", "省厅督办": "省督", "省级督办": "省督", "省挂牌督办": "省督",
    "市督": "市督", "市局督办": "市督", "市级督办": "市督",
    "": "无", "无": "无", "否": "无", "-": "无", "—": "无", "/": "无", "非督办": "无",
}
MEASURE_SYNONYMS = {m: m for m in MEASURES} | {
    "刑拘": "刑事拘留", "拘留": "刑事拘留", "批捕": "逮捕", "批准逮捕": "逮捕", "执行逮捕": "逮捕",
    "取保": "取保候审", "监居": "监视居住", "指居": "指定居所监视居住",
}
KIND_SYNONYMS = {"扣押": "扣押", "查扣": "扣押", "扣押资金": "扣押", "冻结": "冻结", "冻结资金": "冻结",
                 "止付冻结": "冻结"}

REASONS = {
    "required_missing": ("必填项为空", "a required cell is empty"),
    "text_too_long": ("文字过长", "text too long"),
    "date_invalid": ("日期无法识别（应为 2025-10-01 之类）", "date not recognised (expected e.g. 2025-10-01)"),
    "level_invalid": ("督办级别无法识别（可选：部督、省督、市督、无）", "supervision level not recognised (部督/省督/市督/无)"),
    "measure_invalid": ("强制措施类型无法识别", "coercive measure not recognised"),
    "kind_invalid": ("类型应为 扣押 或 冻结", "type must be 扣押 or 冻结"),
    "amount_invalid": ("金额无法识别", "amount not recognised"),
    "amount_negative": ("金额为负数或零", "amount is zero or negative"),
    "amount_fraction": ("金额精度超过分（小数多于两位）", "amount finer than a fen (more than two decimals)"),
    "id_invalid": ("身份证号无效（长度、出生日期或校验位不符）", "resident ID invalid (length, birth date or check digit)"),
    "case_unknown": ("案件编号在库中和本表“案件”页中都不存在", "case number is neither in the database nor in sheet 案件"),
    "gang_unknown": ("团伙编号在库中和本表“团伙”页中都不存在", "gang number is neither in the database nor in sheet 团伙"),
    "duplicate_conflict": ("与本表中同一编号的另一行内容矛盾", "contradicts another row with the same key in this workbook"),
}


def norm_header(text: Any) -> str:
    """Headers as units write them: spaces, full-width brackets and a trailing asterisk ignored."""
    s = "" if text is None else str(text)
    s = s.replace("（", "(").replace("）", ")").replace("*", "").replace("＊", "")
    return re.sub(r"\s+", "", s)


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_day(value: Any) -> tuple[dt.date | None, str | None]:
    """Excel date cells, ``2025-10-01``, ``2025/10/1``, ``2025年10月1日``, ``20251001``, Excel serials."""
    if isinstance(value, dt.datetime):
        return value.date(), None
    if isinstance(value, dt.date):
        return value, None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 19000101 <= value <= 21001231 and float(value).is_integer():
            return parse_day(str(int(value)))
        if 1 <= value < 80000:  # an Excel serial day number (1900 date system)
            return dt.date(1899, 12, 30) + dt.timedelta(days=int(value)), None
        return None, "date_invalid"
    text = cell_text(value)
    if not text:
        return None, "required_missing"
    day, err = parse_date(text)
    return (day, None) if day else (None, "date_invalid")


def parse_yuan(value: Any) -> tuple[Decimal | None, str | None]:
    """Exact yuan: numbers as typed (a float cell is read through its shortest text, never summed as float)."""
    if isinstance(value, bool):
        return None, "amount_invalid"
    if isinstance(value, int | float):
        text = repr(value) if isinstance(value, float) else str(value)
    else:
        text = cell_text(value)
    text = re.sub(r"[,，\s元¥￥]", "", text.translate(str.maketrans("０１２３４５６７８９．－", "0123456789.-")))
    if not text:
        return None, "required_missing"
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None, "amount_invalid"
    if not amount.is_finite() or abs(amount) > MAX_YUAN:
        return None, "amount_invalid"
    if amount <= 0:
        return None, "amount_negative"
    if amount != amount.quantize(Decimal("0.01")):
        return None, "amount_fraction"
    return amount.quantize(Decimal("0.01")), None


def parse_choice(value: Any, table: dict[str, str], reason: str) -> tuple[str | None, str | None]:
    text = re.sub(r"\s+", "", cell_text(value))
    return (table[text], None) if text in table else (None, reason)


def parse_id(value: Any) -> tuple[str | None, str | None]:
    text = cell_text(value)
    if not text:
        return None, "required_missing"
    cleaned = ResidentID.clean(text)
    return (cleaned, None) if cleaned else (None, "id_invalid")


_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parse_text(value: Any, limit: int) -> tuple[str | None, str | None]:
    """Text with control characters removed (they break Word and XML outputs later)."""
    text = _CONTROLS.sub("", cell_text(value)).strip()
    if len(text) > limit:
        return None, "text_too_long"
    return (text or None), None
