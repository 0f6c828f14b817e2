"""Trips and per-person travel metrics as Ibis expressions, so they run on DuckDB or on Spark.

* ``person_ids``: an exact integer person dimension (row number over the sorted distinct keys, so runs
  are reproducible; never a hash) — window partitions and joins on integers are several times
  faster than on the text keys;
* ``sequence``: each exit/entry record with the next record of the same person (one ``lead`` of a
  struct over the person's records ordered by time, exits before entries at the same instant, then
  record id) and the previous record's direction;
* ``trips``: one row per exit, closed by the next record if it is an entry, with the onward flight
  to a listed destination when the exit itself was to an unlisted country (a range join on the
  flight date, first flight by date then record id);
* ``metrics``: one row per person (trip counts in the window, dwell, last record, anomalies, the
  ``stranded`` and ``frequent`` flags).

Dates are Beijing dates (UTC+8, no daylight saving since 1991) computed from UTC instants, and
durations are whole seconds, so both engines give the same values bit for bit. Where a person has
several candidate rows (last record, last trip, first onward flight) the choice is a window order,
never an arbitrary ``arg_max``, for the same reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis

LAND_TRANSPORT = ("陆路", "公路", "步行", "汽车", "徒步", "land", "road")
BEIJING = dt.timezone(dt.timedelta(hours=8))


def cutoff_instant(as_of: dt.date) -> dt.datetime:
    """End of the as-of day, Beijing time, as a UTC instant."""
    return dt.datetime.combine(as_of, dt.time(23, 59, 59, 999999), BEIJING).astimezone(dt.UTC)


def bj_date(ts: ibis.Value) -> ibis.Value:
    """The Beijing calendar date of a UTC instant (the engines' session zone is UTC)."""
    return (ts + ibis.interval(hours=8)).date()


def _seconds(ts: ibis.Value) -> ibis.Value:
    return ts.epoch_seconds().cast("float64").floor().cast("int64")


def _days(later: ibis.Value, earlier: ibis.Value) -> ibis.Value:
    """Whole seconds between two instants, in days (a double on every engine)."""
    return (_seconds(later) - _seconds(earlier)).cast("float64") / ibis.literal(86400.0, "float64")


def _days2(seconds: ibis.Value) -> ibis.Value:
    """Whole seconds (>= 0) as days rounded half up to two decimals, in integer arithmetic: a double
    such as 80.445 is not exact, and the engines' ``round`` of it disagree."""
    return ((seconds.cast("int64") * 100 + 43200) // 86400).cast("float64") / ibis.literal(100.0, "float64")


def _ts(value: dt.datetime) -> ibis.Value:
    return ibis.literal(value, type="timestamp('UTC')")


def person_ids(tables: list[ibis.Table]) -> ibis.Table:
    """``pk``: (person_key, pid) over every person key of the travel tables."""
    keys = tables[0].select("person_key")
    for t in tables[1:]:
        keys = keys.union(t.select("person_key"), distinct=False)
    keys = keys.distinct()
    return keys.mutate(pid=(ibis.row_number().over(order_by=keys.person_key) + 1).cast("int32"))


def crossings(cross: ibis.Table, pk: ibis.Table, dest: ibis.Table, cutoff: dt.datetime) -> ibis.Table:
    """``cx``: the crossings up to the cut-off with integer person ids and normalised destinations."""
    c = cross.filter(cross.ts <= _ts(cutoff))
    j = c.join(pk, c.person_key == pk.person_key).left_join(dest, c.country_raw == dest.raw)
    return j.select(
        pid=pk.pid, ts=c.ts, direction=c.direction, port=c.port, transport=c.transport, tour_no=c.tour_no,
        record_id=c.record_id, src_sha256=c.src_sha256, src_row=c.src_row,
        country=dest.code.coalesce(c.country_raw), country_zh=dest.name_zh.coalesce(c.country_raw),
        listed=dest.listed.fill_null(False), town=dest.town)


def sequence(cx: ibis.Table) -> ibis.Table:
    """``seq``: every record with the next one of the same person (``nd``, ``nts``, ...) and ``pd``."""
    w = ibis.window(group_by=cx.pid, order_by=[cx.ts, ibis.desc(cx.direction), cx.record_id])
    nx = ibis.struct({"d": cx.direction, "ts": cx.ts, "c": cx.country, "cz": cx.country_zh, "l": cx.listed,
                      "t": cx.town}).lead().over(w)
    s = cx.mutate(nx=nx, pd=cx.direction.lag().over(w))
    return s.mutate(nd=s.nx["d"], nts=s.nx["ts"], ncountry=s.nx["c"], ncountry_zh=s.nx["cz"], nlisted=s.nx["l"],
                    ntown=s.nx["t"], is_last=s.nx.isnull()).drop("nx")


def onward(seq: ibis.Table, flights: ibis.Table, pk: ibis.Table, dest: ibis.Table,
           cutoff: dt.datetime) -> ibis.Table:
    """``ow``: for an exit to an unlisted country, the first flight on to a listed one before return."""
    e = seq.filter((seq.direction == "exit") & ~seq.listed & (seq.nd.fill_null("entry") == "entry"))
    e = e.select(pid=e.pid, exit_ts=e.ts, lo=bj_date(e.ts),
                 hi=bj_date(ibis.ifelse(e.nd == "entry", e.nts, _ts(cutoff))))
    listed = dest.filter(dest.listed)
    f = flights.join(pk, flights.person_key == pk.person_key).join(listed, flights.arr_country_raw == listed.raw)
    f = f.select(pid=pk.pid, flight_date=flights.flight_date, record_id=flights.record_id,
                 src_sha256=flights.src_sha256, src_row=flights.src_row, code=listed.code, name_zh=listed.name_zh,
                 town=listed.town)
    j = e.join(f, [e.pid == f.pid, f.flight_date >= e.lo, f.flight_date <= e.hi]).select(
        pid=e.pid, exit_ts=e.exit_ts, flight_date=f.flight_date, onward_code=f.code, onward_zh=f.name_zh,
        onward_town=f.town, onward_record=f.record_id, onward_sha=f.src_sha256, onward_row=f.src_row)
    first = ibis.row_number().over(group_by=[j.pid, j.exit_ts], order_by=[j.flight_date, j.onward_record])
    return j.mutate(rn=first).filter(ibis._.rn == 0).drop("rn", "flight_date")


def trips(seq: ibis.Table, ow: ibis.Table | None, cutoff: dt.datetime) -> ibis.Table:
    """``trips``: one row per exit."""
    s = seq.filter(seq.direction == "exit")
    if ow is None:
        j = s
        o: dict[str, ibis.Value] = {k: ibis.null(t) for k, t in (
            ("onward_code", "string"), ("onward_zh", "string"), ("onward_town", "string"),
            ("onward_record", "string"), ("onward_sha", "string"), ("onward_row", "int64"))}
    else:
        j = s.left_join(ow, [s.pid == ow.pid, s.ts == ow.exit_ts])
        o = {k: ow[k] for k in ("onward_code", "onward_zh", "onward_town", "onward_record", "onward_sha",
                                "onward_row")}
    back = s.nd == "entry"
    back_listed = (back & s.nlisted).fill_null(False)
    has_onward = o["onward_code"].notnull()
    transport = s.transport.fill_null("").lower()
    land = ibis.literal(False)
    for word in LAND_TRANSPORT:
        land = land | transport.contains(word.lower())
    end = ibis.ifelse(back, s.nts, _ts(cutoff))
    return j.select(
        pid=s.pid, exit_ts=s.ts, entry_ts=ibis.ifelse(back, s.nts, ibis.null("timestamp('UTC')")),
        dest=s.country, dest_zh=s.country_zh, dest_town=s.town, exit_listed=s.listed,
        return_from=ibis.ifelse(back, s.ncountry_zh, ibis.null("string")),
        onward_dest=o["onward_zh"],
        onward_town=o["onward_town"].coalesce(ibis.ifelse(back & s.nlisted, s.ntown, ibis.null("string"))),
        is_open=s.nd.isnull(), missing_entry=(s.nd == "exit").fill_null(False),
        listed_trip=s.listed | back_listed | has_onward,
        via_third_country=~s.listed & (back_listed | has_onward),
        dwell_days=ibis.ifelse(s.nd == "exit", ibis.null("float64"), _days(end, s.ts)),
        land=land, port=s.port, transport=s.transport, tour_no=s.tour_no, record_id=s.record_id,
        src_sha256=s.src_sha256, src_row=s.src_row, onward_record=o["onward_record"], onward_sha=o["onward_sha"],
        onward_row=o["onward_row"].cast("int64"),
    )


def metrics(seq: ibis.Table, trips: ibis.Table, pk: ibis.Table, cross: ibis.Table, params: dict[str, Any],
            cutoff: dt.datetime) -> ibis.Table:
    """``metrics``: one row per person with a crossing up to the cut-off."""
    since = _ts(cutoff - dt.timedelta(days=int(params["window_days"])))
    short = int(params["short_land_days"])
    agg = seq.group_by("pid").aggregate(
        entries_without_exit=seq.count(where=(seq.direction == "entry") & (seq.pd.fill_null("entry") == "entry")),
        records=seq.count())
    lr = seq.filter(seq.is_last)
    last = agg.join(lr, agg.pid == lr.pid).select(
        pid=agg.pid, entries_without_exit=agg.entries_without_exit, records=agg.records,
        last_direction=lr.direction, last_ts=lr.ts, last_country=lr.country_zh, last_town=lr.town)
    t = trips.mutate(dwell_s=(trips.dwell_days * 86400).round().cast("int64"))
    recent = t.exit_ts > since
    tagg = t.group_by("pid").aggregate(
        trips_listed_12m=t.count(where=t.listed_trip & recent), trips_12m=t.count(where=recent),
        trips_total=t.count(), total_dwell_days=_days2(t.dwell_s.sum()),
        longest_dwell_days=_days2(t.dwell_s.max()), via_third_trips=t.count(where=t.via_third_country),
        short_land_trips_12m=t.count(where=t.land & ~t.is_open & (t.dwell_days <= short) & recent),
        exits_without_entry=t.count(where=t.missing_entry))
    lt = t.mutate(rn=ibis.row_number().over(group_by=t.pid, order_by=[ibis.desc(t.exit_ts),
                                                                      ibis.desc(t.record_id)]))
    lt = lt.filter(lt.rn == 0).select(
        pid=lt.pid, last_trip_listed=lt.listed_trip, last_trip_dest=lt.onward_dest.coalesce(lt.dest_zh),
        last_trip_town=lt.dest_town.coalesce(lt.onward_town), last_trip_via_third=lt.via_third_country)
    c = cross
    ids = c.group_by("person_key").aggregate(
        name=c.name.min(), id_number=c.id_number.min(), id_valid=c.id_valid.any(), id_issue=c.id_issue.min(),
        future_records=c.count(where=c.ts > _ts(cutoff)),
        invalid_id_records=c.count(where=~c.id_valid & c.id_number.notnull()))
    j = last.join(pk, "pid").left_join(tagg, "pid").left_join(lt, "pid").left_join(ids, "person_key")
    days_since = _days(_ts(cutoff), j.last_ts)
    last_listed = j.last_trip_listed.fill_null(False)

    def n(col: ibis.Value) -> ibis.Value:
        return col.fill_null(0).cast("int64")

    return j.select(
        person_key=j.person_key, pid=j.pid, name=j.name, id_number=j.id_number,
        id_valid=j.id_valid.fill_null(False), id_issue=j.id_issue, records=j.records.cast("int64"),
        trips_total=n(j.trips_total), trips_12m=n(j.trips_12m), trips_listed_12m=n(j.trips_listed_12m),
        total_dwell_days=j.total_dwell_days.fill_null(0.0), longest_dwell_days=j.longest_dwell_days.fill_null(0.0),
        via_third_trips=n(j.via_third_trips), short_land_trips_12m=n(j.short_land_trips_12m),
        last_direction=j.last_direction, last_ts=j.last_ts, last_country=j.last_country,
        last_town=j.last_town, days_since_last=_days2(_seconds(_ts(cutoff)) - _seconds(j.last_ts)),
        entries_without_exit=j.entries_without_exit.cast("int64"), exits_without_entry=n(j.exits_without_entry),
        future_records=n(j.future_records), invalid_id_records=n(j.invalid_id_records),
        last_trip_listed=last_listed, last_trip_dest=j.last_trip_dest, last_trip_town=j.last_trip_town,
        last_trip_via_third=j.last_trip_via_third.fill_null(False),
        stranded=(j.last_direction == "exit") & last_listed & (days_since > int(params["stranded_days"])),
        frequent=j.trips_listed_12m.fill_null(0) >= int(params["frequent_trips"]),
    )
