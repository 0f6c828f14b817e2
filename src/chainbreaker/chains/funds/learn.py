"""Learning from confirmed cases (以案学习): a gradient-boosting model over account graph features.

``learn(ws, labels_path)`` reads analyst labels (CSV ``account,label``: 1 = confirmed gambling or
laundering account, 0 = confirmed clean), computes account features with the chosen engine
(:mod:`chainbreaker.chains.funds.features_graph`), holds back part of the labels, trains LightGBM on the
rest and reports average precision and precision/recall on the held-back accounts, beside a
LightGBM model on plain per-account aggregates trained on the same split. The graph model is then
refitted on every label, scores every account into ``account_model_scores`` and is saved under
``<workspace>/models/``; its parameters and metrics go into the run log.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from chainbreaker.chains.funds.features_graph import (
    BASELINE_FEATURES,
    META_COLUMNS,
    account_features,
    account_relationships,
)
from chainbreaker.chains.funds.learn_model import (
    LABEL_FEATURES,
    Selection,
    fit_and_score,
    reasons,
    select_and_calibrate,
)
from chainbreaker.core.errors import InputError
from chainbreaker.core.workspace import Workspace

# LightGBM's OpenMP threads spin while waiting; on a shared 2-core machine a 2-thread fit then ran
# 20-40x slower (measured 35 s vs 1.9 s). Passive waiting removes that. Effective only if set before
# the OpenMP runtime loads, hence at import time (lightgbm and sklearn are imported lazily below).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

SPLITS = ("stratified", "time")
ACCOUNT_HEADERS = ("account", "账号", "账户", "卡号", "交易账号", "交易卡号", "acct", "account_id")
LABEL_HEADERS = ("label", "标签", "is_sar", "class", "y")
MIN_PER_CLASS = 4
MAX_LISTED = 10

SCORES_SCHEMA = pa.schema([
    ("account", pa.string()),
    ("score", pa.float64()),
    ("rank", pa.int64()),
    ("label", pa.int8()),  # the analyst's label when the account was labelled
    ("split", pa.string()),  # train | test (held back) | null (unlabelled)
    ("holdout_score", pa.float64()),  # held-back accounts: the score of the model that never saw them
    ("reasons_zh", pa.string()),  # the features that raised the score most
    ("reasons_en", pa.string()),
    ("model_version", pa.string()),
    ("run_id", pa.string()),
])


@dataclass
class ModelMetrics:
    """Quality on the held-back accounts."""

    average_precision: float
    precision: float
    recall: float
    threshold: float
    n_test: int
    n_test_positive: int
    n_train: int
    n_train_positive: int
    n_features: int
    brier: float | None = None  # mean squared error of the calibrated scores (lower is better)


@dataclass
class LearnReport:
    run_id: str
    engine: str
    split: str
    seed: int
    labels: int
    positives: int
    accounts_scored: int
    features: list[str]
    graph: ModelMetrics
    baseline: ModelMetrics | None
    model_version: str
    model_path: Path
    feature_seconds: float
    train_seconds: float
    params: dict[str, Any]
    top_features: list[tuple[str, float]] = field(default_factory=list)
    cv_average_precision: list[tuple[int, float]] = field(default_factory=list)  # (grid index, mean AP)
    calibration: dict[str, float] = field(default_factory=dict)  # Platt a, b

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["model_path"] = str(self.model_path)
        return out


# ----------------------------------------------------------------------------------- labels
def read_labels(path: Path) -> pd.DataFrame:
    """Read and validate the labels CSV; return columns account (str), label (0/1), line."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"找不到标签文件：{path}", f"Labels file not found: {path}")
    raw = path.read_bytes()
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:  # pragma: no cover - gb18030 decodes almost anything
        raise InputError(f"标签文件编码无法识别：{path}", f"Cannot decode the labels file: {path}")
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if not rows:
        raise InputError(f"标签文件是空的：{path}", f"The labels file is empty: {path}")
    header = [h.strip().lower() for h in rows[0]]
    acct_col = next((i for i, h in enumerate(header) if h in ACCOUNT_HEADERS), None)
    label_col = next((i for i, h in enumerate(header) if h in LABEL_HEADERS), None)
    if acct_col is None or label_col is None:
        raise InputError(
            f"标签文件 {path.name} 需要两列：account（账号）和 label（标签，1=确认涉赌/洗钱，0=确认正常）；"
            f"现有列：{', '.join(rows[0])}",
            f"The labels file {path.name} needs the columns account and label (1 = confirmed gambling/"
            f"laundering, 0 = confirmed clean); columns present: {', '.join(rows[0])}",
        )
    records: list[tuple[str, int, int]] = []
    bad: list[tuple[int, str]] = []
    for line, row in enumerate(rows[1:], start=2):
        account = row[acct_col].strip() if acct_col < len(row) else ""
        value = row[label_col].strip() if label_col < len(row) else ""
        if not account:
            bad.append((line, "account=''"))
            continue
        label = {"1": 1, "0": 0, "1.0": 1, "0.0": 0, "true": 1, "false": 0, "yes": 1, "no": 0,
                 "是": 1, "否": 0}.get(value.lower())
        if label is None:
            bad.append((line, f"label={value!r}"))
            continue
        records.append((account, label, line))
    if bad:
        more = " …" if len(bad) > MAX_LISTED else ""
        raise InputError(
            f"标签文件 {path.name} 有 {len(bad)} 行无效（标签只能是 1 或 0，账号不能为空）："
            + "；".join(f"第 {n} 行 {v}" for n, v in bad[:MAX_LISTED]) + more,
            f"{len(bad)} invalid rows in {path.name} (label must be 1 or 0, account must not be empty): "
            + "; ".join(f"line {n}: {v}" for n, v in bad[:MAX_LISTED]) + more,
        )
    frame = pd.DataFrame(records, columns=["account", "label", "line"])
    conflicts = frame.groupby("account")["label"].nunique()
    conflicts = conflicts[conflicts > 1]
    if len(conflicts):
        listed = ", ".join(conflicts.index[:MAX_LISTED])
        raise InputError(
            f"标签文件中 {len(conflicts)} 个账号同时标为 1 和 0：{listed}",
            f"{len(conflicts)} accounts are labelled both 1 and 0: {listed}",
        )
    return frame.drop_duplicates("account").reset_index(drop=True)


