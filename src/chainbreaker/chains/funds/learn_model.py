"""The model behind ``funds learn``: label-aware features, honest model selection, calibration, reasons.

* **Label-aware neighbourhood features** (已知涉案邻居): the share of an account's incoming and
  outgoing money that comes from or goes to accounts already confirmed as positives, and how many
  confirmed positive / clean counterparties it has. They are computed from *training labels only*
  and recomputed inside every cross-validation fold from that fold's training part, so no label of
  an account being evaluated ever enters any feature (an account's own label never enters its own
  features either: transfers to oneself are excluded upstream).
* **Model selection** (交叉验证选参): a small grid of LightGBM settings is compared by stratified
  k-fold cross-validation on the training accounts only; the best mean average precision wins.
* **Calibration** (概率校准): Platt scaling fitted on the out-of-fold scores of the chosen setting,
  so a calibrated 0.5 means "about even odds" on accounts like the training ones. Platt scaling is
  monotone, so rankings and average precision are those of the raw model.
* **Reasons** (主要依据): per account, the features that raised its score most (LightGBM's exact
  tree contributions, TreeSHAP), named in Chinese and English (:mod:`.learn_names`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from chainbreaker.chains.funds.learn_names import feature_label

LABEL_FEATURES = ["lbl_in_pos_share", "lbl_out_pos_share", "lbl_pos_cp", "lbl_neg_cp", "lbl_pos_cp_share"]
CV_FOLDS = 3


def label_features(rel: pd.DataFrame, known: pd.Series, accounts: pd.Index) -> pd.DataFrame:
    """Label-aware features for ``accounts`` from the relationships ``rel`` (src, dst, amount) and
    the known labels ``known`` (account → 0/1; only labels the model may see)."""
    pos = set(known.index[known.to_numpy() == 1])
    neg = set(known.index[known.to_numpy() == 0])
    src, dst, amount = rel["src"], rel["dst"], rel["amount"].astype("float64")
    src_pos, dst_pos = src.isin(pos), dst.isin(pos)
    in_total = amount.groupby(dst).sum()
    out_total = amount.groupby(src).sum()
    in_pos = amount[src_pos].groupby(dst[src_pos]).sum()
    out_pos = amount[dst_pos].groupby(src[dst_pos]).sum()
    both = pd.DataFrame({"account": pd.concat([src, dst], ignore_index=True),
                         "cp": pd.concat([dst, src], ignore_index=True)}).drop_duplicates()
    both_pos, both_neg = both.cp.isin(pos), both.cp.isin(neg)
    pos_cp = both_pos.groupby(both.account).sum()
    neg_cp = both_neg.groupby(both.account).sum()
    out = pd.DataFrame(index=accounts)
    out["lbl_in_pos_share"] = (in_pos.reindex(accounts).fillna(0.0) / in_total.reindex(accounts)).to_numpy()
    out["lbl_out_pos_share"] = (out_pos.reindex(accounts).fillna(0.0) / out_total.reindex(accounts)).to_numpy()
    out["lbl_pos_cp"] = pos_cp.reindex(accounts).fillna(0).to_numpy(dtype="float64")
    out["lbl_neg_cp"] = neg_cp.reindex(accounts).fillna(0).to_numpy(dtype="float64")
    labelled = out.lbl_pos_cp + out.lbl_neg_cp
    out["lbl_pos_cp_share"] = np.where(labelled > 0, out.lbl_pos_cp / labelled.where(labelled > 0, 1), np.nan)
    return out


def param_grid(base: dict[str, Any]) -> list[dict[str, Any]]:
    """The settings compared by cross-validation (kept small: every one is fitted ``CV_FOLDS`` times)."""
    variants: list[dict[str, Any]] = [
        {},
        {"num_leaves": 7, "learning_rate": 0.1},
        {"num_leaves": 31, "min_child_samples": max(3, int(base["min_child_samples"]) // 2),
         "colsample_bytree": 0.5},
    ]
    return [base | v for v in variants]


def _fit(x: pd.DataFrame, y: np.ndarray, params: dict[str, Any]) -> Any:
    import lightgbm as lgb

    return lgb.LGBMClassifier(**params).fit(x, y)


def with_labels(x: pd.DataFrame, rel: pd.DataFrame, known: pd.Series) -> pd.DataFrame:
    """``x`` (indexed by account) with the label-aware features from ``known`` appended."""
    return pd.concat([x, label_features(rel, known, x.index)], axis=1)


@dataclass
class Calibrator:
    """Platt scaling: p = 1 / (1 + exp(-(a · logit(raw) + b)))."""

    a: float = 1.0
    b: float = 0.0

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        r = np.clip(raw, 1e-6, 1 - 1e-6)
        z = np.clip(self.a * np.log(r / (1 - r)) + self.b, -500, 500)
        return 1.0 / (1.0 + np.exp(-z))

    @classmethod
    def fit(cls, raw: np.ndarray, y: np.ndarray) -> Calibrator:
        from sklearn.linear_model import LogisticRegression

        r = np.clip(raw, 1e-6, 1 - 1e-6)
        lr = LogisticRegression(C=1e6).fit(np.log(r / (1 - r)).reshape(-1, 1), y)
        a = float(lr.coef_[0][0])
        if a <= 0:  # a degenerate fit would reverse the ranking; keep the raw scores then
            return cls()
        return cls(a=a, b=float(lr.intercept_[0]))


@dataclass
class Selection:
    params: dict[str, Any]
    calibrator: Calibrator
    cv_scores: list[tuple[int, float]]  # (grid index, mean AP)


def select_and_calibrate(x: pd.DataFrame, y: np.ndarray, rel: pd.DataFrame, base: dict[str, Any],
                         seed: int, use_labels: bool = True) -> Selection:
    """Choose settings by stratified k-fold CV on these (training) accounts; fit Platt scaling on the
    chosen setting's out-of-fold scores. Label-aware features are recomputed per fold."""
    from sklearn.metrics import average_precision_score
    from sklearn.model_selection import StratifiedKFold

    grid = param_grid(base)
    folds = min(CV_FOLDS, int(min(y.sum(), (1 - y).sum())))
    if folds < 2:
        return Selection(base, Calibrator(), [])
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    oof = np.zeros((len(grid), len(y)))
    for inner_train, inner_val in splitter.split(np.zeros(len(y)), y):
        xs = x
        if use_labels:
            known = pd.Series(y[inner_train], index=x.index[inner_train])
            xs = with_labels(x, rel, known)
        for g, params in enumerate(grid):
            model = _fit(xs.iloc[inner_train], y[inner_train], params)
            oof[g, inner_val] = model.predict_proba(xs.iloc[inner_val])[:, 1]
    cv = [(g, float(average_precision_score(y, oof[g]))) for g in range(len(grid))]
    best = max(cv, key=lambda kv: (round(kv[1], 4), -kv[0]))[0]
    return Selection(grid[best], Calibrator.fit(oof[best], y), [(g, round(s, 4)) for g, s in cv])


