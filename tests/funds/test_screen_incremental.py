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
    counts = inc.runs()[-1]["counts"]
    if split == "province":  # a new day: nearly every touched account is extended, not recomputed
        assert counts["accounts_recomputed"] < 0.05 * counts["accounts_extended"], counts
    else:  # late transfers inside the history: those accounts are recomputed from all their transfers
        assert counts["accounts_recomputed"] > counts["accounts_extended"], counts
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


def test_state_of_an_older_format_means_a_full_run(tmp_path, province) -> None:
    from chainbreaker.chains.funds.screen import STATE_FORMAT

    before, day, accounts = province
    ws = _lake(tmp_path / "ws", [before], accounts)
    screen(ws, incremental=True)
    days = f"{STATE}_days"  # format 1's per (account, day) table
    with ws.transaction("test.old-state") as tx:
        tx.write(STATE, pa.table({"state": [json.dumps({"format": STATE_FORMAT - 1})]}))
        tx.write(days, pa.table({"account": ["A"], "day": [1]}))
        tx.write("transactions", day, mode="append")
    again = screen(ws)
    assert again.mode == "full" and again.mode_reason == "screen state of another format"
    assert not ws.has_table(days)  # dropped with the state of this format
    assert screen(ws).mode == "incremental"  # the full run wrote a state of this format


def _one_sort(con, legs: pa.Table, p) -> pa.Table:
    from chainbreaker.chains.funds import screen_state, typologies

    con.register("legs_in", legs)
    try:
        out = typologies.sorted_leg_facts(con, "SELECT * FROM legs_in", p, extras=True)
    finally:
        con.unregister("legs_in")
    return screen_state.normal_facts(out)


def _history_and_new_legs(p) -> tuple[pa.Table, pa.Array]:
    """Legs of 400 accounts (``aid``, ``ep``, ``fen``, ``outbound``) and which ones are new: every
    eighth account's new legs start within the fast-forward window of its old ones."""
    import numpy as np

    window = int(p["fast_in_out"]["window_minutes"] * 60)
    gap = int(p["dormant"]["gap_days"])
    day = 86400
    rng = np.random.default_rng(3)
    t0 = 1_700_000_000 - (1_700_000_000 + 8 * 3600) % day  # a local midnight
    rows: list[tuple[int, int, int, int, bool]] = []  # aid, ep, fen, outbound, new
    for aid in range(400):
        kind = aid % 8
        old_days = sorted(rng.choice(200, size=rng.integers(1, 6), replace=False)) if kind != 7 else []
        for d in old_days:
            for _ in range(rng.integers(1, 4)):
                rows.append((aid, t0 + int(d) * day + int(rng.integers(0, day)), int(rng.choice([5000, 12345, 100000])),
                             int(rng.integers(0, 2)), False))
        last = max((r[1] for r in rows if r[0] == aid), default=t0)
        if kind == 0:  # the same local day, past the window
            start = last + window + 1
        elif kind == 1:  # just inside the window: recomputed
            start = last + window
        elif kind == 2:  # back after a dormant gap
            start = last + (gap + 3) * day
        elif kind == 3:  # the next days, with a dormant gap inside the new transfers
            start = last + 2 * day
        else:
            start = last + int(rng.integers(window + 1, 40 * day))
        ep = start
        for i in range(rng.integers(1, 8)):
            if kind == 3 and i == 3:
                ep += (gap + 1) * day
            rows.append((aid, ep, int(rng.choice([5000, 20000, 300000])), int(rng.integers(0, 2)), True))
            ep += int(rng.integers(0, 2 * window))
    cols = list(zip(*rows, strict=True))
    legs = pa.table({"aid": pa.array(cols[0], pa.int64()), "ep": pa.array(cols[1], pa.int64()),
                     "fen": pa.array(cols[2], pa.int64()), "outbound": pa.array(cols[3], pa.int64())})
    return legs, pa.array(cols[4])


