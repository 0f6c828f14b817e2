"""The application factory: ``create_app(workspace)`` → FastAPI (JSON API + server-rendered UI).

One error handler renders a :class:`ChainbreakerError` as JSON under ``/api`` and as a page
elsewhere; unauthenticated API calls get 401 JSON (never a redirect), pages redirect to the login.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from chainbreaker.core.errors import ChainbreakerError
from chainbreaker.core.workspace import Workspace
from chainbreaker.faces.web.access import ROLE_NAMES, Forbidden, NotLoggedIn
from chainbreaker.faces.web.dossier import DossierSource, LakeDossierSource
from chainbreaker.faces.web.limits import LimitStore, MemoryLimits, shared_limits
from chainbreaker.faces.web.refs import RefBook
from chainbreaker.faces.web.render import _is_api, _pick, render_error
from chainbreaker.faces.web.security import RateLimited, RateLimiter, SecurityHeaders

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"  # built by `npm ci` + scripts/copy (gitignored): vendor libraries
UI_DIR = HERE / "ui"  # our own JavaScript and CSS, in git
VENDOR_FILES = ("vendor/htmx.min.js", "vendor/echarts.min.js", "vendor/cytoscape.min.js")
log = logging.getLogger("chainbreaker.web")


def missing_assets() -> list[str]:
    """Vendor files that `make setup` (npm ci) should have put in place; the UI says so when missing."""
    return [f for f in VENDOR_FILES if not (STATIC_DIR / f).is_file()]


def create_app(workspace: Path | str | Workspace, *, lang: str = "zh", dossiers: DossierSource | None = None,
               login_limit: tuple[int, float] = (10, 300.0), tip_limit: tuple[int, float] = (5, 600.0),
               limits: LimitStore | None = None) -> FastAPI:
    """The web application on ``workspace`` (its ops database by ``CHAINBREAKER_DATABASE_URL`` or SQLite).

    ``limits``: where rate limits count (default: this process's memory; ``serve`` passes the shared
    store of :func:`limits.shared_limits` so that its worker processes count together).
    """
    from chainbreaker.ops.db import engine_for

    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    engine_for(ws)  # migrate the ops database before the first request
    refs = RefBook.for_workspace(ws)  # one book for every page that links by reference (r-…)
    source = dossiers or LakeDossierSource(ws, refs)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        warm = getattr(source, "warm", None)
        if warm is not None:  # load the search snapshot before the first request waits for it
            await run_in_threadpool(warm)
        yield

    app = FastAPI(title="chainbreaker", version="1", openapi_url="/api/openapi.json", docs_url=None,
                  redoc_url=None, description="打击跨境赌博研判平台 API（chainbreaker）。", lifespan=lifespan)
    app.state.ws = ws
    app.state.lang = "en" if lang.lower().startswith("en") else "zh"
    app.state.dossiers = source
    app.state.refs = refs
    store = limits or MemoryLimits()
    app.state.limits = store
    app.state.login_limiter = RateLimiter(*login_limit, store=store, purpose="login")
    app.state.tip_limiter = RateLimiter(*tip_limit, store=store, purpose="tip")
    app.state.followup_limiter = RateLimiter(tip_limit[0] * 4, tip_limit[1], store=store, purpose="followup")
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(role_names=ROLE_NAMES, missing_assets=missing_assets, t=_pick)
    app.state.templates = templates
    app.add_middleware(SecurityHeaders)
    STATIC_DIR.mkdir(exist_ok=True)
    app.mount("/static/app", StaticFiles(directory=str(UI_DIR)), name="ui")
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR), check_dir=False), name="static")

    from chainbreaker.faces.web import api, pages, public
    from chainbreaker.faces.web.page_routers import ROUTERS as CHAIN_PAGES

    app.include_router(api.router)
    for chain_pages in CHAIN_PAGES:  # funds, promotion, people, tech and casework pages
        app.include_router(chain_pages)
    app.include_router(pages.router)
    app.include_router(public.router)
    _handlers(app)
    return app


def app_from_env() -> FastAPI:
    """The application as ``chainbreaker serve`` runs it, built from ``CHAINBREAKER_*`` settings: the
    factory each uvicorn worker process calls (``serve --workers N``). Rate limits count in Redis or
    the ops database; sessions, CSRF tokens and lockouts are in the ops database; references decrypt
    with the workspace's key: a request may land on any worker."""
    from chainbreaker.core.settings import get_settings

    settings = get_settings()
    ws = Workspace(settings.workspace)
    return create_app(ws, lang=settings.lang, login_limit=(settings.web_login_limit, 300.0),
                      tip_limit=(settings.web_tip_limit, 600.0), limits=shared_limits(ws, settings.web_redis_url))


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, exc: NotLoggedIn) -> Response:
        if _is_api(request):
            return render_error(request, 401, "未登录或会话已过期。", "Not logged in, or the session has expired.")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        if exc.why == "csrf":
            return render_error(request, 403, "缺少或错误的 CSRF 令牌（请刷新页面后重试）。",
                                "Missing or wrong CSRF token (reload the page and try again).")
        return render_error(request, 403, "您的角色无权访问此功能。", "Your role may not use this.")

    @app.exception_handler(RateLimited)
    async def rate_limited(request: Request, exc: RateLimited) -> Response:
        return render_error(request, 429, f"请求过于频繁，请 {exc.retry_after} 秒后再试。",
                            f"Too many requests; try again in {exc.retry_after} s.",
                            headers={"Retry-After": str(exc.retry_after)})

    @app.exception_handler(ChainbreakerError)
    async def user_error(request: Request, exc: ChainbreakerError) -> Response:
        from chainbreaker.faces.web.services import NotFound
        from chainbreaker.ops.accounts import LoginRefused

        status = 401 if isinstance(exc, LoginRefused) else 404 if isinstance(exc, NotFound) else 400
        return render_error(request, status, exc.zh, exc.en)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        fields = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()[:5])
        return render_error(request, 422, f"请求参数无效：{fields}", f"Invalid request parameters: {fields}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return render_error(request, 404, "找不到该页面或对象。", "Not found.")
        return render_error(request, exc.status_code, str(exc.detail), str(exc.detail))

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s", request.url.path)
        return render_error(request, 500, f"内部错误（{type(exc).__name__}），工作区未改变；请报告此问题。",
                            f"Internal error ({type(exc).__name__}); the workspace is unchanged. Please report it.")
