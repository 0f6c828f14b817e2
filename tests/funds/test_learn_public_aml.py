"""``funds learn`` on a sample of IBM AMLSim (../shared/data): the graph model beats plain aggregates."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from chainbreaker.chains.funds.learn import learn

BENCH = str(Path(__file__).resolve().parents[2] / "bench")
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)
from public_aml import load_amlsim  # noqa: E402  (bench/public_aml.py: a benchmark helper, not the product)


def test_graph_model_beats_aggregates_on_amlsim_sample(ws, shared_data):
    data_dir = shared_data / "aml" / "amlsim_10k_stock"
    if not (data_dir / "transactions.csv.gz").exists():
        pytest.skip("AMLSim data not available")
    loaded = load_amlsim(ws, data_dir, sample_accounts=2500, seed=0)
    assert loaded.transactions > 10_000 and 0 < loaded.sar_accounts < loaded.accounts
    tx = ws.read_arrow("transactions")
    assert str(tx.schema.field("amount").type) == "decimal128(18, 2)" and tx.column("src_row").to_pylist()[0] >= 2

    report = learn(ws, loaded.labels_path, seed=0, n_estimators=80)
    assert report.baseline is not None
    assert report.graph.n_test == report.baseline.n_test and report.graph.n_test >= 300
    assert report.graph.average_precision > report.baseline.average_precision + 0.05
    assert report.graph.average_precision >= 0.85
