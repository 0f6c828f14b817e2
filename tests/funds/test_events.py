"""Per-account events: tie-free definitions, ASOF and window formulations agree, dormancy on days."""

from __future__ import annotations

import datetime as dt
import random

import ibis
import pyarrow as pa
import pytest

from chainbreaker.chains.funds import events

from .scenario import Book, screened_features


def _random_transfers(seed: int, n: int = 3000) -> pa.Table:
    """Few accounts, few distinct seconds: many same-second ties of both directions."""
    r = random.Random(seed)
    rows = []
    for _ in range(n):
        fa, ta = r.sample(range(12), 2)
        rows.append({"fa": fa, "ta": ta, "fen": r.randint(1, 10_000) * 100, "ep": 1_780_000_000 + r.randint(0, 400) * 30})
    return pa.Table.from_pylist(rows)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_asof_window_and_ignore_nulls_formulations_agree(seed: int) -> None:
    """DuckDB's IGNORE NULLS path, the ASOF path and the RANGE-window path Spark uses give the same
    next_out/prev_in."""
    con = ibis.duckdb.connect()
    con.con.register("tr_arrow", _random_transfers(seed))
    con.raw_sql("CREATE TABLE tr AS SELECT * FROM tr_arrow")
    tr = con.table("tr")
    cols = list(events.EVENT_COLUMNS)
    got = {}
    for name, expr in (("asof", events.account_events(tr, True)), ("range", events.account_events(tr, False)),
                       ("ignore_nulls", events.account_events_sql(con, tr))):
        out = con.to_pyarrow(expr.select(*cols)).to_pylist()
        got[name] = sorted(tuple(-1 if row[c] is None else row[c] for c in cols) for row in out)
    assert got["asof"] == got["range"] == got["ignore_nulls"]
    assert len(got["asof"]) == 6000
    assert any(row[cols.index("next_out")] == row[cols.index("ep")] for row in got["asof"])  # ties were exercised
    assert any(row[cols.index("prev_in")] == row[cols.index("ep")] for row in got["asof"])


@pytest.mark.parametrize("formulation", ["asof", "range", "ignore_nulls"])
def test_events_of_some_accounts_are_those_accounts_rows_of_all_events(formulation: str) -> None:
    """``accounts`` drops the other side of each transfer before the per-account windows: each
    remaining account's events (next_out/prev_in too) are those computed from all the transfers."""
    con = ibis.duckdb.connect()
    con.con.register("tr_arrow", _random_transfers(4))
    con.raw_sql("CREATE TABLE tr AS SELECT * FROM tr_arrow")
    tr = con.table("tr")
    con.raw_sql("CREATE TABLE picked AS SELECT unnest([2, 5, 7]) AS account")  # raw SQL sees no memtables
    some = con.table("picked")

    def run(accounts: ibis.Table | None) -> list[tuple[int, ...]]:
        if formulation == "ignore_nulls":
            expr = events.account_events_sql(con, tr, accounts=accounts)
        else:
            expr = events.account_events(tr, formulation == "asof", accounts=accounts)
        cols = list(events.EVENT_COLUMNS)
        return sorted(tuple(-1 if row[c] is None else row[c] for c in cols) for row in con.to_pyarrow(expr.select(*cols)).to_pylist())

    every = run(None)
    got = run(some)
    assert got == [row for row in every if row[0] in (2, 5, 7)]
    assert len({row[0] for row in got}) == 3 and len(got) < len(every)
    assert any(row[5] != -1 for row in got) and any(row[6] != -1 for row in got)  # next_out/prev_in were compared


def test_outbound_in_the_same_second_counts_as_fast(tmp_path) -> None:
    """An inbound and an outbound transfer in the same second: fast, whatever their txn_id order."""

    b = Book(1)
    for name in ("A", "M", "B"):
        b.account(name, "normal")
    start = dt.datetime(2026, 9, 1, 10, 0, tzinfo=dt.UTC)
    for i in range(12):
        when = start + dt.timedelta(days=i)
        b.pay("M", "B", 1000, when)   # the outbound gets the smaller txn_id
        b.pay("A", "M", 1000, when)
    feats = screened_features(tmp_path, b)
    assert feats["M"]["fast_in_n"] == 12
    assert feats["M"]["fast_in_share"] == 1.0
    assert feats["M"]["fast_gap_min"] == 0.0


