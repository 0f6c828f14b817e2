"""Parsing of amounts and times as they appear in Chinese bank, platform and travel exports.

Each parser returns ``(value, None)`` or ``(None, reason_code)``; it never raises on user data.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from chainbreaker.core.timefmt import configured_zone

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


def unwrap_excel_text(text: str) -> str:
    """``="6222…"`` (Excel's way to keep a long number as text) → ``6222…``; ``""`` inside → ``"``.

    The wrapper only told Excel to show the inner text as text; the inner text is the value. A value
    that starts with ``=``/``+``/``-``/``@`` is kept as data here and neutralised again by every
    writer (``chainbreaker.core.exports.neutralise``), so no output ever holds it as a live formula.
    """
    if len(text) >= 3 and text.startswith('="') and text.endswith('"'):
        inner = text[2:-1]
        if '"' in inner.replace('""', ""):
            return text  # not one Excel string literal (e.g. ="a"&"b"): keep the text as it came
        return inner.replace('""', '"').strip()
    return text


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


# A source time that carries its own offset keeps it: ISO 8601 with ``T`` or a space, optional
# seconds and fraction, ``Z``/``UTC`` or ``+08:00``/``+0800``/``+08`` (a space before it allowed).
OFFSET_TIME = re.compile(
    r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?"
    r"\s*(Z|UTC|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)$")


# The same shape for SQL (DuckDB regexp), used by the vectorised bank and platform parsers.
OFFSET_TIME_SQL = r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}[T ]\d{1,2}:\d{2}(:\d{2}(\.\d{1,6})?)?\s*(Z|UTC|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)$"


def offset_time_sql(c: str) -> str:
    """SQL: does the text in column ``c`` carry its own UTC offset (:data:`OFFSET_TIME`)?"""
    return f"regexp_matches({c}, '{OFFSET_TIME_SQL}')"


def cast_offset_time_sql(c: str) -> str:
    """SQL: text ``c`` with an offset (``Z``, ``UTC``, ``+08:00``, ``+0800``, `` +08``) as TIMESTAMPTZ."""
    return f"TRY_CAST(regexp_replace(regexp_replace({c}, '\\s*(Z|UTC)$', '+00:00'), '\\s+([+-])', '\\1') AS TIMESTAMPTZ)"


def _offset(text: str) -> dt.timezone:
    if text in ("Z", "UTC"):
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
    return dt.timezone(sign * dt.timedelta(minutes=minutes))


def parse_time(text: str | None, tz: dt.tzinfo | None = None) -> tuple[dt.datetime | None, str | None]:
    """Parse the usual Chinese export formats; result in UTC.

    A time without an offset is wall-clock time of ``tz`` (default: the configured zone, setting
    ``timezone``, 北京时间 unless changed); a time with an offset keeps it. A wall-clock time that
    happens twice (a fall-back hour) is the later instant, as in the DuckDB parsers of bank ingest.
    """
    if text is None:
        return None, "time_missing"
    s = text.strip()
    m = OFFSET_TIME.match(s)
    if m:
        g = m.groups()
        try:
            frac = (g[6] or "0").ljust(6, "0")[:6]
            value = dt.datetime(int(g[0]), int(g[1]), int(g[2]), int(g[3]), int(g[4]), int(g[5] or 0), int(frac),
                                tzinfo=_offset(g[7]))
        except ValueError:
            return None, "time_impossible"
        if not 1980 <= value.year <= 2100:
            return None, "time_impossible"
        return value.astimezone(dt.UTC), None
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
        zone = tz if tz is not None else configured_zone()
        local = value.replace(tzinfo=zone)
        later = local.replace(fold=1)
        if (later.utcoffset() or dt.timedelta()) < (local.utcoffset() or dt.timedelta()):
            # a wall-clock time the zone shows twice (the hour after a fall-back: Shanghai 1986–1991, any DST
            # zone): the later instant, as the vectorised parsers (DuckDB/ICU) read it; a skipped time keeps
            # fold 0 (the offset before the change), which is also how they read it
            local = later
        return local.astimezone(dt.UTC), None
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
