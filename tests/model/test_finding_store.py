"""The Finding store: stable ids across runs, re-runs that update, scopes that leave others alone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from chainbreaker.core.model.finding import (
    Finding,
    Scope,
    finding_id,
    publish,
    query,
    severity_for,
)
from chainbreaker.core.workspace import Workspace

T0 = dt.datetime(2025, 3, 1, 8, 30, tzinfo=dt.UTC)
T1 = dt.datetime(2025, 3, 9, 23, 59, 59, 123456, tzinfo=dt.UTC)


def _f(chain: str, rule: str, key: str, score: float = 0.6, run: str = "r1", **kw: object) -> Finding:
    return Finding(run, chain, rule, kw.pop("subject_type", "account"), key, score, f"中文 {key}", f"en {key}",  # type: ignore[arg-type]
                   **kw)  # type: ignore[arg-type]


def _rows(ws: Workspace, **kw: object) -> list[dict]:
    return query(ws, **kw).to_pylist()  # type: ignore[arg-type]


def test_store_id_and_severity_match_the_python_definitions(ws: Workspace) -> None:
    findings = [_f("funds", "funds.fan_in", "6222", 0.95, period_start=T0, period_end=T1),
                _f("funds", "funds.night", "6223", 0.3, period_start=T0.replace(tzinfo=None)),
                _f("funds", "funds.round", "6224", 0.1)]
    assert publish(ws, "funds", findings) == 3
    got = {r["subject_key"]: r for r in _rows(ws)}
    for f in findings:
        assert got[f.subject_key]["id"] == f.id == finding_id(f.chain, f.rule_id, f.subject_type, f.subject_key,
                                                                f.period_start, f.period_end)
        assert got[f.subject_key]["severity"] == severity_for(f.score)
    # run_id is a column, not part of the id; the period is
    assert _f("funds", "r", "k", run="a").id == _f("funds", "r", "k", run="b").id
    assert _f("funds", "r", "k", period_start=T0).id != _f("funds", "r", "k").id


def test_rerun_updates_instead_of_duplicating(ws: Workspace) -> None:
    publish(ws, "funds", [_f("funds", "funds.a", "1", 0.5, run="r1"), _f("funds", "funds.a", "2", 0.5, run="r1")])
    first = {r["id"]: r for r in _rows(ws)}
    publish(ws, "funds", [_f("funds", "funds.a", "1", 0.8, run="r2"), _f("funds", "funds.a", "2", 0.5, run="r2")])
    second = {r["id"]: r for r in _rows(ws)}
    assert set(first) == set(second) and len(second) == 2
    assert {r["run_id"] for r in second.values()} == {"r2"}
    assert second[_f("funds", "funds.a", "1").id]["score"] == 0.8
    # the same claim twice in one batch is one finding (the higher score wins)
    publish(ws, "funds", [_f("funds", "funds.a", "1", 0.4), _f("funds", "funds.a", "1", 0.9)])
    assert [r["score"] for r in _rows(ws)] == [0.9]


def test_scope_leaves_other_chains_and_other_scopes_alone(ws: Workspace) -> None:
    publish(ws, "funds", [_f("funds", "funds.a", "1"), _f("funds", "LINK-X", "1")])
    publish(ws, "tech", [_f("tech", "inject.x", "a.com", subject_type="site"),
                         _f("tech", "inject.x", "b.com", subject_type="site"),
                         _f("tech", "cluster.operator", "C1", subject_type="group")])
    publish(ws, "promotion", [_f("promotion", "AGT", "P1:1", facts={"platform": "P1"}),
                              _f("promotion", "AGT", "P2:1", facts={"platform": "P2"})])
    # funds: only its own "funds." family is replaced
    publish(ws, "funds", [_f("funds", "funds.b", "2")], Scope(rule_prefix="funds."))
    assert sorted(r["rule_id"] for r in _rows(ws, chain="funds")) == ["LINK-X", "funds.b"]
    # tech scan: the scanned subject only
    publish(ws, "tech", [], Scope(rule_ids=["inject.x"], subjects=["a.com"]))
    assert sorted(r["subject_key"] for r in _rows(ws, chain="tech")) == ["C1", "b.com"]
    # promotion: one platform
    publish(ws, "promotion", [], Scope(facts={"platform": ["P1"]}))
    assert [r["subject_key"] for r in _rows(ws, chain="promotion")] == ["P2:1"]
    # publishing a whole chain never touches another chain
    publish(ws, "people", [_f("people", "travel.stranded", "ID:1", subject_type="person")])
    publish(ws, "people", [])
    assert {r["chain"] for r in _rows(ws)} == {"funds", "tech", "promotion"}
    with pytest.raises(ValueError):
        publish(ws, "funds", [_f("tech", "inject.x", "c.com")])


def test_query_filters(ws: Workspace) -> None:
    assert query(ws).num_rows == 0  # no findings table yet: an empty table of the right shape
    publish(ws, "funds", [_f("funds", "funds.a", "1", 0.9), _f("funds", "funds.b", "2", 0.4)])
    publish(ws, "tech", [_f("tech", "inject.x", "1", 0.7, subject_type="site")])
    assert [r["chain"] for r in _rows(ws, subject="1")] == ["funds", "tech"]
    assert [r["subject_key"] for r in _rows(ws, rule_prefix="funds.")] == ["1", "2"]
    assert [r["rule_id"] for r in _rows(ws, rule_id=["funds.b", "inject.x"])] == ["inject.x", "funds.b"]
    assert [r["rule_id"] for r in _rows(ws, min_score=0.8)] == ["funds.a"]
    assert query(ws, subject_type="site", columns=["id", "chain"]).column_names == ["id", "chain"]


def test_promotion_ids_are_stable_across_runs(tmp_path: Path) -> None:
    from chainbreaker.chains.promotion.analyze import analyze
    from chainbreaker.chains.promotion.ingest import ingest_platform
    from chainbreaker.synth.platform import export_platform, generate_platform

    ws = Workspace(tmp_path / "ws")
    platform = generate_platform("pyramid", 120, 600, seed=3, name="测试平台")
    files = export_platform(platform, tmp_path / "p", formats=("csv",))
    ingest_platform(ws, files["csv"], platform.name)
    analyze(ws)
    first = query(ws, chain="promotion", columns=["id", "run_id", "rule_id", "score"]).to_pylist()
    analyze(ws)
    second = query(ws, chain="promotion", columns=["id", "run_id", "rule_id", "score"]).to_pylist()
    assert first and len(second) == len(first)
    assert sorted(r["id"] for r in first) == sorted(r["id"] for r in second)
    assert {r["run_id"] for r in first}.isdisjoint({r["run_id"] for r in second})
    assert len({r["id"] for r in second}) == len(second)


def test_rows_without_id_get_theirs_from_the_store(ws: Workspace) -> None:
    """A chain that builds findings in SQL hands over rows without id or severity (people does)."""
    from chainbreaker.core.model.finding import findings_table

    findings = [_f("people", "travel.stranded", f"ID:{i}", 0.1 * i, subject_type="person") for i in range(1, 6)]
    table = findings_table(findings)
    table = table.set_column(0, "id", pa.nulls(table.num_rows, pa.string()))
    table = table.set_column(table.schema.get_field_index("severity"), "severity",
                             pa.nulls(table.num_rows, pa.string()))
    assert publish(ws, "people", table) == 5
    got = {r["subject_key"]: r for r in _rows(ws)}
    assert {k: (r["id"], r["severity"]) for k, r in got.items()} == \
        {f.subject_key: (f.id, severity_for(f.score)) for f in findings}
