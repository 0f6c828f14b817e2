"""Trace outputs leave masked for the role, audited, with times in the configured zone."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import igraph
import pytest
from typer.testing import CliRunner

from chainbreaker.chains.funds.trace import export_trace, trace

from .scenario import Book, write_lake

T0 = dt.datetime(2026, 9, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
SEED = "6222021234567890123"
# two accounts that mask alike (same first and last four digits): the graph must keep both
TWIN_A, TWIN_B = "6217001111222237334", "6217009999888877334"
OTHER = "6228480402564890018"


@pytest.fixture()
def cards(tmp_path: Path):
    from chainbreaker.core.workspace import Workspace

    b = Book(0)
    for name in (SEED, TWIN_A, TWIN_B, OTHER):
        b.account(name, "normal")
    b.pay(SEED, TWIN_A, 1000, T0)
    b.pay(SEED, TWIN_B, 500, T0 + dt.timedelta(hours=1))
    b.pay(TWIN_A, OTHER, 800, T0 + dt.timedelta(hours=2))
    ws = Workspace(tmp_path / "ws")
    write_lake(ws, b)
    return ws


def _audit(ws) -> list[dict]:
    return [json.loads(x) for x in (ws.root / "audit.jsonl").read_text("utf-8").splitlines()]


def test_viewer_json_is_masked_zoned_and_audited(cards, tmp_path: Path) -> None:
    result = trace(cards, SEED, "down", hops=3)
    out = tmp_path / "t.json"
    kinds = export_trace(cards, result, out, role="viewer")
    text = out.read_text("utf-8")
    for card in (SEED, TWIN_A, TWIN_B, OTHER):
        assert card not in text
    data = json.loads(text)
    accounts = {n["account"] for n in data["nodes"]}
    assert len(accounts) == 4 and "6222***********0123" in accounts
    assert {"6217***********7334", "6217***********7334#2"} <= accounts  # twins kept apart
    assert data["edges"][0]["ts"] == "2026-09-01T10:00:00+08:00" and data["timezone"] == "Asia/Shanghai"
    assert kinds["nodes.account"] == "card" and kinds["edges.from_account"] == "card"
    start, done = _audit(cards)[-2:]
    assert start["action"] == "funds.trace.export" and start["phase"] == "start" and done["phase"] == "done"
    assert start["role"] == "viewer" and start["masked_kinds"] == kinds and SEED not in json.dumps(start)
    assert done["nodes"] == 4 and done["edges"] == 3


def test_viewer_graphml_keeps_the_graph_shape(cards, tmp_path: Path) -> None:
    result = trace(cards, SEED, "down", hops=3)
    out = tmp_path / "t.graphml"
    export_trace(cards, result, out, role="viewer")
    text = out.read_text("utf-8")
    assert all(c not in text for c in (SEED, TWIN_A, TWIN_B, OTHER))
    assert "2026-09-01T10:00:00+08:00" in text
    g = igraph.Graph.Read_GraphML(str(out))
    assert g.vcount() == 4 and g.ecount() == 3


def test_analyst_sees_cards_and_cli_viewer_is_masked(cards, tmp_path: Path) -> None:
    from chainbreaker.faces.cli.main import app

    out = tmp_path / "a.json"
    assert export_trace(cards, trace(cards, SEED, "down"), out, role="analyst") == {}
    assert SEED in out.read_text("utf-8")
    env = {"CHAINBREAKER_WORKSPACE": str(cards.root)}
    out2 = tmp_path / "v.json"
    r = CliRunner().invoke(app, ["--role", "viewer", "funds", "trace", SEED, "--out", str(out2)], env=env)
    assert r.exit_code == 0, r.output
    assert SEED not in out2.read_text("utf-8") and SEED not in r.output
    assert _audit(cards)[-1]["role"] == "viewer"
