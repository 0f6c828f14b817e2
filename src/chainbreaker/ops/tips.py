"""Public tips (群众举报): entry by staff (hotline, letters) or the coming web form, a receipt code and
passphrase to follow up without an account, attachments judged by :mod:`attachments`, indicators
extracted and grouped, and a triage list.

The tipster's name and phone are returned in clear only to ``admin`` (the role that pays rewards);
every other role gets them masked, and reading the triage list is audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from chainbreaker.core.errors import InputError
from chainbreaker.core.model.finding import query
from chainbreaker.core.model.identifiers import (
    URL,
    BankCard,
    CryptoAddress,
    Domain,
    Email,
    Mobile,
    ResidentID,
    Telegram,
    WeChat,
)
from chainbreaker.core.model.masking import mask_text
from chainbreaker.core.timefmt import to_local
from chainbreaker.core.workspace import Workspace
from chainbreaker.ops.attachments import AttachmentCheck, check_attachment
from chainbreaker.ops.casework_models import Case, Unit
from chainbreaker.ops.db import engine_for, session_scope
from chainbreaker.ops.tips_models import CHANNELS, TIP_STATUSES, Tip, TipAttachment, TipIndicator

PAYER_ROLE = "admin"
MAX_TEXT = 20_000
MAX_ATTACHMENTS = 10
TIP_DUE_DAYS = 7  # default handling period (办理时限) once a tip is assigned to a unit
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read over the phone
EXTRACTORS: tuple[tuple[str, Any], ...] = (
    ("url", URL), ("id_number", ResidentID), ("card", BankCard), ("mobile", Mobile), ("wallet", CryptoAddress),
    ("email", Email), ("wechat", WeChat), ("telegram", Telegram),
)
KIND_OF_MASK = {"id_number": "id_number", "card": "card", "mobile": "phone", "email": "email", "wechat": "wechat"}


@dataclass
class SubmittedTip:
    receipt_code: str
    passphrase: str
    attachments: list[AttachmentCheck]
    indicators: list[tuple[str, str]]
    group: str


def _hash_passphrase(passphrase: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(passphrase.encode("utf-8"), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def _passphrase_ok(passphrase: str, stored: str) -> bool:
    _, salt, _ = stored.split("$")
    return hmac.compare_digest(_hash_passphrase(passphrase, bytes.fromhex(salt)), stored)


def extract_indicators(text: str) -> list[tuple[str, str]]:
    """(kind, value) found in the text by the shared identifier classes; domains from the URLs."""
    found: list[tuple[str, str]] = []
    for kind, cls in EXTRACTORS:
        for value in cls.find_all(text):
            found.append((kind, value))
            if kind == "url":
                host = value.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0]
                domain = Domain.registrable(host)
                if domain:
                    found.append(("domain", domain))
    return list(dict.fromkeys(found))


def submit_tip(ws: Workspace, text: str, *, attachments: list[Path | tuple[Path, str]] | None = None,
               channel: str = "热线", name: str | None = None, phone: str | None = None,
               user: str = "local") -> SubmittedTip:
    """Record a tip; refused attachments are recorded with their reason, accepted ones stored by hash.

    An attachment is a path, or ``(path, name as sent)`` when the name came from elsewhere (a web upload).
    """
    text = (text or "").strip()
    files = [a if isinstance(a, tuple) else (a, a.name) for a in attachments or []]
    if channel not in CHANNELS:
        raise InputError(f"举报渠道“{channel}”无效，可选：{'、'.join(CHANNELS)}。",
                         f"Invalid channel '{channel}'; choose one of: {', '.join(CHANNELS)}.")
    if not text and not files:
        raise InputError("举报内容为空：请填写举报内容或附上材料。", "The tip is empty: give its text or attach material.")
    if len(text) > MAX_TEXT:
        raise InputError(f"举报内容过长（{len(text):,} 字，上限 {MAX_TEXT:,} 字）。",
                         f"The tip text is too long ({len(text):,} characters; limit {MAX_TEXT:,}).")
    if len(files) > MAX_ATTACHMENTS:
        raise InputError(f"附件过多（{len(files)} 个，上限 {MAX_ATTACHMENTS} 个）。",
                         f"Too many attachments ({len(files)}; limit {MAX_ATTACHMENTS}).")
    for f, _ in files:
        if not f.is_file():
            raise InputError(f"找不到附件：{f.name}", f"Attachment not found: {f.name}")
    checks = [check_attachment(f, display_name=sent) for f, sent in files]
    indicators = extract_indicators(text)
    code = "JB" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    passphrase = secrets.token_urlsafe(9)
    with session_scope(engine_for(ws)) as s:
        group = code
        if indicators:
            hit = s.execute(select(Tip.group_key).join(TipIndicator, TipIndicator.tip_id == Tip.id).where(
                TipIndicator.value.in_([v for _, v in indicators])).order_by(Tip.id).limit(1)).scalar()
            group = hit or code
        tip = Tip(receipt_code=code, passphrase_hash=_hash_passphrase(passphrase), channel=channel,
                  anonymous=not (name or phone), tipster_name=name or None, tipster_phone=phone or None, text=text,
                  group_key=group, entered_by=user)
        s.add(tip)
        s.flush()
        for c in checks:
            sha = ws.store_evidence_bytes(c.data) if c.accepted and c.data is not None else None
            s.add(TipAttachment(tip_id=tip.id, name=c.name, size=c.size, media_type=c.media_type, sha256=sha,
                                status="stored" if sha else "refused", reason=c.reason))
        for kind, value in indicators:
            s.add(TipIndicator(tip_id=tip.id, kind=kind, value=value[:300]))
    for c in checks:
        c.data = None
    ws.audit("ops.tip.add", user=user, receipt=code, attachments=len(checks))
    return SubmittedTip(code, passphrase, checks, indicators, group)


def tip_status(ws: Workspace, code: str, passphrase: str) -> dict[str, Any]:
    """What a tipster may see with the receipt code and passphrase: status and dates, nothing else."""
    wrong = InputError("查询码或查询密码不正确。", "Receipt code or passphrase is wrong.")
    with session_scope(engine_for(ws)) as s:
        tip = s.scalars(select(Tip).where(Tip.receipt_code == code.strip().upper())).first()
        if tip is None:
            _hash_passphrase(passphrase)  # same work either way: no timing hint that a code exists
            raise wrong
        if not _passphrase_ok(passphrase, tip.passphrase_hash):
            raise wrong
        return {"receipt_code": tip.receipt_code, "status": tip.status, "received_at": tip.received_at}


def link_tip(ws: Workspace, code: str, case_number: str, *, user: str = "local") -> None:
    with session_scope(engine_for(ws)) as s:
        tip = s.scalars(select(Tip).where(Tip.receipt_code == code.strip().upper())).first()
        case = s.scalars(select(Case).where(Case.number == case_number)).first()
        if tip is None or case is None:
            raise InputError(f"找不到{'举报' if tip is None else '案件'}：{code if tip is None else case_number}",
                             f"No {'tip' if tip is None else 'case'}: {code if tip is None else case_number}")
        tip.case_id, tip.status = case.id, "已立案"
        tip.handled_at = tip.handled_at or dt.datetime.now(dt.UTC)
    ws.audit("ops.tip.link", user=user, receipt=code, case=case_number)


def _tip_by_code(s: Any, code: str) -> Tip:
    tip = s.scalars(select(Tip).where(Tip.receipt_code == code.strip().upper())).first()
    if tip is None:
        raise InputError(f"找不到举报：{code}", f"No tip: {code}")
    return tip


def assign_tip(ws: Workspace, code: str, unit: str, *, days: int = TIP_DUE_DAYS, user: str = "local") -> dt.date:
    """Assign a tip to a unit, due ``days`` calendar days after it was received (Beijing date)."""
    if not 1 <= days <= 365:
        raise InputError("办理时限应为 1 至 365 天。", "The handling period must be 1 to 365 days.")
    with session_scope(engine_for(ws)) as s:
        tip = _tip_by_code(s, code)
        unit_row = s.scalars(select(Unit).where(Unit.name == unit)).first()
        if unit_row is None:
            unit_row = Unit(name=unit)
            s.add(unit_row)
            s.flush()
        tip.unit_id = unit_row.id
        tip.due_on = to_local(tip.received_at).date() + dt.timedelta(days=days)
        due = tip.due_on
    ws.audit("ops.tip.assign", user=user, receipt=code, unit=unit)
    return due


def set_tip_status(ws: Workspace, code: str, status: str, *, user: str = "local") -> None:
    """Triage decision (已分拣, 不予受理 …); leaving 待分拣 marks the tip handled."""
    if status not in TIP_STATUSES:
        raise InputError(f"状态“{status}”无效，可选：{'、'.join(TIP_STATUSES)}。",
                         f"Invalid status '{status}'; choose one of: {', '.join(TIP_STATUSES)}.")
    with session_scope(engine_for(ws)) as s:
        tip = _tip_by_code(s, code)
        tip.status = status
        if status != "待分拣":
            tip.handled_at = tip.handled_at or dt.datetime.now(dt.UTC)
    ws.audit("ops.tip.status", user=user, receipt=code, status=status)


@dataclass
class TriageRow:
    receipt_code: str
    channel: str
    status: str
    group: str
    tipster: str
    text: str
    indicators: list[tuple[str, str]] = field(default_factory=list)
    attachments: list[tuple[str, str, str | None]] = field(default_factory=list)  # name, status, reason
    known_in_findings: int = 0


def triage(ws: Workspace, *, role: str = "analyst", user: str = "local", limit: int = 50) -> list[TriageRow]:
    """Tips waiting for triage, newest first, masked for ``role``; indicators looked up in the findings."""
    ws.audit("ops.tip.list", user=user, role=role)
    known: set[str] = set()
    rows = []
    with session_scope(engine_for(ws)) as s:
        tips = s.scalars(select(Tip).where(Tip.status == "待分拣").order_by(Tip.id.desc()).limit(limit)).all()
        for tip in tips:
            inds = [(i.kind, i.value) for i in s.scalars(select(TipIndicator).where(TipIndicator.tip_id == tip.id))]
            atts = [(a.name, a.status, a.reason) for a in s.scalars(
                select(TipAttachment).where(TipAttachment.tip_id == tip.id).order_by(TipAttachment.id))]
            if tip.anonymous:
                who = "匿名"
            elif role == PAYER_ROLE:
                who = " ".join(filter(None, [tip.tipster_name, tip.tipster_phone]))
            else:  # the tipster's identity is for the role that pays rewards only
                who = "实名（仅 admin 可见）"
            rows.append(TriageRow(tip.receipt_code, tip.channel, tip.status, tip.group_key or tip.receipt_code, who,
                                  mask_text(tip.text, role),
                                  [(k, mask_text(v, role, KIND_OF_MASK.get(k))) for k, v in inds], atts))
            known.update(v for _, v in inds)
    if known and ws.has_table("findings"):
        hits: dict[str, int] = {}
        for key in query(ws, subject=sorted(known), columns=["subject_key"]).column("subject_key").to_pylist():
            hits[key] = hits.get(key, 0) + 1
        with session_scope(engine_for(ws)) as s:
            for r in rows:
                values = s.scalars(select(TipIndicator.value).join(Tip, Tip.id == TipIndicator.tip_id)
                                   .where(Tip.receipt_code == r.receipt_code)).all()
                r.known_in_findings = sum(hits.get(v, 0) for v in values)
    return rows
