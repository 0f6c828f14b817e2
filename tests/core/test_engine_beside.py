"""Staging beside the engine: a statement run on a second DuckDB connection, on another thread."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import duckdb
import pyarrow as pa
import pytest

from chainbreaker.core.engine import Engine
from chainbreaker.core.workspace import Workspace


@pytest.fixture()
def ws(tmp_path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    with ws.transaction("test") as tx:
        tx.write("transactions", pa.table({"account": ["a", "b", "c", "a"], "amount": [1, 2, 3, 4]}))
    return ws


def test_beside_gives_what_stage_gives_reading_the_lake_and_staged_arrow(ws: Workspace, tmp_path) -> None:
    eng = Engine(ws, "duckdb")
    tx = eng.table("transactions")
    stage = eng.staging(tmp_path, "t", "x")
    wanted = pa.table({"account": ["a", "c"]})
    picked = stage.arrow(wanted, "wanted")  # a temporary table: the other connection gets the Arrow table itself
    expr = tx.filter(tx.account.isin(picked.account)).group_by("account").aggregate(total=tx.amount.sum())
    with ThreadPoolExecutor(1) as side:
        later = stage.beside(expr, "sums", side.submit, arrows={picked.op().name: wanted})
        inline = eng.to_arrow(stage(expr, "inline").order_by("account"))
        beside = later()
    assert eng.to_arrow(beside.order_by("account")).to_pylist() == inline.to_pylist() == [
        {"account": "a", "total": 5}, {"account": "c", "total": 3}]
    stage.close()
    with pytest.raises(duckdb.CatalogException):
        eng.con.con.sql(f"SELECT * FROM {beside.op().name}").fetchall()


def test_an_error_beside_is_raised_by_the_waiter(ws: Workspace, tmp_path) -> None:
    eng = Engine(ws, "duckdb")
    tx = eng.table("transactions")
    stage = eng.staging(tmp_path, "t", "y")
    picked = stage.arrow(pa.table({"account": ["a"]}), "wanted")
    expr = tx.filter(tx.account.isin(picked.account))
    with ThreadPoolExecutor(1) as side:
        later = stage.beside(expr, "rows", side.submit)  # the Arrow table not handed over: unknown on the cursor
        with pytest.raises(duckdb.CatalogException):
            later()
    stage.close()
