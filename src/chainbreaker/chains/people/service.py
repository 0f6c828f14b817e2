"""Services of the people chain (人员链服务): queries every face calls, masked for the role and audited.

Faces parse their arguments, call one of these and render the result; names, ID numbers and person
keys come back as the caller's role may see them (core/model/masking.py), and each read of personal
data is written to the workspace's audit log with the user and role the caller gives.
"""

from __future__ import annotations

from typing import Any

from chainbreaker.core.model.masking import mask_text
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
