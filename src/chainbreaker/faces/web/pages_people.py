"""People pages (人员链): stranded persons, travel timeline per person and per group, and the
key-person register (重点人员库) with its status workflow (线索 → 核查 → 认定 → 处置).

A person is linked by an opaque reference (``refs.RefBook``: the clear key for a role that sees it,
``r-<token>`` otherwise, valid in every worker process), never by an ID number the role may not see.
Queries, masking and audit are the people and register services'; the register's writes are
``ops/register`` (every change recorded with who and why).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from chainbreaker.core.errors import InputError
from chainbreaker.core.timefmt import show_time
from chainbreaker.faces.web.access import ANALYSIS_ROLES, EXPORT_ROLES, allow, mask_role
from chainbreaker.faces.web.pages_cases import _form
from chainbreaker.faces.web.refs import RefBook
from chainbreaker.faces.web.render import page
from chainbreaker.ops.accounts import Principal

router = APIRouter(include_in_schema=False)
REGISTER_EDIT_ROLES = ("admin", "analyst", "investigator", "commander")


def _refs(request: Request) -> RefBook:
    """The workspace's reference book (AES-SIV with the workspace key: valid in every worker process)."""
    book: RefBook = request.app.state.refs
    return book


def _linked(request: Request, rows: list[dict[str, Any]], role: str) -> list[dict[str, Any]]:
    """Rows with ``ref`` (what links carry) instead of the clear ``key``."""
    return [{**{k: v for k, v in r.items() if k != "key"}, "ref": _refs(request).ref(r["key"], role, "person_key")}
            for r in rows]


def _key(request: Request, ref: str) -> str:
    key = _refs(request).resolve(ref.strip())
    if not key:
        raise InputError("缺少人员引用。", "No person reference.")
    return key


@router.get("/people")
def people_page(request: Request, principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    from chainbreaker.chains.people.service import stranded_listing, travel_groups

    ws, role = request.app.state.ws, mask_role(principal)
    stranded = _linked(request, stranded_listing(ws, role=role, user=principal.username), role)
    return page(request, "people.html", {"stranded": stranded, "groups": travel_groups(ws),
                                         "may_export": principal.role in EXPORT_ROLES})


@router.get("/people/person")
def person_page(request: Request, ref: str = Query(..., min_length=1, max_length=80),
                principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    from chainbreaker.chains.people.service import travel_timeline

    role = mask_role(principal)
    data = travel_timeline(request.app.state.ws, _key(request, ref), role=role, user=principal.username)
    return page(request, "people_person.html", {"p": data, "ref": ref, "show_time": show_time})


@router.get("/people/group")
def group_page(request: Request, id: str = Query(..., min_length=1, max_length=40),  # noqa: A002 - the query name
               principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    from chainbreaker.chains.people.service import group_timeline

    role = mask_role(principal)
    data = group_timeline(request.app.state.ws, id, role=role, user=principal.username)
    data["members"] = _linked(request, data["members"], role)
    return page(request, "people_group.html", {"g": data})


@router.get("/people/register")
def register_page(request: Request, status: str = Query("", max_length=10),
                  principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    from chainbreaker.ops.register_models import ROLES, STATUSES
    from chainbreaker.ops.register_views import register_rows

    role = mask_role(principal)
    rows = _linked(request, register_rows(request.app.state.ws, status=status, role=role, user=principal.username), role)
    return page(request, "register.html", {"rows": rows, "status": status, "statuses": STATUSES, "roles": ROLES,
                                           "may_edit": principal.role in REGISTER_EDIT_ROLES, "show_time": show_time})


@router.get("/people/register/person")
def register_person_page(request: Request, ref: str = Query(..., min_length=1, max_length=80),
                         principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    from chainbreaker.ops.register_models import DISPOSALS, ROLES, STATUSES
    from chainbreaker.ops.register_views import register_entry

    data = register_entry(request.app.state.ws, _key(request, ref), role=mask_role(principal), user=principal.username)
    steps: list[str] = []
    if data.get("status") in STATUSES:
        i = STATUSES.index(data["status"])
        steps = [s for j, s in enumerate(STATUSES) if abs(j - i) == 1]
    return page(request, "register_person.html", {
        "p": data, "ref": ref, "steps": steps, "disposals": DISPOSALS, "roles": ROLES,
        "may_edit": principal.role in REGISTER_EDIT_ROLES, "show_time": show_time})


@router.post("/people/register/status")
async def register_status(request: Request, principal: Principal = allow(*REGISTER_EDIT_ROLES)) -> Response:
    from chainbreaker.ops.register import set_status

    f = await _form(request)
    set_status(request.app.state.ws, _key(request, f.get("ref", "")), f.get("status", ""), principal.username,
               f.get("why") or None, f.get("disposal") or None)
    return RedirectResponse(f"/people/register/person?ref={quote(f['ref'], safe='')}", status_code=303)


@router.post("/people/register/add")
async def register_add(request: Request, principal: Principal = allow(*REGISTER_EDIT_ROLES)) -> Response:
    """Put a person on the register (typed ID number or person key, or the reference of a listed person)."""
    from chainbreaker.ops.register import add_person

    f = await _form(request)
    person = _key(request, f["ref"]) if f.get("ref") else f.get("person", "")
    done = add_person(request.app.state.ws, person, f.get("role", ""), principal.username, f.get("why") or None)
    ref = _refs(request).ref(done["person_key"], mask_role(principal), "person_key")
    return RedirectResponse(f"/people/register/person?ref={quote(ref, safe='')}", status_code=303)
