"""Person keys (人员主键) of travel records.

The resolver lives in :mod:`chainbreaker.core.model.persons` (one resolver for the people chain, the
key-person register and intel); this module keeps the chain's import path.
"""

from __future__ import annotations

from chainbreaker.core.model.persons import ID_ISSUE_ZH, PersonRef, issue_zh, resolve_person

__all__ = ["ID_ISSUE_ZH", "PersonRef", "issue_zh", "resolve_person"]
