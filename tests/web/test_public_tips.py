"""The public tip page: hostile input, receipts, follow-up, rate limits, attachments only as downloads."""

from __future__ import annotations

import struct
import zlib

from fastapi.testclient import TestClient

from chainbreaker.faces.web.app import create_app

from .conftest import csrf


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"\x00\xff\x00\x00"
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _submit(client: TestClient, text: str, files: list[tuple[str, bytes, str]] | None = None):  # type: ignore[no-untyped-def]
    return client.post("/public/tips", data={"text": text}, headers=csrf(client),
                       files=[("files", f) for f in files or []])


def test_tip_with_attachments_receipt_and_follow_up(web_app, client_for) -> None:  # type: ignore[no-untyped-def]
    public = TestClient(web_app)
    assert public.get("/public").status_code == 200
    r = _submit(public, "赌博网站 https://bet-example.com 收款卡 6222021001112223334",
                [("截图.png", _png(), "image/png"), ("page.html", b"<html><script>alert(1)</script></html>", "text/html")])
    assert r.status_code == 200, r.text
    receipt = r.json()
    assert receipt["receipt_code"].startswith("JB") and len(receipt["passphrase"]) >= 10
    accepted = {a["name"]: a["accepted"] for a in receipt["attachments"]}
    assert accepted == {"截图.png": True, "page.html": False}
    follow = public.post("/public/follow", json={"code": receipt["receipt_code"], "passphrase": receipt["passphrase"]},
                         headers=csrf(public))
    assert follow.status_code == 200 and follow.json()["status"] == "待分拣"
    wrong = public.post("/public/follow", json={"code": receipt["receipt_code"], "passphrase": "guess"}, headers=csrf(public))
    assert wrong.status_code == 400 and "passphrase" in wrong.json()["error_en"]
    # staff see it in the queue and download the stored attachment as a download, never inline
    staff = client_for("tip_reviewer")
    page = staff.get("/tips").text
    assert receipt["receipt_code"] in page and "6222" in page
    att = staff.get(f"/tips/{receipt['receipt_code']}/attachments/1")
    assert att.status_code == 200 and att.content == _png()
    assert att.headers["content-disposition"].startswith("attachment")
    assert att.headers["content-type"] == "application/octet-stream" and att.headers["x-content-type-options"] == "nosniff"
    assert staff.get(f"/tips/{receipt['receipt_code']}/attachments/2").status_code == 404  # the refused one


def test_public_writes_need_csrf_and_empty_tips_are_refused(web_app) -> None:  # type: ignore[no-untyped-def]
    public = TestClient(web_app)
    public.get("/public")
    assert public.post("/public/tips", data={"text": "x"}).status_code == 403
    r = _submit(public, "   ")
    assert r.status_code == 400 and "empty" in r.json()["error_en"]
    r = public.post("/public/follow", content=b"not json", headers={**csrf(public), "content-type": "application/json"})
    assert r.status_code == 400


def test_tips_are_rate_limited_per_address(web_ws) -> None:  # type: ignore[no-untyped-def]
    public = TestClient(create_app(web_ws, tip_limit=(2, 600.0)))
    codes = [_submit(public, f"线索 {i}").status_code for i in range(3)]
    assert codes == [200, 200, 429]


def test_oversized_submission_is_refused_before_parsing(web_app) -> None:  # type: ignore[no-untyped-def]
    from chainbreaker.faces.web import public as public_module

    client = TestClient(web_app)
    client.get("/public")
    r = client.post("/public/tips", content=b"x" * 10, headers={
        **csrf(client), "content-type": "multipart/form-data; boundary=b",
        "content-length": str(public_module.MAX_REQUEST + 1)})
    assert r.status_code in (400, 413)
