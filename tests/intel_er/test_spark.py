"""The same ER settings on local Spark: the hand-written persons resolve the same way as on DuckDB."""

from __future__ import annotations

import pytest

from chainbreaker.core.workspace import Workspace

pytestmark = pytest.mark.spark


def test_spark_resolves_the_same_persons(tmp_path):
    pytest.importorskip("pyspark")
    import pyarrow as pa

    from chainbreaker.intel.er.model import ModelParams
    from chainbreaker.intel.er.service import match
    from chainbreaker.synth.persons import generate_persons

    from .conftest import hand_tables

    world = generate_persons(2500, seed=5)
    hand = hand_tables()
    parts = {}
    for engine in ("duckdb", "spark"):
        ws = Workspace(tmp_path / engine)
        with ws.transaction("fixture") as tx:
            for name, table in world.tables.items():
                extra = hand[name].select([c for c in table.column_names if c in hand[name].column_names])
                tx.write(name, pa.concat_tables([table, extra.cast(table.select(extra.column_names).schema)],
                                                promote_options="default"))
        match(ws, ModelParams(engine=engine, em_sample=1.0))
        rows = ws.duck().sql("SELECT r.src_row, c.cluster_id FROM person_records r JOIN person_clusters c "
                             "USING (record_id) WHERE r.src_row >= 900000").fetchall()
        groups: dict[str, set[int]] = {}
        for row, cluster in rows:
            groups.setdefault(cluster, set()).add(row)
        parts[engine] = sorted(sorted(g) for g in groups.values())
    assert parts["spark"] == parts["duckdb"]
    assert [900001, 900003, 900004, 900005] in parts["spark"]
