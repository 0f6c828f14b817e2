"""Trips, stranded and frequent travellers, groups and findings: the same on DuckDB and on local PySpark.

The synthetic province has open trips, exits without entries, onward flights through third
countries, land-port round trips, co-travel groups and kin, so every branch of the trip windows and
the onward range join is compared, not only the simple exit/entry pairs.
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.spark


def _rows(ws, table: str) -> list[tuple]:
    rows = ws.read_arrow(table).to_pylist()
    cols = sorted(rows[0]) if rows else []
    return sorted(tuple(json.dumps(r[c], sort_keys=True, default=str) for c in cols) for r in rows)


def test_duckdb_and_spark_give_identical_travel_results(tmp_path, travel_files) -> None:
    pytest.importorskip("pyspark")
    from chainbreaker.chains.people.analyze import analyze
    from chainbreaker.chains.people.ingest import ingest_travel
    from chainbreaker.core.workspace import Workspace

    out, data = travel_files
    results = {}
    for engine in ("duckdb", "spark"):
        ws = Workspace(tmp_path / engine)
        ingest_travel(ws, [out / "travel"])
        results[engine] = (analyze(ws, data.as_of, engine=engine), ws)
    (duck, dws), (spark, sws) = results["duckdb"], results["spark"]
    assert (duck.persons, duck.trips, duck.groups, duck.findings, duck.anomalies) == \
        (spark.persons, spark.trips, spark.groups, spark.findings, spark.anomalies)
    assert duck.findings["travel.stranded"] > 0 and duck.findings["travel.group"] > 0
    trips = dws.read_arrow("travel_trips")
    assert sum(trips["via_third_country"].to_pylist()) > 0 and sum(trips["is_open"].to_pylist()) > 0
    for table in ("travel_trips", "travel_person_metrics", "travel_groups", "travel_pairs"):
        assert _rows(dws, table) == _rows(sws, table), table
    keep = ("rule_id", "subject_key", "score", "severity", "facts", "explanation_zh", "explanation_en", "evidence",
            "period_start", "period_end")
    find = [{k: f[k] for k in keep} for f in dws.read_arrow("findings").to_pylist()]
    find_s = [{k: f[k] for k in keep} for f in sws.read_arrow("findings").to_pylist()]
    assert sorted(map(str, find)) == sorted(map(str, find_s))
    assert dws.read_arrow("travel_trips").schema == sws.read_arrow("travel_trips").schema
    assert dws.read_arrow("travel_person_metrics").schema == sws.read_arrow("travel_person_metrics").schema
