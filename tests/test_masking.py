"""Masking by what a value IS (``model/masking.py``, ``model/personal.py``): the role matrix, column
classification from names and values, identifiers inside free text, nested columns, and the
vectorised path agreeing with the single-value path."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainbreaker.core.model.identifiers import BankCard, Mobile, ResidentID, luhn_ok
from chainbreaker.core.model.masking import ROLE_CLEAR, Role, looks_masked, mask_table, mask_text, mask_value


def _id(first17: str) -> str:
    return first17 + ResidentID.check_digit(first17)


def _card(prefix: str) -> str:
    return next(prefix + str(d) for d in range(10) if luhn_ok(prefix + str(d)))


ID_18 = _id("53010319900101000")
CARD = _card("622202031422145")
SHA = "a1df2c6b4d843abd4a8363923511809803127d61ee91dcfe9f3f541d4a843a00"


def test_examples_of_the_issue():
    assert mask_value("id_number", "530103199001010005") == "530103********0005"
    assert mask_value("phone", "13812345678") == "138****5678"
    assert mask_value("card", "6222000000001234") == "6222********1234"


@pytest.mark.parametrize(("role", "clear"), [
    ("viewer", set()), ("analyst", {"name", "card"}),
    ("investigator", {"name", "card", "id_number", "passport", "phone", "address"}),
    ("admin", {"name", "card", "id_number", "passport", "phone", "address"}),
])
def test_role_matrix(role, clear):
    assert set(ROLE_CLEAR[role]) == clear
    t = pa.table({"col_a": [ID_18], "col_b": [CARD], "col_c": ["13812345678"], "name": ["欧阳娜娜"],
                  "doc_no": ["E12345678"], "address": ["云南省昆明市五华区人民中路12号"]})
    out = mask_table(t, role).to_pylist()[0]
    kinds = {"col_a": "id_number", "col_b": "card", "col_c": "phone", "name": "name", "doc_no": "passport",
             "address": "address"}
    for col, kind in kinds.items():
        assert (out[col] == t[col][0].as_py()) == (kind in clear), (role, col, out[col])


def test_unknown_role_sees_nothing_in_clear():
    t = pa.table({"x": [CARD], "name": ["张三"]})
    assert mask_table(t, "guest").to_pylist() == mask_table(t, "viewer").to_pylist()


def test_columns_are_classified_by_values_when_their_names_say_nothing():
    t = pa.table({
        "f1": [ID_18, _id("44030519850101002"), None],
        "f2": ["13912345678", "15012345678", "18612345678"],
        "f3": [CARD, _card("621700000000000"), _card("622848040256489")],
        "f4": [15198650866, 15198650867, 15198650868],  # phones stored as integers
        "count_accounts": [3, 4, 5],  # a count named like an account column stays a number
    })
    out = mask_table(t, "viewer")
    assert out["f1"].to_pylist()[0] == ID_18[:6] + "********" + ID_18[-4:]
    assert out["f2"].to_pylist()[0] == "139****5678"
    assert all(v.startswith(c[:4]) and "*" in v for v, c in zip(out["f3"].to_pylist(), t["f3"].to_pylist(), strict=True))
    assert out["f4"].to_pylist()[0] == "151****0866"
    assert out["count_accounts"].to_pylist() == [3, 4, 5]


def test_key_columns_and_person_keys_are_masked():
    t = pa.table({"person_key": [f"ID:{ID_18}", "DOC:MM:MA1234567", "BADID:53010319:张三"],
                  "subject_key": [CARD, f"ID:{ID_18}", "host.example"]})
    out = mask_table(t, "viewer").to_pydict()
    assert out["person_key"] == [f"ID:{ID_18[:6]}********{ID_18[-4:]}", "DOC:MM:MA****", "BADID:********"]
    assert out["subject_key"][0] == CARD[:4] + "********" + CARD[-4:]
    assert out["subject_key"][2] == "host.example"


def test_hashes_and_generated_keys_are_never_touched():
    digits_in_hash = "0123456789012345678" + SHA[19:]
    t = pa.table({"src_sha256": [SHA, digits_in_hash], "evidence": [json.dumps({"file_sha256": digits_in_hash}), "x"]})
    assert mask_table(t, "viewer").equals(t)


def test_free_text_json_and_lists():
    raw = json.dumps({"姓名": "江强", "开户人证件号码": ID_18, "户籍地": "云南省丽江市古城区", "交易金额": "15.50",
                      "备注": f"转卡{CARD}"}, ensure_ascii=False)
    t = pa.table({
        "raw": [raw, None],
        "explanation_zh": [f"账户 {CARD}：14 个付款方；联系人手机 138-1234-5678，身份证号{ID_18}。", "无"],
        "members": [[f"ID:{ID_18}", "DOC:CN:E12345678"], None],
        "pair": pa.array([{"a": f"ID:{ID_18}", "n": 1}, None]),
        "attrs": pa.array([[("联系电话", "13812345678"), ("卡", CARD)], None], pa.map_(pa.string(), pa.string())),
    })
    out = mask_table(t, "viewer").to_pylist()[0]
    data = json.loads(out["raw"])
    assert data["姓名"] == "江*" and "*" in data["开户人证件号码"] and data["户籍地"].endswith("*")
    assert data["交易金额"] == "15.50" and CARD not in data["备注"]
    text = out["explanation_zh"]
    assert CARD not in text and ID_18 not in text and "5678" in text and "1234-5678" not in text
    assert out["members"] == [f"ID:{ID_18[:6]}********{ID_18[-4:]}", "DOC:CN:E1****"]
    assert out["pair"] == {"a": f"ID:{ID_18[:6]}********{ID_18[-4:]}", "n": 1}
    attrs = dict(out["attrs"])
    assert attrs["联系电话"] == "138****5678" and CARD not in attrs["卡"] and "*" in attrs["卡"]


def test_cards_in_groups_and_with_sub_account_suffixes():
    text = f"卡号 6222 0212 3456 7890 123，账号 {CARD}_001，对公账户 {CARD}-002"
    shown = mask_text(text, "viewer")
    assert "0212 3456" not in shown and CARD not in shown


# ------------------------------------------------------------------ properties
_IDS = st.builds(lambda region, y, m, d, seq: _id(f"{region}{y:04d}{m:02d}{d:02d}{seq:03d}"),
                 st.sampled_from(["110105", "530103", "440305", "532901"]), st.integers(1930, 2010),
                 st.integers(1, 12), st.integers(1, 28), st.integers(0, 999))
_MOBILES = st.builds(lambda p, n: f"1{p}{n:09d}", st.sampled_from("3456789"), st.integers(0, 10**9 - 1))
_CARDS = st.builds(lambda p, n, k: _card(p + str(n).zfill(k)), st.sampled_from(["622202", "621700", "622848", "4367"]),
                   st.integers(0, 10**9), st.integers(9, 12))
_AROUND = st.sampled_from(["", " ", "：", "，", "号", "卡", "(", ")", "\"", "、", "\n", "ID:", "电话"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_AROUND, st.one_of(_IDS, _MOBILES, _CARDS), _AROUND), min_size=1, max_size=4),
       st.text(alphabet="测试说明xyzXYZ ,.;_", max_size=8))
def test_no_identifier_survives_in_free_text_for_viewer(parts, filler):
    """Lower-case hex letters are left out of the filler: a digit run glued to one is part of a hash."""
    text = filler.join(a + v + b for a, v, b in parts)
    shown = mask_text(text, "viewer")
    assert not ResidentID.find_all(shown) and not Mobile.find_all(shown) and not BankCard.find_all(shown), shown
    for _, value, _ in parts:
        assert value not in shown
    # the vectorised path gives the same text as the single-value path
    assert mask_table(pa.table({"note": [text, "x", "y", "z"]}), "viewer")["note"][0].as_py() == shown


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(_IDS, _MOBILES, _CARDS, st.none()), min_size=1, max_size=30))
def test_whole_columns_keep_no_value_in_clear(values):
    t = pa.table({"anything": pa.array(values, pa.string())})
    out = mask_table(t, "viewer")["anything"].to_pylist()
    for before, after in zip(values, out, strict=True):
        assert (before is None) == (after is None)
        if before is not None:
            assert after != before and "*" in after


def test_looks_masked():
    for v in ("530103********0005", "138****5678", "6222********1234", "530103XXXXXXXX0005", "ID:530103＊＊＊＊0005"):
        assert looks_masked(v)
    for v in ("53010319900101000X", "ID:53010319900101000X", "13812345678"):
        assert not looks_masked(v)


def test_role_is_a_claim_with_a_source():
    r = Role("Viewer", source="cli")
    assert r == "viewer" and r.claimed and r.source == "cli"
    assert not Role("admin", source="login").claimed
    from chainbreaker.core.errors import InputError

    with pytest.raises(InputError) as exc:
        Role("boss")
    assert "角色" in exc.value.zh


def test_titles_of_township_sites_are_not_addresses():
    titles = pa.table({"title": ["勐腊县勐捧镇人民政府", "云南省人民政府门户网站", "昆明市五华区教育体育局", "瑞丽市姐告社区服务中心"]})
    assert mask_table(titles, "analyst").equals(titles)
    homes = pa.table({"where": ["昆明市五华区人民中路12号3栋", "云南省大理州大理市东风路119号", "勐腊县勐捧镇曼庄村三组"]})
    assert all(v.endswith("*") for v in mask_table(homes, "analyst")["where"].to_pylist()[:2])
