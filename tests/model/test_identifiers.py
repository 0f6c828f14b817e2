"""Property tests of the identifier classes: clean/validate never raise and agree with each other."""

from __future__ import annotations

import datetime as dt
import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from chainbreaker.core.model.identifiers import (
    QQ,
    URL,
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
    base58check_encode,
    luhn_ok,
)

ALL = [ResidentID, BankCard, AccountNumber, Mobile, IPAddress, MACAddress, CryptoAddress, Email, QQ, WeChat,
       Telegram, Domain, URL]


@st.composite
def resident_ids(draw):
    region = draw(st.sampled_from(["110101", "320106", "440305", "530102", "360302", "510107"]))
    birth = draw(st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2010, 12, 31)))
    seq = draw(st.integers(0, 999))
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + ResidentID.check_digit(first17), birth


@given(resident_ids())
def test_resident_id_roundtrip(case):
    value, birth = case
    assert ResidentID.validate(value) == (True, None)
    assert ResidentID.clean(f" {value.lower()}\t") == value
    assert ResidentID.birth_date(value) == birth
    assert ResidentID.find_all(f"身份证号：{value}，电话 13800138000") == [value]


@given(resident_ids(), st.integers(0, 16), st.integers(1, 9))
def test_resident_id_single_digit_change_is_caught(case, pos, delta):
    value, _ = case
    digit = (int(value[pos]) + delta) % 10
    altered = value[:pos] + str(digit) + value[pos + 1 :]
    ok, reason = ResidentID.validate(altered)
    assert not ok and reason in {"check_digit", "birth_date", "region"}


def test_resident_id_known_values_and_reasons():
    assert ResidentID.validate("11010519491231002X") == (True, None)
    assert ResidentID.gender("11010519491231002X") == "F"
    assert ResidentID.validate("110105194912310021") == (False, "check_digit")
    assert ResidentID.validate("110105194902300021")[1] == "birth_date"  # 30 February
    assert ResidentID.validate("12345")[1] == "length"
    # a 15-digit first-generation number upgrades to 18 digits
    assert ResidentID.clean("110105491231002") == "110105194912310021"[:17] + ResidentID.check_digit("11010519491231002")


@settings(deadline=None)  # the first domain-like text loads the public-suffix list (~1 s on a busy machine)
@given(st.text(max_size=40))
def test_nothing_raises_on_arbitrary_text(text):
    for cls in ALL:
        cls.clean(text)
        cls.validate(text)
        if hasattr(cls, "find_all"):
            cls.find_all(text)


@given(st.lists(st.integers(0, 9), min_size=15, max_size=18))
def test_luhn_completion(digits):
    body = "".join(map(str, digits))
    check = next(str(d) for d in range(10) if luhn_ok(body + str(d)))
    card = body + check
    assert BankCard.luhn_ok(card)
    assert BankCard.validate(card) == (True, None)
    # Luhn is a signal, not a gate: a wrong check digit is still a valid-looking card number.
    wrong = body + str((int(check) + 1) % 10)
    assert BankCard.validate(wrong) == (True, None) and not BankCard.luhn_ok(wrong)


def test_bank_card_in_text_grouped_by_four():
    body = "622202123456789012"
    card = body + next(str(d) for d in range(10) if luhn_ok(body + str(d)))
    not_a_card = body + str((int(card[-1]) + 1) % 10)
    assert BankCard.find_all(f"订单号：{not_a_card}") == []  # fails Luhn: not extracted from free text
    spaced = " ".join(card[i : i + 4] for i in range(0, len(card), 4))
    assert BankCard.find_all(f"收款卡号：{spaced} 户名张三") == [card]
    assert BankCard.issuer(card) == "中国工商银行"


@given(st.text("0123456789", min_size=8, max_size=22), st.text("0123456789abc", min_size=1, max_size=4),
       st.sampled_from(["_", "-"]))
def test_account_suffix_split(base, suffix, sep):
    assert AccountNumber.split(f"{base}{sep}{suffix}\t") == (base, suffix)
    assert AccountNumber.clean(f"{base}{sep}{suffix}") == base


@given(st.sampled_from(["13", "15", "17", "18", "19"]), st.text("0123456789", min_size=9, max_size=9),
       st.sampled_from(["", "+86", "86", "0086", "+86 "]))
def test_mobile(prefix, rest, cc):
    number = prefix + rest
    assert Mobile.clean(cc + number) == number
    assert Mobile.find_all(f"联系电话：{number[:3]}-{number[3:7]}-{number[7:]}。") == [number]
    assert Mobile.validate("12345678901") == (False, "format")


@given(st.ip_addresses())
def test_ip(ip):
    assert IPAddress.clean(str(ip)) == str(ip)


@given(st.binary(min_size=6, max_size=6), st.sampled_from([":", "-", ""]))
def test_mac(raw, sep):
    text = sep.join(f"{b:02x}" for b in raw)
    expected = ":".join(f"{b:02X}" for b in raw)
    if expected in {"00:00:00:00:00:00", "FF:FF:FF:FF:FF:FF"}:
        assert MACAddress.validate(text) == (False, "placeholder")
    else:
        assert MACAddress.clean(text) == expected


@given(st.binary(min_size=20, max_size=20))
def test_tron_and_bitcoin_base58check(payload):
    tron = base58check_encode(b"\x41", payload)
    assert CryptoAddress.kind(tron) == "tron"
    assert CryptoAddress.find_all(f"USDT(TRC20)收款地址: {tron} 请核对") == [tron]
    btc = base58check_encode(b"\x00", payload)
    assert CryptoAddress.kind(btc) == "bitcoin"
    # one changed character breaks the checksum
    i = len(tron) // 2
    swapped = tron[:i] + ("A" if tron[i] != "A" else "B") + tron[i + 1 :]
    assert CryptoAddress.kind(swapped) is None


def test_known_crypto_addresses():
    assert CryptoAddress.kind("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t") == "tron"  # USDT contract
    assert CryptoAddress.kind("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa") == "bitcoin"
    assert CryptoAddress.kind("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq") == "bitcoin"
    eth = "0x" + hashlib.sha256(b"x").hexdigest()[:40]
    assert CryptoAddress.clean(eth.upper().replace("0X", "0x")) == eth


def test_handles_and_domains():
    assert QQ.find_all("客服QQ：123456789 微信:abc_888888") == ["123456789"]
    assert WeChat.find_all("客服QQ：123456789 微信:abc_888888") == ["abc_888888"]
    assert Telegram.find_all("加入 https://t.me/bet365cn_vip 纸飞机 @VipKefu88") == ["bet365cn_vip", "vipkefu88"]
    assert Email.clean(" Kefu@Example.COM ") == "kefu@example.com"
    assert Domain.registrable("https://www.a.b.example.co.uk/path") == "example.co.uk"
    assert Domain.registrable("co.za") is None and Domain.is_public_suffix("co.za")
    assert Domain.registrable("xpj888.com.cn") == "xpj888.com.cn"
    assert Domain.validate("com.cn") == (False, "public_suffix")
    assert URL.find_all('<a href="https://m.tyc88.com/reg?id=1">注册</a>') == ["https://m.tyc88.com/reg?id=1"]


@settings(max_examples=50)
@given(st.from_regex(r"[a-z][a-z0-9]{2,10}\.(com|net|cn|com\.cn|top)", fullmatch=True))
def test_domain_clean_idempotent(host):
    cleaned = Domain.clean("HTTP://" + host.upper() + "/x?y=1")
    assert cleaned == host
    assert Domain.clean(cleaned) == cleaned
