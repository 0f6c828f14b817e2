"""Incremental screening (增量筛查): a new day re-screens what it can change; results equal a full run."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from chainbreaker.chains.funds.screen import STATE, screen
from chainbreaker.core.workspace import Workspace

N_TRANSACTIONS = 40_000
LOCAL = dt.timedelta(hours=8)  # rules' UTC offset: a "day" of 调单 is a local day


@pytest.fixture(scope="module")
def province() -> tuple[pa.Table, pa.Table, pa.Table]:
    """Synthetic province split into everything before its last local day, and that day."""
    synth = pytest.importorskip("chainbreaker.synth.bank")
    tables = synth.generate_transactions_table(N_TRANSACTIONS, seed=5)
    tx = tables.transactions
    local = pc.add(tx["ts"].cast(pa.timestamp("us", "UTC")).cast(pa.timestamp("us")), pa.scalar(LOCAL))
    day = pc.floor_temporal(local, unit="day")
    last = pc.max(day)
    new = pc.equal(day, last)
    return tx.filter(pc.invert(new)), tx.filter(new), tables.accounts


def _results(ws: Workspace) -> dict[str, list[tuple]]:
    out = {}
    for name, drop in (("funds_features", ()), ("account_risk", ("run_id",)),
                       ("findings", ("id", "run_id")), ("funds_coverage", ("run_id",))):
        t = ws.read_arrow(name)
        cols = [c for c in t.column_names if c not in drop]
        out[name] = sorted(tuple(json.dumps(v, sort_keys=True, default=str) for v in row.values())
                           for row in t.select(cols).to_pylist())
    return out


def _lake(root, parts: list[pa.Table], accounts: pa.Table) -> Workspace:
    ws = Workspace(root)
    with ws.transaction("test.lake") as tx:
        tx.write("transactions", parts[0])
        tx.write("accounts", accounts)
    for part in parts[1:]:  # a later ingest appends its transfers
        with ws.transaction("test.append") as tx:
            tx.write("transactions", part, mode="append")
    return ws


@pytest.fixture(scope="module")
def scattered(province) -> tuple[pa.Table, pa.Table, pa.Table]:
    """The same province with 2 % of its transfers, from every day, arriving later (a new statement
    covering past months): old events' fast-forward, dormancy and loop facts change mid-history."""
    before, day, accounts = province
    tx = pa.concat_tables([before, day])
    late = pa.array([i % 50 == 7 for i in range(tx.num_rows)])  # every 50th transfer
    return tx.filter(pc.invert(late)), tx.filter(late), accounts


@pytest.mark.parametrize("split", ["province", "scattered"])
def test_new_transfers_incremental_equals_full(tmp_path, split, request) -> None:
    before, day, accounts = request.getfixturevalue(split)
    assert 0 < day.num_rows < before.num_rows / 20  # a small share of the data

    full = _lake(tmp_path / "full", [before, day], accounts)
    result_full = screen(full)
    assert result_full.mode == "full" and not full.has_table(STATE)  # no state unless asked for

    inc = _lake(tmp_path / "inc", [before], accounts)
    first = screen(inc, incremental=True)
    assert first.mode == "full" and first.mode_reason == "no screen state yet" and inc.has_table(STATE)
    with inc.transaction("test.append") as tx:
        tx.write("transactions", day, mode="append")
    second = screen(inc)  # automatic: the lake has a state
    assert second.mode == "incremental", second.mode_reason
    assert 0.9 * day.num_rows < second.new_transactions <= day.num_rows  # the valid ones
    assert second.flagged > 0 and second.findings == result_full.findings
    got, want = _results(inc), _results(full)
    for name in want:
        assert got[name] == want[name], name

    # nothing new: the same results again, from the state alone
    third = screen(inc)
    assert third.mode == "incremental" and third.new_transactions == 0
    assert _results(inc) == want


def test_incremental_falls_back_to_full_when_files_were_rewritten(tmp_path, province) -> None:
    before, day, accounts = province
    ws = _lake(tmp_path / "ws", [before], accounts)
    screen(ws, incremental=True)
    with ws.transaction("test.rewrite") as tx:  # an ingest that updated stored transfers rewrites the table
        tx.write("transactions", pa.concat_tables([before, day]))
    again = screen(ws)
    assert again.mode == "full"
    assert "rewritten" in again.mode_reason
    ref = _lake(tmp_path / "ref", [before, day], accounts)
    screen(ref)
    assert _results(ws) == _results(ref)
    assert screen(ws, incremental=False).mode == "full"


def test_cli_incremental_and_full(tmp_path) -> None:
    from typer.testing import CliRunner

    from chainbreaker.faces.cli.main import app

    from .scenario import Book, build, write_lake

    book: Book = build()
    ws_path = tmp_path / "ws"
    write_lake(Workspace(ws_path), book)

    def run(*args: str) -> str:
        result = CliRunner().invoke(app, ["--workspace", str(ws_path), "funds", "screen", "--top", "3", *args])
        assert result.exit_code == 0, result.output
        return result.output

    assert "尚无筛查状态" in run("--incremental")
    assert "增量筛查：新增有效交易 0 笔" in run()
    out = run("--full")
    assert "增量" not in out and "全量" not in out


def test_new_file_without_usable_transfers(tmp_path, province) -> None:
    before, day, accounts = province
    junk = day.slice(0, 5)
    junk = junk.set_column(junk.schema.get_field_index("to_account"), "to_account",
                           junk["from_account"])  # to itself: not usable
    ws = _lake(tmp_path / "ws", [before], accounts)
    screen(ws, incremental=True)
    with ws.transaction("test.append") as tx:
        tx.write("transactions", junk, mode="append")
    res = screen(ws)
    assert res.mode == "incremental" and res.new_transactions == 0
    assert res.transactions_present == before.num_rows + 5
    ref = _lake(tmp_path / "ref", [before, junk], accounts)
    screen(ref)
    assert _results(ws) == _results(ref)


def test_state_tables_are_registered_lake_tables(tmp_path, province) -> None:
    """The state holds account numbers: its tables are registered with the funds chain, so the
    rules for registered tables (masking, audit) apply wherever they are exposed."""
    from chainbreaker.chains.funds.screen import STATE_TABLES
    from chainbreaker.chains.registry import chain

    before, _, accounts = province
    ws = _lake(tmp_path / "ws", [before], accounts)
    screen(ws, incremental=True)
    written = {name for name in ws.tables() if name.startswith(STATE)}
    assert written == {STATE, *STATE_TABLES.values()}
    assert written <= set(chain("funds").tables)
