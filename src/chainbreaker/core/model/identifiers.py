"""Typed identifiers shared by ingest, tip-text extraction, web indicators and entity resolution.

Every class offers ``clean(text) -> str | None`` (a canonical form, or None when the text cannot be
one) and ``validate(text) -> (ok, reason)``; neither ever raises on bad data. Where a value can be
pulled out of free text, ``find_all(text)`` returns the canonical values found, in order.

Checks that are signals rather than gates (the Luhn digit of a bank card, the EIP-55 case of an
Ethereum address) are exposed separately so that callers can weigh them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import re
import unicodedata
from functools import lru_cache
from typing import Any, ClassVar

from chainbreaker.core.errors import InputError

Result = tuple[bool, str | None]

# Characters that never belong in an identifier but survive copy-paste, web pages and Excel:
# zero-width space/joiners, word joiner, BOM, soft hyphen, bidi marks, variation selectors and
# the like. Spelled out (not ``\s`` or a Unicode category) so that the vectorised Arrow/RE2
# version in :func:`account_keys` matches exactly the same characters.
INVISIBLE = ("\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
             "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8")
WHITESPACE = "\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Dashes people type between digit groups; NFKC already maps full-width and small hyphen-minus.
DASHES = "\u2010-\u2015\u2212\ufe58"
_DROP = re.compile(f"[{INVISIBLE}{WHITESPACE}]+")
_INVISIBLE = re.compile(f"[{INVISIBLE}]+")
_DASH = re.compile(f"[{DASHES}]")
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９ＸｘＡＢＣＤＥＦａｂｃｄｅｆ", "0123456789XxABCDEFabcdef")


def _visible(text: str | None) -> str:
    """Free text with invisible characters removed (a zero-width space must not hide an identifier)."""
    return _INVISIBLE.sub("", text or "")


def squash(text: object) -> str:
    """NFKC (full-width digits and letters become ASCII), then invisible characters and spaces removed.

    Every identifier kind starts from this, so ``6222`` + U+200B + ``0000…``, ``６２２２ ００００…``
    and ``6222 0000…`` are one value.
    """
    if text is None:
        return ""
    s = _DROP.sub("", str(text))
    if not s.isascii():
        s = _DROP.sub("", unicodedata.normalize("NFKC", s))
    return s


_squash = squash


# ------------------------------------------------------------------ the base and its registry
class Identifier:
    """Base of the typed identifiers (标识符类型), registered by ``name`` (as followthemoney's property types).

    Subclasses implement :meth:`clean`; :meth:`validate` says why a value is not one (a reason code,
    never an exception); :meth:`find_all` pulls canonical values out of free text with ``PATTERN``.
    ``mask`` is the personal-data kind (:data:`chainbreaker.core.model.personal.KINDS`) a value of
    this type is masked as, or None when it is not masked by kind.
    """

    name: ClassVar[str]
    label_zh: ClassVar[str]
    mask: ClassVar[str | None] = None
    PATTERN: ClassVar[re.Pattern[str] | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name")
        if name is None:  # an intermediate base such as _LabelledHandle
            return
        if name in IDENTIFIERS:
            raise TypeError(f"identifier type {name!r} registered twice ({IDENTIFIERS[name].__name__}, {cls.__name__})")
        IDENTIFIERS[name] = cls

    @classmethod
    def clean(cls, text: object) -> str | None:
        """The canonical form of ``text``, or None when it cannot be one of this type."""
        raise NotImplementedError

    @classmethod
    def validate(cls, text: object) -> Result:
        """``(True, None)`` or ``(False, reason code)``; never raises."""
        return (True, None) if cls.clean(text) else (False, "format")

    @classmethod
    def is_valid(cls, text: object) -> bool:
        return cls.validate(text)[0]

    @classmethod
    def find_all(cls, text: str) -> list[str]:
        """Canonical values of this type found in free text, in order (none when there is no ``PATTERN``)."""
        if cls.PATTERN is None:
            return []
        found = []
        for m in cls.PATTERN.finditer(_visible(text)):
            raw = next((g for g in m.groups() if g), None) if m.groups() else m.group(0)
            if raw and (v := cls.clean(raw)):
                found.append(v)
        return found


IDENTIFIERS: dict[str, type[Identifier]] = {}


def identifier_type(name: str) -> type[Identifier]:
    """The identifier type registered as ``name`` (``resident_id``, ``bank_card``, ``mobile`` ...)."""
    try:
        return IDENTIFIERS[name]
    except KeyError:
        raise InputError(f"未知的标识符类型 {name}，可选：{'、'.join(sorted(IDENTIFIERS))}",
                         f"Unknown identifier type {name}; use one of: {', '.join(sorted(IDENTIFIERS))}") from None


# ------------------------------------------------------------ resident ID
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42",
    "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82", "83",
}


class ResidentID(Identifier):
    """PRC resident identity card number (公民身份号码, GB 11643-1999)."""

    name = "resident_id"
    label_zh = "公民身份号码"
    mask = "id_number"

    PATTERN = re.compile(r"(?<![0-9])([1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx])(?![0-9A-Za-z])")

    @staticmethod
    def check_digit(first17: str) -> str:
        total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
        return _ID_CHECK[total % 11]

    @staticmethod
    def normalise(text: object) -> str:
        """The text as an ID number is written canonically, valid or not: separators gone, upper case."""
        return _DASH.sub("", _squash(text)).replace("-", "").upper()

    @classmethod
    def key(cls, text: object) -> str | None:
        """The join key of an ID number: the canonical 18 digits when valid, else :meth:`normalise`.

        Used for 证件号码 columns, which also hold passports and damaged numbers that must not be lost.
        """
        return cls.clean(text) or cls.normalise(text) or None

    @classmethod
    def clean(cls, text: object) -> str | None:
        s = cls.normalise(text)
        if len(s) == 15 and s.isdigit():  # first-generation card: 6 region + YYMMDD + 3 seq
            first17 = s[:6] + "19" + s[6:]
            s = first17 + cls.check_digit(first17)
        ok, _ = cls.validate(s)
        return s if ok else None

    @classmethod
    def validate(cls, text: object) -> Result:
        s = cls.normalise(text)
        if len(s) == 15 and s.isdigit():
            s = s[:6] + "19" + s[6:]
            s = s + cls.check_digit(s)
        if len(s) != 18:
            return False, "length"
        if not s.isascii() or not s[:17].isdigit() or not (s[17].isdigit() or s[17] == "X"):
            return False, "characters"
        if s[:2] not in _PROVINCES:
            return False, "region"
        birth = cls._birth(s)
        if birth is None:
            return False, "birth_date"
        if birth > dt.date.today() or birth.year < 1880:
            return False, "birth_date"
        if cls.check_digit(s[:17]) != s[17]:
            return False, "check_digit"
        return True, None

    @staticmethod
    def _birth(s: str) -> dt.date | None:
        try:
            return dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
        except ValueError:
            return None

    @classmethod
    def birth_date(cls, text: object) -> dt.date | None:
        s = cls.clean(text)
        return cls._birth(s) if s else None

    @classmethod
    def gender(cls, text: object) -> str | None:
        s = cls.clean(text)
        return None if s is None else ("M" if int(s[16]) % 2 else "F")

    @classmethod
    def region(cls, text: object) -> str | None:
        s = cls.normalise(text)
        return s[:6] if len(s) >= 6 and s[:6].isdigit() else None

    @classmethod
    def find_all(cls, text: str) -> list[str]:
        return [v for m in cls.PATTERN.finditer(_visible(text)) if (v := cls.clean(m.group(1)))]


# -------------------------------------------------------- bank cards / accounts
def luhn_ok(digits: str) -> bool:
    if not digits.isdigit() or not digits:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# A few issuer prefixes, as a signal for reports; not a gate.
_BIN_PREFIXES = {
    "622202": "中国工商银行", "621226": "中国工商银行", "622848": "中国农业银行", "622700": "中国建设银行",
    "621700": "中国建设银行", "621661": "中国银行", "622588": "招商银行", "622260": "交通银行",
    "621799": "中国邮政储蓄银行", "622609": "中国民生银行",
}


class BankCard(Identifier):
    """Bank card number: 12–19 digits. Luhn is a signal (`luhn_ok`), not a gate."""

    name = "bank_card"
    label_zh = "银行卡号"
    mask = "card"

    PATTERN = re.compile(r"(?<![0-9])((?:62|4\d|5[1-5]|3[47])\d{10,17})(?![0-9])")

    @classmethod
    def clean(cls, text: object) -> str | None:
        s = _DASH.sub("", _squash(text)).replace("-", "")
        return s if s.isascii() and s.isdigit() and 12 <= len(s) <= 19 else None

    @classmethod
    def validate(cls, text: object) -> Result:
        s = _DASH.sub("", _squash(text)).replace("-", "")
        if not (s.isascii() and s.isdigit()):
            return False, "characters"
        if not 12 <= len(s) <= 19:
            return False, "length"
        return True, None

    @classmethod
    def luhn_ok(cls, text: object) -> bool:
        s = cls.clean(text)
        return bool(s) and luhn_ok(s)  # type: ignore[arg-type]

    @classmethod
    def network(cls, text: object) -> str | None:
        s = cls.clean(text) or ""
        if s.startswith("62"):
            return "UnionPay"
        if s.startswith("4"):
            return "Visa"
        if s[:2] in {"51", "52", "53", "54", "55"}:
            return "Mastercard"
        if s[:2] in {"34", "37"}:
            return "Amex"
        return None

    @classmethod
    def issuer(cls, text: object) -> str | None:
        s = cls.clean(text) or ""
        return _BIN_PREFIXES.get(s[:6])

    @classmethod
    def find_all(cls, text: str) -> list[str]:
        """Card-like digit runs; requires Luhn to keep false positives from free text low."""
        out = []
        for m in cls.PATTERN.finditer(_squash_keep_separators(text)):
            v = m.group(1)
            if 16 <= len(v) <= 19 and luhn_ok(v):
                out.append(v)
        return out


def _squash_keep_separators(text: str) -> str:
    # Cards in web pages are often written in groups of four: "6222 0212 3456 7890".
    text = _visible(text)
    return re.sub(r"(?<=\d)[ \-\u3000](?=\d)", "", _DASH.sub("-", text.translate(_FULLWIDTH_DIGITS)))


# Digit groups as people write card and account numbers: 6222-0000-1234-5678, 622202-1234567890123.
# Every group but the last has 3-6 digits and there are 12-25 digits in all; anything else with
# one separator after 8+ digits is a sub-account suffix (6222…_001, 0200…-156). Both patterns are
# ASCII-only and RE2-compatible: ``account_keys`` applies the same ones with Arrow.
ACCOUNT_GROUPS = r"^(?:[0-9]{3,6}-)+[0-9]{1,19}$"
ACCOUNT_SUFFIX = r"^([0-9]{8,})[_-]([0-9A-Za-z]{1,5})$"
ACCOUNT_TRIM = "'\"="
_GROUPS = re.compile(ACCOUNT_GROUPS)
_ACCOUNT_SUFFIX = re.compile(ACCOUNT_SUFFIX)


class AccountNumber(Identifier):
    """Bank account or payment-account number; `_xxx`/`-xxx` sub-account suffixes split off.

    Invisible characters, spaces and full-width forms are removed first (:func:`_squash`), and digit
    groups written with dashes (``6222-0000-1234-5678``) are joined, so every spelling of one
    account gives one key.
    """

    name = "account_number"
    label_zh = "银行账号"
    mask = "card"

    @staticmethod
    def split(text: object) -> tuple[str | None, str | None]:
        s = _DASH.sub("-", _squash(text)).strip(ACCOUNT_TRIM)
        if not s:
            return None, None
        if _GROUPS.match(s) and 12 <= len(s) - s.count("-") <= 25:
            return s.replace("-", ""), None
        m = _ACCOUNT_SUFFIX.match(s)
        if m:
            return m.group(1), m.group(2)
        return s, None

    @classmethod
    def clean(cls, text: object) -> str | None:
        base, _ = cls.split(text)
        if base is None or len(base) < 4 or len(base) > 64:
            return None
        return base

    @classmethod
    def suffix(cls, text: object) -> str | None:
        return cls.split(text)[1]

    @classmethod
    def validate(cls, text: object) -> Result:
        base, _ = cls.split(text)
        if base is None:
            return False, "empty"
        if len(base) < 4 or len(base) > 64:
            return False, "length"
        if not re.fullmatch(r"[0-9A-Za-z@._\-]+", base):
            return False, "characters"
        return True, None


# ------------------------------------------------------------------ phones
_MOBILE = re.compile(r"^(?:\+?86|0086)?(1[3-9]\d{9})$")


class Mobile(Identifier):
    """Mainland China mobile number (11 digits starting 13–19), optional +86 prefix."""

    name = "mobile"
    label_zh = "手机号码"
    mask = "phone"

    PATTERN = re.compile(r"(?<![0-9])(?:\+?86[\s-]?)?(1[3-9]\d(?:[\s-]?\d{4}){2})(?![0-9])")

    @classmethod
    def clean(cls, text: object) -> str | None:
        s = _DASH.sub("", _squash(text)).replace("-", "").replace("(", "").replace(")", "")
        m = _MOBILE.match(s)
        return m.group(1) if m and s.isascii() else None

    @classmethod
    def validate(cls, text: object) -> Result:
        s = _DASH.sub("", _squash(text)).replace("-", "")
        if not s:
            return False, "empty"
        return (True, None) if cls.clean(s) else (False, "format")

    @classmethod
    def find_all(cls, text: str) -> list[str]:
        return [v for m in cls.PATTERN.finditer(_visible(text)) if (v := cls.clean(m.group(1)))]


# --------------------------------------------------------------- network
class IPAddress(Identifier):
    name = "ip"
    label_zh = "IP 地址"
    PATTERN = re.compile(r"(?<![0-9.])((?:\d{1,3}\.){3}\d{1,3})(?![0-9.])")

    @classmethod
    def clean(cls, text: object) -> str | None:
        s = _squash(text).strip("[]")
        try:
            return str(ipaddress.ip_address(s))
        except ValueError:
            return None

    @classmethod
    def validate(cls, text: object) -> Result:
        return (True, None) if cls.clean(text) else (False, "format")

    @classmethod
    def is_public(cls, text: object) -> bool:
        s = cls.clean(text)
        return bool(s) and ipaddress.ip_address(s).is_global  # type: ignore[arg-type]

    @classmethod
    def find_all(cls, text: str) -> list[str]:
        return [v for m in cls.PATTERN.finditer(_visible(text)) if (v := cls.clean(m.group(1)))]


_MAC_PLACEHOLDERS = {"00:00:00:00:00:00", "FF:FF:FF:FF:FF:FF"}


class MACAddress(Identifier):
    """MAC address normalised to ``AA:BB:CC:DD:EE:FF``; all-zero/broadcast placeholders rejected."""

    name = "mac"
    label_zh = "MAC 地址"

    @staticmethod
    def _hex(text: object) -> str:
        return re.sub(r"[:\-.\s]", "", _squash(text)).upper()

    @classmethod
    def clean(cls, text: object) -> str | None:
        h = cls._hex(text)
        if len(h) != 12 or not re.fullmatch(r"[0-9A-F]{12}", h):
            return None
        mac = ":".join(h[i : i + 2] for i in range(0, 12, 2))
        return None if mac in _MAC_PLACEHOLDERS else mac

    @classmethod
    def validate(cls, text: object) -> Result:
        h = cls._hex(text)
        if len(h) != 12 or not re.fullmatch(r"[0-9A-F]{12}", h):
            return False, "format"
        if cls.clean(text) is None:
            return False, "placeholder"
        return True, None


# ------------------------------------------------------------------ crypto
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}


def b58decode(s: str) -> bytes | None:
    n = 0
    for ch in s:
        if ch not in _B58_INDEX:
            return None
        n = n * 58 + _B58_INDEX[ch]
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    pad = len(s) - len(s.lstrip("1"))
    return b"\x00" * pad + body


def b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    pad = len(data) - len(data.lstrip(b"\x00"))
    return "1" * pad + out


def _dsha(b: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()


def base58check_encode(version: bytes, payload: bytes) -> str:
    body = version + payload
    return b58encode(body + _dsha(body)[:4])


def _base58check(s: str) -> bytes | None:
    raw = b58decode(s)
    if raw is None or len(raw) < 5:
        return None
    body, check = raw[:-4], raw[-4:]
    return body if _dsha(body)[:4] == check else None


_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _bech32_polymod(values: list[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((top >> i) & 1) else 0
    return chk


def bech32_ok(addr: str) -> bool:
    if addr.lower() != addr and addr.upper() != addr:
        return False
    addr = addr.lower()
    pos = addr.rfind("1")
    if pos < 1 or pos + 7 > len(addr) or len(addr) > 90:
        return False
    hrp, data = addr[:pos], addr[pos + 1 :]
    if any(c not in _BECH32 for c in data):
        return False
    values = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp] + [_BECH32.index(c) for c in data]
    return _bech32_polymod(values) in (1, 0x2BC830A3)  # bech32 or bech32m


class CryptoAddress(Identifier):
    """TRON (base58check, version 0x41), Ethereum (0x + 40 hex) and Bitcoin addresses."""

    name = "crypto_address"
    label_zh = "虚拟货币地址"

    PATTERN = re.compile(
        r"(?<![0-9A-Za-z])(T[1-9A-HJ-NP-Za-km-z]{33}|0x[0-9a-fA-F]{40}|[13][1-9A-HJ-NP-Za-km-z]{25,34}|bc1[02-9ac-hj-np-z]{11,71})(?![0-9A-Za-z])"
    )

    @staticmethod
    def kind(text: object) -> str | None:
        s = _squash(text)
        if s.startswith("T") and len(s) == 34:
            body = _base58check(s)
            return "tron" if body is not None and len(body) == 21 and body[0] == 0x41 else None
        if re.fullmatch(r"0x[0-9a-fA-F]{40}", s):
            return "ethereum"
        if s[:1] in {"1", "3"} and 26 <= len(s) <= 35:
            body = _base58check(s)
            return "bitcoin" if body is not None and len(body) == 21 and body[0] in (0, 5) else None
        if s.lower().startswith("bc1") and bech32_ok(s):
            return "bitcoin"
        return None

    @classmethod
    def clean(cls, text: object) -> str | None:
        s = _squash(text)
        k = cls.kind(s)
        if k is None:
            return None
        return s.lower() if k == "ethereum" or s.lower().startswith("bc1") else s

    @classmethod
    def validate(cls, text: object) -> Result:
        s = _squash(text)
        if not s:
            return False, "empty"
        return (True, None) if cls.kind(s) else (False, "checksum_or_format")

    @classmethod
    def find_all(cls, text: str) -> list[str]:
        return [v for m in cls.PATTERN.finditer(_visible(text)) if (v := cls.clean(m.group(1)))]


# -------------------------------------------------------- handles and web
class Email(Identifier):
    name = "email"
    label_zh = "电子邮箱"
    PATTERN = re.compile(r"(?<![\w.+-])([\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")

    @classmethod
    def clean(cls, text: object) -> str | None:
        s = _squash(text).lower()
        return s if re.fullmatch(r"[\w.+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}", s) else None

    @classmethod
    def validate(cls, text: object) -> Result:
        return (True, None) if cls.clean(text) else (False, "format")

    @classmethod
    def find_all(cls, text: str) -> list[str]:
        return [v for m in cls.PATTERN.finditer(_visible(text)) if (v := cls.clean(m.group(1)))]


class _LabelledHandle(Identifier):
    """A handle that free text only reveals next to its label (QQ号：…, 微信：…)."""

    VALUE: ClassVar[re.Pattern[str]]

    @classmethod
    def clean(cls, text: object) -> str | None:
        s = _squash(text)
        return s if cls.VALUE.fullmatch(s) else None

    @classmethod
    def validate(cls, text: object) -> Result:
        return (True, None) if cls.clean(text) else (False, "format")

    @classmethod
    def find_all(cls, text: str) -> list[str]:
        if cls.PATTERN is None:
            return []
        return [m.group(1) for m in cls.PATTERN.finditer(_visible(text))]


class QQ(_LabelledHandle):
    """QQ number: 5–11 digits, no leading zero. In free text only next to a QQ label."""

    name = "qq"
    label_zh = "QQ 号"

    VALUE = re.compile(r"[1-9]\d{4,10}")
    PATTERN = re.compile(r"(?:QQ|qq|扣扣|企鹅)\s*(?:号|号码)?\s*[:：]?\s*([1-9]\d{4,10})(?!\d)")


class WeChat(_LabelledHandle):
    """WeChat id: 6–20 characters, starts with a letter. In free text only next to a WeChat label."""

    name = "wechat"
    label_zh = "微信号"

    VALUE = re.compile(r"[A-Za-z][-_A-Za-z0-9]{5,19}")
    PATTERN = re.compile(r"(?:微信|威信|薇信|VX|vx|wx|WX|wechat|WeChat)\s*(?:号)?\s*[:：]?\s*([A-Za-z][-_A-Za-z0-9]{5,19})")


class Telegram(Identifier):
    """Telegram handle from ``t.me/name``, ``telegram.me/name`` or ``@name`` next to a label."""

    name = "telegram"
    label_zh = "Telegram 账号"

    PATTERN = re.compile(r"(?:https?://)?(?:t|telegram)\.me/(?:joinchat/|\+)?([A-Za-z0-9_]{5,32})|(?:飞机|纸飞机|telegram|Telegram|TG|tg)\s*[:：]?\s*@([A-Za-z][A-Za-z0-9_]{4,31})")

    @classmethod
    def clean(cls, text: object) -> str | None:
        s = _squash(text)
        s = re.sub(r"^(?:https?://)?(?:t|telegram)\.me/", "", s).lstrip("@")
        return s.lower() if re.fullmatch(r"[A-Za-z0-9_+]{5,32}", s) else None

    @classmethod
    def validate(cls, text: object) -> Result:
        return (True, None) if cls.clean(text) else (False, "format")

    @classmethod
    def find_all(cls, text: str) -> list[str]:
        return [(m.group(1) or m.group(2)).lower() for m in cls.PATTERN.finditer(_visible(text))]


@lru_cache(maxsize=1)
def _tld_extractor():  # type: ignore[no-untyped-def]
    import tldextract

    # The bundled public-suffix snapshot: never download at run time.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class Domain(Identifier):
    """Host names and registrable domains, public-suffix aware (offline)."""

    name = "domain"
    label_zh = "域名"

    LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

    @classmethod
    def clean(cls, text: object) -> str | None:
        s = _squash(text).lower().rstrip(".")
        s = re.sub(r"^[a-z][a-z0-9+.-]*://", "", s).split("/")[0].split("?")[0].split("#")[0]
        s = s.rsplit("@", 1)[-1].split(":")[0]
        try:
            s = s.encode("idna").decode("ascii") if any(ord(c) > 127 for c in s) else s
        except UnicodeError:
            return None
        labels = s.split(".")
        if len(labels) < 2 or not all(cls.LABEL.match(lb) for lb in labels) or s.replace(".", "").isdigit():
            return None
        return s

    @classmethod
    def validate(cls, text: object) -> Result:
        s = cls.clean(text)
        if s is None:
            return False, "format"
        if cls.registrable(s) is None:
            return False, "public_suffix"
        return True, None

    @classmethod
    def registrable(cls, text: object) -> str | None:
        """The registrable domain (eTLD+1), or None for a bare public suffix such as ``co.za``."""
        s = cls.clean(text)
        if s is None:
            return None
        ext = _tld_extractor()(s)
        if not ext.suffix or not ext.domain:
            return None
        return f"{ext.domain}.{ext.suffix}"

    @classmethod
    def is_public_suffix(cls, text: object) -> bool:
        s = cls.clean(text) or _squash(text).lower()
        ext = _tld_extractor()(s)
        return not ext.domain and bool(ext.suffix)


class URL(Identifier):
    name = "url"
    label_zh = "网址"
    PATTERN = re.compile(r"https?://[^\s\"'<>()\]]+", re.IGNORECASE)

    @staticmethod
    def host(text: object) -> str | None:
        return Domain.clean(text) or IPAddress.clean(re.sub(r"^[a-z]+://", "", _squash(text)).split("/")[0].split(":")[0])

    @classmethod
    def clean(cls, text: object) -> str | None:
        s = _squash(text)
        if not re.match(r"^https?://", s, re.IGNORECASE):
            return None
        return s if cls.host(s) else None

    @classmethod
    def validate(cls, text: object) -> Result:
        return (True, None) if cls.clean(text) else (False, "format")

    @classmethod
    def find_all(cls, text: str) -> list[str]:
        return [v for m in cls.PATTERN.finditer(_visible(text)) if (v := cls.clean(m.group(0).rstrip(".,;")))]
