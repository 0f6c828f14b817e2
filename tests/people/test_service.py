"""The people service masks names and person keys for the caller's role and audits the read."""

from __future__ import annotations

import json

from chainbreaker.chains.people.service import stranded_persons
from chainbreaker.core.model.masking import looks_masked


def test_stranded_persons_masked_for_a_viewer_and_audited(analysed) -> None:
    ws = analysed[0]
    clear = stranded_persons(ws, limit=5, role="investigator", user="svc-test-1")
    masked = stranded_persons(ws, limit=5, role="viewer", user="svc-test-2")
    assert clear and len(masked) == len(clear)
    assert not any(looks_masked(r["name"] or "") for r in clear)
    assert all(looks_masked(r["name"]) and looks_masked(r["person_key"]) for r in masked)
    assert [r["days"] for r in masked] == [r["days"] for r in clear]
    records = [json.loads(line) for line in (ws.root / "audit.jsonl").read_text("utf-8").splitlines()]
    mine = [r for r in records if r["user"] in ("svc-test-1", "svc-test-2")]
    assert [(r["action"], r["role"], r["rows"]) for r in mine] == [
        ("people.stranded.list", "investigator", len(clear)), ("people.stranded.list", "viewer", len(clear))]