def test_dormancy_is_measured_between_active_days(tmp_path) -> None:

    b = Book(1)
    for name in ("P", "SLEEPER", "NAPPER", "Q"):
        b.account(name, "normal")
    shanghai = dt.timezone(dt.timedelta(hours=8))
    day0 = dt.datetime(2026, 3, 1, 23, 30, tzinfo=shanghai)
    b.pay("P", "SLEEPER", 500, day0)
    b.pay("P", "NAPPER", 500, day0)
    woke = dt.datetime(2026, 6, 9, 0, 30, tzinfo=shanghai)  # 100 local days after day0
    napped = dt.datetime(2026, 5, 29, 0, 30, tzinfo=shanghai)  # 89 local days after day0
    for i in range(15):
        b.pay("SLEEPER", "Q", 100 + i, woke + dt.timedelta(days=i // 3, minutes=i))
        b.pay("NAPPER", "Q", 100 + i, napped + dt.timedelta(days=i // 3, minutes=i))
    feats = screened_features(tmp_path, b)
    sleeper, napper = feats["SLEEPER"], feats["NAPPER"]
    assert sleeper["max_gap_days"] == 100.0
    assert sleeper["wake_rn"] == 15 and sleeper["n_before"] == 1
    # counts are integers on every engine (DuckDB sums integers to HUGEINT, i.e. a decimal)
    assert all(type(sleeper[c]) is int for c in ("wake_rn", "n_before", "n_all", "active_days"))
    assert sleeper["s_dormant"] == 1.0
    assert napper["max_gap_days"] == 89.0
    assert napper["wake_rn"] is None and napper["s_dormant"] == 0.0


def test_card_pool_device_tie_is_broken_the_same_way_every_run(tmp_path) -> None:
    """Three holders share both an IP and a MAC: the named device is the smaller text, every time."""
    b = Book(1)
    b.account("SHOP", "normal")
    start = dt.datetime(2026, 9, 1, 10, 0, tzinfo=dt.UTC)
    for i, name in enumerate(("C1", "C2", "C3")):
        b.account(name, "normal", holder=f"HOLDER-{i}")
        for day in range(3):
            b.pay(name, "SHOP", 100 + day, start + dt.timedelta(days=day, minutes=i), ip=" 10.1.2.3 ",
                  mac="aa:bb:cc:dd:ee:ff")
    for run in range(2):
        feats = screened_features(tmp_path / f"run{run}", b)
        for name in ("C1", "C2", "C3"):
            assert feats[name]["pool_holders"] == 3
            assert feats[name]["pool_device"] == "ip:10.1.2.3"  # "ip:..." < "mac:AA:BB:..."


def _dormant_transfers(seed: int, n: int = 4000) -> pa.Table:
    """Same-second ties, accounts that only pay or only receive, and bursts after months of silence."""
    r = random.Random(seed)
    rows = []
    for _ in range(n):
        fa, ta = r.sample(range(40), 2)
        if ta in (0, 1):  # accounts 0 and 1 never receive; 2 never pays
            ta = 2
        if fa == 2:
            fa = 3
        day = r.randint(0, 20)
        if 5 <= fa < 10:  # accounts 5-9 trade among themselves, with months of silence in between
            ta = r.choice([a for a in range(5, 10) if a != fa])
            day = r.choice([0, 1, 2, 3, 150, 151, 300])
        elif 5 <= ta < 10:
            ta = 11
        rows.append({"fa": fa + 1, "ta": ta + 1, "fen": r.choice([r.randint(1, 90_000), 100_000, 50_000]),
                     "ep": 1_750_000_000 + day * 86_400 + r.randint(0, 24 * 12) * 300})
    return pa.Table.from_pylist(rows)


@pytest.mark.parametrize("seed, threads", [(1, 1), (2, 2), (3, 3)])
def test_sorted_account_facts_equal_the_grouped_path(seed: int, threads: int) -> None:
    """One sort + numpy (DuckDB's full screening) gives per_account(days) and dormancy(days) exactly, nulls included."""
    from chainbreaker.chains.funds import typologies
    from chainbreaker.chains.funds.rules import load_rules

    p = load_rules().params
    con = ibis.duckdb.connect()
    con.con.register("tr_arrow", _dormant_transfers(seed))
    con.raw_sql("CREATE TABLE tr AS SELECT * FROM tr_arrow")
    con.raw_sql(f"SET threads = {threads}")  # numpy runs on as many slices of whole accounts
    tr = con.table("tr")
    days = typologies.daily_facts(events.event_flags(events.account_events(tr, True).select(*events.EVENT_COLUMNS), p), p)
    acc, dorm = typologies.per_account(days), typologies.dormancy(days, p)
    grouped = con.to_pyarrow(acc.left_join(dorm, acc.account == dorm.account).drop("account_right"))
    fast = typologies.sorted_account_facts(con.con, "SELECT * FROM tr", p)
    assert fast is not None and fast.column_names == grouped.column_names == list(typologies.FACT_COLUMNS)

    def rows(t: pa.Table) -> list[tuple]:
        return sorted(tuple(None if v is None else (float(v) if k == "max_gap_days" else int(v)) for k, v in r.items())
                      for r in t.to_pylist())

    assert rows(fast) == rows(grouped)
    by = {r["account"]: r for r in fast.to_pylist()}
    assert by[1]["amt_in_fen"] is None and by[3]["amt_out_fen"] is None  # null sums, as SQL gives them
    assert any(r["wake_day"] is not None for r in by.values()) and any(r["wake_day"] is None for r in by.values())
    assert any(r["fast_in_n"] > 0 for r in by.values())


def test_sorted_account_facts_decline_times_outside_the_key() -> None:
    """Times before 1970 do not fit the packed sort key: None, and the screening groups instead."""
    from chainbreaker.chains.funds import typologies
    from chainbreaker.chains.funds.rules import load_rules

    con = ibis.duckdb.connect()
    con.con.register("tr_arrow", pa.table({"fa": [1], "ta": [2], "fen": [100], "ep": [-5]}))
    assert typologies.sorted_account_facts(con.con, "SELECT * FROM tr_arrow", load_rules().params) is None


def test_cap_evidence_numbers_each_rule_in_one_order() -> None:
    """One sort, a running count per rule: the same rows, numbers and totals as a sort per (account, rule)."""
    from chainbreaker.chains.funds.typologies import cap_evidence

    r = random.Random(5)
    rows = [{"account": r.choice(["A", "B", "C"]), "txn_id": None if r.random() < 0.05 else f"T{r.randint(0, 400):04d}",
             "fen": r.choice([100, 200, 300]), "ep": r.randint(0, 5), "hit_x": r.random() < 0.5,
             "hit_y": None if r.random() < 0.1 else r.random() < 0.2} for _ in range(600)]
    got = cap_evidence(pa.Table.from_pylist(rows), ["x", "y"], 7).to_pylist()
    want = []
    for rule in ("x", "y"):
        for acc in ("A", "B", "C"):
            hit = [row for row in rows if row["account"] == acc and row[f"hit_{rule}"]]
            hit.sort(key=lambda row: (-row["fen"], row["ep"], row["txn_id"] is None, row["txn_id"] or ""))
            total = sum(row["txn_id"] is not None for row in hit)
            want += [{"account": acc, "rule": rule, "txn_id": row["txn_id"], "rn": i, "total": total}
                     for i, row in enumerate(hit[:7])]
    assert got == want
    assert any(row["txn_id"] is None for row in rows if row["hit_x"])  # nulls were exercised
