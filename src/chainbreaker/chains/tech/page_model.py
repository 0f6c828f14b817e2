"""Trainable gambling-page model (scikit-learn) on the analyst's labelled pages.

Features are the lexicon/structure evidence of :mod:`chainbreaker.chains.tech.features` plus jieba tokens
of the page text; the model is a class-balanced logistic regression, so each prediction can be
explained by the features that pushed it. Its score is blended with the rule score
(``blend``, default 0.5), so a small labelled set refines the rules instead of replacing them.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chainbreaker.chains.tech.features import (
    lexical_hits,
    load_lexicon,
    page_parts,
    structure_features,
    tokens,
)
from chainbreaker.chains.tech.scoring import feature_values
from chainbreaker.core.errors import InputError

MODEL_FILE = "page_model.joblib"
_DEFAULT: PageModel | None = None


def _token_features(text: str) -> dict[str, float]:
    counts = Counter(t for t in tokens(text) if len(t) > 1)
    return {f"tok:{t}": math.log1p(n) for t, n in counts.items()}


@dataclass
class PageModel:
    vectorizer: Any
    classifier: Any
    blend: float = 0.5
    meta: dict[str, Any] = field(default_factory=dict)

    def score(self, text: str, values: dict[str, float]) -> tuple[float, list[tuple[str, float]]]:
        """Probability of gambling and the top positive/negative feature contributions."""
        feats = {**values, **_token_features(text)}
        x = self.vectorizer.transform([feats])
        prob = float(self.classifier.predict_proba(x)[0, 1])
        coef = self.classifier.coef_[0]
        contrib = [(self.vectorizer.feature_names_[j], float(coef[j] * v)) for j, v in zip(x.indices, x.data, strict=True)]
        contrib.sort(key=lambda p: -abs(p[1]))
        return prob, contrib

    def save(self, path: Path) -> None:
        import joblib

        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump({"vectorizer": self.vectorizer, "classifier": self.classifier, "blend": self.blend,
                     "meta": self.meta}, path)

    @classmethod
    def load(cls, path: Path) -> PageModel:
        import joblib

        data = joblib.load(path)
        return cls(data["vectorizer"], data["classifier"], data.get("blend", 0.5), data.get("meta", {}))


def default_model() -> PageModel | None:
    return _DEFAULT


def use_page_model(model: PageModel | Path | None) -> PageModel | None:
    """Set (or clear) the model :func:`classify_page` blends in when none is passed."""
    global _DEFAULT
    _DEFAULT = PageModel.load(model) if isinstance(model, Path) else model
    return _DEFAULT


def workspace_model_path(ws: Any) -> Path:
    return Path(ws.config_dir) / "models" / MODEL_FILE


def use_workspace_model(ws: Any) -> PageModel | None:
    """Use the workspace's trained page model if one was trained (``tech train-pages``)."""
    path = workspace_model_path(ws)
    return use_page_model(path if path.exists() else None)


# ------------------------------------------------------------------ labelled pages
_TRUE = {"1", "true", "yes", "y", "gambling", "是", "赌博", "涉赌"}
_FALSE = {"0", "false", "no", "n", "benign", "否", "正常", "非赌博"}


@dataclass
class LabelledPage:
    html: str
    text: str
    url: str
    label: int
    source: str


