"""Evidence rows: the numpy events of the flagged accounts list what the engine's events statement listed."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa
import pytest

from chainbreaker.chains.funds import events, typologies
from chainbreaker.chains.funds.rules import load_rules

ACCOUNTS = [f"62220200{i:04d}" for i in range(14)]
FLAGGED = ACCOUNTS[:5]


def _lake(seed: int, start: dt.datetime) -> tuple[pa.Table, pa.Table]:
    """Transfers among few accounts in few distinct seconds (same-second ties of both directions,
    night hours, round amounts, repeated devices), and the flagged accounts with every rule fired."""
    r = random.Random(seed)
    rows = []
    for i in range(2500):
        fa, ta = r.sample(ACCOUNTS, 2)
        rows.append({
            "txn_id": None if r.random() < 0.03 else f"T{i:05d}", "from_account": fa, "to_account": ta,
            "amount": Decimal(r.choice([100, 250, 1000, 4999])) + Decimal(r.choice([0, 0, 50])) / 100,
            "ts": start + dt.timedelta(seconds=r.randint(0, 300 if r.random() < 0.5 else 4000) * 90),
            "ip": r.choice([None, " 10.0.0.1", "10.0.0.2 "]), "mac": r.choice([None, "aa:bb:cc:dd:ee:ff ", "11:22"]),
            "src_sha256": "f" * 64, "src_row": i + 2,
        })
    tx = pa.Table.from_pylist(rows, schema=pa.schema([
        ("txn_id", pa.string()), ("from_account", pa.string()), ("to_account", pa.string()),
        ("amount", pa.decimal128(18, 2)), ("ts", pa.timestamp("us", tz="UTC")), ("ip", pa.string()),
        ("mac", pa.string()), ("src_sha256", pa.string()), ("src_row", pa.int64())]))
    every = "," + ",".join(typologies.EVIDENCE_RULES) + ","
    day0 = int(start.timestamp() + 8 * 3600) // 86400
    flagged = pa.Table.from_pylist([
        {"account": FLAGGED[0], "rules": every, "wake_day": day0 + 1, "pool_device": "ip:10.0.0.1", "loop_partner": FLAGGED[1]},
        {"account": FLAGGED[1], "rules": every, "wake_day": None, "pool_device": "mac:AA:BB:CC:DD:EE:FF", "loop_partner": None},
        {"account": FLAGGED[2], "rules": ",fan_in,night,", "wake_day": day0, "pool_device": None, "loop_partner": ACCOUNTS[9]},
        {"account": FLAGGED[3], "rules": ",card_pool,loop,dormant,", "wake_day": day0 + 2, "pool_device": "ip:10.0.0.2",
         "loop_partner": ACCOUNTS[7]},
        {"account": FLAGGED[4], "rules": None, "wake_day": None, "pool_device": None, "loop_partner": None},
    ], schema=pa.schema([("account", pa.string()), ("rules", pa.string()), ("wake_day", pa.int64()),
                         ("pool_device", pa.string()), ("loop_partner", pa.string())]))
    return tx, flagged


def _evidence(tx: pa.Table, flagged: pa.Table, in_numpy: bool, events_of: str) -> list[dict[str, Any]]:
    con = ibis.duckdb.connect()
    for name, table in (("tx", tx), ("flagged", flagged)):
        con.con.register(f"{name}_arrow", table)
        con.raw_sql(f"CREATE TABLE {name} AS SELECT * FROM {name}_arrow")
    fl = con.table("flagged")
    sub = typologies.touching(con.table("tx"), fl)
    p = load_rules().params

    def sql_events(tr: ibis.Table, keep: tuple[str, ...], accounts: ibis.Table) -> ibis.Table:
        return events.account_events_sql(con, tr, keep, accounts)
    rows = typologies.evidence_rows(sub, fl, p, events_of == "asof", con.to_pyarrow, in_numpy=in_numpy,
                                    events_of=sql_events if events_of == "ignore_nulls" else None)
    return sorted(rows.to_pylist(), key=lambda r: (r["account"], r["rule"], r["rn"], r["src_row"]))


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("events_of", ["asof", "range", "ignore_nulls"])
def test_numpy_events_list_the_rows_the_statement_lists(seed: int, events_of: str) -> None:
    tx, flagged = _lake(seed, dt.datetime(2026, 3, 1, 15, 0, tzinfo=dt.UTC))
    fast = _evidence(tx, flagged, True, events_of)
    assert fast == _evidence(tx, flagged, False, events_of)
    rules = {r["rule"] for r in fast}
    assert rules >= {"paofen", "card_pool", "dormant", "network", "night", "round_amount", "loop", "transit"}
    assert {r["account"] for r in fast if r["rule"] == "card_pool"} == {FLAGGED[0], FLAGGED[1], FLAGGED[3]}
    assert FLAGGED[4] not in {r["account"] for r in fast}  # fired nothing
    assert len({(r["account"], r["rule"]) for r in fast}) < len(fast) <= 20 * 12 * 5  # capped per (account, rule)


def test_times_before_1970_use_the_statement() -> None:
    """The numpy key holds epoch seconds from 1970 on: older times fall back to the events statement."""
    from chainbreaker.chains.funds.evidence import evidence_events

    tx, flagged = _lake(3, dt.datetime(1969, 12, 31, 20, 0, tzinfo=dt.UTC))
    transfers = pa.table({"fa": ["A"], "ta": ["B"], "fen": [100], "ep": [-5], "txn_id": ["T"], "pool_hit": [False]})
    assert evidence_events(transfers, flagged, load_rules().params, typologies.EVIDENCE_RULES) is None
    assert _evidence(tx, flagged, True, "asof") == _evidence(tx, flagged, False, "asof")


def _coded_evidence(tx: pa.Table, flagged: pa.Table) -> list[dict[str, Any]] | None:
    """:func:`typologies.coded_evidence_rows` as the screening runs it: the transfers found on account
    codes, their texts read by lake row (here the row's index, all in one file)."""
    con = ibis.duckdb.connect()
    rows = pa.array(range(tx.num_rows), pa.int64())
    numbered = tx.append_column("lake_file_row", rows).append_column("lake_row", rows)
    for name, table in (("tx", numbered), ("flagged", flagged)):
        con.con.register(f"{name}_arrow", table)
        con.raw_sql(f"CREATE TABLE {name} AS SELECT * FROM {name}_arrow")
    lake, p = con.table("tx"), load_rules().params
    valid = typologies.valid_transactions(lake)
    codes = events.account_codes(valid)
    coded = events.transfers(valid, codes, keep=("lake_row",))
    keyed = typologies.flagged_keys(con.table("flagged"), codes)
    sub = typologies.coded_touching(coded, keyed, lake)
    got = typologies.coded_evidence_rows(sub, keyed, lake, p, lambda kind, build, *inputs: con.to_pyarrow(build(*inputs)))
    if got is None:
        return None
    return sorted(got.to_pylist(), key=lambda r: (r["account"], r["rule"], r["rn"], r["src_row"]))


@pytest.mark.parametrize("seed", [1, 2])
def test_coded_transfers_list_the_rows_the_lake_scan_lists(seed: int) -> None:
    """The screening's route (flagged accounts' transfers found on account codes) lists the same rows."""
    tx, flagged = _lake(seed, dt.datetime(2026, 3, 1, 15, 0, tzinfo=dt.UTC))
    coded = _coded_evidence(tx, flagged)
    assert coded and coded == _evidence(tx, flagged, False, "asof")


def test_coded_route_gives_way_before_1970() -> None:
    """Times the numpy key cannot hold: None, and the screening reads the lake for the statement's route."""
    tx, flagged = _lake(3, dt.datetime(1969, 12, 31, 20, 0, tzinfo=dt.UTC))
    assert _coded_evidence(tx, flagged) is None
