"""What a value IS: detection of personal data (个人信息识别) in columns and in free text.

Masking (``masking.py``) asks this module two questions about every column of a table:

- ``column_kind``: does the column as a whole carry one kind of personal data (``id_number``,
  ``passport``, ``card``, ``phone``, ``address``, ``name``)? Decided from the column name (a hint:
  ``PERSONAL_COLUMNS`` and header words in Chinese and English) and from a sample of its values
  checked with the validators of ``identifiers.py`` (resident ID check digit, mobile numbers, card
  numbers with Luhn or a card-network prefix, passport shapes, Chinese addresses).
- ``is_reference``: is it a hash or generated key (SHA-256, record ids) that must stay intact
  because evidence points at it?

Every other text column is free text: identifiers found inside it are masked in place with the
patterns below (``FREE_TEXT``), which are written so that RE2 (pyarrow, vectorised) and Python's
``re`` (single values) read them the same way. Neither engine looks around (RE2 cannot): each pattern captures
the character before and after the value, so a digit run inside a hash is never taken for an
identifier.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from chainbreaker.core.model.identifiers import BankCard, Mobile, ResidentID, luhn_ok
from chainbreaker.core.model.schemas import PERSONAL_COLUMNS

KINDS = ("name", "id_number", "passport", "card", "phone", "address")
KIND_ZH = {"name": "姓名", "id_number": "身份证号", "passport": "护照/证件号", "card": "银行卡/账号",
           "phone": "电话", "address": "地址"}

# Column names (English canonical names and Chinese source headers) that say what a column holds.
# Checked in this order; the first match wins. Exact names come from PERSONAL_COLUMNS.
_NAME_HINTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("id_number", re.compile(r"身份证|证件号|证照号|公民身份|id_?num|id_?no$|idcard|id_card|sfzh|holder_id|"
                             r"counterparty_id|kin_id|cert_?no", re.I)),
    ("passport", re.compile(r"护照|通行证|passport|doc_no|document_no", re.I)),
    ("phone", re.compile(r"手机|电话|联系方式|phone|mobile|^tel$|telephone", re.I)),
    ("address", re.compile(r"地址|住址|户籍|居住地|address|hukou|domicile", re.I)),
    ("card", re.compile(r"卡号|账号|帐号|账卡|银行卡|bank_?card|card_?no|account(?!_?(type|status|name|kind))|"
                        r"acct|loop_partner|payee|payer_acc", re.I)),
    ("name", re.compile(r"姓名|户名|开户名称|持卡人|联系人|^(real_|holder_|from_|to_|kin_|member_|cardholder_)?name$|"
                        r"^real_?name|^holder$", re.I)),
)

# Free text: (kind, pattern, replacement). The order matters: resident IDs first (an 18-digit ID is
# also a digit run a card pattern would take), then person keys, cards, phones, passports, addresses.
# RE2 has no look-around: each pattern captures the character before and after the value and puts
# it back. A digit or a lower-case hex letter next to a digit run means it is part of something else
# (a SHA-256 in evidence, a longer number) and not an identifier; anything else (Chinese, punctuation,
# "ID:") is a boundary. Neighbours separated by one character share it, hence two passes.
_B = "(^|[^0-9a-f])"
_E = "([^0-9a-f]|$)"
# (kind, guard, pattern, replacement): the pattern runs only on texts where the cheap guard matches.
FREE_TEXT: tuple[tuple[str, str, str, str], ...] = (
    ("id_number", r"[0-9]{15}",
     _B + r"([1-9][0-9]{5})(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])([0-9]{3}[0-9Xx])" + _E,
     r"\1\2********\3\4"),
    ("id_number", r"[0-9]{15}",
     _B + r"([1-9][0-9]{5})[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])([0-9]{3})" + _E, r"\1\2******\3\4"),
    ("id_number", r"[０-９]{12}", r"([０-９]{6})[０-９]{8}([０-９]{3}[０-９XxＸｘ])", r"\1********\2"),
    ("id_number", r"BADID:", r"(BADID:)[^\s\"',;\]\}]*", r"\1********"),
    ("passport", r"DOC:", r"(DOC:[A-Za-z?]{0,4}:)([^\s\"',;\]\}]{0,2})[^\s\"',;\]\}]*", r"\1\2****"),
    # 12 digits or more: cards (16-19), account numbers (corporate accounts run past 20), numbers run together
    ("card", r"[0-9]{12}", _B + r"([0-9]{4})[0-9]{4,}([0-9]{4})((?:_[0-9A-Za-z]{1,5})?)" + _E, r"\1\2********\3\4\5"),
    ("card", r"[0-9]{4}[ -][0-9]{4}", _B + r"([0-9]{4})(?:[ -]?[0-9]){4,11}[ -]?([0-9]{4})" + _E, r"\1\2********\3\4"),
    ("card", r"[０-９]{12}", r"([０-９]{4})[０-９]{4,11}([０-９]{4})", r"\1********\2"),
    ("phone", r"1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}",
     _B + r"((?:\+?86[ -]?)?1[3-9][0-9])[ -]?[0-9]{4}[ -]?([0-9]{4})" + _E, r"\1\2****\3\4"),
    ("phone", r"0[1-9][0-9]{1,2}-[0-9]{7}", _B + r"(0[1-9][0-9]{1,2})-[0-9]{3,4}([0-9]{4})" + _E, r"\1\2-****\3\4"),
    ("passport", r"[EGDSPeg][A-Za-z0-9][0-9]{7}", r"(^|[^0-9A-Za-z])([EGDSPeg][A-Za-z0-9])[0-9]{5}([0-9]{2})([^0-9A-Za-z]|$)",
     r"\1\2*****\3\4"),
    ("address", r"号", r"[\p{Han}A-Za-z0-9]{1,12}?(?:路|街|大道|巷|弄|胡同)[0-9０-９一二三四五六七八九十\-]+号", "****号"),
)
PASSES = 2  # neighbours separated by one character: the first pass takes the separator as its boundary
# A quick test that a text may hold anything FREE_TEXT masks (skips most columns cheaply).
FREE_TEXT_PREFILTER = r"[0-9０-９](?:[ -]?[0-9０-９]){6}|BADID:|DOC:|[EGDSPeg][A-Za-z0-9][0-9]{7}|号"

_HEX_KEY = re.compile(r"^[0-9a-f]{16,64}$")
_PERSON_KEY = re.compile(r"^(ID|DOC|BADID):")
_PASSPORT = re.compile(r"^(?:[EGDSP][A-Z]?[0-9]{7,8}|[CHMKL][0-9]{8,10})$")
# An address down to a house number (a township's name alone is not one: 某县某镇人民政府 is a title).
_ADDRESS = re.compile(r"[\u4e00-\u9fa5]{2,}(?:省|市|自治区|州|县|区|旗)[\u4e00-\u9fa5A-Za-z0-9\-（）()]*?"
                      r"(?:路|街|道|巷|弄|胡同|村|组|小区|社区|大厦)[\u4e00-\u9fa5A-Za-z\-]*?"
                      r"[0-9０-９一二三四五六七八九十百]+(?:号|栋|幢|室|楼|单元|组)")
_SEPARATORS = re.compile(r"[\s\-\u3000]")
SAMPLE = 2000
SHARE = 0.5  # share of a sample that decides a column's kind


def kind_for_name(name: str) -> str | None:
    """The kind of personal data a column or source header name says it holds, if any."""
    if name in PERSONAL_COLUMNS:
        return PERSONAL_COLUMNS[name]
    base = name.split(".")[-1]
    for kind, pattern in _NAME_HINTS:
        if pattern.search(base):
            return kind
    return None


def value_kind(value: str) -> str | None:
    """The kind of personal data one whole value is, judged from the value alone (None: not one)."""
    v = value.strip()
    if not v or len(v) > 80:
        return None
    if _PERSON_KEY.match(v):
        return "person_key"
    digits = _SEPARATORS.sub("", v)
    if digits.isdigit() or (len(digits) == 18 and digits[:17].isdigit()):
        if len(digits) in (15, 18) and ResidentID.validate(digits)[0]:
            return "id_number"
        if Mobile.clean(v) and len(digits) in (11, 13):
            return "phone"
        if 16 <= len(digits) <= 19 and (luhn_ok(digits) or BankCard.network(digits)):
            return "card"
        return None
    if _PASSPORT.match(v.upper()):
        return "passport"
    if _ADDRESS.search(v):
        return "address"
    return None


def sample_values(values: Iterable[object], limit: int = SAMPLE) -> list[str]:
    out = []
    for v in values:
        if v is None:
            continue
        out.append(str(v))
        if len(out) >= limit:
            break
    return out


def column_kind(name: str, sample: list[str]) -> str | None:
    """The kind a whole column carries: from its name first, else from what most sampled values are."""
    hinted = kind_for_name(name)
    if hinted:
        return hinted
    if not sample:
        return None
    counts: dict[str, int] = {}
    for v in sample:
        k = value_kind(v)
        if k:
            counts[k] = counts.get(k, 0) + 1
    if not counts:
        return None
    kind, n = max(counts.items(), key=lambda kv: kv[1])
    if n < SHARE * len(sample) or kind == "person_key":  # person keys are masked as free text
        return None
    return kind


def is_reference(sample: list[str]) -> bool:
    """Hashes and generated hex keys (SHA-256, record ids): evidence points at them; never masked."""
    if not sample:
        return False
    hexes = [v for v in sample if _HEX_KEY.match(v)]
    with_letter = sum(1 for v in hexes if not v.isdigit())
    return len(hexes) >= 0.9 * len(sample) and with_letter >= 0.5 * len(sample)


_COMPILED = tuple((kind, re.compile(pattern), re.sub(r"\\(\d)", r"\\g<\1>", repl))
                  for kind, _guard, pattern, repl in FREE_TEXT if r"\p{Han}" not in pattern)
_ADDRESS_PY = re.compile(r"[\u4e00-\u9fa5A-Za-z0-9]{1,12}?(?:路|街|大道|巷|弄|胡同)[0-9０-９一二三四五六七八九十\-]+号")


def mask_free_text(text: str, hidden: frozenset[str] | set[str]) -> str:
    """Mask every identifier of a hidden kind found inside ``text`` (the scalar twin of the vectorised path)."""
    for kind, pattern, repl in _COMPILED:
        if kind in hidden:
            for _ in range(PASSES):
                text = pattern.sub(repl, text)
    if "address" in hidden:
        text = _ADDRESS_PY.sub("****号", text)
    return text