def test_merge_appended_equals_facts_of_all_transfers() -> None:
    """Extending an account's facts by later transfers gives the facts of all its transfers; accounts
    whose new transfers lie within the fast-forward window of their old ones are sent back."""
    import duckdb

    from chainbreaker.chains.funds import screen_state
    from chainbreaker.chains.funds.rules import load_rules

    p = load_rules().params
    legs, new = _history_and_new_legs(p)
    con = duckdb.connect()
    want = _one_sort(con, legs, p)
    old = _one_sort(con, legs.filter(pc.invert(new)), p).select(list(screen_state.STATE_FACTS))
    added = _one_sort(con, legs.filter(new), p)
    merged, redo = screen_state.merge_appended(old, added, p)
    assert set(redo.tolist()) == {a for a in range(400) if a % 8 == 1}
    assert merged.num_rows == 400 - len(redo)
    got = merged.sort_by("account")
    expect = want.filter(pc.invert(pc.is_in(want["account"], pa.array(redo, pa.int64())))).select(
        list(screen_state.STATE_FACTS))
    assert got.to_pylist() == expect.to_pylist()
    assert pc.sum(pc.is_valid(got["wake_day"])).as_py() > 40  # dormancy merges were exercised


def test_grouped_leg_facts_equal_the_one_sort() -> None:
    """The grouped path (Spark's) gives the one sort's facts and day extras for the same legs."""
    import duckdb
    import ibis

    from chainbreaker.chains.funds import events, screen_state, typologies
    from chainbreaker.chains.funds.rules import load_rules

    p = load_rules().params
    legs, _ = _history_and_new_legs(p)
    want = _one_sort(duckdb.connect(), legs, p)
    days = typologies.daily_facts(events.event_flags(events.leg_events(ibis.memtable(legs)), p), p)
    got = ibis.duckdb.connect().to_pyarrow(typologies.account_facts(days, p, extras=True))
    got = screen_state.normal_facts(got.select(want.column_names)).sort_by("account")
    assert got.to_pylist() == want.to_pylist()


def test_loop_partner_is_the_smallest_account_number_whatever_the_codes() -> None:
    """An incremental run appends codes for new accounts out of number order: the loop partner
    named must still be the smallest account number, as in a full run."""
    import ibis

    from chainbreaker.chains.funds.rules import load_rules
    from chainbreaker.chains.funds.typologies import loops

    p = load_rules().params
    codes = ibis.memtable({"account": ["A", "B", "C"], "aid": [0, 2, 1]})  # B was added after C
    fen, t = 500_000, 1_700_000_000
    pairs = ibis.memtable({"fa": [0, 2, 0, 1], "ta": [2, 0, 1, 0], "amt": [fen] * 4, "n": [1] * 4,
                           "first": [t, t + 60, t, t + 60], "last": [t, t + 60, t, t + 60]})  # A<->B, A<->C
    con = ibis.duckdb.connect()
    rows = {r["account"]: r for r in con.to_pyarrow(loops(pairs, p, codes)).to_pylist()}
    assert rows[0]["loop_partner"] == 2 and rows[0]["loop_partners"] == 2  # B, not C (the smaller code)


