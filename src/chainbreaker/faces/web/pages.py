"""Server-rendered pages (Jinja2 + htmx). Bodies: check input → call a service → render."""

from __future__ import annotations

import shutil
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.background import BackgroundTask

from chainbreaker.faces.web import views
from chainbreaker.faces.web.access import ANALYSIS_ROLES, EXPORT_ROLES, ROLES, allow, mask_role, public
from chainbreaker.faces.web.api import SEARCH_ROLES
from chainbreaker.faces.web.render import page
from chainbreaker.faces.web.services import NotFound, list_tables
from chainbreaker.ops.accounts import Principal

router = APIRouter(include_in_schema=False)
TIP_ROLES = ("admin", "analyst", "investigator", "tip_reviewer")
REWARD_ROLES = ("admin", "commander", "tip_reviewer")
ASSESS_ROLES = ("admin", "analyst", "commander")
SHARE_ROLES = ("admin", "analyst", "investigator", "partner")


def _ctx(request: Request, principal: Principal) -> dict[str, Any]:
    return {"ws": request.app.state.ws, "role": mask_role(principal), "user": principal.username}


@router.get("/login")
def login_page(request: Request, next: str = "/", _: Any = public()) -> Response:
    # only a path on this site: "//host" and "/\\host" would send the user elsewhere after logging in
    target = next if next.startswith("/") and not next.startswith("//") and "\\" not in next else "/"
    return page(request, "login.html", {"next": target})


@router.get("/")
def dashboard(request: Request, principal: Principal = allow(*ROLES)) -> Response:
    if principal.role == "partner":
        return RedirectResponse("/sharing", status_code=303)
    c = _ctx(request, principal)
    data = views.dashboard(c["ws"], c["role"], c["user"])
    return page(request, "dashboard.html", {**data, "trend": views.trend_series(data["bulletin"])})


@router.get("/search")
def search_page(request: Request, q: str = Query("", max_length=100),
                principal: Principal = allow(*SEARCH_ROLES)) -> Response:
    hits = (request.app.state.dossiers.search(q, role=mask_role(principal), user=principal.username)
            if q.strip() else [])
    template = "search_results.html" if request.headers.get("HX-Request") else "search.html"
    return page(request, template, {"q": q, "hits": hits})


@router.get("/entities/{ident}")
def dossier_page(request: Request, ident: str, principal: Principal = allow(*SEARCH_ROLES)) -> Response:
    found = request.app.state.dossiers.dossier(ident, role=mask_role(principal), user=principal.username)
    if found is None:
        raise NotFound(f"没有关于“{ident[:60]}”的记录。", f"Nothing is known about '{ident[:60]}'.")
    return page(request, "dossier.html", {"d": found})


@router.get("/tables")
def tables_page(request: Request, principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    return page(request, "tables.html", {"tables": list_tables(request.app.state.ws),
                                         "may_export": principal.role in EXPORT_ROLES})


@router.get("/promotion")
def promotion_page(request: Request, platform: str = Query("", max_length=100),
                   principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    c = _ctx(request, principal)
    roots = views.agent_children(c["ws"], platform, None, c["role"], c["user"])
    return page(request, "promotion.html", {"roots": roots, "platform": platform})


@router.get("/promotion/children")
def promotion_children(request: Request, member: str = Query(..., max_length=100), platform: str = Query("", max_length=100),
                       principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    """One agent's direct downline as an htmx fragment (the tree loads a level at a time)."""
    c = _ctx(request, principal)
    kids = views.agent_children(c["ws"], platform, member, c["role"], c["user"])
    return page(request, "tree_children.html", {"kids": kids})


@router.get("/tech/blocklist")
def tech_blocklist(request: Request, format: str = Query("domains", max_length=20),
                   principal: Principal = allow(*EXPORT_ROLES)) -> FileResponse:
    path, name = views.blocklist_download(request.app.state.ws, format, mask_role(principal), principal.username)
    return FileResponse(path, filename=name, media_type="application/octet-stream",
                        background=BackgroundTask(shutil.rmtree, path.parent, ignore_errors=True))


@router.get("/cases")
def cases_page(request: Request, principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    return page(request, "rows.html", {"title": ("案件", "Cases"), "rows": views.cases(request.app.state.ws),
                                       "link": ("number", "/cases/"), "new_case": True})


@router.get("/tasks")
def tasks_page(request: Request, principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    return page(request, "rows.html", {"title": ("任务", "Tasks"), "rows": views.tasks(request.app.state.ws),
                                       "link": ("case", "/cases/")})


@router.get("/tips")
def tips_page(request: Request, principal: Principal = allow(*TIP_ROLES)) -> Response:
    c = _ctx(request, principal)
    return page(request, "tips.html", {"tips": views.tips_queue(c["ws"], principal.role, c["role"], c["user"])})


@router.get("/tips/{code}/attachments/{number}")
def tip_attachment(request: Request, code: str, number: int, principal: Principal = allow(*TIP_ROLES)) -> FileResponse:
    """An attachment of a tip: always a download (never shown inline), its type not guessed by the browser."""
    path, name = views.tip_attachment(request.app.state.ws, code, number, principal.username, principal.role)
    return FileResponse(path, filename=name, media_type="application/octet-stream",
                        content_disposition_type="attachment")


@router.get("/rewards")
def rewards_page(request: Request, principal: Principal = allow(*REWARD_ROLES)) -> Response:
    return page(request, "rows.html", {"title": ("举报奖励", "Rewards"), "rows": views.rewards(request.app.state.ws)})


@router.get("/assessment")
def assessment_page(request: Request, month: str = Query("", max_length=7),
                    principal: Principal = allow(*ASSESS_ROLES)) -> Response:
    from chainbreaker.core.timefmt import now_local

    data = views.assessment(request.app.state.ws, month or f"{now_local():%Y-%m}")
    rows = [{"rank": r["rank"], "unit": r["unit"], "score": r["score"], "trend": r["trend"], **r["metrics"]}
            for r in data["rows"]]
    return page(request, "rows.html", {"title": (f"每月考核 {data['month']}（方案 {data['scheme']}）",
                                                 f"Assessment {data['month']} (scheme {data['scheme']})"), "rows": rows})


@router.get("/bulletin")
def bulletin_page(request: Request, period: str = Query("", max_length=20),
                  principal: Principal = allow(*ASSESS_ROLES)) -> Response:
    from chainbreaker.ops.bulletin import build_bulletin

    b = build_bulletin(request.app.state.ws, period or views.recent_months()).as_json()
    return page(request, "bulletin.html", {"b": b, "trend": views.trend_series(b)})


@router.get("/sharing")
def sharing_page(request: Request, principal: Principal = allow(*SHARE_ROLES)) -> Response:
    partner = principal.partner or "" if principal.role == "partner" else None
    return page(request, "rows.html", {"title": ("信息共享包", "Sharing packages"),
                                       "rows": views.shares(request.app.state.ws, partner)})
