"""A case in one step from a finding, carrying its evidence; opening it twice returns the same case."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from chainbreaker.core.errors import InputError
from chainbreaker.core.model.finding import Finding, findings_table
from chainbreaker.ops.cases import case_links, open_case_from_finding
from chainbreaker.ops.casework_models import Case
from chainbreaker.ops.db import engine_for, session_scope


def _finding(ws) -> Finding:  # type: ignore[no-untyped-def]
    f = Finding(run_id="r1", chain="funds", rule_id="funds.fan_in", subject_type="account", subject_key="6222000011112222",
                score=0.9, explanation_zh="账户在 3 天内收到 41 个不同账户转入", explanation_en="41 payers in 3 days",
                evidence=[{"table": "transactions", "file_sha256": "ab" * 32, "row": 12},
                          {"table": "transactions", "file_sha256": "ab" * 32, "row": 13}])
    with ws.transaction("test") as tx:
        tx.write("findings", findings_table([f]))
    return f


def test_case_open_from_finding_carries_evidence(ops_ws) -> None:  # type: ignore[no-untyped-def]
    f = _finding(ops_ws)
    opened = open_case_from_finding(ops_ws, f.id[:10], unit="昆明市公安局", level="市督", user="li")
    assert opened.created and opened.finding_id == f.id and opened.evidence_count == 2
    assert "6222000011112222" not in opened.name  # the subject stays out of the case name
    links = case_links(ops_ws, opened.number)
    assert links[0]["ref"] == f.id and links[0]["evidence"][0]["row"] == 12
    again = open_case_from_finding(ops_ws, f.id)
    assert not again.created and again.number == opened.number
    with session_scope(engine_for(ops_ws)) as s:
        case = s.scalars(select(Case)).one()
        assert (case.status, case.supervision, case.source) == ("初查", "市督", f"finding:{f.id}")
    audit = [json.loads(x) for x in ops_ws.audit_path.read_text("utf-8").splitlines()]
    assert any(a.get("action") == "ops.case_open" for a in audit)


def test_unknown_finding_is_a_clear_error(ops_ws) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="no findings"):
        open_case_from_finding(ops_ws, "0123456789abcdef")
    _finding(ops_ws)
    with pytest.raises(InputError, match="No finding"):
        open_case_from_finding(ops_ws, "ffffffffffff")
    with pytest.raises(InputError, match="too short"):
        open_case_from_finding(ops_ws, "ab")


def test_more_findings_and_entities_link_to_a_case(ops_ws) -> None:  # type: ignore[no-untyped-def]
    from chainbreaker.ops.cases import link_to_case

    f = _finding(ops_ws)
    opened = open_case_from_finding(ops_ws, f.id, number="L-1")
    assert not link_to_case(ops_ws, "L-1", finding=f.id)  # already linked by case open
    assert link_to_case(ops_ws, "L-1", entity="operation:OP-2025-07")
    assert not link_to_case(ops_ws, "L-1", entity="operation:OP-2025-07")
    with pytest.raises(InputError, match="kind:key"):
        link_to_case(ops_ws, "L-1", entity="OP-2025-07")
    with pytest.raises(InputError, match="exactly one"):
        link_to_case(ops_ws, "L-1")
    kinds = [(x["kind"], x["ref"]) for x in case_links(ops_ws, opened.number)]
    assert kinds == [("finding", f.id), ("operation", "operation:OP-2025-07")]
