"""The agent tree and downline metrics on DuckDB and on local PySpark give the same tables and findings.

Both synthetic platforms carry every tree pitfall (several roots, orphans, a self-reference, a cycle
with members under it, people holding several accounts), so the level-by-level descent, the cycle
cut and the person counts are all compared, not only the easy part of the tree.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.spark


def _rows(ws, table: str, keys: tuple[str, ...]) -> list[tuple]:
    rows = ws.read_arrow(table).to_pylist()
    cols = sorted(rows[0]) if rows else []
    return sorted((tuple(r[k] for k in keys), tuple(r[c] for c in cols)) for r in rows)


def _findings(ws) -> list[tuple]:
    return sorted((f["rule_id"], f["subject_key"], f["score"], f["severity"], f["explanation_zh"],
                   f["explanation_en"], json.loads(f["facts"]), json.dumps(json.loads(f["evidence"]), sort_keys=True),
                   f["period_start"], f["period_end"])
                  for f in ws.read_arrow("findings").to_pylist())


def test_duckdb_and_spark_give_identical_tree_metrics_and_findings(tmp_path, exports, pyramid, quanmin) -> None:
    pytest.importorskip("pyspark")
    from chainbreaker.chains.promotion.analyze import analyze
    from chainbreaker.chains.promotion.ingest import ingest_platform
    from chainbreaker.core.workspace import Workspace

    results = {}
    for engine in ("duckdb", "spark"):
        ws = Workspace(tmp_path / engine)
        ingest_platform(ws, exports["pyramid"]["csv"], pyramid.name)
        ingest_platform(ws, exports["quanmin"]["csv"], quanmin.name)
        res = analyze(ws, engine=engine)
        results[engine] = (res, ws)
    (duck, dws), (spark, sws) = results["duckdb"], results["spark"]
    assert duck.members == spark.members == pyramid.n_members + quanmin.n_members
    assert (duck.agents, duck.levels, duck.issues, duck.persons) == (spark.agents, spark.levels, spark.issues,
                                                                     spark.persons)
    assert duck.issues["cycles"] >= 2 and duck.issues["orphans"] > 0 and duck.issues["self_references"] > 0
    assert duck.persons["accounts_merged_away"] > 0
    keys = ("platform", "member_id")
    for table in ("agent_metrics", "promotion_member_totals"):
        assert _rows(dws, table, keys) == _rows(sws, table, keys), table
    merges = ("person_id", "platform", "member_id", "via_kind")
    assert _rows(dws, "promotion_person_merges", merges) == _rows(sws, "promotion_person_merges", merges)
    assert duck.findings_by_rule == spark.findings_by_rule
    assert _findings(dws) == _findings(sws)


def test_spark_single_platform_keeps_the_other(tmp_path, exports, pyramid, quanmin) -> None:
    """``--platform`` on Spark replaces that platform's rows and keeps the other platform's."""
    pytest.importorskip("pyspark")
    from chainbreaker.chains.promotion.analyze import analyze
    from chainbreaker.chains.promotion.ingest import ingest_platform
    from chainbreaker.core.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    ingest_platform(ws, exports["pyramid"]["csv"], pyramid.name)
    ingest_platform(ws, exports["quanmin"]["csv"], quanmin.name)
    analyze(ws)
    before = _rows(ws, "agent_metrics", ("platform", "member_id"))
    res = analyze(ws, quanmin.name, engine="spark")
    assert res.platforms == [quanmin.name]
    assert _rows(ws, "agent_metrics", ("platform", "member_id")) == before
