"""Parsing of amounts and times as they appear in Chinese bank, platform and travel exports.

Each parser returns ``(value, None)`` or ``(None, reason_code)``; it never raises on user data.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
_AMOUNT_JUNK = re.compile(r"[,，\s元¥￥圆RMBCNYrmbcny$]")
_FULLWIDTH = str.maketrans("０１２３４５６７８９．－＋，", "0123456789.-+,")
_CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999999999.99")

_DATE_PATTERNS = [
    (re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?[ T]*(\d{1,2})[:时](\d{1,2})(?:[:分](\d{1,2})(?:\.(\d{1,6}))?秒?)?$"), True),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})[ T]?(\d{2}):?(\d{2}):?(\d{2})(?:\.(\d{1,6}))?$"), True),
    (re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"), False),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), False),
]


def parse_amount(text: str | None) -> tuple[Decimal | None, str | None]:
    """``'1,234.50元'`` → Decimal('1234.50'); keeps the sign; rounds to fen."""
    if text is None:
        return None, "amount_missing"
    s = text.translate(_FULLWIDTH)
    s = _AMOUNT_JUNK.sub("", s)
    negative = False
    if s.startswith("(") and s.endswith(")"):
        s, negative = s[1:-1], True
    if s.endswith("-"):
        s, negative = s[:-1], True
    if not s:
        return None, "amount_missing"
    try:
        value = Decimal(s)
    except InvalidOperation:
        return None, "amount_invalid"
    if not value.is_finite() or abs(value) > MAX_AMOUNT:
        return None, "amount_invalid"
    value = value.quantize(_CENT, rounding=ROUND_HALF_UP)  # 四舍五入, as banks and DuckDB round
    return (-value if negative else value), None


def parse_time(text: str | None, tz: dt.tzinfo = SHANGHAI) -> tuple[dt.datetime | None, str | None]:
    """Parse the usual Chinese export formats; naive times are taken in ``tz``; result in UTC."""
    if text is None:
        return None, "time_missing"
    s = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)", s):
        try:
            value = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
            return value.astimezone(dt.UTC), None
        except ValueError:
            return None, "time_invalid"
    for pattern, has_time in _DATE_PATTERNS:
        m = pattern.match(s)
        if not m:
            continue
        g = m.groups()
        try:
            if has_time:
                frac = (g[6] or "0").ljust(6, "0")[:6]
                value = dt.datetime(int(g[0]), int(g[1]), int(g[2]), int(g[3]), int(g[4]), int(g[5] or 0), int(frac))
            else:
                value = dt.datetime(int(g[0]), int(g[1]), int(g[2]))
        except ValueError:
            return None, "time_impossible"
        if not 1980 <= value.year <= 2100:
            return None, "time_impossible"
        return value.replace(tzinfo=tz).astimezone(dt.UTC), None
    return None, "time_invalid"


def parse_date(text: str | None) -> tuple[dt.date | None, str | None]:
    value, err = parse_time(text, dt.UTC)
    return (value.date() if value else None), err


REASONS_ZH = {
    "amount_missing": "金额为空",
    "amount_invalid": "金额无法识别",
    "amount_zero": "金额为零",
    "time_missing": "交易时间为空",
    "time_invalid": "时间格式无法识别",
    "time_impossible": "日期不存在或超出范围",
    "time_future": "时间晚于导入时间",
    "bad_bytes": "含有无法解码的字节（文件编码错误或已损坏）",
    "too_many_fields": "字段数多于表头（行可能错位）",
    "too_few_fields": "字段数少于表头（文件可能被截断）",
    "line_too_long": "该行过长，未解析（文件可能已损坏，或多行缺少换行被连成一行）",
    "account_missing": "本方账号与卡号均为空",
    "counterparty_missing": "对手账号为空",
    "direction_unknown": "收付/借贷标志无法识别",
    "duplicate_row": "与同一文件中的另一行完全相同",
    "id_invalid": "证件号码无效",
    "key_missing": "主键为空",
    "duplicate_key": "主键重复",
    "file_unusable": "文件无法识别或读取（整个文件未导入）",
    "txn_failed": "交易未成功（交易是否成功为否/失败）",
}


def reason_zh(code: str) -> str:
    return REASONS_ZH.get(code, code)


def register_reasons(reasons: dict[str, str]) -> None:
    """Let a chain add its own quarantine reason codes (existing codes keep their wording)."""
    for code, zh in reasons.items():
        REASONS_ZH.setdefault(code, zh)