def _check_labels(labels: pd.DataFrame, known: set[str], path: Path) -> None:
    unknown = labels[~labels.account.isin(known)]
    if len(unknown):
        listed = ", ".join(f"{a}（第{n}行）" for a, n in zip(unknown.account[:MAX_LISTED], unknown.line[:MAX_LISTED],
                                                             strict=True))
        listed_en = ", ".join(f"{a} (line {n})" for a, n in zip(unknown.account[:MAX_LISTED],
                                                                unknown.line[:MAX_LISTED], strict=True))
        raise InputError(
            f"标签文件 {path.name} 中有 {len(unknown)} 个账号在交易数据中不存在：{listed}",
            f"{len(unknown)} accounts in {path.name} do not appear in any transaction: {listed_en}",
            hint="请核对账号写法（与调单中的卡号/账号一致），或先导入这些账号的交易。",
        )
    for value, name_zh, name_en in ((1, "涉赌（1）", "positive (1)"), (0, "正常（0）", "negative (0)")):
        count = int((labels.label == value).sum())
        if count < MIN_PER_CLASS:
            raise InputError(
                f"标签太少：{name_zh} 只有 {count} 个，至少需要 {MIN_PER_CLASS} 个才能训练并留出测试。",
                f"Too few labels: only {count} {name_en}; at least {MIN_PER_CLASS} are needed to train and "
                f"hold some back.",
            )


