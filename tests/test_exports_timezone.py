"""Time zones (时区): store UTC, read naive source times in the configured zone, show the zone.

Every ingest path (bank, platform, travel) is checked with the default zone and with Asia/Tokyo:
a naive source time is wall-clock time of the configured zone; a source time with an offset keeps
it. The Python parser and the vectorised (DuckDB) one agree on generated texts.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainbreaker.chains.funds.bank.sqlparse import connect
from chainbreaker.core.errors import ConfigError
from chainbreaker.core.ingest.values import parse_time
from chainbreaker.core.timefmt import show_time, zone_name
from exports_support import hostile_crossings, hostile_platform, hostile_statement

UTC = dt.UTC


def _utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(("text", "want"), [
    ("2024-03-01 09:00:00+08:00", _utc(2024, 3, 1, 1)),
    ("2024-03-01T09:00:00+0800", _utc(2024, 3, 1, 1)),
    ("2024-03-01 09:00:00 +08:00", _utc(2024, 3, 1, 1)),
    ("2024-03-01 09:00+08", _utc(2024, 3, 1, 1)),
    ("2024/03/01 09:00:00-05:30", _utc(2024, 3, 1, 14, 30)),
    ("2024-03-01 09:00:00.250Z", _utc(2024, 3, 1, 9, 0, 0, 250000)),
    ("2024-03-01 09:00:00 UTC", _utc(2024, 3, 1, 9)),
])
def test_a_source_time_with_an_offset_keeps_it_whatever_the_zone(text, want, monkeypatch):
    for zone in ("Asia/Shanghai", "Asia/Tokyo"):
        monkeypatch.setenv("CHAINBREAKER_TIMEZONE", zone)
        assert parse_time(text) == (want, None)
        assert connect().execute("SELECT cb_ts(?)", [text]).fetchall()[0][0] == want


@pytest.mark.parametrize(("zone", "want"), [("Asia/Shanghai", _utc(2024, 3, 1, 1)), ("Asia/Tokyo", _utc(2024, 3, 1)),
                                            ("UTC", _utc(2024, 3, 1, 9))])
def test_a_naive_source_time_is_wall_clock_time_of_the_configured_zone(zone, want, monkeypatch):
    monkeypatch.setenv("CHAINBREAKER_TIMEZONE", zone)
    for text in ("2024-03-01 09:00:00", "2024/3/1 9:00", "20240301090000", "2024年3月1日 09时00分00秒"):
        assert parse_time(text) == (want, None), text
        assert connect().execute("SELECT cb_ts(?)", [text]).fetchall()[0][0] == want, text


def test_an_unknown_zone_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("CHAINBREAKER_TIMEZONE", "Asia/Beijing")  # not an IANA name
    with pytest.raises(ConfigError) as err:
        zone_name()
    assert "时区" in err.value.zh and "Asia/Shanghai" in err.value.zh


_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y%m%d%H%M%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


# times anywhere, and within two days of the edges of the allowed years (1980–2100, as written)
_WHEN = st.one_of(
    st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2090, 12, 31)),
    st.builds(lambda edge, s: edge + dt.timedelta(seconds=s),
              st.sampled_from([dt.datetime(1980, 1, 1), dt.datetime(2101, 1, 1)]),
              st.integers(-2 * 86400, 2 * 86400)))


@settings(deadline=None, max_examples=150)
@given(when=_WHEN, fmt=st.sampled_from(_FORMATS),
       offset=st.one_of(st.none(), st.integers(-23 * 60, 23 * 60)), colon=st.booleans(), space=st.booleans(),
       zone=st.sampled_from(["Asia/Shanghai", "Asia/Tokyo", "America/New_York", "UTC"]))
def test_python_and_duckdb_time_parsers_agree(when, fmt, offset, colon, space, zone):
    text = when.replace(microsecond=0).strftime(fmt)
    if offset is not None and not fmt.startswith("%Y%m%d"):
        sign = "-" if offset < 0 else "+"
        hh, mm = divmod(abs(offset), 60)
        text += (" " if space else "") + f"{sign}{hh:02d}{':' if colon else ''}{mm:02d}"
    expected = parse_time(text, ZoneInfo(zone))
    got = connect(zone=zone).execute("SELECT cb_ts(?), cb_ts_reason(?)", [text, text]).fetchall()[0]
    assert got[1] == expected[1], text
    if expected[1] is None:
        assert got[0] == expected[0], text


@pytest.mark.parametrize(("zone", "text", "utc"), [
    ("Asia/Shanghai", "1986-09-14 01:30:00", "1986-09-13 17:30"),  # repeated hour: the later instant (UTC+8)
    ("America/New_York", "2021-11-07 01:30:00", "2021-11-07 06:30"),
    ("Asia/Shanghai", "1986-05-04 02:30:00", "1986-05-03 18:30"),  # skipped hour: the offset before the change
    ("America/New_York", "2021-03-14 02:30:00", "2021-03-14 07:30"),
])
def test_a_repeated_or_skipped_wall_clock_hour_is_read_alike(zone, text, utc):
    expected = parse_time(text, ZoneInfo(zone))
    assert expected[0] == dt.datetime.fromisoformat(utc).replace(tzinfo=dt.UTC)
    assert connect(zone=zone).execute("SELECT cb_ts(?), cb_ts_reason(?)", [text, text]).fetchall()[0] == expected


# ------------------------------------------------------------------ every ingest path
@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Asia/Tokyo"])
def test_bank_platform_and_travel_ingest_read_naive_times_in_the_zone(zone, tmp_path, monkeypatch):
    from chainbreaker.chains.funds.bank.service import ingest_bank
    from chainbreaker.chains.people.ingest import ingest_travel
    from chainbreaker.chains.promotion.ingest import ingest_platform
    from chainbreaker.core.workspace import Workspace

    monkeypatch.setenv("CHAINBREAKER_TIMEZONE", zone)
    hours = {"Asia/Shanghai": 8, "Asia/Tokyo": 9}[zone]
    ws = Workspace(tmp_path / "ws")
    folder = hostile_statement(tmp_path / "调单" / "任务流水号1", time_text="2024-03-01 09:00:00",
                               offset_time_text="2024-03-01T09:00:00+08:00").parent
    ingest_bank(ws, [folder], progress=None, workers=2)  # worker processes read the zone too
    con = ws.duck()
    got = {r[0]: r[1] for r in con.sql("SELECT serial_no, ts FROM transactions").fetchall()}
    assert got["ICBC20240301000123"] == _utc(2024, 3, 1, 9 - hours)  # naive: wall clock of the zone
    assert got["ICBC20240301000456"] == _utc(2024, 3, 1, 1)  # +08:00 kept

    ingest_platform(ws, hostile_platform(tmp_path / "platform", naive_time="2025-01-05 09:00:00",
                                         offset_time="2025-01-05 09:00:00+08:00"), "平台")
    bets = dict(ws.duck().sql("SELECT order_id, ts FROM platform_bets").fetchall())
    assert bets["B1"] == _utc(2025, 1, 5, 9 - hours) and bets["B2"] == _utc(2025, 1, 5, 1)

    ingest_travel(ws, [hostile_crossings(tmp_path / "travel", naive_time="2026-01-05 10:00:00",
                                         offset_time="2026-01-20 10:00:00+08:00")])
    times = sorted(r[0] for r in ws.duck().sql("SELECT ts FROM travel_crossings").fetchall())
    assert times[0] == _utc(2026, 1, 5, 10 - hours) and times[-1] == _utc(2026, 1, 20, 2)


# ------------------------------------------------------------------ what users read
def test_show_time_uses_the_configured_zone(monkeypatch):
    instant = _utc(2024, 3, 1, 16, 30)
    assert show_time(instant) == "2024-03-02 00:30:00"
    assert show_time("2024-03-01T16:30:00+00:00", seconds=False) == "2024-03-02 00:30"
    assert show_time(instant.replace(tzinfo=None)) == "2024-03-02 00:30:00"  # naive values are UTC in the lake
    monkeypatch.setenv("CHAINBREAKER_TIMEZONE", "UTC")
    assert show_time(instant) == "2024-03-01 16:30:00"


def test_cli_tables_show_updated_times_in_the_zone(tmp_path):
    import pyarrow as pa

    from chainbreaker.core.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    with ws.transaction("t") as tx:
        tx.write("t1", pa.table({"a": [1]}))
    updated = dt.datetime.fromisoformat(ws.tables()["t1"]["updated"])
    for zone in ("Asia/Shanghai", "Asia/Tokyo"):
        env = {**os.environ, "CHAINBREAKER_WORKSPACE": str(ws.root), "CHAINBREAKER_TIMEZONE": zone,
               "COLUMNS": "200"}
        out = subprocess.run([sys.executable, "-m", "chainbreaker.faces.cli.main", "tables"], capture_output=True,
                             text=True, env=env, check=True).stdout
        assert updated.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S") in out
        assert ("北京时间" if zone == "Asia/Shanghai" else "Asia/Tokyo") in out
