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
