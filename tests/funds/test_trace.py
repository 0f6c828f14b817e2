"""Tracing (资金穿透): time order, window, amount attribution, loops, fan-out, both directions."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import igraph
import pytest

from chainbreaker.chains.funds.trace import trace
from chainbreaker.core.errors import InputError

from .scenario import Book, write_lake

T0 = dt.datetime(2026, 9, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def hours(h: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=h)


@pytest.fixture()
def small(tmp_path: Path):
    from chainbreaker.core.workspace import Workspace

    b = Book(0)
    for name in "SABCDEFGH":
        b.account(name, "normal")
    b.pay("S", "A", 1000, hours(0))
    b.pay("A", "B", 600, hours(1))
    b.pay("A", "C", 400, hours(2))
    b.pay("A", "D", 500, hours(-1))  # before the money arrived: not its money
    b.pay("A", "E", 300, hours(100))  # outside the 72 h window
    b.pay("B", "S", 600, hours(3))  # back to the seed: a loop
    b.pay("C", "F", 2000, hours(3))  # C had only 400 of the seed's money
    b.pay("B", "G", 50, hours(4))
    b.pay("H", "C", 1600, hours(2.5))  # other money into C (upstream of F)
    ws = Workspace(tmp_path / "ws")
    write_lake(ws, b)
    return ws


def by_account(result) -> dict[str, dict]:
    return {n["account"]: n for n in result.nodes.to_pylist()}


def test_downstream_respects_time_window_and_attributes_amounts(small) -> None:
    result = trace(small, "S", "down", hops=3, window_hours=72)
    nodes = by_account(result)
    assert "D" not in nodes and "E" not in nodes
    assert nodes["S"]["is_seed"] and nodes["S"]["hop"] == 0
    assert nodes["A"]["attributed"] == Decimal("1000.00")
    assert nodes["B"]["attributed"] == Decimal("600.00")
    assert nodes["C"]["attributed"] == Decimal("400.00")
    # B sent 600 to S and 50 to G after getting 600: spread in proportion to the outflows.
    edges = {e["to_account"]: e for e in result.edges.to_pylist() if e["hop"] == 3}
    assert edges["S"]["attributed"] == Decimal("553.85")
    assert edges["G"]["attributed"] == Decimal("46.15")
    # C forwarded 2000 but only 400 of it can be the seed's: capped by the inflow.
    assert edges["F"]["attributed"] == Decimal("400.00")
    assert edges["S"]["loop"] is True and nodes["S"]["loop"] is True
    assert all(e["src_sha256"] and e["src_row"] for e in result.edges.to_pylist())


def test_min_amount_and_hop_limit(small) -> None:
    result = trace(small, "S", "down", hops=3, min_amount=100)
    nodes = by_account(result)
    assert "G" not in nodes
    edges = {e["to_account"]: e for e in result.edges.to_pylist() if e["hop"] == 3}
    assert edges["S"]["attributed"] == Decimal("600.00")
    two = by_account(trace(small, "S", "down", hops=2))
    assert set(two) == {"S", "A", "B", "C"}
    short = by_account(trace(small, "S", "down", hops=3, window_hours=1.5))
    assert "C" not in short  # A→C came 2 h after the money arrived


def test_upstream_mirrors_time_and_attribution(small) -> None:
    result = trace(small, "F", "up", hops=3)
    nodes = by_account(result)
    assert nodes["C"]["attributed"] == Decimal("2000.00")
    assert nodes["H"]["attributed"] == Decimal("1600.00")  # C's inflows before it paid F
    assert nodes["A"]["attributed"] == Decimal("400.00")
    assert nodes["S"]["attributed"] == Decimal("400.00")
    assert "B" not in nodes  # B received from A but never paid towards F


def test_graph_outputs_parse(small, tmp_path: Path) -> None:
    result = trace(small, "S", "down", hops=3)
    graph = igraph.Graph.Read_GraphML(str(result.to_graphml(tmp_path / "t.graphml")))
    assert graph.vcount() == result.nodes.num_rows
    assert graph.ecount() == result.edges.num_rows
    data = json.loads(result.to_json())
    assert data["seed"] == "S" and data["direction"] == "down"
    assert {n["account"] for n in data["nodes"]} == {n["account"] for n in result.nodes.to_pylist()}
    assert data["edges"][0]["amount"] == "1000.00"


def test_trace_on_the_scenario_follows_the_operation(screened) -> None:
    ws, _ = screened
    result = trace(ws, "CARD1", "down", hops=4, window_hours=24)
    nodes = by_account(result)
    assert nodes["MULE1"]["hop"] == 1 and nodes["SETTLE"]["hop"] == 2
    assert {"OTC", "PAYOUT"} <= set(nodes)
    assert nodes["SETTLE"]["attributed"] <= nodes["MULE1"]["attributed"]


def test_bad_trace_arguments(small) -> None:
    with pytest.raises(InputError):
        trace(small, "NOBODY")
    with pytest.raises(InputError):
        trace(small, "S", direction="sideways")
    with pytest.raises(InputError):
        trace(small, "S", hops=0)
    with pytest.raises(InputError):
        trace(small, "S", window_hours=0)


def test_an_account_with_nothing_to_follow_gives_an_empty_trace(small) -> None:
    """G only receives: downstream there is nothing, which is an answer, not an error."""
    result = trace(small, "G", "down")
    assert result.edges.num_rows == 0
    assert by_account(result)["G"]["is_seed"]
    assert trace(small, "G", "up").edges.num_rows == 3  # upstream: B paid it, A paid B, S paid A
