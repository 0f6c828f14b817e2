"""Person keys (人员主键): who a travel record belongs to.

Rules, in order:
1. a valid PRC resident ID (GB 11643 check digit, birth date, region) → ``ID:<18 digits>``;
2. else a document number (passport, 通行证) with the nationality → ``DOC:<nationality>:<number>``;
3. else an ID number that failed validation is kept and flagged: ``BADID:<as written>:<name>``.
   The name is part of the key so two different people who share a mistyped number are never
   merged by accident; the record is still kept and shown with the reason.
A record with none of these has no key and goes to quarantine (``key_missing``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from chainbreaker.core.model.identifiers import ResidentID

_SPACE = re.compile(r"\s+")

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


def issue_zh(code: str | None) -> str:
    return ID_ISSUE_ZH.get(code or "", code or "")
