"""Tips: the hostile attachment set (issue 13 must-show) refused or stored inert with a clear message;
receipt code and passphrase; indicators, grouping and the tipster visible only to the paying role."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from chainbreaker.core.errors import InputError
from chainbreaker.ops.attachments import MAX_BYTES, check_attachment
from chainbreaker.ops.db import engine_for, session_scope
from chainbreaker.ops.tips import submit_tip, tip_status, triage
from chainbreaker.ops.tips_models import TipAttachment

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def _bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z, z.open("zeros.txt", "w", force_zip64=True) as fh:
        chunk = b"\x00" * (1024 * 1024)
        for _ in range(120):  # 120 MB of zeros in about 120 KB
            fh.write(chunk)
    return path


@pytest.fixture
def hostile(tmp_path: Path) -> dict[str, Path]:
    d = tmp_path / "in"
    d.mkdir()
    files = {
        "exe_as_jpg": ("invoice.jpg", b"MZ\x90\x00" + b"\x00" * 200),
        "png_as_pdf": ("scan.pdf", PNG),
        "html_script": ("page.txt", b"<html><body><script>alert(document.cookie)</script></body></html>"),
        "svg_script": ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        "zip_traversal": ("evidence.zip", _zip({"../../etc/cron.d/x": b"* * * * * root sh"})),
        "zip_program": ("photos.zip", _zip({"a.jpg": PNG, "run.exe": b"MZ"})),
        "traversal_name": ("../../../../tmp/evil.png", PNG),
        "bidi_name": ("photo\u202egnp.exe", PNG),
        "good_text": ("clue.txt", "赌博网站 https://bet-888.example.com/login 收款卡 6222021234567890123".encode()),
    }
    out = {}
    for key, (name, data) in files.items():
        p = d / key
        p.write_bytes(data)
        out[key] = (p, name)
    big = d / "big.jpg"
    with open(big, "wb") as fh:
        fh.write(b"\xff\xd8\xff")
        fh.truncate(MAX_BYTES + 1)  # sparse: over the limit without writing 20 MB
    out["oversized"] = (big, "big.jpg")
    out["zip_bomb"] = (_bomb(d / "bomb.zip"), "bomb.zip")
    return out  # type: ignore[return-value]


EXPECTED = {
    "exe_as_jpg": "type_not_allowed", "png_as_pdf": "extension_mismatch", "html_script": "active_content",
    "svg_script": "active_content", "zip_traversal": "zip_unsafe", "zip_program": "zip_unsafe",
    "oversized": "too_large", "zip_bomb": "zip_bomb", "bidi_name": "extension_mismatch",
    "traversal_name": None, "good_text": None,
}


def test_hostile_attachments_refused_or_stored_inert(hostile) -> None:  # type: ignore[no-untyped-def]
    for key, (path, name) in hostile.items():
        c = check_attachment(path, display_name=name)
        assert c.reason == EXPECTED[key], (key, c.reason)
        assert c.message("zh") and c.message("en")
        assert "/" not in c.name and "\u202e" not in c.name and not c.name.startswith(".")
    traversal = check_attachment(hostile["traversal_name"][0], display_name="../../../../tmp/evil.png")
    assert traversal.accepted and traversal.name == "evil.png" and traversal.name_cleaned
    assert "已清理" in traversal.message("zh")
    assert "zip bomb" in check_attachment(hostile["zip_bomb"][0]).message("en")


def test_tip_with_hostile_attachments_stores_only_inert_copies(ops_ws, hostile, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sent = list(hostile.values())
    tips = [submit_tip(ops_ws, "有人在 https://bet-888.example.com 开设赌场，收款卡 6222021234567890123",
                       attachments=sent[:6], name="张三", phone="13800138000"),
            submit_tip(ops_ws, "", attachments=sent[6:], channel="网络")]
    assert sum(c.accepted for t in tips for c in t.attachments) == 2
    with session_scope(engine_for(ops_ws)) as s:
        rows = s.scalars(select(TipAttachment)).all()
    stored = [r for r in rows if r.status == "stored"]
    assert len(rows) == len(hostile) and len(stored) == 2
    assert {r.name for r in stored} == {"evil.png", "clue.txt"}
    for r in stored:
        f = ops_ws.evidence_path(r.sha256)
        assert f.is_file() and f.suffix == "" and not f.stat().st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    assert not Path("/tmp/evil.png").exists()
    assert all(r.sha256 is None and r.reason for r in rows if r.status == "refused")
    assert {r.reason for r in rows if r.status == "refused"} == {v for v in EXPECTED.values() if v}


def test_receipt_code_indicators_grouping_and_tipster_privacy(ops_ws) -> None:  # type: ignore[no-untyped-def]
    first = submit_tip(ops_ws, "网址 https://www.bet-888.example.com/a 微信：gamble_boss01", name="李四", phone="13900139000")
    kinds = {k for k, _ in first.indicators}
    assert {"url", "domain", "wechat"} <= kinds
    second = submit_tip(ops_ws, "又见 https://www.bet-888.example.com/a", channel="网络")
    assert second.group == first.receipt_code  # duplicates grouped by a shared indicator
    assert tip_status(ops_ws, first.receipt_code, first.passphrase)["status"] == "待分拣"
    with pytest.raises(InputError, match="wrong"):
        tip_status(ops_ws, first.receipt_code, "guess")
    with pytest.raises(InputError, match="wrong"):
        tip_status(ops_ws, "JBNOSUCHCODE", "guess")
    rows = {r.receipt_code: r for r in triage(ops_ws, role="analyst")}
    assert "李四" not in rows[first.receipt_code].tipster and "13900139000" not in rows[first.receipt_code].tipster
    assert rows[second.receipt_code].tipster == "匿名"
    payer = {r.receipt_code: r for r in triage(ops_ws, role="admin")}
    assert "李四" in payer[first.receipt_code].tipster
    with pytest.raises(InputError):
        submit_tip(ops_ws, "   ")


def test_tips_handled_on_time_feed_the_assessment(ops_ws) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt
    from decimal import Decimal

    from chainbreaker.ops.assess import assess_month
    from chainbreaker.ops.tips import assign_tip, set_tip_status
    from chainbreaker.ops.tips_models import Tip

    codes = [submit_tip(ops_ws, f"线索 {i}").receipt_code for i in range(3)]
    with session_scope(engine_for(ops_ws)) as s:  # received 2025-10-10 10:00 Beijing time
        for tip in s.scalars(select(Tip)):
            tip.received_at = dt.datetime(2025, 10, 10, 2, tzinfo=dt.UTC)
    due = assign_tip(ops_ws, codes[0], "甲市公安局")
    assert due == dt.date(2025, 10, 17)
    assign_tip(ops_ws, codes[1], "甲市公安局")
    assign_tip(ops_ws, codes[2], "甲市公安局", days=3)
    set_tip_status(ops_ws, codes[0], "已分拣")  # handled now: on time
    set_tip_status(ops_ws, codes[2], "不予受理")
    with session_scope(engine_for(ops_ws)) as s:  # handled, but after its due date
        late = s.scalars(select(Tip).where(Tip.receipt_code == codes[2])).one()
        late.handled_at = dt.datetime.combine(late.due_on + dt.timedelta(days=2), dt.time(12), dt.UTC)
    with pytest.raises(InputError):
        set_tip_status(ops_ws, codes[1], "办完了")
    with session_scope(engine_for(ops_ws)) as s:  # the first was handled the day after it came in
        first = s.scalars(select(Tip).where(Tip.receipt_code == codes[0])).one()
        first.handled_at = dt.datetime(2025, 10, 11, 1, tzinfo=dt.UTC)
    _, scores = assess_month(ops_ws, "2025-10")
    unit = next(r for r in scores if r.unit == "甲市公安局")
    assert (unit.metrics["tips_due"], unit.metrics["tips_on_time"]) == (3, 1)  # one open, one late
    assert unit.metrics["tips_on_time_rate"] == Decimal("0.3333")
