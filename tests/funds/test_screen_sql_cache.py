"""The screen with its compiled SQL kept across runs: same SQL as compiling, same results, rules in the key."""

from __future__ import annotations

import copy
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from chainbreaker.chains.funds.rules import Rules, load_rules
from chainbreaker.chains.funds.screen import screen
from chainbreaker.core.sqlcache import SqlCache
from chainbreaker.core.workspace import Workspace

from .scenario import Book, build, write_lake

DROP = {"account_risk": ["run_id"], "funds_coverage": ["run_id"], "findings": ["id", "run_id", "created_at"]}


def _results(ws: Workspace) -> dict[str, pa.Table]:
    out = {}
    for name in ("funds_features", "account_risk", "findings", "funds_coverage"):
        table = ws.read_arrow(name)
        out[name] = table.drop_columns([c for c in DROP.get(name, []) if c in table.column_names])
    return out


def _same(a: pa.Table, b: pa.Table) -> bool:
    con = duckdb.connect()
    con.register("a", a)
    con.register("b", b)
    return a.num_rows == b.num_rows and not any(
        con.execute(f"SELECT count(*) FROM (SELECT * FROM {x} EXCEPT ALL SELECT * FROM {y})").fetchall()[0][0]
        for x, y in (("a", "b"), ("b", "a")))


def _same_as_without_cache(ws: Workspace, monkeypatch: pytest.MonkeyPatch, *runs: dict[str, pa.Table]) -> None:
    """Each of ``runs`` (``_results`` of screens of ``ws``) holds rows, the same as a screen without the cache."""
    monkeypatch.setenv("CHAINBREAKER_SQL_CACHE", "false")
    screen(ws, incremental=False)
    off = _results(ws)
    for results in runs:
        for name, table in results.items():
            assert table.num_rows > 0, name
            assert _same(table, off[name]), name


class Recorder:
    """Every statement the screen's engine compiles through the cache, by its expression or by its recipe:
    (backend, expr, SQL), and the caches. A recipe's expression is built here when the cache did not."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[Any, Any, str]] = []
        self.caches: list[SqlCache] = []
        compile_, recipe_ = SqlCache.compile, SqlCache.recipe

        def record(cache: SqlCache, backend: Any, expr: Any) -> str:
            if cache not in self.caches:
                self.caches.append(cache)
            sql = compile_(cache, backend, expr)
            self.calls.append((backend, expr, sql))
            return sql

        def record_recipe(cache: SqlCache, backend: Any, fp: Any, build: Any) -> tuple[str, Any]:
            if cache not in self.caches:
                self.caches.append(cache)
            sql, expr = recipe_(cache, backend, fp, build)
            self.calls.append((backend, build() if expr is None else expr, sql))
            return sql, expr
        monkeypatch.setattr(SqlCache, "compile", record)
        monkeypatch.setattr(SqlCache, "recipe", record_recipe)

    def run(self, ws: Workspace, **kw: Any) -> tuple[int, int, int]:
        self.calls.clear()
        self.caches.clear()
        screen(ws, incremental=False, **kw)
        for backend, expr, sql in self.calls:
            assert sql == backend.compile(expr)
        (cache,) = self.caches
        return cache.hits, cache.misses, cache.uncached


def test_a_second_screen_hits_every_statement_with_the_same_sql_and_results(
        tmp_path, book: Book, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(tmp_path / "ws")
    write_lake(ws, book)
    rec = Recorder(monkeypatch)
    hits, misses, uncached = rec.run(ws)
    assert hits == 0 and misses > 10 and uncached == 0
    cold = _results(ws)
    hits, misses, uncached = rec.run(ws)
    assert misses == 0 and uncached == 0 and hits == len(rec.calls) > 10
    _same_as_without_cache(ws, monkeypatch, cold, _results(ws))


def test_a_changed_rule_parameter_misses(tmp_path, book: Book, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace(tmp_path / "ws")
    write_lake(ws, book)
    rules = load_rules(None, ws.config_dir)
    rec = Recorder(monkeypatch)
    rec.run(ws, rules=rules)
    params = copy.deepcopy(rules.params)
    params["fast_in_out"]["share_high"] = 0.71  # read by the signals statement, nowhere in the facts
    hits, misses, _ = rec.run(ws, rules=Rules(params=params, sources=("test",)))
    assert misses >= 1 and hits >= 1


def test_a_new_workspace_finds_the_recipes_of_another_in_the_shared_folder_and_no_data_goes_there(
        tmp_path, book: Book, monkeypatch: pytest.MonkeyPatch) -> None:
    """The shared folder (user cache) gives a new workspace of other data the recipes' SQL: same SQL as
    compiling, same results as compiling everything; statements with data in their SQL stay in the workspace."""
    monkeypatch.setenv("CHAINBREAKER_SQL_CACHE_SHARED", "true")
    monkeypatch.setenv("CHAINBREAKER_CACHE_DIR", str(tmp_path / "usercache"))
    first, second = Workspace(tmp_path / "ws1"), Workspace(tmp_path / "ws2")
    write_lake(first, book)
    other = build(seed=11)
    write_lake(second, other)
    rec = Recorder(monkeypatch)
    _, first_misses, _ = rec.run(first)
    shared = tmp_path / "usercache" / "sql-recipes"
    kept = {p.name for p in shared.glob("*.sql")}
    own = {p.name for p in (first.root / "cache" / "sql").glob("*.sql")}
    assert kept and kept < own  # the statements compiled from their expressions (literals: data) are not shared
    text = "\n".join(p.read_text("utf-8") for p in shared.glob("*.sql"))
    accounts = {r["from_account"] for r in book.rows} | {r["to_account"] for r in book.rows}
    assert not [a for a in accounts if a and a in text]

    hits, misses, uncached = rec.run(second)  # Recorder checks every statement's SQL against compiling it
    (cache,) = rec.caches
    assert cache.shared_hits == hits > 10 and misses < first_misses // 2 and uncached == 0
    _same_as_without_cache(second, monkeypatch, _results(second))


def test_a_shared_folder_others_can_write_to_is_not_used(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from chainbreaker.core.engine import Engine
    from chainbreaker.core.sqlcache import shared_folder

    root = tmp_path / "usercache"
    assert shared_folder(root) == root / "sql-recipes" and (os.stat(root / "sql-recipes").st_mode & 0o777) == 0o700
    os.chmod(root / "sql-recipes", 0o777)
    assert shared_folder(root) is None
    monkeypatch.setenv("CHAINBREAKER_SQL_CACHE_SHARED", "true")
    monkeypatch.setenv("CHAINBREAKER_CACHE_DIR", str(root))
    eng = Engine(Workspace(tmp_path / "ws"), "duckdb")
    assert eng.sql_cache is not None and eng.sql_cache.shared is None
    os.chmod(root / "sql-recipes", 0o700)
    assert Engine(Workspace(tmp_path / "ws"), "duckdb").sql_cache.shared is not None  # type: ignore[union-attr]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # someone else's folder (only root can make one here)
        os.chown(root / "sql-recipes", 12345, -1)
        assert shared_folder(root) is None
    monkeypatch.setenv("CHAINBREAKER_SQL_CACHE_SHARED", "false")
    assert Engine(Workspace(tmp_path / "ws"), "duckdb").sql_cache.shared is None  # type: ignore[union-attr]
