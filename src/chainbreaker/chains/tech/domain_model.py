"""Domain-name model (域名识别): is a bare host name likely a gambling site?

For lists of bare domains (a registrar feed, DNS logs, a blocklist to triage) there is no page to
read, only the name. Operators name sites after brands and games in pinyin initials (``xpj`` 新葡京,
``amjs`` 澳门金沙, ``tyc`` 太阳城, ``hg`` 皇冠, ``bjl`` 百家乐), lucky numbers (``8888``, ``365``) and
English words (``bet``, ``casino``), and register many numbered variants. The model is a logistic
regression on hashed character n-grams of the host plus such tokens and shape features (numeric
label, digit runs, length, suffix); it is small (hashed, no vocabulary) and explains a score by the
features of the name that carry weight.

Training/evaluation (``train_and_evaluate``) splits hosts by registrable domain, so one operator's
hosts never sit on both sides, chooses thresholds on a validation part at fixed low false-positive
rates and reports precision/recall on the held-out test part, overall and per segment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

MODEL_DIR = Path(__file__).with_name("models")
MODEL_PATH = MODEL_DIR / "domain_model.joblib"
N_FEATURES = 2**18
TARGET_FPRS = (0.01, 0.001)

# Pinyin initials and words used in gambling site names (see docs/tech-intel.md).
TOKENS = {
    "tyc": "太阳城", "xpj": "新葡京", "pj": "葡京", "amjs": "澳门金沙", "js": "金沙", "wns": "威尼斯人",
    "vns": "威尼斯人", "hg": "皇冠", "yl": "娱乐", "ylc": "娱乐城", "bjl": "百家乐", "ag": "AG真人",
    "bet": "bet", "casino": "casino", "poker": "poker", "slot": "slot", "lottery": "lottery", "cp": "彩票",
    "ssc": "时时彩", "pk10": "北京赛车", "lhc": "六合彩", "k3": "快三", "qp": "棋牌", "by": "捕鱼",
    "yh": "永利/银河", "yhyl": "银河娱乐", "mgm": "美高梅", "bwin": "bwin", "365": "365", "888": "888",
    "dafa": "大发", "kaiyun": "开云", "leyu": "乐鱼", "jiuyou": "九游", "ayx": "爱游戏", "hth": "华体会",
    "bocai": "博彩", "duchang": "赌场", "vip": "vip", "win": "win", "spin": "spin", "odds": "odds",
    "sport": "sport", "game": "game", "club": "club", "luck": "luck", "jackpot": "jackpot",
}
_TOKEN_RE = re.compile("|".join(sorted(map(re.escape, TOKENS), key=len, reverse=True)))


def normalise(host: str) -> str | None:
    """Lower-case host without scheme/path/``www.``; None when it is not a host name."""
    from chainbreaker.core.model.identifiers import Domain

    h = Domain.clean(host)
    if h is None:
        return None
    return h[4:] if h.startswith("www.") and h.count(".") >= 2 else h


@lru_cache(maxsize=300_000)
def registrable(host: str) -> str:
    from chainbreaker.core.model.identifiers import Domain

    return Domain.registrable(host) or host


def host_features(host: str) -> list[str]:
    """Feature strings of a host (module-level so the hashing vectorizer stays picklable)."""
    reg = registrable(host)
    label = reg.split(".")[0]
    suffix = reg[len(label) + 1:]
    sub = host[: -len(reg)].rstrip(".") if host.endswith(reg) and host != reg else ""
    feats = [f"sfx:{suffix}", f"len:{min(len(label), 20) // 3}", f"sublev:{min(sub.count('.') + 1 if sub else 0, 3)}"]
    padded = f"^{label}$"
    for n in (2, 3, 4, 5):
        feats.extend(f"g{n}:{padded[i:i + n]}" for i in range(len(padded) - n + 1))
    if sub:
        feats.extend(f"sub:{part}" for part in sub.split(".")[:3])
    digits = sum(c.isdigit() for c in label)
    if label.isdigit():
        feats.append("shape:numeric")
    elif digits:
        feats.append(f"shape:mixed{min(digits, 6)}")
    if re.search(r"(\d)\1{2,}", label):
        feats.append("shape:repeated_digit")
    feats.append("shape:" + re.sub(r"a+", "a", re.sub(r"[a-z]", "a", re.sub(r"\d+", "9", label)))[:8])
    feats.extend(f"tok:{m.group(0)}" for m in _TOKEN_RE.finditer(label))
    return feats


def _vectorizer() -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(analyzer=host_features, n_features=N_FEATURES, alternate_sign=False,
                             norm="l2", binary=True)


def split_bucket(host: str, by: str = "registrable") -> int:
    """0–99 from the registrable domain: a stable split where an operator's hosts stay together.

    ``by="prefix4"`` groups by the first four characters of the registrable label instead, so
    numbered name families (``k777a.com``, ``k777b.com`` …) also stay on one side: a stricter check.
    """
    key = registrable(host)
    if by == "prefix4":
        key = key.split(".")[0][:4]
    return int(hashlib.md5(key.encode()).hexdigest()[:8], 16) % 100


def segment(host: str) -> str:
    """Segment for per-segment metrics (the lists do not say which source each host came from)."""
    reg = registrable(host)
    label, suffix = reg.split(".")[0], reg.split(".", 1)[-1] if "." in reg else ""
    if label.isdigit():
        return "numeric"
    if suffix in ("cn", "com.cn", "net.cn", "org.cn"):
        return ".cn"
    if suffix in ("com", "net"):
        return ".com/.net"
    return "other suffix"


# ------------------------------------------------------------------ model
@dataclass
class DomainModel:
    classifier: Any
    thresholds: dict[str, float]  # "fpr_0.01" -> score threshold
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def threshold(self) -> float:
        """Default decision threshold: the one chosen for a 1 % false-positive rate."""
        return self.thresholds.get("fpr_0.01", 0.5)

    def scores(self, hosts: list[str]) -> np.ndarray:
        x = _vectorizer().transform(hosts)
        return self.classifier.predict_proba(x)[:, 1]

    def explain(self, host: str, top: int = 4) -> list[tuple[str, float]]:
        """Features of ``host`` with the largest weights (positive = towards gambling)."""
        from sklearn.utils import murmurhash3_32

        coef = self.classifier.coef_[0]
        feats = sorted(set(host_features(host)))
        weights = [(f, float(coef[abs(murmurhash3_32(f, seed=0)) % N_FEATURES])) for f in feats]
        weights.sort(key=lambda p: -abs(p[1]))
        return weights[:top]

    def save(self, path: Path = MODEL_PATH) -> None:
        import joblib

        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump({"classifier": self.classifier, "thresholds": self.thresholds, "meta": self.meta}, path,
                    compress=3)

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> DomainModel:
        import joblib

        from chainbreaker.core.errors import ConfigError

        if not path.exists():
            raise ConfigError(f"域名模型不存在：{path}。请先运行 chainbreaker tech domains train --data DIR",
                              f"Domain model not found: {path}. Run chainbreaker tech domains train --data DIR")
        data = joblib.load(path)
        return cls(data["classifier"], data["thresholds"], data.get("meta", {}))


def read_hosts(path: Path) -> tuple[list[str], list[tuple[int, str]]]:
    """Hosts of a one-per-line file (URLs allowed, ``#`` comments and hosts-file lines too).

    Returns (hosts, rejected) where rejected lists (line number, raw line) that are no host name.
    """
    hosts: list[str] = []
    rejected: list[tuple[int, str]] = []
    with path.open("rb") as fh:
        for i, raw_bytes in enumerate(fh, start=1):
            raw = raw_bytes.decode("utf-8", errors="replace").strip()
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) == 2 and parts[0] in ("0.0.0.0", "127.0.0.1", "::"):
                line = parts[1]  # hosts-file format
            host = normalise(line)
            if host is None:
                rejected.append((i, raw[:200]))
            else:
                hosts.append(host)
    return hosts, rejected


def _fit(hosts: list[str], labels: np.ndarray, c: float, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=3000, random_state=seed, solver="liblinear")
    clf.fit(_vectorizer().transform(hosts), labels)
    return clf


def threshold_at_fpr(scores: np.ndarray, labels: np.ndarray, fpr: float) -> float:
    """Smallest threshold whose false-positive rate on (scores, labels) is at most ``fpr``."""
    negatives = np.sort(scores[labels == 0])[::-1]
    k = int(np.floor(fpr * len(negatives)))
    if len(negatives) == 0:
        return 0.5
    return float(np.nextafter(negatives[k], 1.0)) if k < len(negatives) else float(negatives[-1])


def metrics_at(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    pred = scores >= threshold
    tp = int(np.sum(pred & (labels == 1)))
    fp = int(np.sum(pred & (labels == 0)))
    pos, neg = int(np.sum(labels == 1)), int(np.sum(labels == 0))
    return {"precision": round(tp / (tp + fp), 4) if tp + fp else 0.0, "recall": round(tp / pos, 4) if pos else 0.0,
            "fpr": round(fp / neg, 5) if neg else 0.0, "positives": pos, "negatives": neg}


def load_dataset(data_dir: Path) -> tuple[list[str], np.ndarray]:
    from chainbreaker.core.errors import InputError

    files = {1: data_dir / "gambling_train.txt", 0: data_dir / "benign_train.txt"}
    missing = [str(p) for p in files.values() if not p.exists()]
    if missing:
        raise InputError(f"训练数据缺少文件：{', '.join(missing)}", f"Training data files missing: {', '.join(missing)}")
    hosts: list[str] = []
    labels: list[int] = []
    seen: set[str] = set()
    for label, path in files.items():
        for host in read_hosts(path)[0]:
            if host not in seen:
                seen.add(host)
                hosts.append(host)
                labels.append(label)
    return hosts, np.asarray(labels)


def train_and_evaluate(data_dir: Path, *, c: float = 4.0, seed: int = 0, out: Path | None = MODEL_PATH,
                       split_by: str = "registrable") -> dict[str, Any]:
    """Train on 70 % of registrable domains, pick thresholds on 10 %, report on the held-out 20 %.

    The saved model is then refitted on train+validation with the same thresholds. Returns the
    metrics report (also stored in the model and beside it as JSON).
    """
    import sklearn
    from sklearn.metrics import average_precision_score, roc_auc_score

    hosts, labels = load_dataset(data_dir)
    buckets = np.asarray([split_bucket(h, split_by) for h in hosts])
    tr, va, te = buckets < 70, (buckets >= 70) & (buckets < 80), buckets >= 80
    h = np.asarray(hosts, dtype=object)
    clf = _fit(list(h[tr]), labels[tr], c, seed)
    model = DomainModel(clf, {})
    s_va = model.scores(list(h[va]))
    model.thresholds = {f"fpr_{f}": threshold_at_fpr(s_va, labels[va], f) for f in TARGET_FPRS}
    s_te = model.scores(list(h[te]))
    y_te = labels[te]
    report: dict[str, Any] = {
        "data": str(data_dir), "hosts": len(hosts), "gambling": int(labels.sum()),
        "split": {"train": int(tr.sum()), "validation": int(va.sum()), "test": int(te.sum()),
                  "by": f"md5({split_by}) % 100: <70 train, 70-79 validation, >=80 test"},
        "test": {"roc_auc": round(float(roc_auc_score(y_te, s_te)), 4),
                 "average_precision": round(float(average_precision_score(y_te, s_te)), 4)},
        "thresholds": model.thresholds, "c": c, "seed": seed,
    }
    for name, thr in model.thresholds.items():
        report["test"][name] = metrics_at(s_te, y_te, thr)
    seg_te = np.asarray([segment(x) for x in h[te]])
    report["test_by_segment"] = {
        seg: {name: metrics_at(s_te[seg_te == seg], y_te[seg_te == seg], thr) for name, thr in model.thresholds.items()}
        for seg in sorted(set(seg_te))
    }
    if out is not None:
        final = DomainModel(_fit(list(h[tr | va]), labels[tr | va], c, seed), model.thresholds)
        final.meta = {"trained_on": "../shared/data/domains (gambling_train.txt, benign_train.txt): "
                                    "hostsVN gambling + Sinfonietta gambling-hosts vs dnsmasq-china-list + top-10k",
                      "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                      "command": "chainbreaker tech domains train --data ../shared/data/domains",
                      "sklearn": sklearn.__version__, "report": report}
        final.save(out)
        out.with_suffix(".json").write_text(json.dumps(final.meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return report


# ------------------------------------------------------------------ workspace
def classify_file(ws: Any, path: Path, *, model_path: Path = MODEL_PATH) -> dict[str, Any]:
    """Score the hosts of ``path`` and write them to the ``tech_domains`` lake table.

    Rows from earlier runs on other files are kept; rows of the same file are replaced. Lines that
    are not host names go to ``quarantine`` with their line number.
    """
    import pyarrow as pa

    from chainbreaker.core.errors import InputError
    from chainbreaker.core.ingest.quarantine import Quarantine

    if not path.exists():
        raise InputError(f"文件不存在：{path}", f"File not found: {path}")
    model = DomainModel.load(model_path)
    hosts, rejected = read_hosts(path)
    unique = list(dict.fromkeys(hosts))
    sha = ws.store_evidence(path)
    scores = model.scores(unique) if unique else np.zeros(0)
    with ws.transaction("tech.domains", inputs=[sha], settings={"model": str(model_path),
                                                                  "threshold": model.threshold}) as tx:
        rows = [{"host": h, "registrable": registrable(h), "score": round(float(s), 5),
                 "is_gambling": bool(s >= model.threshold), "threshold": round(model.threshold, 5),
                 "top_features": json.dumps([[f, round(w, 3)] for f, w in model.explain(h)], ensure_ascii=False)
                 if s >= model.threshold else "[]",
                 "source_file": path.name, "source_sha256": sha, "run_id": tx.run_id}
                for h, s in zip(unique, scores, strict=True)]
        schema = pa.schema([("host", pa.string()), ("registrable", pa.string()), ("score", pa.float64()),
                            ("is_gambling", pa.bool_()), ("threshold", pa.float64()), ("top_features", pa.string()),
                            ("source_file", pa.string()), ("source_sha256", pa.string()), ("run_id", pa.string())])
        new = pa.Table.from_pylist(rows, schema=schema)
        if tx.has_table("tech_domains"):
            tx.con.register("_new_domains", new)
            tx.write("tech_domains", tx.con.sql(
                "SELECT * FROM tech_domains WHERE source_sha256 <> ? UNION ALL SELECT * FROM _new_domains",
                params=[sha]).to_arrow_table())
        else:
            tx.write("tech_domains", new)
        if rejected:
            q = Quarantine("domains", tx.run_id)
            for line_no, raw in rejected:
                q.add(path.name, sha, line_no, "invalid_domain", raw={"line": raw}, detail="不是有效的域名 / not a host name")
            tx.write("quarantine", q.table(), mode="append")
        tx.counts.update({"hosts": len(unique), "gambling": int(sum(r["is_gambling"] for r in rows)),
                          "rejected": len(rejected)})
    return {"hosts": len(unique), "gambling": int(sum(r["is_gambling"] for r in rows)), "rejected": len(rejected),
            "threshold": model.threshold}