def read_labels(path: Path, ws: Any = None) -> list[LabelledPage]:
    """Labelled pages from CSV or JSONL: ``label`` plus ``file`` | ``html`` | ``text`` | ``capture_sha256`` | ``url``.

    ``file`` is relative to the labels file; ``capture_sha256`` points at a capture in the
    workspace evidence store (what the scanner saved); a bare ``url`` takes the latest desktop
    capture of that URL from ``tech_pages`` — after a scan the analyst only labels URLs.
    """
    if not path.exists():
        raise InputError(f"标注文件不存在：{path}", f"Labels file not found: {path}")
    if path.suffix.lower() in (".jsonl", ".json"):
        try:
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8-sig").splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise InputError(f"标注文件 {path.name} 第 {exc.lineno} 行不是 JSON", f"{path.name}: invalid JSON line") from exc
    else:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    pages: list[LabelledPage] = []
    for i, row in enumerate(rows, start=1):
        raw = str(row.get("label", "")).strip().lower()
        if raw not in _TRUE | _FALSE:
            raise InputError(f"{path.name} 第 {i} 条的 label “{raw}” 无法识别（应为 1/0、gambling/benign、是/否）",
                             f"{path.name} row {i}: unknown label {raw!r} (use 1/0, gambling/benign)")
        html, text = str(row.get("html") or ""), str(row.get("text") or "")
        source = str(row.get("file") or row.get("capture_sha256") or f"row {i}")
        if row.get("file"):
            file = (path.parent / str(row["file"])).resolve()
            if not file.exists():
                raise InputError(f"{path.name} 第 {i} 条引用的文件不存在：{file}", f"{path.name} row {i}: file not found: {file}")
            html = file.read_bytes().decode("utf-8", errors="replace")
        elif row.get("capture_sha256"):
            if ws is None:
                raise InputError("capture_sha256 需要工作区", "capture_sha256 needs a workspace")
            file = ws.evidence_path(str(row["capture_sha256"]))
            if not file.exists():
                raise InputError(f"证据库中没有 {row['capture_sha256']}", f"No evidence {row['capture_sha256']}")
            html = file.read_bytes().decode("utf-8", errors="replace")
        elif row.get("url") and not html and not text and ws is not None and ws.has_table("tech_pages"):
            html = _latest_capture(ws, str(row["url"]))
            source = str(row["url"])
        if not html and not text:
            raise InputError(f"{path.name} 第 {i} 条没有页面内容（file/html/text）",
                             f"{path.name} row {i}: no page content (file/html/text)")
        pages.append(LabelledPage(html, text, str(row.get("url") or ""), int(raw in _TRUE), source))
    if len({p.label for p in pages}) < 2:
        raise InputError("训练需要同时有赌博和非赌博页面", "Training needs both gambling and benign pages")
    return pages


def _latest_capture(ws: Any, url: str) -> str:
    """HTML of the latest direct-visitor capture of ``url`` in the workspace ('' if none)."""
    con = ws.duck()
    try:
        rows = con.sql("""SELECT capture_sha256 FROM tech_pages WHERE url = ? AND capture_sha256 IS NOT NULL
                          ORDER BY persona = 'desktop' DESC, run_id DESC LIMIT 1""", params=[url]).fetchall()
    finally:
        con.close()
    if not rows:
        return ""
    path = ws.evidence_path(rows[0][0])
    return path.read_bytes().decode("utf-8", errors="replace") if path.exists() else ""


def page_features(html: str, text: str) -> dict[str, float]:
    lex = load_lexicon()
    parts = page_parts(html, text)
    scan = (parts.title + "\n" + parts.meta + "\n" + parts.body)[: int(lex.scoring.get("max_chars", 12000))]
    values = feature_values(lexical_hits(scan, lex), structure_features(parts, html), lex, parts.title)
    return {**values, **_token_features(scan)}


def train_page_model(pages: list[LabelledPage], *, blend: float = 0.5, c: float = 1.0, seed: int = 0) -> PageModel:
    """Fit the page model; records training size and the in-sample/cross-validated accuracy."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    feats = [page_features(p.html, p.text) for p in pages]
    labels = [p.label for p in pages]
    vec = DictVectorizer()
    x = vec.fit_transform(feats)
    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=2000, random_state=seed)
    meta: dict[str, Any] = {"pages": len(pages), "gambling": sum(labels), "features": len(vec.feature_names_),
                            "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    folds = min(5, min(sum(labels), len(labels) - sum(labels)))
    if folds >= 2:
        pred = cross_val_predict(clf, x, labels, cv=folds)
        meta["cv_accuracy"] = round(float(sum(int(a == b) for a, b in zip(pred, labels, strict=True)) / len(labels)), 4)
    clf.fit(x, labels)
    return PageModel(vec, clf, blend, meta)
