"""Statements kept by their recipe (what they are built from) and staged tables looked up cheaply."""

from __future__ import annotations

from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from chainbreaker.core.engine import Engine
from chainbreaker.core.sqlcache import SqlCache, recipe_key
from chainbreaker.core.workspace import Workspace


@pytest.fixture()
def eng(tmp_path: Path) -> Engine:
    eng = Engine(Workspace(tmp_path / "ws"), "duckdb")
    for name in ("tx_a", "tx_b"):
        eng.con.con.execute(f"CREATE TABLE {name} AS SELECT range % 7 AS account, range AS amount, "
                            "range % 3 = 0 AS night FROM range(100)")
    eng.con.con.execute("CREATE TEMP TABLE tx_wide AS SELECT CAST(range % 7 AS VARCHAR) AS account, range AS amount, "
                        "range % 3 = 0 AS night FROM range(100)")
    return eng


def _per_account(t: ibis.Table, minimum: int) -> ibis.Table:
    kept = t.filter(t.amount >= minimum)
    # DuckDB sums integers to HUGEINT; the literal 1.0 is a DECIMAL there and float64 to Ibis
    return kept.group_by("account").aggregate(total=kept.amount.sum(), any_night=ibis.ifelse(kept.night.any(), 1.0, 0.0))


def test_a_recipe_hit_gives_the_sql_and_result_of_building_without_building(eng: Engine, tmp_path: Path) -> None:
    built: list[str] = []

    def build(t: ibis.Table) -> ibis.Table:
        built.append(t.op().name)
        return _per_account(t, 10)

    stage = eng.staging(tmp_path, "t", "x", params="minimum=10", code=("chainbreaker.core",))
    first = stage.recipe("per", build, eng.con.table("tx_a"))
    again = stage.recipe("per", build, eng.con.table("tx_b"))
    assert built == ["tx_a"]  # the second one came from the cache
    assert eng.sql_cache is not None and (eng.sql_cache.hits, eng.sql_cache.misses) == (1, 1)
    assert first.schema() == again.schema() == eng.con.table(again.op().name).schema()
    assert first.schema()["total"] == ibis.dtype("decimal(38, 0)")
    assert eng.to_arrow(first.order_by("account")).equals(eng.to_arrow(again.order_by("account")))
    # the result as Arrow, by its recipe: Ibis's types on a hit too (float64, not DuckDB's DECIMAL(2,1))
    cold = stage.recipe_arrow("per_arrow", build, eng.con.table("tx_a"))
    hot = stage.recipe_arrow("per_arrow", build, eng.con.table("tx_b"))
    want = eng.to_arrow(_per_account(eng.con.table("tx_b"), 10))
    assert built == ["tx_a", "tx_a"]
    assert cold.schema == hot.schema == want.schema and hot.schema.field("any_night").type == pa.float64()
    assert hot.sort_by("account").equals(want.sort_by("account"))
    stage.close()


def test_a_change_in_kind_parameters_code_or_input_schema_is_another_key(eng: Engine) -> None:
    a = eng.con.table("tx_a")
    base = recipe_key("per", (a,), eng.con, "minimum=10", "code1")
    assert base is not None and base.names == ("tx_a",)
    assert recipe_key("per", (eng.con.table("tx_b"),), eng.con, "minimum=10", "code1").key == base.key  # type: ignore[union-attr]
    others = [recipe_key("other", (a,), eng.con, "minimum=10", "code1"),
              recipe_key("per", (a,), eng.con, "minimum=11", "code1"),
              recipe_key("per", (a,), eng.con, "minimum=10", "code2"),
              recipe_key("per", (eng.con.table("tx_wide"),), eng.con, "minimum=10", "code1"),
              recipe_key("per", (a, None), eng.con, "minimum=10", "code1")]
    keys = {base.key, *(k.key for k in others if k is not None)}
    assert len(keys) == 1 + len(others)
    # an input that is not a named table has no recipe
    assert recipe_key("per", (a.filter(a.amount > 1),), eng.con, "", "") is None


