"""Domain-name model: quality on the held-out split, scoring throughput, peak memory.

    python bench/bench_tech_domains.py [--data ../shared/data/domains] [--scale 1.0] [--retrain]

Prints, for the held-out test part (20 % of registrable domains, never trained on):
* precision/recall of the committed model at the thresholds picked on validation for FPR 1 % and 0.1 %,
  overall and per segment (the lists do not tag their source; segments are suffix groups);
* the same for a plain pandas baseline (a regex of gambling tokens on the host name);
* hosts/s and peak RSS of each side, each run in its own subprocess.
``--retrain`` also runs the full training + evaluation (≈ 1–2 min) and prints its report;
``--family-split`` retrains with a stricter split (4-character name prefix, so numbered name
families stay on one side) to show how much near-duplicate names flatter the main numbers.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "domains"
BASELINE_PATTERN = (r"bet|casino|poker|slot|lottery|xpj|amjs|tyc|bjl|pj|hg\d|\d{4,}|88|365|vns|yl|dafa|ylc|qp|cp\d|ssc|"
                    r"pk10|lhc|bocai|duchang|kaiyun|leyu|jiuyou|ayx|hth")


def _test_split(data: Path, scale: float) -> tuple[list[str], list[int]]:
    from chainbreaker.chains.tech.domain_model import load_dataset, split_bucket

    hosts, labels = load_dataset(data)
    keep = [(h, int(y)) for h, y in zip(hosts, labels, strict=True) if split_bucket(h) >= 80]
    n = max(100, int(len(keep) * scale))
    keep = keep[:n]
    return [h for h, _ in keep], [y for _, y in keep]


def side_model(data: Path, scale: float) -> dict:
    import numpy as np

    from chainbreaker.chains.tech.domain_model import DomainModel, metrics_at, segment

    hosts, labels = _test_split(data, scale)
    model = DomainModel.load()
    start = time.perf_counter()
    scores = model.scores(hosts)
    seconds = time.perf_counter() - start
    y = np.asarray(labels)
    seg = np.asarray([segment(h) for h in hosts])
    out = {"hosts": len(hosts), "seconds": round(seconds, 3), "hosts_per_s": round(len(hosts) / seconds),
           "thresholds": model.thresholds}
    for name, thr in model.thresholds.items():
        out[name] = metrics_at(scores, y, thr)
        out[name + "_by_segment"] = {s: metrics_at(scores[seg == s], y[seg == s], thr) for s in sorted(set(seg))}
    return out


def side_pandas(data: Path, scale: float) -> dict:
    import numpy as np
    import pandas as pd

    from chainbreaker.chains.tech.domain_model import metrics_at

    hosts, labels = _test_split(data, scale)
    df = pd.DataFrame({"host": hosts, "label": labels})
    start = time.perf_counter()
    pred = df["host"].str.contains(BASELINE_PATTERN, regex=True)
    seconds = time.perf_counter() - start
    return {"hosts": len(df), "seconds": round(seconds, 3), "hosts_per_s": round(len(df) / max(seconds, 1e-9)),
            "rule": metrics_at(pred.to_numpy().astype(float), np.asarray(labels), 0.5)}


def side_train(data: Path, scale: float, split_by: str = "registrable") -> dict:
    from chainbreaker.chains.tech.domain_model import train_and_evaluate

    start = time.perf_counter()
    report = train_and_evaluate(data, out=None, split_by=split_by)
    report["seconds"] = round(time.perf_counter() - start, 1)
    return report


def _run_side(side: str, data: Path, scale: float) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--side", side, "--data", str(data), "--scale", str(scale)],
                          capture_output=True, text=True, check=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the test split to score")
    parser.add_argument("--retrain", action="store_true", help="also retrain and evaluate from scratch")
    parser.add_argument("--family-split", action="store_true",
                        help="also retrain and evaluate with a stricter split by 4-character name prefix")
    parser.add_argument("--side", choices=["model", "pandas", "train", "train_prefix4"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        fn = {"model": side_model, "pandas": side_pandas, "train": side_train,
              "train_prefix4": lambda d, s: side_train(d, s, "prefix4")}[args.side]
        print(json.dumps(fn(args.data, args.scale), ensure_ascii=False))
        return
    if not args.data.exists():
        sys.exit(f"data folder not found: {args.data}")
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: run the lighter side first.
    base = _run_side("pandas", args.data, args.scale)
    model = _run_side("model", args.data, args.scale)
    print(f"held-out test split: {model['hosts']:,} hosts (registrable domains with md5 bucket >= 80)")
    for name in ("fpr_0.01", "fpr_0.001"):
        m = model[name]
        print(f"model   @FPR<={name[4:]:<6} precision {m['precision']:.4f} recall {m['recall']:.4f} "
              f"actual FPR {m['fpr']:.4f}  (pos {m['positives']:,}, neg {m['negatives']:,})")
        for seg, sm in model[name + "_by_segment"].items():
            print(f"        {seg:<14} precision {sm['precision']:.4f} recall {sm['recall']:.4f} FPR {sm['fpr']:.4f} "
                  f"(pos {sm['positives']:,}, neg {sm['negatives']:,})")
    r = base["rule"]
    print(f"pandas token-regex baseline  precision {r['precision']:.4f} recall {r['recall']:.4f} FPR {r['fpr']:.4f}")
    print(f"throughput: model {model['hosts_per_s']:,} hosts/s (peak RSS {model['peak_rss_mb']} MB); "
          f"pandas regex {base['hosts_per_s']:,} hosts/s (peak RSS {base['peak_rss_mb']} MB)")
    if args.retrain:
        report = _run_side("train", args.data, args.scale)
        print(f"retrain: {report['seconds']} s, peak RSS {report['peak_rss_mb']} MB")
        print(json.dumps(report["test"], ensure_ascii=False))
    if args.family_split:
        report = _run_side("train_prefix4", args.data, args.scale)
        print(f"family split (by 4-character name prefix): {report['seconds']} s")
        for name in ("fpr_0.01", "fpr_0.001"):
            m = report["test"][name]
            print(f"model   @FPR<={name[4:]:<6} precision {m['precision']:.4f} recall {m['recall']:.4f} "
                  f"actual FPR {m['fpr']:.4f}  (pos {m['positives']:,}, neg {m['negatives']:,})")


if __name__ == "__main__":
    main()
