"""Casework pages (案件办理): one case with its tasks, measures and history, and the edit forms.

Forms are posted by ui/app.js with the CSRF header (double submit; a plain form post has no header and
is refused). A successful write answers 303 to the case page; the change is in ``ops_history`` with the
logged-in user. Bodies: read the form → call an ops service → redirect or render.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from chainbreaker.core.errors import InputError
from chainbreaker.core.timefmt import show_time
from chainbreaker.faces.web.access import ANALYSIS_ROLES, allow, mask_role
from chainbreaker.faces.web.render import page
from chainbreaker.ops.accounts import Principal
from chainbreaker.ops.casework_models import CASE_STATUSES, MEASURES, SUPERVISION_LEVELS

router = APIRouter(include_in_schema=False)
CASE_EDIT_ROLES = ("admin", "analyst", "investigator", "commander")
MEASURE_ROLES = ("admin", "analyst", "investigator")
MAX_FIELD = 200


async def _form(request: Request) -> dict[str, str]:
    """The posted fields as short strings (anything longer than a field may be is refused)."""
    form = await request.form()
    out: dict[str, str] = {}
    for key, value in form.items():
        if not isinstance(value, str):
            raise InputError("此表单不接受文件。", "This form takes no files.")
        if len(value) > MAX_FIELD:
            raise InputError(f"字段“{key}”超过 {MAX_FIELD} 个字符。", f"Field '{key}' is longer than {MAX_FIELD} characters.")
        out[key] = value.strip()
    return out


def _date(value: str | None, what_zh: str, what_en: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{what_zh}“{value}”不是日期（格式 2025-10-02）。",
                         f"{what_en} '{value}' is not a date (format 2025-10-02).") from None


def _to_case(number: str) -> RedirectResponse:
    return RedirectResponse(f"/cases/{quote(number, safe='')}", status_code=303)


@router.get("/cases/new")
def case_new_page(request: Request, principal: Principal = allow(*CASE_EDIT_ROLES)) -> Response:
    return page(request, "case_new.html", {"levels": SUPERVISION_LEVELS, "statuses": CASE_STATUSES})


@router.post("/cases/new")
async def case_create(request: Request, principal: Principal = allow(*CASE_EDIT_ROLES)) -> Response:
    from chainbreaker.ops.casework_edit import create_case

    f = await _form(request)
    number = create_case(request.app.state.ws, f.get("number", ""), f.get("name", ""),
                         supervision=f.get("supervision") or "无", status=f.get("status") or "初查",
                         opened_on=_date(f.get("opened_on"), "立案日期", "Opening date"), unit=f.get("unit"),
                         who=principal.username)
    return _to_case(number)


@router.get("/cases/{number}")
def case_page(request: Request, number: str, principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    from chainbreaker.ops.casework import case_detail
    from chainbreaker.ops.casework_edit import TASK_STATUSES, case_fields, case_measures

    ws = request.app.state.ws
    detail = case_detail(ws, number)
    measures = case_measures(ws, number, role=mask_role(principal), user=principal.username)
    return page(request, "case.html", {
        "c": detail, "f": case_fields(ws, number), "measures": measures, "levels": SUPERVISION_LEVELS,
        "statuses": CASE_STATUSES, "task_statuses": TASK_STATUSES, "measure_kinds": MEASURES,
        "may_edit": principal.role in CASE_EDIT_ROLES, "may_measure": principal.role in MEASURE_ROLES,
        "show_time": show_time})


@router.post("/cases/{number}")
async def case_update(request: Request, number: str, principal: Principal = allow(*CASE_EDIT_ROLES)) -> Response:
    from chainbreaker.ops.casework_edit import CASE_FIELDS, update_case

    f = await _form(request)
    changes: dict[str, Any] = {k: f[k] for k in ("name", "supervision", "status", "unit") if k in f}
    if "opened_on" in f:
        changes["opened_on"] = _date(f["opened_on"], "立案日期", "Opening date")
    if "closed_on" in f:
        changes["closed_on"] = _date(f["closed_on"], "结案日期", "Closing date")
    update_case(request.app.state.ws, number, {k: v for k, v in changes.items() if k in CASE_FIELDS},
                who=principal.username)
    return _to_case(number)


@router.post("/cases/{number}/tasks")
async def task_add(request: Request, number: str, principal: Principal = allow(*CASE_EDIT_ROLES)) -> Response:
    from chainbreaker.ops.casework import add_case_task

    f = await _form(request)
    add_case_task(request.app.state.ws, number, f.get("title", ""), owner=f.get("owner") or None,
                  due=_date(f.get("due"), "期限", "Due date"), who=principal.username)
    return _to_case(number)


@router.post("/cases/{number}/tasks/{task_id}/status")
async def task_status(request: Request, number: str, task_id: int,
                      principal: Principal = allow(*CASE_EDIT_ROLES)) -> Response:
    from chainbreaker.ops.casework_edit import set_task_status

    f = await _form(request)
    set_task_status(request.app.state.ws, number, task_id, f.get("status", ""), who=principal.username)
    return _to_case(number)


@router.post("/cases/{number}/measures")
async def measure_add(request: Request, number: str, principal: Principal = allow(*MEASURE_ROLES)) -> Response:
    from chainbreaker.ops.casework_edit import add_measure

    f = await _form(request)
    taken_on = _date(f.get("taken_on"), "措施日期", "Measure date")
    if taken_on is None:
        raise InputError("请填写措施日期。", "Give the date of the measure.")
    ws = request.app.state.ws
    ws.audit("web.case.measure", user=principal.username, role=str(mask_role(principal)), case=number)
    add_measure(ws, number, f.get("id_number", ""), f.get("measure", ""), taken_on, name=f.get("name"),
                who=principal.username)
    return _to_case(number)
