from __future__ import annotations

import datetime as dt

import pytest

from chainbreaker.chains.people.analyze import analyze
from chainbreaker.chains.people.ingest import ingest_travel
from chainbreaker.core.errors import MappingError
from chainbreaker.synth.travel import CROSSING_HEADER

from .conftest import write_csv

VALID_A = "11010519491231002X"
VALID_B = "530102199001011231"


def _row(name, idn, doc, when, direction, country, port="昆明长水机场", tour=""):
    return [name, "中国", "男", idn, "普通护照", doc, "", when, port, "", country, direction, "航空", "", tour, "云南省昆明市"]


def test_synthetic_feeds_counts_quarantine_and_duplicates(analysed):
    ws, data, summary, _ = analysed
    assert set(summary.by_kind) == {"crossings", "flights", "trains", "hotels", "kin"}
    assert summary.by_kind["hotels"] == data.hotels.num_rows  # XLSX with a title row above the header
    assert summary.by_kind["crossings"] + summary.duplicates_merged >= data.crossings.num_rows
    # the dirty rows the generator adds, each quarantined with its reason
    assert summary.quarantined_by_reason == {"travel_time_future": 1, "time_impossible": 1,
                                             "travel_direction_unknown": 1, "key_missing": 1}
    con = ws.duck()
    rows_in_lake = con.sql("SELECT count(*) FROM travel_crossings").fetchall()[0][0]
    assert rows_in_lake == data.crossings.num_rows  # every crossing kept once, none lost
    merged = con.sql("SELECT count(*) FROM travel_crossings WHERE n_sources = 2").fetchall()[0][0]
    assert merged == summary.duplicates_merged > 0
    src = con.sql("SELECT count(*) FROM travel_record_sources WHERE kind = 'crossings'").fetchall()[0][0]
    assert src == rows_in_lake + merged  # both source rows of every merged record are kept as evidence
    q = con.sql("SELECT reason, raw FROM quarantine WHERE source_kind = 'travel'").fetchall()
    assert len(q) == 4 and all(r[0] and r[1] != "{}" for r in q)


def test_invalid_ids_kept_flagged_and_linked_only_by_document_and_name(analysed):
    ws, _, summary, _ = analysed
    assert summary.invalid_ids == 10
    rows = ws.duck().sql("""SELECT person_key, id_number, key_source, id_issue FROM travel_crossings
                            WHERE NOT id_valid""").fetchall()
    assert len(rows) == 10
    for key, idn, source, issue in rows:
        assert issue == "check_digit" and source == "doc_link"
        assert key.startswith("ID:") and key[3:] != idn  # linked to the person's valid ID, own value kept


def test_bad_ids_never_merge_different_people_and_anomalies_reported(ws, tmp_path):
    bad = "110105194912310021"  # wrong check digit
    rows = [
        _row("张三", bad, "", "2026-01-05 10:00:00", "出境", "柬埔寨"),
        _row("李四", bad, "", "2026-01-06 10:00:00", "出境", "泰国"),
        _row("王五", VALID_A, "E1", "2026-02-01 08:00:00", "入境", "柬埔寨"),  # entry without an exit
        _row("赵六", VALID_B, "E2", "2026-03-01 08:00:00", "出境", "日本"),
        _row("赵六", VALID_B, "E2", "2026-04-01 08:00:00", "出境", "柬埔寨"),  # exit after exit
    ]
    write_csv(tmp_path / "a.csv", CROSSING_HEADER, rows)
    s = ingest_travel(ws, [tmp_path / "a.csv"])
    assert s.rows_kept == 5 and s.invalid_ids == 2
    keys = {r[0] for r in ws.duck().sql("SELECT person_key FROM travel_crossings WHERE NOT id_valid").fetchall()}
    assert keys == {f"BADID:{bad}:张三", f"BADID:{bad}:李四"}
    r = analyze(ws, dt.date(2026, 11, 1))
    assert r.anomalies["entries_without_exit"] == 1
    assert r.anomalies["exits_without_entry"] == 1
    assert r.anomalies["invalid_id_records"] == 2