# ------------------------------------------------------------------------------------ split
def split_labels(labelled: pd.DataFrame, test_size: float, seed: int, how: str) -> np.ndarray:
    """Boolean mask of held-back rows. ``stratified``: random by account, class shares kept.
    ``time``: the accounts first seen last are held back (a model must then rank newcomers)."""
    if not 0.05 <= test_size <= 0.9:
        raise InputError(f"--test-size 应在 0.05 到 0.9 之间（现为 {test_size}）",
                         f"--test-size must be between 0.05 and 0.9 (got {test_size})")
    n = len(labelled)
    if how == "stratified":
        from sklearn.model_selection import train_test_split

        _, test_idx = train_test_split(np.arange(n), test_size=test_size, stratify=labelled.label.to_numpy(),
                                       random_state=seed)
        mask = np.zeros(n, dtype=bool)
        mask[test_idx] = True
        return mask
    if how == "time":
        order = labelled.sort_values(["first_seen_epoch", "account"]).index.to_numpy()
        n_test = max(1, round(n * test_size))
        mask = np.zeros(n, dtype=bool)
        mask[labelled.index.get_indexer(order[-n_test:])] = True
        for part, name in ((mask, "held-back"), (~mask, "training")):
            if labelled.label[part].nunique() < 2:
                raise InputError(
                    f"按时间切分后{'测试' if name == 'held-back' else '训练'}部分只有一类标签；请改用 --split stratified。",
                    f"The time-ordered split leaves only one class in the {name} part; use --split stratified.",
                )
        return mask
    raise InputError(f"未知切分方式 {how}，可选：{', '.join(SPLITS)}", f"Unknown split {how}; use one of {SPLITS}")