def test_pairs_added_are_folded_into_pairs(tmp_path, province, monkeypatch) -> None:
    """Two new days in two runs: the second folds the added pair rows into the pairs table."""
    from chainbreaker.chains.funds import screen_state

    monkeypatch.setattr(screen_state, "FOLD_SHARE", 0.0)
    before, day, accounts = province
    first_half, second_half = day.slice(0, day.num_rows // 2), day.slice(day.num_rows // 2)
    ws = _lake(tmp_path / "ws", [before], accounts)
    screen(ws, incremental=True)
    added = screen_state.STATE_TABLES["pairs_added"]
    for part, rows_after in ((first_half, lambda n: n > 0), (second_half, lambda n: n == 0)):
        with ws.transaction("test.append") as tx:
            tx.write("transactions", part, mode="append")
        assert screen(ws).mode == "incremental"
        assert rows_after(ws.tables()[added]["rows"])
    # the fold also regroups the devices, which incremental runs append: one row per (account, ip, mac)
    devices = ws.read_arrow(screen_state.STATE_TABLES["devices"])
    keys = devices.group_by(["account", "ip", "mac"]).aggregate([])
    assert devices.num_rows == keys.num_rows
    ref = _lake(tmp_path / "ref", [before, day], accounts)
    screen(ref)
    assert _results(ws) == _results(ref)


def _screened_then_appended(tmp_path, province) -> Workspace:
    """A lake screened with a state, then its last day appended by a later ingest."""
    before, day, accounts = province
    ws = _lake(tmp_path / "ws", [before], accounts)
    screen(ws, incremental=True)
    with ws.transaction("test.append") as tx:
        tx.write("transactions", day, mode="append")
    return ws


def test_state_manifest_is_read_once(tmp_path, province, monkeypatch) -> None:
    """The state's description and its tables come from one reading of the manifest (one commit)."""
    from chainbreaker.chains.funds import screen_state
    from chainbreaker.chains.funds.rules import load_rules
    from chainbreaker.core.engine import Engine

    ws = _screened_then_appended(tmp_path, province)
    eng, rules, files = Engine(ws), load_rules(), screen_state.transaction_files(ws)
    reads = []
    manifest = Workspace.manifest
    monkeypatch.setattr(Workspace, "manifest", lambda self: reads.append(1) or manifest(self))
    inc, reason = screen_state.load_state(ws, eng, rules, files)
    assert inc is not None and len(inc.new_files) == 1, reason
    assert len(reads) == 1
    assert eng.count(inc.codes) == ws.tables()[screen_state.STATE_TABLES["codes"]]["rows"]


def test_new_files_are_scanned_once(tmp_path, province, monkeypatch) -> None:
    """An incremental run reads the added transaction files once (staged), however many steps use them."""
    from chainbreaker.core.engine import Engine

    ws = _screened_then_appended(tmp_path, province)
    tags: list[str] = []
    scans: list[str] = []

    def spy(name: str):
        real = getattr(Engine, name)

        def run(self, expr, *args, **kwargs):
            if tags and f'"funds_new_{tags[-1]}"' in str(self.con.compile(expr)):
                scans.append(name)
            return real(self, expr, *args, **kwargs)
        return run

    staging = Engine.staging
    monkeypatch.setattr(Engine, "staging", lambda self, scratch, prefix, tag, **kw: tags.append(tag) or staging(
        self, scratch, prefix, tag, **kw))
    for name in ("materialise", "to_arrow", "count"):
        monkeypatch.setattr(Engine, name, spy(name))
    res = screen(ws)
    assert res.mode == "incremental" and res.new_transactions
    assert scans == ["materialise"]


def test_an_ingest_cannot_commit_between_the_screens_reads(tmp_path, province, monkeypatch) -> None:
    """The lake (transfers, their files, the state) is read under the screen's lock: an ingest that tries to
    commit while the screen lists the transaction files waits its turn, and the state stays that of what was
    screened (before the fix the ingest committed, its transfers were screened but missing from the state's
    files, and the next incremental run counted them twice)."""
    import chainbreaker.chains.funds.screen as screen_module
    from chainbreaker.core.errors import WorkspaceError

    before, day, accounts = province
    ws = _lake(tmp_path / "inc", [before], accounts)
    real, blocked = screen_module.transaction_files, []

    def listing_then_ingest(w: Workspace):
        files = real(w)
        try:  # another process's ingest, committing right after the files were listed
            with w.transaction("test.append") as tx:
                tx.write("transactions", day, mode="append")
        except WorkspaceError:
            blocked.append(True)
        return files

    monkeypatch.setattr(screen_module, "transaction_files", listing_then_ingest)
    screen(ws, incremental=True)
    monkeypatch.setattr(screen_module, "transaction_files", real)
    assert blocked == [True]
    with ws.transaction("test.append") as tx:  # the ingest, retried after the screen
        tx.write("transactions", day, mode="append")
    second = screen(ws)
    assert second.mode == "incremental"
    full = _lake(tmp_path / "full", [before, day], accounts)
    screen(full)
    assert _results(ws) == _results(full)
