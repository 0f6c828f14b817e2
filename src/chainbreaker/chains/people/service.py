"""Services of the people chain (人员链服务): queries every face calls, masked for the role and audited.

Faces parse their arguments, call one of these and render the result; names, ID numbers and person
keys come back as the caller's role may see them (core/model/masking.py), and each read of personal
data is written to the workspace's audit log with the user and role the caller gives.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from chainbreaker.core.model.finding import count_by_rule
from chainbreaker.core.model.masking import mask_table, mask_text
from chainbreaker.core.workspace import Workspace


def _shown(value: Any, role: str, kind: str | None = None) -> str | None:
    return None if value is None else mask_text(value, role, kind)


def stranded_persons(ws: Workspace, *, limit: int = 20, role: str = "analyst", user: str = "local") -> list[dict[str, Any]]:
    """滞留境外人员: persons stranded abroad, longest first, as ``role`` may see them (the read is audited)."""
    con = ws.duck()
    try:
        rows = con.execute("""SELECT person_key, name, days_since_last, last_trip_dest, last_trip_town, last_ts
                              FROM travel_person_metrics WHERE stranded ORDER BY days_since_last DESC LIMIT ?""",
                           [int(limit)]).fetchall()
    finally:
        con.close()
    ws.audit("people.stranded.list", user=user, role=role, rows=len(rows))
    return [{"person_key": _shown(key, role, "person_key"), "name": _shown(name, role, "name"), "days": days,
             "destination": dest, "town": town, "last_ts": ts} for key, name, days, dest, town, ts in rows]


def people_overview(ws: Workspace, *, role: str = "analyst", as_of: dt.date | None = None) -> dict[str, Any]:
    """What a report shows of the people chain: the 15 longest-stranded persons (masked for ``role``),
    the 10 busiest listed groups, exits to listed destinations in the 12 months before ``as_of``
    (default: the last ``people analyze`` run's date) and findings per rule."""
    as_of = as_of or _latest_as_of(ws)
    con = ws.duck()
    try:
        stranded = con.sql("""SELECT person_key, name, days_since_last, last_trip_dest, last_trip_town, last_trip_via_third
                              FROM travel_person_metrics WHERE stranded ORDER BY days_since_last DESC LIMIT 15""").fetchall()
        groups = con.sql("""SELECT group_id, size, trips, destinations, evidence_kinds FROM travel_groups WHERE listed
                            ORDER BY trips DESC, size DESC LIMIT 10""").fetchall() if ws.has_table("travel_groups") else []
        dests = []
        if ws.has_table("travel_trips"):
            ref = "CAST(? AS DATE)" if as_of else "(SELECT max(CAST(exit_ts AS DATE)) FROM travel_trips)"
            dests = con.execute(f"""SELECT coalesce(onward_dest, dest_zh) AS d, count(*) AS n FROM travel_trips
                                   WHERE listed_trip AND exit_ts > {ref} - INTERVAL 365 DAY
                                   GROUP BY 1 ORDER BY n DESC, 1 LIMIT 10""", [as_of.isoformat()] if as_of else []).fetchall()
        findings = count_by_rule(con, "people")
    finally:
        con.close()
    keys, names = _mask_keys([r[0] for r in stranded], [r[1] for r in stranded], role)
    rows = [{"person_key": key, "name": name, "days": d, "destination": dest, "town": town, "via_third": via}
            for key, name, (_k, _n, d, dest, town, via) in zip(keys, names, stranded, strict=True)]
    return {"as_of": as_of, "stranded": rows, "groups": groups, "destinations": [(d or "", int(n)) for d, n in dests],
            "findings": findings}


def _latest_as_of(ws: Workspace) -> dt.date | None:
    """The as-of date of the last ``people analyze`` run (its run record)."""
    for run in reversed(ws.runs()):
        if run.get("kind") == "people.analyze" and run.get("settings", {}).get("as_of"):
            try:
                return dt.date.fromisoformat(str(run["settings"]["as_of"]))
            except ValueError:
                return None
    return None


def _mask_keys(keys: list[str], names: list[str | None], role: str) -> tuple[list[str], list[str | None]]:
    """Person keys (``ID:<resident id>`` or a hash) and names as the role may see them (``mask_table``)."""
    import pyarrow as pa

    ids = [k[3:] if k.startswith("ID:") else None for k in keys]
    shown = mask_table(pa.table({"id_number": pa.array(ids, pa.string()), "name": pa.array(names, pa.string())}), role)
    out_keys = [("ID:" + (m or "")) if k.startswith("ID:") else k[:6] + "…"
                for k, m in zip(keys, shown.column("id_number").to_pylist(), strict=True)]
    return out_keys, shown.column("name").to_pylist()


# ------------------------------------------------------------------ views for the web face
# Each row carries ``key`` (the clear person key, for the face to turn into a link reference it
# resolves itself; never shown) beside ``person`` and ``name`` as the role may see them.
def stranded_listing(ws: Workspace, *, limit: int = 200, role: str = "analyst", user: str = "local") -> list[dict[str, Any]]:
    """滞留境外人员 for a page: longest stranded first, masked for ``role`` (audited)."""
    if not ws.has_table("travel_person_metrics"):
        return []
    con = ws.duck()
    try:
        rows = con.execute("""SELECT person_key, name, days_since_last, last_trip_dest, last_trip_town, last_ts,
                                     last_trip_via_third FROM travel_person_metrics WHERE stranded
                              ORDER BY days_since_last DESC, person_key LIMIT ?""", [int(limit)]).fetchall()
    finally:
        con.close()
    keys, names = _mask_keys([r[0] for r in rows], [r[1] for r in rows], role)
    ws.audit("people.stranded.list", user=user, role=role, rows=len(rows))
    return [{"key": r[0], "person": k, "name": n, "days": r[2], "destination": r[3], "town": r[4], "last_ts": r[5],
             "via_third": r[6]} for r, k, n in zip(rows, keys, names, strict=True)]


def _events(con: Any, ws: Workspace, keys: list[str]) -> list[dict[str, Any]]:
    """Every travel record of ``keys`` as one time line: crossings, flights, trains, hotels (source row kept)."""
    parts = []
    if ws.has_table("travel_crossings"):
        parts.append("SELECT person_key, ts, CASE WHEN direction = 'exit' THEN '出境' WHEN direction = 'entry' THEN '入境' "
                     "ELSE coalesce(direction_raw, direction) END AS kind, concat_ws(' ', port, country_raw, transport, "
                     "tour_no) AS what, direction = 'exit' AS exit, src_file, src_row FROM travel_crossings")
    if ws.has_table("travel_flights"):
        parts.append("SELECT person_key, CAST(flight_date AS TIMESTAMPTZ), '航班', concat_ws(' ', flight_no, "
                     "concat_ws(' → ', dep_country_raw, arr_country_raw)), false, src_file, src_row FROM travel_flights")
    if ws.has_table("travel_trains"):
        parts.append("SELECT person_key, CAST(dep_date AS TIMESTAMPTZ), '铁路', concat_ws(' ', train_no, "
                     "concat_ws(' → ', from_station, to_station)), false, src_file, src_row FROM travel_trains")
    if ws.has_table("travel_hotels"):
        parts.append("SELECT person_key, checkin, '住宿', hotel_name, false, src_file, src_row "
                     "FROM travel_hotels")
    if not parts:
        return []
    sql = ("SELECT * FROM (" + " UNION ALL ".join(parts) + ") WHERE list_contains($1, person_key) "
           "ORDER BY ts, person_key, kind")
    return [{"key": k, "ts": ts, "kind": kind, "what": what, "exit": bool(ex), "source": f"{f or ''}:{row}"}
            for k, ts, kind, what, ex, f, row in con.execute(sql, [keys]).fetchall()]


def travel_timeline(ws: Workspace, person_key: str, *, role: str = "analyst", user: str = "local") -> dict[str, Any]:
    """出行时间线 of one person: the metrics, the trips (exit → entry, destination, days) and every
    record in time order, masked for ``role``; the groups the person travelled with. Audited."""
    from chainbreaker.core.errors import InputError

    if not ws.has_table("travel_person_metrics"):
        raise InputError("尚未进行出入境分析（chainbreaker people analyze）。", "No travel analysis yet (people analyze).")
    con = ws.duck()
    try:
        metrics = con.sql("SELECT * FROM travel_person_metrics WHERE person_key = ?", params=[person_key]).to_arrow_table()
        if not metrics.num_rows:
            raise InputError("出入境记录中没有此人。", "This person is not in the travel records.")
        trips = con.sql("""SELECT exit_ts, entry_ts, dest_zh, dest_town, onward_dest, dwell_days, listed_trip,
                                  via_third_country, is_open, port, transport FROM travel_trips WHERE person_key = ?
                           ORDER BY exit_ts""", params=[person_key]).to_arrow_table().to_pylist() \
            if ws.has_table("travel_trips") else []
        events = _events(con, ws, [person_key])
        groups = con.execute("SELECT group_id, size, trips, destinations, listed FROM travel_groups "
                             "WHERE list_contains(members, ?) ORDER BY trips DESC", [person_key]).fetchall() \
            if ws.has_table("travel_groups") else []
    finally:
        con.close()
    (shown,), (name,) = _mask_keys([person_key], [metrics.column("name")[0].as_py()], role)
    ws.audit("people.timeline", user=user, role=role, person_key=shown, events=len(events))
    info = mask_table(metrics.drop_columns(["person_key"]), role).to_pylist()[0]
    return {"person": shown, "name": name, "metrics": info, "trips": trips,
            "events": [{k: v for k, v in e.items() if k != "key"} for e in events],
            "groups": [{"group_id": g, "size": s, "trips": t, "destinations": d, "listed": li} for g, s, t, d, li in groups]}


def group_timeline(ws: Workspace, group_id: str, *, role: str = "analyst", user: str = "local") -> dict[str, Any]:
    """团伙出行时间线: one group's members and their records on one time line; records of the same
    kind, day and place are one line naming every member on it. Masked for ``role``, audited."""
    from chainbreaker.core.errors import InputError

    if not ws.has_table("travel_groups"):
        raise InputError("尚未进行出入境分析（chainbreaker people analyze）。", "No travel analysis yet (people analyze).")
    con = ws.duck()
    try:
        row = con.sql("SELECT * FROM travel_groups WHERE group_id = ?", params=[group_id]).to_arrow_table().to_pylist()
        if not row:
            raise InputError(f"没有出行团伙 {group_id}。", f"No travel group {group_id}.")
        group = row[0]
        members = list(group["members"] or [])
        names = dict(con.execute("SELECT person_key, name FROM travel_person_metrics WHERE list_contains($1, person_key)",
                                 [members]).fetchall())
        events = _events(con, ws, members)
    finally:
        con.close()
    keys, shown_names = _mask_keys(members, [names.get(k) for k in members], role)
    label = {k: (n or s) for k, s, n in zip(members, keys, shown_names, strict=True)}
    lines: dict[tuple[Any, ...], dict[str, Any]] = {}
    for e in events:
        day = e["ts"].date() if e["ts"] is not None else None
        slot = lines.setdefault((day, e["kind"], e["what"]), {"day": day, "kind": e["kind"], "what": e["what"],
                                                              "exit": e["exit"], "who": []})
        if label[e["key"]] not in slot["who"]:
            slot["who"].append(label[e["key"]])
    ws.audit("people.group.timeline", user=user, role=role, group=group_id, members=len(members), events=len(events))
    return {"group_id": group_id, "size": group["size"], "trips": group["trips"], "first_day": group["first_day"],
            "last_day": group["last_day"], "destinations": group["destinations"], "listed": group["listed"],
            "evidence_kinds": group["evidence_kinds"],
            "members": [{"key": k, "person": s, "name": n} for k, s, n in zip(members, keys, shown_names, strict=True)],
            "lines": sorted(lines.values(), key=lambda x: (x["day"] or dt.date.min, x["kind"]))}


def travel_groups(ws: Workspace, *, limit: int = 100) -> list[dict[str, Any]]:
    """出行团伙 (no personal data: ids, sizes, trips, destinations), listed ones and the busiest first."""
    if not ws.has_table("travel_groups"):
        return []
    con = ws.duck()
    try:
        rows = con.execute("SELECT group_id, size, trips, first_day, last_day, destinations, listed, evidence_kinds "
                           "FROM travel_groups ORDER BY listed DESC, trips DESC, size DESC, group_id LIMIT ?",
                           [int(limit)]).fetchall()
    finally:
        con.close()
    cols = ("group_id", "size", "trips", "first_day", "last_day", "destinations", "listed", "evidence_kinds")
    return [dict(zip(cols, r, strict=True)) for r in rows]