def test_future_times_quarantined_and_reingest_is_a_noop(ws, tmp_path):
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    rows = [_row("王五", VALID_A, "E1", "2026-10-01 08:00:00", "出境", "老挝"),
            _row("王五", VALID_A, "E1", "2027-10-01 08:00:00", "入境", "老挝")]
    path = write_csv(tmp_path / "b.csv", CROSSING_HEADER, rows, encoding="gb18030")
    s = ingest_travel(ws, [path], now=now)
    assert s.rows_kept == 1 and s.quarantined_by_reason == {"travel_time_future": 1}
    again = ingest_travel(ws, [path], now=now)
    assert again.files_skipped_already_ingested == 1 and again.rows_read == 0
    # the same rows sent again by another feed under another name: merged, counted, nothing lost
    copy = write_csv(tmp_path / "c.csv", CROSSING_HEADER, rows[:1])
    third = ingest_travel(ws, [copy], now=now)
    assert third.duplicates_merged == 1
    assert ws.duck().sql("SELECT n_sources FROM travel_crossings").fetchall() == [(2,)]


def test_profile_override_maps_odd_headers(ws, tmp_path):
    path = write_csv(tmp_path / "odd.csv", ["旅客", "身份号", "通关日期时间", "方向", "去往地"],
                     [["张三", VALID_A, "2026-05-01 10:00", "离开", "菲律宾"]])
    with pytest.raises(MappingError):
        ingest_travel(ws, [path])
    prof = tmp_path / "p.yaml"
    prof.write_text("kind: crossings\ncolumns:\n  name: 旅客\n  id_number: 身份号\n  ts: 通关日期时间\n"
                    "  direction: 方向\n  country: 去往地\nvalues:\n  direction: {离开: 出境, 返回: 入境}\n", "utf-8")
    s = ingest_travel(ws, [path], profile=prof)
    assert s.rows_kept == 1
    assert ws.duck().sql("SELECT direction, country_raw FROM travel_crossings").fetchall() == [("exit", "菲律宾")]


def test_failed_ingest_leaves_workspace_unchanged(ws, tmp_path):
    bad = write_csv(tmp_path / "z_bad.csv", ["甲", "乙"], [["1", "2"]])
    with pytest.raises(MappingError) as exc:
        ingest_travel(ws, [bad])
    assert "z_bad.csv" in exc.value.zh and "z_bad.csv" in exc.value.en
    assert ws.tables() == {}


def test_direction_codes_and_short_rows_get_their_own_reasons(ws, tmp_path):
    """An unreadable 出入境 code is quarantined as such (with the code), an empty one as missing,
    a row cut short as too_few_fields: never a generic reason, never an IndexError."""
    rows = [
        _row("张三", VALID_A, "E1", "2026-01-05 10:00:00", "出境", "柬埔寨"),
        _row("李四", VALID_B, "E2", "2026-01-06 10:00:00", "9", "泰国"),  # a code nobody mapped
        _row("王五", VALID_A, "E1", "2026-01-07 10:00:00", "出入境", "泰国"),  # says both
        _row("赵六", VALID_B, "E2", "2026-01-08 10:00:00", "", "泰国"),
        _row("钱七", VALID_A, "E1", "2026-01-09 10:00:00", "入境", "柬埔寨")[:9],  # cut short
    ]
    path = write_csv(tmp_path / "出入境记录.csv", CROSSING_HEADER, rows)
    summary = ingest_travel(ws, [path])
    assert summary.rows_kept == 1
    assert summary.quarantined_by_reason == {"travel_direction_unknown": 2, "travel_direction_missing": 1,
                                             "too_few_fields": 1}
    q = {r["row"]: r for r in ws.read_arrow("quarantine").to_pylist()}
    assert q[3]["reason_code"] == "travel_direction_unknown" and "“9”" in q[3]["reason"]
    assert "“出入境”" in q[4]["reason"] and q[5]["reason"] == "出入境类别为空"
    assert q[6]["reason_code"] == "too_few_fields" and "截断" in q[6]["reason"]
