"""Compiled SQL kept across runs: what the key holds, what a hit gives, what a damaged entry does."""

from __future__ import annotations

from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from chainbreaker.core.engine import Engine
from chainbreaker.core.sqlcache import SqlCache, fingerprint
from chainbreaker.core.workspace import Workspace


@pytest.fixture()
def con():  # type: ignore[no-untyped-def]
    con = ibis.duckdb.connect()
    con.con.execute("CREATE TEMP TABLE lake_tx (account VARCHAR, amount BIGINT, day INTEGER)")
    con.con.execute("CREATE TEMP TABLE lake_tx_b (account VARCHAR, amount BIGINT, day INTEGER)")
    con.con.execute("CREATE TEMP TABLE lake_tx_wide (account VARCHAR, amount DOUBLE, day INTEGER)")
    con.con.execute("CREATE TEMP TABLE account (account VARCHAR, amount BIGINT, day INTEGER)")
    return con


def _stmt(t: ibis.Table, threshold: object = 10, column: str = "amount", descending: bool = False) -> ibis.Table:
    """A statement of the screen's kind: filter, group, window, sort."""
    kept = t.filter(t[column] >= threshold)
    per = kept.group_by("account").aggregate(total=kept[column].sum(), n=kept.count())
    per = per.mutate(rk=ibis.row_number().over(order_by=ibis.desc(per.total)))
    return per.order_by(ibis.desc("account") if descending else "account")


def test_a_change_in_any_key_part_misses_and_compiles_its_own_sql(con, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    t = con.table("lake_tx")
    base = _stmt(t)
    variants = {
        "literal value": _stmt(t, threshold=11),
        "literal type": _stmt(t, threshold=10.0),
        "literal dtype": _stmt(t, threshold=ibis.literal(10, type="int16")),
        "column": _stmt(t.rename(amt="amount"), column="amt"),
        "schema dtype": _stmt(con.table("lake_tx_wide")),
        "sort direction": _stmt(t, descending=True),
        "rule parameter in a window": base.mutate(top=base.rk <= 3),
    }
    cache = SqlCache(tmp_path / "sql")
    assert cache.compile(con, base) == con.compile(base)
    keys = {fingerprint(base, con).key}  # type: ignore[union-attr]
    for what, expr in variants.items():
        fp = fingerprint(expr, con)
        assert fp is not None and fp.key not in keys, what
        keys.add(fp.key)
        before = cache.misses
        assert cache.compile(con, expr) == con.compile(expr), what
        assert cache.misses == before + 1, what
    assert cache.compile(con, _stmt(t)) == con.compile(base)
    assert cache.hits == 1


def test_a_table_of_another_name_hits_and_gets_its_own_name(con, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A run's staged tables carry its tag: their names are placeholders in the key and the stored SQL."""
    a, b = _stmt(con.table("lake_tx")), _stmt(con.table("lake_tx_b"))
    fa, fb = fingerprint(a, con), fingerprint(b, con)
    assert fa is not None and fb is not None and fa.key == fb.key and fa.names != fb.names
    cache = SqlCache(tmp_path / "sql")
    cache.compile(con, a)
    assert cache.compile(con, b) == con.compile(b) != con.compile(a)
    assert (cache.hits, cache.misses) == (1, 1)
    stored = next((tmp_path / "sql").glob("*.sql")).read_text("utf-8")
    assert "lake_tx" not in stored  # the placeholder stands where the name was


def test_a_table_named_like_a_column_is_compiled_every_time(con, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    t = con.table("account")
    expr = t.group_by("account").aggregate(n=t.count())
    cache = SqlCache(tmp_path / "sql")
    for _ in range(2):
        assert cache.compile(con, expr) == con.compile(expr)
    assert (cache.hits, cache.misses) == (0, 2) and not list((tmp_path / "sql").glob("*.sql"))


def test_a_damaged_entry_is_ignored_and_rewritten(con, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    expr = _stmt(con.table("lake_tx"))
    want = con.compile(expr)
    cache = SqlCache(tmp_path / "sql")
    cache.compile(con, expr)
    entry = next((tmp_path / "sql").glob("*.sql"))
    good = entry.read_bytes()
    damaged = [good[: len(good) // 2], good.replace(b"SUM", b"MAX"), b"\xff\xfe garbage", b"",
               good.replace(b"__cbsql_0__", b"__cbsql_7__")]
    for i, text in enumerate(damaged):
        entry.write_bytes(text)
        assert cache.compile(con, expr) == want, i
        assert cache.hits == 0 and entry.read_bytes() == good, i
    assert cache.compile(con, expr) == want and cache.hits == 1


def test_memtable_rows_are_not_in_the_sql_so_other_rows_hit_and_give_their_result(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    eng = Engine(ws, "duckdb")
    assert eng.sql_cache is not None

    def total(rows: list[int]) -> int:
        m = ibis.memtable(pa.table({"v": pa.array(rows, pa.int64())}))
        return int(eng.to_arrow(m.aggregate(s=m.v.sum())).column(0)[0].as_py())

    assert total([1, 2, 3]) == 6 and eng.sql_cache.misses == 1
    assert total([40, 2]) == 42 and eng.sql_cache.hits == 1
    m = ibis.memtable(pa.table({"v": pa.array([987654321], pa.int64())}))
    assert "987654321" not in eng.compile(m.aggregate(s=m.v.sum()))


def test_the_trimmed_folder_keeps_the_recently_used(con, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cache = SqlCache(tmp_path / "sql", max_entries=8)
    t = con.table("lake_tx")
    first = _stmt(t, threshold=0)
    cache.compile(con, first)
    for i in range(1, 12):
        cache.compile(con, _stmt(t, threshold=i))
        cache.compile(con, first)  # used every time: kept
    assert len(list((tmp_path / "sql").glob("*.sql"))) <= 8
    hits = cache.hits
    assert cache.compile(con, first) == con.compile(first) and cache.hits == hits + 1


def test_the_setting_turns_the_cache_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINBREAKER_SQL_CACHE", "false")
    from chainbreaker.core.settings import get_settings

    eng = Engine(Workspace(tmp_path / "ws"), "duckdb", settings=get_settings())
    assert eng.sql_cache is None
    assert eng.to_arrow(ibis.memtable({"v": [1]})).to_pylist() == [{"v": 1}]
    assert not (tmp_path / "ws" / "cache").exists()


def test_views_made_later_in_the_process_hit(con, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``Table.view()`` numbers views from a process-wide counter that the SQL does not show."""
    def self_join() -> ibis.Table:
        t = con.table("lake_tx")
        a, b = t.view(), t.view()
        return a.join(b, a.account == b.account).select(a.account, x=a.amount, y=b.amount)

    first, later = self_join(), self_join()
    cache = SqlCache(tmp_path / "sql")
    assert cache.compile(con, first) == con.compile(first)
    assert cache.compile(con, later) == con.compile(later)
    assert (cache.hits, cache.misses) == (1, 1)