def fit_and_score(x_train: pd.DataFrame, y_train: np.ndarray, x_score: pd.DataFrame, rel: pd.DataFrame,
                  selection: Selection, use_labels: bool = True) -> tuple[Any, pd.DataFrame, np.ndarray]:
    """Fit the chosen setting on the training accounts (label features from their labels) and return
    the model, the scored accounts' feature frame and their calibrated scores."""
    if use_labels:
        known = pd.Series(y_train, index=x_train.index)
        x_train = with_labels(x_train, rel, known)
        x_score = with_labels(x_score, rel, known)
    model = _fit(x_train, y_train, selection.params)
    return model, x_score, selection.calibrator(model.predict_proba(x_score)[:, 1])


def reasons(model: Any, x: pd.DataFrame, top: int = 3) -> tuple[list[str], list[str]]:
    """Per row, the ``top`` features that raised the score most, in Chinese and in English."""
    contrib = model.booster_.predict(x, pred_contrib=True)[:, :-1]  # last column: the bias
    columns = list(x.columns)
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :top]
    zh_out, en_out = [], []
    values = x.to_numpy(dtype="float64")
    for i in range(len(x)):
        zh, en = [], []
        for j in order[i]:
            if contrib[i, j] <= 0:
                break
            name_zh, name_en = feature_label(columns[j])
            shown = _fmt(values[i, j])
            zh.append(f"{name_zh}={shown}")
            en.append(f"{name_en} = {shown}")
        zh_out.append("；".join(zh))
        en_out.append("; ".join(en))
    return zh_out, en_out


def _fmt(value: float) -> str:
    if np.isnan(value):
        return "-"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
