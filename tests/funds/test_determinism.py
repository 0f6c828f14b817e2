"""Same inputs, same outputs: two identical ``funds screen`` runs give bit-identical results.

The float that used to differ was the mean forwarding gap (``fast_gap_min``): a float mean whose
value depended on the order in which DuckDB's threads summed a large account's gaps. It is now an
exact integer sum of seconds divided once. The lake holds a hub account with tens of thousands of
fast forwards (so its group is split across threads) beside the hand-made scenario, and DuckDB
runs with more threads than cores to make any order dependence show.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pyarrow as pa
import pytest

from chainbreaker.chains.funds.screen import screen
from chainbreaker.core.model.schemas import TRANSACTIONS
from chainbreaker.core.workspace import Workspace

from .scenario import Book, transactions_table


def _hub(n: int) -> pa.Table:
    r = random.Random(5)
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = []
    for i in range(n):
        ts = t0 + dt.timedelta(seconds=i * 97)
        rows.append({"txn_id": f"HI{i}", "from_account": f"HP{i % 997}", "to_account": "HUB",
                     "amount": Decimal("100.00") + i % 7, "ts": ts, "src_row": i})
        rows.append({"txn_id": f"HO{i}", "from_account": "HUB", "to_account": f"HQ{i % 13}", "amount": Decimal("99.00"),
                     "ts": ts + dt.timedelta(seconds=r.randint(1, 3599)), "src_row": n + i})
    return pa.Table.from_pylist(rows, schema=TRANSACTIONS)


def _results(ws: Workspace) -> dict[str, pa.Table]:
    out = {"funds_features": ws.read_arrow("funds_features"),
           "account_risk": ws.read_arrow("account_risk").drop_columns(["run_id"]).sort_by("account")}
    findings = ws.read_arrow("findings").drop_columns(["id", "run_id", "created_at"] if "created_at" in
                                                      ws.read_arrow("findings").column_names else ["id", "run_id"])
    out["findings"] = findings.sort_by([("rule_id", "ascending"), ("subject_key", "ascending")])
    return out


def test_two_identical_screens_are_bit_identical(tmp_path, book: Book, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINBREAKER_DUCKDB_THREADS", "8")
    lake = pa.concat_tables([transactions_table(book), _hub(60_000)])
    runs = []
    for i in range(3):
        ws = Workspace(tmp_path / f"ws{i}")
        with ws.transaction("test.lake") as tx:
            tx.write("transactions", lake)
        screen(ws)
        runs.append(_results(ws))
    hub = {r["account"]: r for r in runs[0]["funds_features"].to_pylist()}["HUB"]
    assert hub["fast_in_n"] > 50_000 and hub["fast_gap_min"] > 0
    for other in runs[1:]:
        for name, table in runs[0].items():
            assert table.equals(other[name]), name  # every column, floats bit for bit
