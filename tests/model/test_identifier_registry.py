"""The Identifier base class and its registry; one person resolver for records and typed keys."""

from __future__ import annotations

import pytest

from chainbreaker.core.errors import InputError
from chainbreaker.core.model.identifiers import IDENTIFIERS, Identifier, identifier_type
from chainbreaker.core.model.personal import KINDS
from chainbreaker.core.model.persons import person_key, resolve_person

VALID_ID = "11010519491231002X"
SAMPLES = {
    "resident_id": VALID_ID,
    "bank_card": "6222021234567890128",
    "account_number": "6222021234567890_001",
    "mobile": "+86 138 1234 5678",
    "ip": "8.8.8.8",
    "mac": "aa-bb-cc-dd-ee-01",
    "crypto_address": "0x52908400098527886E0F7030069857D2E4169EE7",
    "email": "a.b@example.com",
    "qq": "12345678",
    "wechat": "wx_abc123",
    "telegram": "t.me/some_name",
    "domain": "WWW.Example.COM",
    "url": "https://example.com/x",
}


def test_every_identifier_class_is_registered_with_a_name_label_and_mask_kind() -> None:
    assert set(IDENTIFIERS) == set(SAMPLES)
    for name, cls in IDENTIFIERS.items():
        assert issubclass(cls, Identifier) and cls.name == name and cls.label_zh
        assert cls.mask is None or cls.mask in KINDS


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_clean_and_validate_agree_and_never_raise(name: str) -> None:
    cls = identifier_type(name)
    assert cls.clean(SAMPLES[name]) is not None
    assert cls.validate(SAMPLES[name]) == (True, None) and cls.is_valid(SAMPLES[name])
    for bad in (None, "", "   ", "\u200b"):
        ok, reason = cls.validate(bad)
        assert not ok and reason
        assert cls.clean(bad) is None


def test_a_second_class_with_a_registered_name_is_rejected() -> None:
    with pytest.raises(TypeError):
        type("Again", (Identifier,), {"name": "mobile"})


def test_unknown_identifier_type_is_a_clear_error() -> None:
    with pytest.raises(InputError) as exc:
        identifier_type("passport_no")
    assert "resident_id" in exc.value.en


def test_one_person_resolver_for_records_and_typed_keys() -> None:
    ref = resolve_person(VALID_ID.lower())
    assert ref is not None and ref.key == f"ID:{VALID_ID}" and ref.id_valid
    assert person_key(f" {VALID_ID.lower()} ") == ref.key
    assert person_key("DOC:MM:E1234567") == "DOC:MM:E1234567"
    assert person_key("110105194912310021") is None  # a bare invalid number identifies no one
    bad = resolve_person("110105194912310021", name="张 三")
    assert bad is not None and bad.key == "BADID:110105194912310021:张三" and bad.id_issue == "check_digit"
