"""The JSON API (scripts and partner systems use it; keep it stable). OpenAPI at /api/openapi.json."""

from __future__ import annotations

import shutil
from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from chainbreaker.faces.web.access import ANALYSIS_ROLES, EXPORT_ROLES, ROLES, allow, mask_role, public
from chainbreaker.faces.web.dossier import MAX_QUERY, QUERY_PATTERN
from chainbreaker.faces.web.security import clear_session_cookies, client_address, set_session_cookies
from chainbreaker.faces.web.services import NotFound, export_download, list_tables
from chainbreaker.ops import accounts
from chainbreaker.ops.accounts import Principal

router = APIRouter(prefix="/api", tags=["api"])
SEARCH_ROLES = (*ANALYSIS_ROLES, "tip_reviewer")
class ErrorOut(BaseModel):
    error: str
    error_zh: str
    error_en: str


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    names = {400: "输入无效 / bad input", 401: "未登录 / not logged in", 403: "无权或缺少 CSRF 令牌 / forbidden",
             404: "找不到 / not found", 422: "参数无效 / invalid parameters", 429: "过于频繁 / rate limited"}
    return {c: {"description": names[c], "model": ErrorOut} for c in codes}


class LoginIn(BaseModel):
    username: str = Field(..., max_length=60)
    password: str = Field(..., max_length=200)


class Me(BaseModel):
    username: str
    role: str
    mask_role: str
    partner: str | None = None


class SearchHit(BaseModel):
    ident: str
    display: str
    kind: str
    label: str | None = None
    sources: list[str]
    findings: int


class TableInfo(BaseModel):
    name: str
    rows: int
    updated: str


class Dossier(BaseModel):
    ident: str
    display: str
    kind: str
    source: str
    findings: list[dict[str, Any]]
    records: dict[str, list[dict[str, Any]]]
    statements: list[dict[str, Any]]
    graph: dict[str, Any]


def _me(p: Principal) -> Me:
    return Me(username=p.username, role=p.role, mask_role=str(mask_role(p)), partner=p.partner)


@router.post("/login", response_model=Me, responses=_errors(400, 401, 403, 422, 429))
async def api_login(body: LoginIn, request: Request, _: Any = public()) -> JSONResponse:
    """登录：校验密码，建立服务器端会话（Cookie）。Log in; sets the session cookie."""
    request.app.state.login_limiter.hit(client_address(request))
    token, principal = await run_in_threadpool(accounts.login, request.app.state.ws, body.username, body.password,
                                               client=client_address(request))
    response = JSONResponse(_me(principal).model_dump())
    set_session_cookies(request, response, token, principal.csrf_token, int(accounts.SESSION_LIFETIME.total_seconds()))
    return response


@router.post("/logout", responses=_errors(401, 403))
def api_logout(request: Request, principal: Principal = allow(*ROLES)) -> JSONResponse:
    """退出登录。Log out (the server-side session is deleted)."""
    from chainbreaker.faces.web.access import SESSION_COOKIE

    accounts.logout(request.app.state.ws, request.cookies.get(SESSION_COOKIE))
    request.app.state.ws.audit("web.logout", user=principal.username, role=principal.role)
    response = JSONResponse({"ok": True})
    clear_session_cookies(request, response)
    return response


@router.get("/me", response_model=Me, responses=_errors(401))
def api_me(principal: Principal = allow(*ROLES)) -> Me:
    """当前用户。The caller's user name and role."""
    return _me(principal)


@router.get("/search", response_model=list[SearchHit], responses=_errors(400, 401, 403, 422))
def api_search(request: Request, q: str = Query(..., min_length=1, max_length=MAX_QUERY, pattern=QUERY_PATTERN), limit: int = Query(20, ge=1, le=100),
               principal: Principal = allow(*SEARCH_ROLES)) -> list[dict[str, Any]]:
    """检索（身份证号、手机号、卡号、姓名、域名、会员ID），按角色脱敏。Search, masked per role."""
    return request.app.state.dossiers.search(q, role=mask_role(principal), user=principal.username, limit=limit)


@router.get("/entities/{ident:path}", response_model=Dossier, responses=_errors(400, 401, 403, 404))
def api_entity(request: Request, ident: str = Path(..., min_length=1, max_length=MAX_QUERY, pattern=QUERY_PATTERN),
               principal: Principal = allow(*SEARCH_ROLES)) -> dict[str, Any]:
    """对象档案（研判结论、记录、流水、关系图）。The dossier of one identifier."""
    found = request.app.state.dossiers.dossier(ident, role=mask_role(principal), user=principal.username)
    if found is None:
        raise NotFound(f"没有关于“{ident[:60]}”的记录。", f"Nothing is known about '{ident[:60]}'.")
    return found


@router.get("/tables", response_model=list[TableInfo], responses=_errors(401, 403))
def api_tables(request: Request, principal: Principal = allow(*ANALYSIS_ROLES)) -> list[dict[str, Any]]:
    """工作区中的表。Lake tables with row counts."""
    return list_tables(request.app.state.ws)


@router.get("/tables/{name}/export", responses={**_errors(400, 401, 403, 404, 422),
                                                200: {"description": "文件 / the file", "content": {
                                                    "text/csv": {}, "application/x-ndjson": {},
                                                    "application/vnd.apache.parquet": {},
                                                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}})
def api_export(request: Request, name: str, format: Literal["csv", "jsonl", "parquet", "xlsx"] = "csv",
               principal: Principal = allow(*EXPORT_ROLES)) -> FileResponse:
    """导出表（按角色脱敏，记入审计日志）。Export a table, masked per role and audited."""
    path, download, media = export_download(request.app.state.ws, name, format, principal, request.app.state.lang)
    return FileResponse(path, media_type=media, filename=download,
                        background=BackgroundTask(shutil.rmtree, path.parent, ignore_errors=True))
