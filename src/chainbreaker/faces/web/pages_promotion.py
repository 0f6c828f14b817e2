"""Promotion pages (推广链): the agent card with its legal assessment and evidence, and the evidence
workbook as a download (the same file as ``chainbreaker promotion workbook``: masked for the caller's
role, audited before it is written). The agent tree itself is in :mod:`pages` (loaded a level at a time).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from chainbreaker.core.model.labels import column_label
from chainbreaker.faces.web import views
from chainbreaker.faces.web.access import ANALYSIS_ROLES, EXPORT_ROLES, allow, mask_role
from chainbreaker.faces.web.render import page
from chainbreaker.ops.accounts import Principal

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/promotion/agent")
def agent_page(request: Request, member: str = Query(..., min_length=1, max_length=100),
               platform: str = Query("", max_length=100), principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    from chainbreaker.chains.promotion.service import agent_card

    ws, role = request.app.state.ws, mask_role(principal)
    card = agent_card(ws, member, platform=platform or None, role=role, user=principal.username)
    kids = views.agent_children(ws, card["platform"], member, role, principal.username)
    return page(request, "agent_card.html", {"a": card, "member": member, "kids": kids,
                                             "may_download": principal.role in EXPORT_ROLES,
                                             "label": lambda column: column_label("platform_members", column)})


@router.get("/promotion/workbook")
def workbook_download(request: Request, member: str = Query(..., min_length=1, max_length=100),
                      platform: str = Query("", max_length=100), principal: Principal = allow(*EXPORT_ROLES)) -> FileResponse:
    from chainbreaker.chains.promotion.workbook import workbook_file_name, write_workbook

    folder = Path(tempfile.mkdtemp(prefix="cb-web-workbook-"))
    out = folder / workbook_file_name(member)
    try:
        write_workbook(request.app.state.ws, member, out, platform or None, user=principal.username,
                       role=mask_role(principal))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(out, filename=out.name, media_type=XLSX,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))
