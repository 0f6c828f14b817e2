"""``funds learn`` model: no label leakage, label-aware features, calibration, reasons in Chinese."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chainbreaker.chains.funds.features_graph import META_COLUMNS, account_features, account_relationships
from chainbreaker.chains.funds.learn import evaluate_holdout, learn
from chainbreaker.chains.funds.learn_model import LABEL_FEATURES, Calibrator, label_features
from chainbreaker.chains.funds.learn_names import feature_label

from .test_learn import _write_labels, planted_graph


@pytest.fixture(scope="module")
def small_planted():
    return planted_graph(seed=7, n_people=120, n_groups=6)


@pytest.fixture()
def small_ws(ws, small_planted):
    table, roles = small_planted
    with ws.transaction("test.load") as tx:
        tx.write("transactions", table)
    return ws, roles


def _labels(roles: dict[str, str]) -> dict[str, int]:
    planted = sorted(a for a, r in roles.items() if r != "spoke")
    return {a: 1 for a in planted} | {f"P{i:04d}": 0 for i in range(0, 120, 2)}


def test_label_features_use_only_given_labels():
    rel = pd.DataFrame({"src": ["a", "b", "c", "x"], "dst": ["x", "x", "x", "d"], "amount": [10.0, 30.0, 60.0, 50.0]})
    known = pd.Series({"a": 1, "b": 0, "d": 1})
    f = label_features(rel, known, pd.Index(["x", "a", "c"]))
    assert f.loc["x", "lbl_in_pos_share"] == pytest.approx(0.1)  # 10 of 100 from the positive a
    assert f.loc["x", "lbl_out_pos_share"] == pytest.approx(1.0)  # everything out goes to d
    assert (f.loc["x", "lbl_pos_cp"], f.loc["x", "lbl_neg_cp"]) == (2, 1)
    assert f.loc["x", "lbl_pos_cp_share"] == pytest.approx(2 / 3)
    # a's own label never enters a's features; c has no labelled counterparty
    assert f.loc["a", "lbl_pos_cp"] == 0 and np.isnan(f.loc["c", "lbl_pos_cp_share"])


def test_shuffling_held_back_labels_leaves_their_scores_unchanged(small_ws):
    ws, roles = small_ws
    feats = account_features(ws).to_pandas().set_index("account")
    rel = account_relationships(ws).to_pandas()
    labels = pd.Series(_labels(roles)).sort_index()
    x = feats.loc[labels.index, [c for c in feats.columns if c not in META_COLUMNS]].astype("float64")
    y = labels.to_numpy()
    test = np.random.default_rng(1).random(len(y)) < 0.3
    _, scores = evaluate_holdout(x, y, test, rel, seed=0, n_estimators=30)
    shuffled = y.copy()
    shuffled[test] = np.random.default_rng(2).permutation(y[test])
    shuffled[np.flatnonzero(test)[:5]] = 1 - shuffled[np.flatnonzero(test)[:5]]  # and flip a few outright
    _, again = evaluate_holdout(x, shuffled, test, rel, seed=0, n_estimators=30)
    assert np.array_equal(scores, again)
    # the check can fail: changing training labels does change the held-back scores
    flipped = y.copy()
    flipped[np.flatnonzero(~test)[:10]] = 1 - flipped[np.flatnonzero(~test)[:10]]
    _, changed = evaluate_holdout(x, flipped, test, rel, seed=0, n_estimators=30)
    assert not np.array_equal(scores, changed)


def test_learn_holdout_scores_ignore_held_back_labels(small_ws, tmp_path):
    ws, roles = small_ws
    labels = _labels(roles)
    learn(ws, _write_labels(tmp_path / "a.csv", labels), split="time", n_estimators=30, compare_baseline=False)
    first = ws.read_arrow("account_model_scores").to_pandas().set_index("account")
    test = first.index[first.split == "test"]
    perm = dict(zip(test, np.random.default_rng(3).permutation([labels[a] for a in test]), strict=True))
    learn(ws, _write_labels(tmp_path / "b.csv", labels | perm), split="time", n_estimators=30,
          compare_baseline=False)
    second = ws.read_arrow("account_model_scores").to_pandas().set_index("account")
    assert list(second.index[second.split == "test"]) == list(test)
    assert np.array_equal(first.loc[test, "holdout_score"], second.loc[test, "holdout_score"])


def test_calibration_is_monotone_and_recovers_probabilities():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, 20000)
    y = (rng.random(len(z)) < 1 / (1 + np.exp(-z))).astype(int)
    raw = 1 / (1 + np.exp(-2 * z))  # over-confident scores
    cal = Calibrator.fit(raw, y)
    assert cal.a == pytest.approx(0.5, abs=0.05) and cal.b == pytest.approx(0.0, abs=0.1)
    order = np.argsort(raw)
    assert np.all(np.diff(cal(raw)[order]) >= 0)
    assert np.mean((cal(raw) - y) ** 2) < np.mean((raw - y) ** 2)


def test_scores_are_calibrated_and_explained_in_chinese(small_ws, tmp_path):
    ws, roles = small_ws
    report = learn(ws, _write_labels(tmp_path / "l.csv", _labels(roles)), n_estimators=30)
    assert report.graph.brier is not None and report.graph.brier < 0.15
    assert set(LABEL_FEATURES) <= set(report.features)
    assert len(report.cv_average_precision) >= 2 and report.calibration["a"] > 0
    scores = ws.read_arrow("account_model_scores").to_pandas().sort_values("rank")
    top = scores.head(10)
    assert top.reasons_zh.str.contains("=").all() and top.reasons_en.str.contains(" = ").all()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in top.reasons_zh.iloc[0])
    held = scores[scores.split == "test"]
    assert held.holdout_score.notna().all() and scores[scores.split != "test"].holdout_score.isna().all()


def test_every_feature_has_a_chinese_name(small_ws):
    ws, _ = small_ws
    names = [c for c in account_features(ws).column_names if c not in META_COLUMNS] + LABEL_FEATURES
    unnamed = [c for c in names if feature_label(c) == (c, c)]
    assert not unnamed