def test_a_builder_that_reads_more_than_its_inputs_is_compiled_every_time(eng: Engine, tmp_path: Path) -> None:
    other = eng.con.table("tx_b")
    memtable = ibis.memtable(pa.table({"account": pa.array([1, 2], pa.int64())}))
    cache = SqlCache(tmp_path / "sql")
    t = eng.con.table("tx_a")
    for extra in (other, memtable):
        def build(extra: ibis.Table = extra) -> ibis.Table:
            return t.semi_join(extra, t.account == extra.account)
        fp = recipe_key("semi", (t,), eng.con, "", "")
        assert fp is not None
        for _ in range(2):
            sql, expr = cache.recipe(eng.con, fp, build)
            assert expr is not None and sql == eng.con.compile(expr)
    assert (cache.hits, cache.misses, cache.uncached) == (0, 0, 4) and not list((tmp_path / "sql").glob("*.sql"))


def test_the_cache_off_builds_every_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINBREAKER_SQL_CACHE", "false")
    from chainbreaker.core.settings import get_settings

    eng = Engine(Workspace(tmp_path / "ws"), "duckdb", settings=get_settings())
    eng.con.con.execute("CREATE TEMP TABLE tx_a AS SELECT range AS account, range AS amount, true AS night FROM range(5)")
    built = []
    stage = eng.staging(tmp_path, "t", "y")
    for _ in range(2):
        stage.recipe("per", lambda t: built.append(1) or _per_account(t, 0), eng.con.table("tx_a"))
    assert len(built) == 2
    stage.close()


def test_staged_tables_are_the_expressions_ibis_looks_up(eng: Engine, tmp_path: Path) -> None:
    """The engine's own lookup of a staged table (one DESCRIBE, types parsed once) gives Ibis's expression."""
    t = eng.con.table("tx_a")
    stage = eng.staging(tmp_path, "t", "z")
    staged = [stage(_per_account(t, 0), "sums"),
              stage(t.mutate(ts=ibis.literal("2024-01-01 00:00:00+08:00").cast("timestamp('UTC')"),
                             small=t.amount.cast("int8"), money=t.amount.cast("decimal(18, 2)"),
                             name=t.account.cast("string"), share=t.amount / 3.0), "mixed"),
              stage.arrow(pa.table({"a": pa.array([1], pa.int32()), "b": pa.array(["x"])}), "arrow")]
    for table in staged:
        assert table.equals(eng.con.table(table.op().name))
    stage.close()


def test_a_recipe_reading_a_memtable_runs(eng: Engine, tmp_path: Path) -> None:
    picked = ibis.memtable(pa.table({"account": pa.array([1, 2], pa.int64())}))
    stage = eng.staging(tmp_path, "t", "m")
    for _ in range(2):
        staged = stage.recipe("picked", lambda t: t.semi_join(picked, t.account == picked.account), eng.con.table("tx_a"))
        got = stage.recipe_arrow("picked_arrow", lambda t: t.semi_join(picked, t.account == picked.account)
                                 .aggregate(n=ibis._.count()), eng.con.table("tx_a"))
        assert eng.to_arrow(staged.aggregate(n=staged.count())).to_pylist() == got.to_pylist() == [{"n": 29}]
    stage.close()


def test_a_recipe_staged_beside_hits_too(eng: Engine, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    built: list[int] = []
    stage = eng.staging(tmp_path, "t", "b", params="", code=("chainbreaker.core",))
    with ThreadPoolExecutor(1) as side:
        for name in ("tx_a", "tx_b"):
            later = stage.beside_recipe("per", lambda t: built.append(1) or _per_account(t, 0), eng.con.table(name),
                                        submit=side.submit)
            inline = stage(_per_account(eng.con.table(name), 0), f"inline_{name}")
            assert eng.to_arrow(later().order_by("account")).equals(eng.to_arrow(inline.order_by("account")))
    assert built == [1]
    stage.close()
