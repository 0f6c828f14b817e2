"""Person keys (人员主键): the one resolver of who a record or a typed value belongs to.

Rules, in order:
1. a valid PRC resident ID (GB 11643 check digit, birth date, region) → ``ID:<18 digits>``;
2. else a document number (passport, 通行证) with the nationality → ``DOC:<nationality>:<number>``;
3. else an ID number that failed validation is kept and flagged: ``BADID:<as written>:<name>``.
   The name is part of the key so two different people who share a mistyped number are never
   merged by accident; the record is still kept and shown with the reason.
A record with none of these has no key (the people chain quarantines it as ``key_missing``).

:func:`resolve_person` keys a record (travel ingest); :func:`person_key` reads what an analyst typed
(a key as above, or a bare resident ID number), so the register and the chains agree on keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from chainbreaker.core.model.identifiers import ResidentID

_SPACE = re.compile(r"\s+")
KEY_PREFIXES = ("ID:", "DOC:", "BADID:")

ID_ISSUE_ZH = {
    "length": "位数不对",
    "characters": "含非法字符",
    "region": "地区码不存在",
    "birth_date": "出生日期无效",
    "check_digit": "校验位错误",
}


@dataclass(frozen=True)
class PersonRef:
    key: str
    id_number: str | None  # cleaned when valid, else as written
    id_valid: bool
    id_issue: str | None  # reason code from ResidentID.validate


@lru_cache(maxsize=1 << 18)
def _check_id(raw: str) -> tuple[str | None, bool, str | None]:
    ok, reason = ResidentID.validate(raw)
    if ok:
        return ResidentID.clean(raw), True, None
    return _SPACE.sub("", raw).upper(), False, reason


def resolve_person(id_raw: str | None, doc_no: str | None = None, nationality: str | None = None,
                   name: str | None = None) -> PersonRef | None:
    """The person key of one record, or None when nothing identifies the person."""
    cleaned: str | None = None
    valid = False
    issue: str | None = None
    if id_raw:
        cleaned, valid, issue = _check_id(id_raw)
        if valid:
            return PersonRef(f"ID:{cleaned}", cleaned, True, None)
    if doc_no:
        doc = _SPACE.sub("", doc_no).upper()
        # A doc number that is itself a valid resident ID (common in domestic feeds) keys by ID.
        did, dvalid, _ = _check_id(doc)
        if dvalid and not id_raw:
            return PersonRef(f"ID:{did}", did, True, None)
        return PersonRef(f"DOC:{(nationality or '?').upper()}:{doc}", cleaned, False, issue)
    if cleaned:
        return PersonRef(f"BADID:{cleaned}:{_SPACE.sub('', name or '')}", cleaned, False, issue)
    return None


def person_key(text: str) -> str | None:
    """The person key an analyst typed: an ``ID:``/``DOC:``/``BADID:`` key as is, or a bare resident ID
    number keyed by :func:`resolve_person` (only a valid one: a bare invalid number identifies no one)."""
    text = text.strip()
    if text.startswith(KEY_PREFIXES):
        return text
    ref = resolve_person(text) if text else None
    return ref.key if ref is not None and ref.id_valid else None


def issue_zh(code: str | None) -> str:
    return ID_ISSUE_ZH.get(code or "", code or "")


__all__ = ["ID_ISSUE_ZH", "KEY_PREFIXES", "PersonRef", "issue_zh", "person_key", "resolve_person"]
