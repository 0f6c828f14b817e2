"""Rendering helpers shared by the routers: pages with the common context, errors as JSON or HTML."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from jinja2 import pass_context


def _is_api(request: Request) -> bool:
    """JSON errors for the API and for the public page's script calls (its writes); HTML elsewhere."""
    path = request.url.path
    return path.startswith("/api/") or (path.startswith("/public/") and request.method not in ("GET", "HEAD"))


@pass_context
def _pick(ctx: Any, zh: str, en: str) -> str:
    """``t(zh, en)`` in templates: the text in the page's language."""
    return zh if ctx.get("lang", "zh") == "zh" else en


def t(request: Request, zh: str, en: str) -> str:
    return zh if request.app.state.lang == "zh" else en


def render_error(request: Request, status: int, zh: str, en: str, *, headers: dict[str, str] | None = None) -> Response:
    if _is_api(request):
        return JSONResponse({"error": en if request.app.state.lang == "en" else zh, "error_zh": zh, "error_en": en},
                            status_code=status, headers=headers)
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"lang": request.app.state.lang, "status": status, "message": t(request, zh, en),
                                "principal": getattr(request.state, "principal", None)},
        status_code=status, headers=headers)


def page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    """Render a page with the common context (language, principal, missing assets)."""
    base = {"lang": request.app.state.lang, "principal": getattr(request.state, "principal", None)}
    return request.app.state.templates.TemplateResponse(request, template, {**base, **context}, status_code=status)