# ------------------------------------------------------------------------------------ model
def model_params(n_train: int, seed: int, n_estimators: int = 200) -> dict[str, Any]:
    """Small, deterministic LightGBM settings (2 threads: the reference machine has 2 cores)."""
    return {
        "objective": "binary",
        "n_estimators": n_estimators,
        "learning_rate": 0.05,
        "num_leaves": 15,
        "min_child_samples": max(3, min(20, n_train // 50)),
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "reg_lambda": 1.0,
        "n_jobs": 2,
        "deterministic": True,
        "force_row_wise": True,
        "random_state": seed,
        "verbose": -1,
    }


def _fit(x: pd.DataFrame, y: np.ndarray, params: dict[str, Any]) -> Any:
    import lightgbm as lgb

    return lgb.LGBMClassifier(**params).fit(x, y)


def _metrics(y_true: np.ndarray, scores: np.ndarray, threshold: float, n_train: int, n_train_pos: int,
             n_features: int, calibrated: bool = False) -> ModelMetrics:
    from sklearn.metrics import average_precision_score

    predicted = scores >= threshold
    tp = int((predicted & (y_true == 1)).sum())
    return ModelMetrics(
        average_precision=round(float(average_precision_score(y_true, scores)), 4),
        precision=round(tp / int(predicted.sum()), 4) if predicted.any() else 0.0,
        recall=round(tp / int((y_true == 1).sum()), 4),
        threshold=threshold,
        n_test=len(y_true),
        n_test_positive=int((y_true == 1).sum()),
        n_train=n_train,
        n_train_positive=n_train_pos,
        n_features=n_features,
        brier=round(float(np.mean((scores - y_true) ** 2)), 4) if calibrated else None,
    )


def _train_and_evaluate(x: pd.DataFrame, y: np.ndarray, test: np.ndarray, columns: list[str], seed: int,
                        threshold: float, n_estimators: int) -> tuple[ModelMetrics, Any]:
    params = model_params(int((~test).sum()), seed, n_estimators)
    model = _fit(x.loc[~test, columns], y[~test], params)
    scores = model.predict_proba(x.loc[test, columns])[:, 1]
    return _metrics(y[test], scores, threshold, int((~test).sum()), int(y[~test].sum()), len(columns)), model


def evaluate_holdout(x: pd.DataFrame, y: np.ndarray, test: np.ndarray, rel: pd.DataFrame, seed: int,
                     n_estimators: int, use_labels: bool = True) -> tuple[Selection, np.ndarray]:
    """Select settings and calibration by CV on the training part, fit there, score the held-back part.

    Nothing about the held-back accounts' labels is used: settings, calibration, label-aware
    features and the model see ``y[~test]`` only (a test shuffles ``y[test]`` and checks this).
    """
    train_x, train_y = x.loc[~test], y[~test]
    selection = select_and_calibrate(train_x, train_y, rel, model_params(len(train_y), seed, n_estimators), seed,
                                     use_labels)
    _, _, scores = fit_and_score(train_x, train_y, x.loc[test], rel, selection, use_labels)
    return selection, scores


def learn(ws: Workspace, labels_path: Path | str, engine: str = "duckdb", seed: int = 0, *,
          test_size: float = 0.3, split: str = "stratified", threshold: float = 0.5,
          n_estimators: int = 200, compare_baseline: bool = True, use_screening: bool = True,
          use_label_features: bool = True) -> LearnReport:
    """Train on confirmed cases, report held-back quality, score every account (see module doc)."""
    labels_path = Path(labels_path)
    if not ws.has_table("transactions"):
        raise InputError("工作区中没有交易数据，请先导入银行调单（chainbreaker ingest bank）。",
                         "The workspace has no transactions; ingest bank statements first.")
    if split not in SPLITS:
        raise InputError(f"未知切分方式 {split}，可选：{', '.join(SPLITS)}", f"Unknown split {split}; use one of {SPLITS}")
    if not 0.0 < threshold < 1.0:
        raise InputError(f"--threshold 应在 0 到 1 之间（现为 {threshold}）",
                         f"--threshold must be between 0 and 1 (got {threshold})")
    if not 0.05 <= test_size <= 0.9:
        raise InputError(f"--test-size 应在 0.05 到 0.9 之间（现为 {test_size}）",
                         f"--test-size must be between 0.05 and 0.9 (got {test_size})")
    if n_estimators < 1:
        raise InputError(f"--trees 至少为 1（现为 {n_estimators}）", f"--trees must be at least 1 (got {n_estimators})")
    labels = read_labels(labels_path)

    started = time.perf_counter()
    feats = account_features(ws, engine, use_screening=use_screening).to_pandas()
    _check_labels(labels, set(feats.account), labels_path)

    columns = [c for c in feats.columns if c not in META_COLUMNS]
    x_all = feats.set_index("account")[columns].astype("float64")
    rel = account_relationships(ws, engine).to_pandas() if use_label_features else pd.DataFrame()
    feature_seconds = time.perf_counter() - started
    labelled = feats[["account", "first_seen_epoch"]].merge(labels[["account", "label"]], on="account")
    labelled = labelled.sort_values("account").reset_index(drop=True)
    x = x_all.loc[labelled.account]
    y = labelled.label.to_numpy(dtype=int)
    test = split_labels(labelled, test_size, seed, split)

    started = time.perf_counter()
    selection, holdout = evaluate_holdout(x, y, test, rel, seed, n_estimators, use_label_features)
    graph_metrics = _metrics(y[test], holdout, threshold, int((~test).sum()), int(y[~test].sum()),
                             len(columns) + (len(LABEL_FEATURES) if use_label_features else 0), calibrated=True)
    baseline_metrics = None
    if compare_baseline:
        baseline_metrics, _ = _train_and_evaluate(x.reset_index(drop=True), y, test, BASELINE_FEATURES, seed,
                                                  threshold, n_estimators)
    # The deployed model learns from every confirmed case with the settings and calibration chosen
    # above (on the training part only); the held-back figures describe this recipe.
    params = selection.params | {"min_child_samples": model_params(len(y), seed, n_estimators)["min_child_samples"]}
    deployed = Selection(params, selection.calibrator, selection.cv_scores)
    final, x_scored, scores = fit_and_score(x, y, x_all, rel, deployed, use_label_features)
    train_seconds = time.perf_counter() - started
    why_zh, why_en = reasons(final, x_scored)
    model_columns = list(x_scored.columns)

    booster_text = final.booster_.model_to_string()
    model_version = "lgbm-graph-" + hashlib.sha256(booster_text.encode()).hexdigest()[:12]
    gains = final.booster_.feature_importance(importance_type="gain")
    top = sorted(((c, round(float(g), 1)) for c, g in zip(model_columns, gains, strict=True)),
                 key=lambda kv: -kv[1])[:15]
    holdout_of = dict(zip(labelled.account[test], holdout, strict=True))

    label_of = dict(zip(labelled.account, labelled.label, strict=True))
    split_of = dict(zip(labelled.account, np.where(test, "test", "train"), strict=True))
    order = np.argsort(-scores, kind="stable")
    rank = np.empty(len(scores), dtype=np.int64)
    rank[order] = np.arange(1, len(scores) + 1)

    settings = {"engine": engine, "seed": seed, "test_size": test_size, "split": split, "threshold": threshold,
                "model": "lightgbm", "params": params, "features": model_columns, "use_screening": use_screening,
                "use_label_features": use_label_features, "calibration": "platt",
                "cv_average_precision": selection.cv_scores}
    labels_sha = ws.store_evidence(labels_path)
    with ws.transaction("funds.learn", inputs=[labels_sha], settings=settings) as tx:
        table = pa.table({
            "account": pa.array(feats.account, pa.string()),
            "score": pa.array(np.round(scores, 6), pa.float64()),
            "rank": pa.array(rank, pa.int64()),
            "label": pa.array([label_of.get(a) for a in feats.account], pa.int8()),
            "split": pa.array([split_of.get(a) for a in feats.account], pa.string()),
            "holdout_score": pa.array([_round(holdout_of.get(a)) for a in feats.account], pa.float64()),
            "reasons_zh": pa.array(why_zh, pa.string()),
            "reasons_en": pa.array(why_en, pa.string()),
            "model_version": pa.array([model_version] * len(scores), pa.string()),
            "run_id": pa.array([tx.run_id] * len(scores), pa.string()),
        }, schema=SCORES_SCHEMA)
        tx.write("account_model_scores", table)
        models_dir = ws.root / "models"
        models_dir.mkdir(exist_ok=True)
        model_path = models_dir / f"{tx.run_id}.txt"
        report = LearnReport(
            run_id=tx.run_id, engine=engine, split=split, seed=seed, labels=len(y), positives=int(y.sum()),
            accounts_scored=len(scores), features=model_columns, graph=graph_metrics, baseline=baseline_metrics,
            model_version=model_version, model_path=model_path, feature_seconds=round(feature_seconds, 3),
            train_seconds=round(train_seconds, 3), params=params, top_features=top,
            cv_average_precision=selection.cv_scores,
            calibration={"a": round(selection.calibrator.a, 6), "b": round(selection.calibrator.b, 6)},
        )
        try:
            model_path.write_text(booster_text, "utf-8")
            meta = {k: v for k, v in report.to_dict().items()}
            meta["labels_sha256"] = labels_sha
            model_path.with_suffix(".json").write_text(
                json.dumps(meta, ensure_ascii=False, indent=1, default=_json_default), "utf-8")
            tx.counts.update({
                "labels": len(y), "positives": int(y.sum()), "accounts_scored": len(scores),
                "model_path": str(model_path), "model_version": model_version,
                "graph_model": asdict(graph_metrics),
                "baseline_model": asdict(baseline_metrics) if baseline_metrics else None,
            })
            tx.timings["features"] = round(feature_seconds, 3)
            tx.timings["train"] = round(train_seconds, 3)
        except BaseException:
            model_path.unlink(missing_ok=True)
            model_path.with_suffix(".json").unlink(missing_ok=True)
            raise
    return report


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 6)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)
