"""The public tip pages under /public (群众举报): no staff session, hostile input.

Size and type checks are ops/attachments'; uploads are read in bounded chunks (a request larger than
the limit is refused before it is stored); submissions and follow-ups are rate-limited per client
address; the response never echoes an attachment, and staff download them only as attachments.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

from chainbreaker.core.errors import InputError
from chainbreaker.core.timefmt import show_time
from chainbreaker.faces.web.access import public
from chainbreaker.faces.web.render import page
from chainbreaker.faces.web.security import client_address
from chainbreaker.ops import attachments as att
from chainbreaker.ops.tips import MAX_ATTACHMENTS, MAX_TEXT, submit_tip, tip_status

router = APIRouter(prefix="/public", include_in_schema=False)
CHUNK = 1 << 16
MAX_REQUEST = MAX_ATTACHMENTS * att.MAX_BYTES + 4 * MAX_TEXT + 64 * 1024


@router.get("")
@router.get("/")
def tip_form(request: Request, _: Any = public()) -> Response:
    return page(request, "public_tip.html", {"max_mb": att.MAX_BYTES // (1024 * 1024), "max_files": MAX_ATTACHMENTS,
                                             "max_text": MAX_TEXT})


async def _save_uploads(files: list[UploadFile], folder: Path) -> list[tuple[Path, str]]:
    saved: list[tuple[Path, str]] = []
    for i, upload in enumerate(files):
        if not upload.filename and not upload.size:
            continue
        target = folder / f"upload-{i}"
        size = 0
        with target.open("wb") as out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > att.MAX_BYTES:
                    raise InputError(f"附件“{att.clean_name(upload.filename or '')}”超过 {att.MAX_BYTES // 1048576} MB。",
                                     f"Attachment '{att.clean_name(upload.filename or '')}' is larger than "
                                     f"{att.MAX_BYTES // 1048576} MB.")
                out.write(chunk)
        saved.append((target, upload.filename or f"附件{i + 1}"))
    return saved


@router.post("/tips")
async def submit(request: Request, _: Any = public()) -> JSONResponse:
    """File a tip (multipart: ``text`` and ``files``); returns the receipt code and passphrase once."""
    request.app.state.tip_limiter.hit(client_address(request))
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > MAX_REQUEST:
        raise InputError("提交内容过大或未声明长度。", "The submission is too large or has no declared length.")
    form = await request.form(max_files=MAX_ATTACHMENTS + 1, max_fields=10)
    text = form.get("text")
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    if len(files) > MAX_ATTACHMENTS:
        raise InputError(f"附件过多（上限 {MAX_ATTACHMENTS} 个）。", f"Too many attachments (limit {MAX_ATTACHMENTS}).")
    with tempfile.TemporaryDirectory(prefix="cb-tip-") as tmp:
        saved = await _save_uploads(files, Path(tmp))
        result = await run_in_threadpool(submit_tip, request.app.state.ws, text if isinstance(text, str) else "",
                                         attachments=list(saved), channel="网络", user="public")
    lang = request.app.state.lang
    return JSONResponse({
        "receipt_code": result.receipt_code, "passphrase": result.passphrase,
        "attachments": [{"name": c.name, "accepted": c.accepted, "reason": None if c.accepted else c.message(lang)}
                        for c in result.attachments]})


@router.get("/follow")
def follow_form(request: Request, _: Any = public()) -> Response:
    return page(request, "public_follow.html", {})


@router.post("/follow")
async def follow(request: Request, _: Any = public()) -> JSONResponse:
    """Status of a tip by receipt code and passphrase (JSON body ``{code, passphrase}``)."""
    request.app.state.followup_limiter.hit(client_address(request))
    try:
        body = await request.json()
    except ValueError as exc:
        raise InputError("请求格式无效。", "Invalid request body.") from exc
    code = str(body.get("code", ""))[:40] if isinstance(body, dict) else ""
    passphrase = str(body.get("passphrase", ""))[:100] if isinstance(body, dict) else ""
    status = await run_in_threadpool(tip_status, request.app.state.ws, code, passphrase)
    return JSONResponse({"receipt_code": status["receipt_code"], "status": status["status"],
                         "received_at": show_time(status["received_at"])})
