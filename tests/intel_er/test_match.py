from __future__ import annotations

import json

import pytest

from chainbreaker.core.errors import InputError
from chainbreaker.core.workspace import Workspace
from chainbreaker.intel.er.names import name_features
from chainbreaker.intel.er.service import match

from .conftest import SHA, WANG


def _cluster_of(con, table: str, row: int) -> str:
    return con.sql("SELECT c.cluster_id FROM person_clusters c JOIN person_records r USING (record_id) "
                   "WHERE r.source_table = $1 AND r.src_row = $2", params=[table, row]).fetchall()[0][0]


def test_name_features_homophones_traditional_swapped():
    assert name_features("王小明")[0] == name_features("王晓明")[0] == name_features("王曉明")[0] == "wangxiaoming"
    assert name_features("王明小")[3] == name_features("王小明")[3]
    assert name_features("欧阳娜娜")[1] == "ouyang"


def test_records_keep_source_and_normalise_identifiers(er_ws: Workspace):
    con = er_ws.duck()
    rows = con.sql("SELECT source_table, src_sha256, src_row, id_number, id_valid, birth_date::VARCHAR, phone "
                   "FROM person_records WHERE src_sha256 = $1 ORDER BY src_row", params=[SHA]).fetchall()
    by_row = {r[2]: r for r in rows}
    assert by_row[900003][3] == WANG and by_row[900003][4]  # 15-digit form → 18 digits with check digit
    assert by_row[900004][6] == "+8613800138000"  # E.164 from "+86 138-0013-8000"
    assert by_row[900005][4] is False and by_row[900005][5] == "1985-03-07"  # birth read from a bad ID
    assert {r[0] for r in rows} == {"accounts", "persons", "platform_members", "travel_crossings"}


def test_one_person_across_four_sources(er_ws: Workspace):
    con = er_ws.duck()
    wang = {_cluster_of(con, t, r) for t, r in (("accounts", 900001), ("persons", 900003),
                                               ("platform_members", 900004), ("travel_crossings", 900005))}
    assert len(wang) == 1
    assert _cluster_of(con, "accounts", 900002) not in wang  # 张丽 is someone else
    # the traveller came in through the model: the link shows weight, probability and levels
    rid = con.sql("SELECT record_id FROM person_records WHERE src_row = 900005").fetchall()[0][0]
    link = con.sql("SELECT match_weight, match_probability, levels FROM person_matches "
                   "WHERE method = 'splink' AND status = 'linked' AND $1 IN (record_l, record_r) "
                   "ORDER BY match_probability DESC LIMIT 1", params=[rid]).fetchall()
    assert link and link[0][1] >= 0.99 and link[0][0] > 0
    levels = json.loads(link[0][2])
    assert levels["name"]["level"].startswith(("汉字相同", "拼音相同"))
    # the mistyped sequence digit is seen as such; birth date and region read from the bad ID agree
    assert levels["id_number"]["level"].startswith("顺序码差一位")
    assert levels["birth_date"]["level"].startswith("出生日期相同")
    assert levels["region"]["level"].startswith("地区码相同")


def test_rerun_is_stable(er_ws: Workspace):
    con = er_ws.duck()
    before = con.sql("SELECT record_id, cluster_id FROM person_clusters ORDER BY 1").fetchall()
    con.close()
    match(er_ws)
    after = er_ws.duck().sql("SELECT record_id, cluster_id FROM person_clusters ORDER BY 1").fetchall()
    assert before == after


def test_empty_workspace_says_what_to_do(tmp_path):
    with pytest.raises(InputError) as exc:
        match(Workspace(tmp_path / "empty"))
    assert "platform_members" in exc.value.zh


def test_er_tables_masked_on_export(er_ws: Workspace, tmp_path):
    from chainbreaker.core.exports import export_table

    for table in ("person_records", "person_matches"):
        export_table(er_ws, table, "csv", tmp_path / f"{table}.csv", role="viewer")
        text = (tmp_path / f"{table}.csv").read_text("utf-8-sig")
        assert WANG not in text and "13800138000" not in text
    text = (tmp_path / "person_records.csv").read_text("utf-8-sig")
    assert "王小明" not in text and "wangxiaoming" not in text


def test_family_phone_does_not_join_two_valid_ids():
    """A phone shared by a couple (two valid, different ID numbers) is no pivot between them; a record
    without ID on that phone still joins the first of them, and a shared ID number still pivots."""
    import duckdb
    import pyarrow as pa

    from chainbreaker.intel.er import judgements as jm
    from chainbreaker.intel.er.pivots import pivot_edges
    from chainbreaker.intel.er.service import resolve

    from .conftest import ZHANG

    recs = pa.table({"record_id": ["r1", "r2", "r3", "r4"], "name_py": ["wangxiaoming", "zhangli", "wangxiaoming",
                                                                         "zhangli"],
                     "id_number": [WANG, ZHANG, None, ZHANG], "id_valid": [True, True, None, True],
                     "phone": ["+8613800138000"] * 3 + [None], "bank_card": [None] * 4})
    con = duckdb.connect()
    con.register("person_records", recs)
    edges = pivot_edges(con).to_arrow_table()
    by_pair = {(r["record_l"], r["record_r"], r["method"]): r for r in edges.to_pylist()}
    assert by_pair[("r1", "r2", "phone")]["conflict"] is True
    assert by_pair[("r1", "r3", "phone")]["conflict"] is False
    assert by_pair[("r2", "r4", "id_number")]["conflict"] is False
    empty = pa.table({"record_l": pa.array([], pa.string()), "record_r": pa.array([], pa.string()),
                      "match_weight": pa.array([], pa.float64()), "match_probability": pa.array([], pa.float64()),
                      "levels": pa.array([], pa.string())})
    roots, matches, _ = resolve(recs, edges, empty, jm.Effective([], [], []), 0.99)
    assert roots[0] == roots[2] and roots[1] == roots[3] and roots[0] != roots[1]
    status = {(m["record_l"], m["record_r"], m["method"]): m["status"] for m in matches.to_pylist()}
    assert status[("r1", "r2", "phone")] == "different_ids"
