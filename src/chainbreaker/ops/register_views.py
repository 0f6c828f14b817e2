"""Reads of the key-person register (重点人员库) for every face: masked for the role and audited.

``ops/register.py`` keeps the register; these functions return what a face shows of it, with
person keys, names, ID numbers and free text masked by what they are for the caller's role.
"""

from __future__ import annotations

from typing import Any

from chainbreaker.core.model.masking import mask_text
from chainbreaker.core.workspace import Workspace


def _shown(value: Any, role: str, kind: str | None = None) -> str | None:
    return None if value is None else mask_text(value, role, kind)


def register_listing(ws: Workspace, *, status: str | None = None, person_role: str | None = None,
                     pending: bool = False, limit: int = 50, role: str = "analyst",
                     user: str = "local") -> tuple[list[dict[str, Any]], int]:
    """The register (or its pending proposals), first ``limit`` rows masked; returns (rows, total)."""
    from chainbreaker.ops import register

    rows = register.list_proposals(ws) if pending else register.list_persons(ws, status=status, role=person_role)
    shown = [{**r, "person_key": _shown(r["person_key"], role, "person_key"), "name": _shown(r.get("name"), role, "name")}
             for r in rows[:limit]]
    ws.audit("people.register.list", user=user, role=role, rows=len(shown), pending=pending)
    return shown, len(rows)


def register_detail(ws: Workspace, person: str, *, role: str = "analyst", user: str = "local") -> dict[str, Any]:
    """One person of the register (roles, history, proposals, findings), masked; the read is audited."""
    from chainbreaker.ops import register

    d = register.show_person(ws, person, user, role)
    out = {**d, "person_key": _shown(d["person_key"], role, "person_key"), "name": _shown(d.get("name"), role, "name"),
           "id_number": _shown(d.get("id_number"), role, "id_number")}
    out["roles"] = [{**r, "why": _shown(r["why"], role)} for r in d.get("roles", [])]
    out["history"] = [{**h, "why": _shown(h["why"], role)} for h in d.get("history", [])]
    out["proposals"] = [{**p, "reason": _shown(p["reason"], role)} for p in d.get("proposals", [])]
    out["findings"] = [{**f, "explanation_zh": _shown(f["explanation_zh"], role),
                        "explanation_en": _shown(f["explanation_en"], role)} for f in d.get("findings", [])]
    return out


def register_rows(ws: Workspace, *, status: str | None = None, role: str = "analyst",
                  user: str = "local") -> list[dict[str, Any]]:
    """The register for a page: each row with ``key`` (the clear person key, for a link reference the
    face resolves; never shown) and the person, name and ID number as ``role`` may see them (audited)."""
    from chainbreaker.core.timefmt import show_time
    from chainbreaker.ops import register

    rows = register.list_persons(ws, status=status or None)
    ws.audit("people.register.list", user=user, role=role, rows=len(rows), pending=False)
    return [{"key": r["person_key"], "person": _shown(r["person_key"], role, "person_key"),
             "name": _shown(r.get("name"), role, "name"), "id_number": _shown(r.get("id_number"), role, "id_number"),
             "status": r["status"], "disposal": r["disposal"], "roles": r["roles"], "updated_at": show_time(r["updated_at"])}
            for r in rows]


def register_entry(ws: Workspace, person: str, *, role: str = "analyst", user: str = "local") -> dict[str, Any]:
    """:func:`register_detail`, or for a person neither on the register nor proposed, the masked key
    with ``on_register`` False (a page then offers to add the person). The read is audited either way."""
    from chainbreaker.core.errors import InputError
    from chainbreaker.ops import register

    key = register.person_key_of(person)
    try:
        return register_detail(ws, key, role=role, user=user)
    except InputError:
        ws.audit("people.register.show", user=user, role=role, person_key=_shown(key, role, "person_key"), found=False)
        return {"person_key": _shown(key, role, "person_key"), "on_register": False, "proposals": [], "findings": []}
