"""Windowed graph features (fan within windows, scatter-gather, time-respecting cycles) on a small
hand-built graph whose answers are known, on DuckDB and (marked spark) on Spark."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from chainbreaker.chains.funds.features_graph import account_features
from chainbreaker.core.model.schemas import TRANSACTIONS

# Day 20160 since the epoch (2025-03-13) is a multiple of 1, 7 and 30: windows start there.
START = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=20160)


def small_graph() -> pa.Table:
    rows: list[tuple[str, str, float, float]] = []  # payer, payee, amount, day (fractional)
    # scatter-gather: S -> M1..M3 on day 0, each M -> T on days 1-2; M4 pays T too late (day 20)
    for i, m in enumerate(["M1", "M2", "M3", "M4"]):
        rows.append(("S", m, 1000.0 + i, 0.1 + i * 0.01))
    for i, m in enumerate(["M1", "M2", "M3"]):
        rows.append((m, "T", 990.0 + i, 1.2 + i * 0.3))
    rows.append(("M4", "T", 990.0, 20.0))
    # time-respecting 3-cycle A -> B -> C -> A on days 0, 1, 2
    rows += [("A", "B", 500.0, 0.2), ("B", "C", 490.0, 1.2), ("C", "A", 480.0, 2.2)]
    # a 3-cycle whose times go backwards at every start: never time-respecting
    rows += [("X", "Y", 500.0, 5.2), ("Y", "Z", 490.0, 3.2), ("Z", "X", 480.0, 6.2)]
    # 2-cycle P -> Q -> P and 4-cycle D -> E -> F -> G -> D
    rows += [("P", "Q", 300.0, 0.3), ("Q", "P", 290.0, 1.3)]
    rows += [("D", "E", 700.0, 0.4), ("E", "F", 690.0, 1.4), ("F", "G", 680.0, 2.4), ("G", "D", 670.0, 3.4)]
    # a 2-cycle closing after the 30-day cycle window: not counted
    rows += [("U", "V", 100.0, 0.5), ("V", "U", 100.0, 40.5)]
    # fan-in: H receives from five payers on day 10, twice from K1 (one event per payer and day)
    for k in range(5):
        rows.append((f"K{k}", "H", 200.0, 10.1 + k * 0.1))
    rows.append(("K1", "H", 50.0, 10.9))
    # cadence: R pays R1 weekly (days 0-28) and R2 once on day 17, off its 7-day rhythm
    rows += [("R", "R1", 150.0, d + 0.6) for d in (0, 7, 14, 21, 28)]
    rows.append(("R", "R2", 400.0, 17.6))
    n = len(rows)
    table = pa.table({
        "txn_id": [f"w{i}" for i in range(n)],
        "from_account": [r[0] for r in rows],
        "to_account": [r[1] for r in rows],
        "amount": pa.array([Decimal(f"{r[2]:.2f}") for r in rows], pa.decimal128(18, 2)),
        "currency": ["CNY"] * n,
        "ts": pa.array([START + dt.timedelta(days=r[3]) for r in rows], pa.timestamp("us", tz="UTC")),
        "src_sha256": ["0" * 64] * n,
        "src_file": ["small.csv"] * n,
        "src_row": pa.array(range(2, n + 2), pa.int64()),
    })
    return pa.table({f.name: table.column(f.name) if f.name in table.column_names else pa.nulls(n, f.type)
                     for f in TRANSACTIONS}, schema=TRANSACTIONS)


@pytest.fixture()
def small_ws(ws):
    with ws.transaction("test.load") as tx:
        tx.write("transactions", small_graph())
    return ws


def _features(ws, engine: str) -> pd.DataFrame:
    return account_features(ws, engine, use_screening=False).to_pandas().set_index("account")


def test_scatter_gather_roles(small_ws):
    f = _features(small_ws, "duckdb")
    assert f.loc["S", "sg_src_sinks"] == 1 and f.loc["S", "sg_src_max_mids"] == 3  # M4 is too late
    assert f.loc["T", "sg_dst_sources"] == 1 and f.loc["T", "sg_dst_max_mids"] == 3
    assert [f.loc[m, "sg_mid_pairs"] for m in ("M1", "M2", "M3", "M4")] == [1, 1, 1, 0]
    assert f.loc["A", "sg_src_sinks"] == 0  # a chain A -> B -> C has one intermediary only


def test_time_respecting_cycles(small_ws):
    f = _features(small_ws, "duckdb")
    for a in "ABC":
        assert (f.loc[a, "tcycle3"], f.loc[a, "tcycle2"], f.loc[a, "tcycle4"]) == (1, 0, 0), a
    for a in "XYZ":
        assert f.loc[a, "tcycle_any"] == 0, a  # times go backwards
    assert f.loc["P", "tcycle2"] == 1 and f.loc["Q", "tcycle2"] == 1
    for a in "DEFG":
        assert f.loc[a, "tcycle4"] == 1 and f.loc[a, "tcycle3"] == 0, a
    assert f.loc["U", "tcycle2"] == 0  # closes after the cycle window
    # one hop out: B's counterparties A and C each lie on one cycle
    assert f.loc["B", "nbw_mean_tcycle_any"] == 1.0


def test_fan_within_windows_and_bins(small_ws):
    f = _features(small_ws, "duckdb")
    assert f.loc["H", "w1_in_fan_max"] == 5 and f.loc["H", "w1_in_deg_max"] == 6
    assert f.loc["H", "w1_in_fan_ge5"] == 1 and f.loc["H", "w1_in_fan_ge10"] == 0
    assert f.loc["S", "w1_out_fan_max"] == 4 and f.loc["S", "w1_out_fan_ge2"] == 1
    # T: three payers on days 1-2 fall into one 7-day window, M4 on day 20 into another
    assert f.loc["T", "w7_in_fan_max"] == 3 and f.loc["T", "w7_in_windows"] == 2
    assert f.loc["T", "w30_in_fan_max"] == 4
    assert f.loc["H", "w1_in_amt_max"] == pytest.approx(1050.0)
    # counterparties' statistics weighted by transfer: H's six receipts, K1 (two transfers) twice
    assert f.loc["H", "tw_in_mean_out_n"] == pytest.approx(8 / 6) and f.loc["H", "tw_in_max_out_n"] == 2
    assert f.loc["S", "tw_out_max_in_n"] == 1 and f.loc["T", "tw_in_mean_out_cp"] == 1
    # M1 passes on 990 of 1000 within the same 7-day window
    assert f.loc["M1", "w7_pass_max"] == pytest.approx(990 / 1000, rel=1e-9)


def test_counterparty_activity_at_transfer_time(small_ws):
    f = _features(small_ws, "duckdb")
    # M1 received from S while S paid four accounts that day (S's usual: four per active day)
    assert f.loc["M1", "ctx1_in_pdeg_max"] == 4 and f.loc["M1", "ctx1_in_pfan_max"] == 4
    assert f.loc["M1", "ctx1_in_pexcess_max"] == pytest.approx(1.0)
    # H's six receipts: K1 paid twice that day, the others once
    assert (f.loc["H", "ctx1_in_pdeg_max"], f.loc["H", "ctx1_in_pdeg_min"]) == (2, 1)
    assert f.loc["H", "ctx1_in_pdeg_mean"] == pytest.approx(8 / 6)
    # K1 paid H on a day H received six transfers from five payers
    assert f.loc["K1", "ctx1_out_pdeg_max"] == 6 and f.loc["K1", "ctx1_out_pfan_min"] == 5
    # T receives three transfers in its first 7-day window and one in its third (usual: 2)
    assert f.loc["M1", "ctx7_out_pdeg_max"] == 3 and f.loc["M1", "ctx7_out_pexcess_max"] == pytest.approx(1.5)
    assert f.loc["M4", "ctx7_out_pdeg_min"] == 1 and f.loc["M4", "ctx7_out_pexcess_max"] == pytest.approx(0.5)
    # R pays once a week except in days 14-20 (twice): R2 was paid in R's busy week
    assert f.loc["R2", "ctx7_in_pdeg_max"] == 2 and f.loc["R2", "ctx7_in_pexcess_max"] == pytest.approx(2 / 1.2)
    assert (f.loc["R1", "ctx7_in_pdeg_min"], f.loc["R1", "ctx7_in_pdeg_mean"]) == (1, pytest.approx(6 / 5))
    assert np.isnan(f.loc["S", "ctx7_in_pdeg_max"])  # S received nothing


def test_payment_cadence(small_ws):
    f = _features(small_ws, "duckdb")
    # R's gaps 7, 7, 3, 4, 7 days: cadence 7, regularity 3/5; only the day-17 payment is off it
    assert f.loc["R", "cad_out_reg"] == pytest.approx(0.6)
    assert f.loc["R", "cad_out_off"] == 1 and f.loc["R", "cad_out_off_share"] == pytest.approx(1 / 6)
    assert f.loc["R2", "cad_in_off"] == 1 and f.loc["R2", "cad_in_off_share"] == 1.0
    assert f.loc["R1", "cad_in_off"] == 0 and f.loc["R1", "cad_in_payer_reg_min"] == pytest.approx(0.6)
    # S paid four accounts on one day: cadence 0 days, every payment on it
    assert f.loc["S", "cad_out_reg"] == 1.0 and f.loc["S", "cad_out_off"] == 0
    # a payer with a single transfer has no cadence: nothing is off it, regularity 0
    assert f.loc["B", "cad_in_off"] == 0 and f.loc["B", "cad_in_payer_reg_mean"] == 0.0
    assert np.isnan(f.loc["T", "cad_out_off"])  # T paid nothing


@pytest.mark.spark
def test_windowed_features_same_on_spark(small_ws):
    duck = _features(small_ws, "duckdb")
    spark = _features(small_ws, "spark")
    assert list(spark.index) == list(duck.index)
    windowed = [c for c in duck.columns
                if c.startswith(("w1_", "w7_", "w30_", "sg_", "tcycle", "nbw_", "tw_", "ctx", "cad_"))]
    assert len(windowed) > 100 and sum(c.startswith(("ctx", "cad_")) for c in windowed) == 43
    for column in windowed:
        assert np.allclose(duck[column].astype(float), spark[column].astype(float), rtol=1e-9,
                           equal_nan=True), column
