"""The rules of the person model that are not learnt: the check-digit rule and the model's input."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from chainbreaker.core.model.identifiers import ResidentID
from chainbreaker.intel.er.model import blocking, model_input

from .conftest import WANG, ZHANG


def test_check_digit_catches_every_single_typo_and_neighbour_swap():
    """The basis of the rule: two valid, different numbers are never one number with one typo."""
    for idn in (WANG, ZHANG, "11010519491231002X"):
        assert ResidentID.clean(idn) == idn
        for i in range(17):
            for d in "0123456789":
                if d != idn[i]:
                    assert ResidentID.clean(idn[:i] + d + idn[i + 1:]) is None, (idn, i, d)
            if i < 16 and idn[i] != idn[i + 1]:
                swapped = idn[:i] + idn[i + 1] + idn[i] + idn[i + 2:]
                assert ResidentID.clean(swapped) is None, (idn, i)


def _records() -> pa.Table:
    typo = WANG[:15] + str((int(WANG[15]) + 1) % 10) + WANG[16:]  # check digit now fails
    namesake = WANG[:14] + "9" + WANG[15:17]
    namesake += ResidentID.check_digit(namesake)  # same name, day and county, another valid number
    return pa.table({
        "record_id": ["a", "b", "c", "d"],
        "name": ["王小明", "王晓明", "王小明", "王小明"],
        "name_py": ["wangxiaoming"] * 4, "surname_py": ["wang"] * 4, "given_py_sorted": ["ming xiao"] * 4,
        "id_number": [WANG, typo, namesake, None], "id_valid": [True, False, True, None],
        "birth_date": pa.array([None, None, None, None], pa.date32()),
        "region": [None] * 4, "phone": [None] * 4, "address": [None] * 4,
    })


def test_model_input_reads_the_id_in_parts():
    rows = {r["record_id"]: r for r in model_input(_records()).to_pylist()}
    assert rows["a"]["region"] == WANG[:6] and rows["a"]["birth"] == WANG[6:14] and rows["a"]["id_rest"] == WANG[14:]
    assert rows["b"]["birth"] == rows["a"]["birth"] and rows["b"]["id_valid"] is False
    assert rows["d"]["birth"] is None and rows["d"]["id_rest"] is None and rows["d"]["id_valid"] is None


def test_blocking_leaves_out_two_valid_different_ids():
    con = duckdb.connect()
    con.register("t", model_input(_records()))
    rule = blocking("surname_py", "birth").get_blocking_rule("duckdb").blocking_rule_sql
    pairs = con.sql(f"SELECT l.record_id || r.record_id FROM t l JOIN t r ON l.record_id < r.record_id AND ({rule}) "
                    "ORDER BY 1").fetchall()
    # a–b (typo) and b–c (one of them fails the check) are scored; a–c (two valid numbers) never;
    # d has no birth date to block on
    assert [p[0] for p in pairs] == ["ab", "bc"]
