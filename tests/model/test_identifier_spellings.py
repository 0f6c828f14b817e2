"""One identifier, many spellings: invisible characters, full-width forms and separators never split a value.

Also: the vectorised bank path (``ingest/bank/keys.py``, Arrow kernels) gives exactly the key of
``AccountNumber.split`` on generated text.
"""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainbreaker.chains.funds.bank.keys import account_keys, id_keys, ip_keys, mac_keys, phone_keys
from chainbreaker.core.model.identifiers import (
    QQ,
    AccountNumber,
    BankCard,
    CryptoAddress,
    Domain,
    Email,
    IPAddress,
    MACAddress,
    Mobile,
    ResidentID,
    Telegram,
    WeChat,
)

INVISIBLES = ["\u200b", "\ufeff", "\u200c", "\u200d", "\u2060", "\u00ad"]
CARD = "6222020200112233446"
ID = "11010519491231002X"


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _spellings(value: str) -> list[str]:
    """How a value arrives in real files: invisible characters inside, full-width, padded."""
    mid = len(value) // 2
    out = [value[:mid] + z + value[mid:] for z in INVISIBLES]
    out += [z + value + z for z in INVISIBLES]
    out += [_fullwidth(value), f"\t{value}\t", f"\u3000{value}\u00a0"]
    return out


@pytest.mark.parametrize("spelling", _spellings(CARD) + [
    "6222-0202-0011-2233-446", "6222 0202 0011 2233 446", "６２２２－０２０２－００１１－２２３３－４４６",
    "622202 0200112233446", "6222\u20130202\u20130011\u20132233\u2013446", "6222\u200b-0202-0011-2233-446",
])
def test_every_spelling_of_a_card_is_one_account(spelling: str) -> None:
    assert AccountNumber.clean(spelling) == CARD
    assert BankCard.clean(spelling) == CARD
    assert account_keys(pa.array([spelling])).to_pylist() == [CARD]


def test_separators_do_not_eat_sub_account_suffixes() -> None:
    assert AccountNumber.split("6222020200112233446_001") == (CARD, "001")
    assert AccountNumber.split("0200001001000123456-156") == ("0200001001000123456", "156")
    assert AccountNumber.split("0200001001000123456\u200b-156") == ("0200001001000123456", "156")
    assert AccountNumber.clean("1234-5678") == "1234-5678"  # too short to be digit groups: kept as written


@pytest.mark.parametrize("spelling", _spellings(ID) + ["110105-19491231-002X", "110105 19491231 002x",
                                                      "１１０１０５１９４９１２３１００２ｘ"])
def test_every_spelling_of_an_id_number_is_one_key(spelling: str) -> None:
    assert ResidentID.clean(spelling) == ID
    assert id_keys(pa.array([spelling])).to_pylist() == [ID]


def test_other_kinds_ignore_invisible_characters_and_full_width_forms() -> None:
    zw = "\u200b"
    assert Mobile.clean(f"138{zw}0013-8000") == "13800138000"
    assert Mobile.clean("１３８ ００１３ ８０００") == "13800138000"
    assert IPAddress.clean(f"183.14{zw}.22.101") == "183.14.22.101"
    assert IPAddress.clean("１８３．１４．２２．１０１") == "183.14.22.101"
    assert MACAddress.clean(f"3c-97-0e{zw}-12-ab-cd") == "3C:97:0E:12:AB:CD"
    assert Email.clean(f"pay{zw}@example.com") == "pay@example.com"
    assert QQ.clean(f"12345{zw}678") == "12345678"
    assert WeChat.clean(f"wx{zw}_pay88") == "wx_pay88"
    assert Telegram.clean(f"@pay{zw}bot1") == "paybot1"
    assert Domain.clean(f"pay{zw}.example.com") == "pay.example.com"
    assert Domain.clean("ｐａｙ．ｅｘａｍｐｌｅ．ｃｏｍ") == "pay.example.com"
    tron = "TNPeeaaFB7K9cmo4uQpcU32zGK8G1NYqeL"
    assert CryptoAddress.clean(tron[:10] + "\u2060" + tron[10:]) == tron
    # free text: an invisible character inside must not hide the value
    assert ResidentID.find_all(f"身份证号：110105{zw}19491231002X。") == [ID]
    assert Mobile.find_all(f"电话 138{zw}00138000") == ["13800138000"]
    assert BankCard.find_all(f"收款卡号 {CARD[:8]}{zw}{CARD[8:]}") == [CARD]


def test_bank_path_keys_for_devices_and_phones() -> None:
    assert mac_keys(pa.array(["3c-97-0e-12-ab-cd", "3C:97:0E:12:AB:CD", None])).to_pylist() == [
        "3C:97:0E:12:AB:CD", "3C:97:0E:12:AB:CD", None]
    assert ip_keys(pa.array(["183.14.22.101\u200b", "not an ip"])).to_pylist() == ["183.14.22.101", "notanip"]
    assert phone_keys(pa.array(["+86 138-0013-8000", "0755-1234567"])).to_pylist() == ["13800138000", "0755-1234567"]


# What account cells are made of in real files, plus the characters that cause trouble.
ACCOUNT_ALPHABET = (list("0123456789") * 3 + list("０１２３４５６７８９") + list("-_ '\"=\t") + INVISIBLES
                    + ["\u3000", "\u00a0", "\u2013", "\u2212", "－", "＿", "ａ", "Ｂ", "x", "A", "账", "号", "\n"])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from(ACCOUNT_ALPHABET), max_size=30).map("".join), min_size=1, max_size=40))
def test_vectorised_account_keys_agree_with_the_python_rules(values: list[str]) -> None:
    expected = [AccountNumber.split(v)[0] for v in values]
    assert account_keys(pa.array(values, pa.string())).to_pylist() == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([CARD, "0200001001000123456", "6228480012345678901"]), min_size=1, max_size=5),
       st.data())
def test_generated_spellings_of_real_accounts_agree_and_collapse(accounts: list[str], data) -> None:
    spelled = []
    for acc in accounts:
        noise = data.draw(st.lists(st.sampled_from(INVISIBLES + [" ", "\u3000"]), min_size=len(acc), max_size=len(acc)))
        keep = data.draw(st.lists(st.booleans(), min_size=len(acc), max_size=len(acc)))
        text = "".join(c + (z if k else "") for c, z, k in zip(acc, noise, keep, strict=True))
        if data.draw(st.booleans()):
            text = _fullwidth(text)
        spelled.append(text)
    assert account_keys(pa.array(spelled)).to_pylist() == accounts
    assert [AccountNumber.split(s)[0] for s in spelled] == accounts


@settings(max_examples=300, deadline=None)
@given(st.ip_addresses(v=4), st.binary(min_size=6, max_size=6), st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_values_the_bank_path_passes_through_are_already_canonical(ip, mac_bytes, mobile) -> None:
    """ip/mac/phone keys skip Python for values matching their canonical pattern: clean() must agree."""
    from chainbreaker.chains.funds.bank import keys

    mac = ":".join(f"{b:02X}" for b in mac_bytes)
    for value, pattern, fn in ((str(ip), keys.CANONICAL_IPV4, keys.ip_keys), (mac, keys.CANONICAL_MAC, keys.mac_keys),
                               (mobile, keys.CANONICAL_MOBILE, keys.phone_keys)):
        assert pa.compute.match_substring_regex(pa.array([value]), pattern).to_pylist() == [True]
        assert fn(pa.array([value, " " + value])).to_pylist() == [value, value]
