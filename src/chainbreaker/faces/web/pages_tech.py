"""Tech pages (技术链): scanned sites, one site as each persona saw it (screenshots per persona, decoded
scripts, indicators, findings), clusters of sites run by one operator, blocklist downloads (the download
route itself is in :mod:`pages`). Queries, masking and audit are the tech services'."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response

from chainbreaker.core.timefmt import show_time
from chainbreaker.faces.web import views
from chainbreaker.faces.web.access import ANALYSIS_ROLES, EXPORT_ROLES, allow, mask_role
from chainbreaker.faces.web.render import page
from chainbreaker.ops.accounts import Principal

router = APIRouter(include_in_schema=False)
BLOCKLIST_FORMATS = ("domains", "hosts", "dnsmasq", "rpz", "adguard", "stix", "misp")


@router.get("/tech")
def tech_page(request: Request, principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    from chainbreaker.chains.tech.service import scanned_sites

    ws, role = request.app.state.ws, mask_role(principal)
    return page(request, "tech.html", {
        "sites": scanned_sites(ws), "domains": views.table_rows(ws, "tech_domains", role, principal.username),
        "formats": BLOCKLIST_FORMATS, "may_export": principal.role in EXPORT_ROLES, "show_time": show_time})


@router.get("/tech/site")
def site_page(request: Request, host: str = Query(..., min_length=1, max_length=253),
              principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    from chainbreaker.chains.tech.service import site_detail

    data = site_detail(request.app.state.ws, host.strip().lower(), role=mask_role(principal), user=principal.username)
    return page(request, "tech_site.html", {"s": data})


@router.get("/tech/clusters")
def clusters_page(request: Request, principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    from chainbreaker.chains.tech.service import site_clusters

    clusters = site_clusters(request.app.state.ws, role=mask_role(principal), user=principal.username)
    return page(request, "tech_clusters.html", {"clusters": clusters})


@router.get("/tech/screenshots/{sha256}")
def screenshot(request: Request, sha256: str, principal: Principal = allow(*ANALYSIS_ROLES)) -> FileResponse:
    """A persona's screenshot of a site: PNG, only files recorded as screenshots (never other evidence)."""
    from chainbreaker.chains.tech.service import screenshot_file

    path = screenshot_file(request.app.state.ws, sha256)
    request.app.state.ws.audit("tech.screenshot", user=principal.username, role=str(mask_role(principal)), sha256=sha256)
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
