"""agent_metrics agrees exactly with the generator's ground truth, whatever the export format."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pytest

from chainbreaker.chains.promotion.analyze import analyze
from chainbreaker.chains.promotion.ingest import ingest_platform
from chainbreaker.chains.promotion.metrics import AGENT_METRICS_COLUMNS
from chainbreaker.core.workspace import Workspace
from chainbreaker.synth.platform import SynthPlatform, agent_metrics_truth, export_platform, generate_platform


def assert_matches_truth(ws: Workspace, p: SynthPlatform) -> None:
    got = ws.read_arrow("agent_metrics")
    got = got.filter(pc.equal(got["platform"], p.name)).sort_by("member_id")
    truth = agent_metrics_truth(p).sort_by("member_id")
    assert got.column_names == AGENT_METRICS_COLUMNS == truth.column_names
    assert got.num_rows == truth.num_rows > 0
    for col in AGENT_METRICS_COLUMNS:
        a, b = got[col].to_pylist(), truth[col].to_pylist()
        bad = [(got["member_id"][i].as_py(), a[i], b[i]) for i in range(len(a)) if a[i] != b[i]]
        assert not bad, f"{p.name}.{col}: {len(bad)} mismatches, first {bad[:3]}"


def test_both_platforms_in_one_workspace_match_truth(analysed, pyramid, quanmin) -> None:
    ws, result = analysed
    assert sorted(result.platforms) == sorted([pyramid.name, quanmin.name])
    assert_matches_truth(ws, pyramid)
    assert_matches_truth(ws, quanmin)
    # Tree problems were reported, not fatal.
    assert result.issues["self_references"] == len(pyramid.self_refs) + len(quanmin.self_refs)
    assert result.issues["orphans"] == len(pyramid.orphans) + len(quanmin.orphans)
    assert result.issues["cycles"] == 2
    assert result.issues["roots"] == len(pyramid.roots) + len(quanmin.roots)
    # The pyramid really has six tiers.
    levels = ws.duck().sql(f"SELECT max(level) FROM promotion_member_totals WHERE platform = '{pyramid.name}'").fetchall()
    assert levels[0][0] == 6


def test_tree_findings_name_the_problem_members(analysed, pyramid) -> None:
    ws, _ = analysed
    con = ws.duck()
    rows = con.sql(f"SELECT rule_id, subject_key, facts FROM findings WHERE chain='promotion' AND rule_id LIKE 'TREE-%' "
                   f"AND json_extract_string(facts, '$.platform') = '{pyramid.name}'").fetchall()
    keys = {(r, k) for r, k, _ in rows}
    for m in pyramid.self_refs:
        assert ("TREE-SELF", f"{pyramid.name}:{m}") in keys
    for m in pyramid.orphans:
        assert ("TREE-ORPHAN", f"{pyramid.name}:{m}") in keys
    cycle = [f for r, _, f in rows if r == "TREE-CYCLE"]
    assert len(cycle) == 1 and sorted(__import__("json").loads(cycle[0])["members"]) == sorted(pyramid.cycle)
    assert ("TREE-ROOTS", pyramid.name) in keys


@pytest.mark.parametrize("fmt", ["xlsx", "sqlite", "csv_duckdb"])
def test_other_formats_match_truth(tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    p = generate_platform("quanmin" if fmt == "sqlite" else "pyramid", 200, 1500, seed=5, name=f"p_{fmt}")
    if fmt == "csv_duckdb":
        # Force the DuckDB read_csv path used for large clean CSVs.
        monkeypatch.setattr("chainbreaker.chains.promotion.sources.FAST_CSV_BYTES", 0)
        src = export_platform(p, tmp_path, formats=("csv",))["csv"]
    else:
        src = export_platform(p, tmp_path, formats=(fmt,))[fmt]
    ws = Workspace(tmp_path / "ws")
    summary = ingest_platform(ws, src, p.name)
    assert not summary.quarantined_by_reason
    analyze(ws)
    assert_matches_truth(ws, p)


def test_reingest_is_a_noop_and_replaces_only_its_platform(tmp_path: Path, exports, pyramid, quanmin) -> None:
    ws = Workspace(tmp_path / "ws")
    ingest_platform(ws, exports["pyramid"]["csv"], pyramid.name)
    ingest_platform(ws, exports["quanmin"]["sqlite"], quanmin.name)
    before = ws.tables()
    again = ingest_platform(ws, exports["pyramid"]["csv"], pyramid.name)
    assert "all_files_already_ingested" in again.notes
    assert ws.tables() == before
    # The same export under another format replaces the platform's rows, the other platform stays.
    ingest_platform(ws, exports["pyramid"]["mysql"], pyramid.name)
    counts = dict(ws.duck().sql("SELECT platform, count(*) FROM platform_members GROUP BY 1").fetchall())
    assert counts == {pyramid.name: pyramid.n_members, quanmin.name: quanmin.n_members}
