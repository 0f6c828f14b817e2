"""The funds services mask for the caller's role and write the audit record, with no face involved."""

from __future__ import annotations

import json

from chainbreaker.chains.funds.service import screen_accounts, suggest_requests, trace_money
from chainbreaker.core.model.masking import looks_masked
from chainbreaker.core.workspace import Workspace

from .scenario import write_lake


def _audit(ws: Workspace) -> list[dict]:
    return [json.loads(line) for line in (ws.root / "audit.jsonl").read_text("utf-8").splitlines()]


def test_services_return_masked_values_and_audit_the_read(tmp_path, book) -> None:
    ws = Workspace(tmp_path / "ws")
    write_lake(ws, book)
    clear = screen_accounts(ws, top=5, role="analyst", user="li")
    viewer = screen_accounts(ws, top=5, role="viewer", user="zhang")
    accounts = [r["account"] for r in clear.result.top[:5]]
    assert [r["account"] for r in clear.top] == accounts and not any(looks_masked(a) for a in accounts)
    assert len(viewer.top) == 5 and all(looks_masked(r["account"]) for r in viewer.top)
    assert not any(a in json.dumps(viewer.top, ensure_ascii=False, default=str) for a in accounts)

    traced = trace_money(ws, accounts[0], hops=3, role="viewer", user="zhang")
    assert looks_masked(traced.seed) and traced.nodes and all(looks_masked(n["account"]) for n in traced.nodes)
    assert traced.result.seed == accounts[0]  # the result itself keeps the key, for the graph export

    suggested = suggest_requests(ws, limit=10, role="viewer", user="zhang")
    assert all(looks_masked(a) for a in suggested.column("account").to_pylist())

    records = [r for r in _audit(ws) if r["user"] == "zhang"]
    assert [r["action"] for r in records] == ["funds.screen.top", "funds.trace", "funds.suggest"]
    assert all(r["role"] == "viewer" for r in records) and records[0]["rows"] == 5
