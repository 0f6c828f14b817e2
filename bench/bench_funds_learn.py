"""Benchmark and evaluation of ``chainbreaker funds learn`` on IBM AMLSim (../shared/data/aml).

    python bench/bench_funds_learn.py                   # funds learn vs aggregates vs GFP, AMLSim 10K
    python bench/bench_funds_learn.py --all             # + time-ordered split and feature throughput
    python bench/bench_funds_learn.py --all --scale 5   # throughput on 5 disjoint copies (~1M transfers)
    python bench/bench_funds_learn.py --ablate          # + AP by feature group (GFP's and chainbreaker's)

1. The peer comparison (issue 16's Must-show), one command, each method in its own child process
   (peak memory = that child's VmHWM; CPU seconds = its user + system time):
   ``funds learn`` (``learn()``: features, CV, calibration, held-back evaluation, refit, scoring)
   holds back 30% of the labelled accounts (stratified, fixed seed); on exactly that split (read
   back from ``account_model_scores.split``) LightGBM on plain per-account aggregates and IBM's
   Graph Feature Preprocessor (``snapml``; edge features averaged and maxed per account and
   direction) + LightGBM are trained and scored. AP on the held-back accounts, seconds, CPU seconds
   and peak memory are printed, with PASS when funds learn's AP ≥ GFP's at no more time. The GFP
   child keeps its per-account features (``bench_features_gfp.parquet``) and edge features
   (``bench_gfp_edges.npy``) in the workspace, outside its timed part.
   AMLSim is loaded by ``chainbreaker ingest bank`` (edge-list layout; ``--loader own``: the small
   ``bench/public_aml.py`` loader); labels come from ``sar_accounts.csv``.
2. ``--all``: a time-ordered split, and account features computed by chainbreaker (Ibis on DuckDB,
   plus igraph for cycles) beside a plain pandas implementation of the same relational features,
   each in its own subprocess; the run checks both give the same values. ``--scale K`` makes K
   disjoint copies of the AMLSim graph (accounts suffixed) for this part.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
DEFAULT_DATA = HERE.parents[2] / "shared" / "data" / "aml" / "amlsim_10k_stock"


def _peak_mb() -> float:
    """This process's peak resident memory. VmHWM, because Linux carries ``ru_maxrss`` over from
    the parent across fork+exec (every child would report at least the parent's peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------------------ data
def prepare(workdir: Path, data_dir: Path, scale: int, loader: str) -> Path:
    """A workspace holding AMLSim (``scale`` disjoint copies) as canonical transactions."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from public_aml import load_amlsim, write_amlsim_labels  # bench/public_aml.py (this folder)

    from chainbreaker.core.workspace import Workspace

    ws = Workspace(workdir / f"amlsim-x{scale}")
    if ws.has_table("transactions"):
        return ws.root
    if loader == "ingest":
        from chainbreaker.chains.funds.bank.service import ingest_bank

        summary = ingest_bank(ws, [data_dir / "transactions.csv.gz"], progress=None)
        print(f"chainbreaker ingest bank: {summary.rows_kept:,} of {summary.rows_read:,} rows kept")
        write_amlsim_labels(ws, data_dir)
    else:
        load_amlsim(ws, data_dir)
    if scale > 1:
        base = ws.read_arrow("transactions")
        parts = []
        for k in range(scale):
            part = base
            for col in ("from_account", "to_account", "txn_id"):
                part = part.set_column(part.column_names.index(col), col,
                                       pc.binary_join_element_wise(part.column(col), pa.scalar(f"c{k}"), "-"))
            parts.append(part)
        with ws.transaction("bench.scale") as tx:
            tx.write("transactions", pa.concat_tables(parts))
    return ws.root


# -------------------------------------------------------------------- pandas baseline
def pandas_features(tx):  # type: ignore[no-untyped-def]
    """The relational features of ``features_graph.account_feature_expr`` in plain pandas."""
    import numpy as np
    import pandas as pd

    tx = tx[tx.from_account.notna() & tx.to_account.notna() & (tx.from_account != tx.to_account)]
    out = pd.DataFrame({"account": tx.from_account, "cp": tx.to_account, "amount": tx.amount,
                        "epoch": tx.epoch, "is_out": 1})
    inn = pd.DataFrame({"account": tx.to_account, "cp": tx.from_account, "amount": tx.amount,
                        "epoch": tx.epoch, "is_out": 0})
    e = pd.concat([out, inn], ignore_index=True)
    nodes = pd.DataFrame(index=pd.Index(e.account.unique(), name="account"))
    for side, p in ((1, "out"), (0, "in")):
        s = e[e.is_out == side]
        g = s.groupby("account")
        cents = (s.amount * 100).round().astype("int64")
        f = g.amount.agg(["count", "sum", "mean", "max", "min", "std"])
        f.columns = [f"{p}_n", f"{p}_sum", f"{p}_mean", f"{p}_max", f"{p}_min", f"{p}_std"]
        f[f"{p}_cp"] = g.cp.nunique()
        f[f"{p}_round_share"] = (cents % 10000 == 0).astype(float).groupby(s.account).mean()
        f[f"{p}_first"] = g.epoch.min()
        nodes = nodes.join(f)
    local = e.epoch + 8 * 3600
    e = e.assign(day=local // 86400, night=(((local % 86400) // 3600) < 6).astype(float))
    e = e.sort_values(["account", "epoch", "cp", "is_out", "amount"], kind="stable")
    e["gap"] = e.groupby("account").epoch.diff() / 86400.0
    g = e.groupby("account")
    act = pd.DataFrame({"n": g.size(), "first": g.epoch.min(), "last": g.epoch.max(), "night_share": g.night.mean(),
                        "gap_mean": g.gap.mean(), "gap_std": g.gap.std(), "gap_min": g.gap.min()})
    per_day = e.groupby(["account", "day"]).size()
    act["active_days"] = per_day.groupby(level=0).size()
    act["max_day_n"] = per_day.groupby(level=0).max()
    act["span_days"] = (act["last"] - act["first"]) / 86400.0
    denom = act.gap_std + act.gap_mean
    act["burstiness"] = np.where(denom > 0, (act.gap_std - act.gap_mean) / denom, np.nan)
    act["tx_per_active_day"] = act.n / act.active_days
    nodes = nodes.join(act.drop(columns=["first", "last"]))
    pairs = e.groupby(["account", "cp", "is_out"]).size().rename("k").reset_index()
    for side, p in ((1, "out"), (0, "in")):
        s = pairs[pairs.is_out == side]
        g = s.groupby("account").k
        nodes[f"{p}_oneoff"] = (s.k == 1).astype("int64").groupby(s.account).sum()
        nodes[f"{p}_pair_mean"] = g.mean()
        nodes[f"{p}_pair_max"] = g.max()
    rec = pairs[pairs.is_out == 1].merge(pairs[pairs.is_out == 0], on=["account", "cp"])
    rec["one_off"] = ((rec.k_x == 1) | (rec.k_y == 1)).astype("int64")
    nodes["reciprocal_cp"] = rec.groupby("account").size()
    nodes["reciprocal_oneoff"] = rec.groupby("account").one_off.sum()
    for c in ("out_n", "in_n", "out_sum", "in_sum", "out_cp", "in_cp", "out_oneoff", "in_oneoff",
              "reciprocal_cp", "reciprocal_oneoff"):
        nodes[c] = nodes[c].fillna(0)
    total = nodes.in_sum + nodes.out_sum
    nodes["degree"] = nodes.in_cp + nodes.out_cp
    nodes["fan_in_ratio"] = nodes.in_cp / (nodes.out_cp + 1)
    nodes["fan_out_ratio"] = nodes.out_cp / (nodes.in_cp + 1)
    nodes["pass_through"] = np.where(total > 0, np.minimum(nodes.in_sum, nodes.out_sum)
                                     / np.maximum(nodes.in_sum, nodes.out_sum).replace(0, np.nan), 0.0)
    nodes["net_flow"] = np.where(total > 0, (nodes.in_sum - nodes.out_sum) / total.replace(0, np.nan), 0.0)
    nodes["oneoff_in_share"] = np.where(nodes.in_cp > 0, nodes.in_oneoff / nodes.in_cp.replace(0, np.nan), np.nan)
    nodes["oneoff_out_share"] = np.where(nodes.out_cp > 0, nodes.out_oneoff / nodes.out_cp.replace(0, np.nan),
                                         np.nan)
    nodes["in_out_lag_days"] = (nodes.out_first - nodes.in_first) / 86400.0
    nodes = nodes.drop(columns=["out_first", "in_first"])
    from chainbreaker.chains.funds.features_graph import NEIGHBOUR_COLUMNS

    links = pairs[["account", "cp", "is_out"]]
    nb = nodes[NEIGHBOUR_COLUMNS].add_prefix("nb_")
    j = links.merge(nb, left_on="cp", right_index=True)
    g = j.groupby("account")
    agg = {}
    for c in NEIGHBOUR_COLUMNS:
        agg[f"nb_mean_{c}"] = g[f"nb_{c}"].mean()
        agg[f"nb_max_{c}"] = g[f"nb_{c}"].max()
    agg["two_hop_out"] = (j.nb_out_cp * j.is_out).groupby(j.account).sum()
    agg["two_hop_in"] = (j.nb_in_cp * (1 - j.is_out)).groupby(j.account).sum()
    agg["out_to_oneoff_hubs"] = ((j.is_out == 1) & (j.nb_in_oneoff >= 3)).astype("int64").groupby(j.account).sum()
    agg["in_from_oneoff_hubs"] = ((j.is_out == 0) & (j.nb_out_oneoff >= 3)).astype("int64").groupby(j.account).sum()
    return nodes.join(pd.DataFrame(agg)).sort_index()


# ------------------------------------------------------------------------ children
def child_chainbreaker(ws_path: str, engine: str) -> dict:
    from chainbreaker.chains.funds.features_graph import account_features
    from chainbreaker.core.workspace import Workspace

    ws = Workspace(ws_path)
    start = time.perf_counter()
    feats = account_features(ws, engine, use_screening=False)
    seconds = time.perf_counter() - start
    feats.to_pandas().set_index("account").to_parquet(Path(ws_path) / "bench_features_chainbreaker.parquet")
    return {"seconds": seconds, "accounts": feats.num_rows, "features": feats.num_columns - 2}


def child_pandas(ws_path: str) -> dict:
    import duckdb

    from chainbreaker.core.workspace import Workspace

    ws = Workspace(ws_path)
    start = time.perf_counter()
    # Reading the lake is part of the work on both sides.
    tx = duckdb.sql(f"""SELECT from_account, to_account, CAST(amount AS DOUBLE) AS amount,
                               CAST(epoch(ts) AS BIGINT) AS epoch
                        FROM read_parquet('{ws.table_glob("transactions")}')""").df()
    feats = pandas_features(tx)
    seconds = time.perf_counter() - start
    feats.to_parquet(Path(ws_path) / "bench_features_pandas.parquet")
    return {"seconds": seconds, "accounts": len(feats), "features": feats.shape[1], "transactions": len(tx)}


def child_learn(ws_path: str, labels: str, split: str, trees: int, seed: int) -> dict:
    from dataclasses import asdict

    from chainbreaker.chains.funds.learn import learn
    from chainbreaker.core.workspace import Workspace

    start = time.perf_counter()
    report = learn(Workspace(ws_path), labels, seed=seed, split=split, n_estimators=trees)
    return {"seconds": time.perf_counter() - start, "graph": asdict(report.graph), "ap": report.graph.average_precision,
            "baseline": asdict(report.baseline) if report.baseline else None,
            "feature_seconds": report.feature_seconds, "train_seconds": report.train_seconds,
            "labels": report.labels, "positives": report.positives, "top_features": report.top_features[:8],
            "model_version": report.model_version}


def _split_and_labels(ws_path: str, labels: str) -> tuple[list[str], list[str], dict[str, int]]:
    """The train/test accounts ``funds learn`` used (from ``account_model_scores``) and the labels."""
    import pandas as pd

    from chainbreaker.core.workspace import Workspace

    scores = Workspace(ws_path).read_arrow("account_model_scores", ["account", "split"]).to_pandas()
    lab = pd.read_csv(labels, dtype={"account": str})
    return (sorted(scores.account[scores.split == "train"]), sorted(scores.account[scores.split == "test"]),
            dict(zip(lab.account, lab.label, strict=True)))


def _fit_and_ap(feats, train: list[str], test: list[str], label_of: dict[str, int], seed: int,  # type: ignore[no-untyped-def]
                trees: int) -> float:
    """LightGBM with funds learn's default settings on the given split; AP on the test accounts."""
    import lightgbm as lgb
    import numpy as np
    from sklearn.metrics import average_precision_score

    from chainbreaker.chains.funds.learn import model_params

    y_train = np.array([label_of[a] for a in train])
    y_test = np.array([label_of[a] for a in test])
    model = lgb.LGBMClassifier(**model_params(len(train), seed, trees)).fit(feats.loc[train], y_train)
    return float(average_precision_score(y_test, model.predict_proba(feats.loc[test])[:, 1]))


def child_aggregates(ws_path: str, labels: str, trees: int, seed: int) -> dict:
    """Plain per-account aggregates (in/out count, sum, mean, max, distinct counterparties) + LightGBM."""
    import duckdb

    from chainbreaker.core.workspace import Workspace

    train, test, label_of = _split_and_labels(ws_path, labels)
    start = time.perf_counter()
    glob = Workspace(ws_path).table_glob("transactions")
    feats = duckdb.sql(f"""
        WITH t AS (SELECT from_account AS s, to_account AS d, CAST(amount AS DOUBLE) AS a
                   FROM read_parquet('{glob}') WHERE from_account <> to_account),
             o AS (SELECT s AS account, count(*) out_n, sum(a) out_sum, avg(a) out_mean, max(a) out_max,
                          count(DISTINCT d) out_cp FROM t GROUP BY 1),
             i AS (SELECT d AS account, count(*) in_n, sum(a) in_sum, avg(a) in_mean, max(a) in_max,
                          count(DISTINCT s) in_cp FROM t GROUP BY 1)
        SELECT coalesce(o.account, i.account) AS account, o.* EXCLUDE (account), i.* EXCLUDE (account)
        FROM o FULL JOIN i ON o.account = i.account""").df().set_index("account")
    ap = _fit_and_ap(feats, train, test, label_of, seed, trees)
    return {"seconds": time.perf_counter() - start, "ap": ap, "features": feats.shape[1]}


GFP_PARAMS_DAYS = {"window": 7, "vertex_window": 30, "bins": [2, 3, 4, 5, 10]}


def gfp_params(threads: int = 2) -> dict:
    """GFP settings: every pattern GFP offers except length-constrained cycles (with a 10-hop limit over
    30 days it ran for more than 10 minutes on AMLSim here), windows in seconds."""
    day = 86400
    w, bins = GFP_PARAMS_DAYS["window"] * day, GFP_PARAMS_DAYS["bins"]
    return {
        "num_threads": threads, "time_window": GFP_PARAMS_DAYS["vertex_window"] * day,
        "vertex_stats": True, "vertex_stats_tw": GFP_PARAMS_DAYS["vertex_window"] * day, "vertex_stats_cols": [4],
        "vertex_stats_feats": [0, 1, 2, 3, 4, 8, 9, 10],
        "fan": True, "fan_tw": w, "fan_bins": bins, "degree": True, "degree_tw": w, "degree_bins": bins,
        "scatter-gather": True, "scatter-gather_tw": w, "scatter-gather_bins": bins,
        "temp-cycle": True, "temp-cycle_tw": w, "temp-cycle_bins": bins, "lc-cycle": False,
    }


def child_gfp(ws_path: str, labels: str, trees: int, seed: int) -> dict:
    """IBM Graph Feature Preprocessor (snapml) edge features, averaged and maxed per account and
    direction, + LightGBM: the peer practitioners reach for."""
    import duckdb
    import numpy as np
    import pandas as pd
    from snapml import GraphFeaturePreprocessor

    from chainbreaker.core.workspace import Workspace

    train, test, label_of = _split_and_labels(ws_path, labels)
    start = time.perf_counter()
    glob = Workspace(ws_path).table_glob("transactions")
    tx = duckdb.sql(f"""SELECT from_account AS s, to_account AS d, CAST(epoch(ts) AS BIGINT) AS t,
                               CAST(amount AS DOUBLE) AS a FROM read_parquet('{glob}')
                        WHERE from_account <> to_account ORDER BY t, src_row""").df()
    codes, names = pd.factorize(pd.concat([tx.s, tx.d], ignore_index=True))
    n = len(tx)
    edges = np.column_stack([np.arange(n), codes[:n], codes[n:], tx.t.to_numpy(), tx.a.to_numpy()]).astype("float64")
    gfp = GraphFeaturePreprocessor()
    gfp.set_params(gfp_params())
    out = gfp.fit_transform(edges)
    gfp_seconds = time.perf_counter() - start
    extra = pd.DataFrame(out[:, edges.shape[1]:]).add_prefix("g")
    parts = []
    for side, col in (("out", 1), ("in", 2)):
        grouped = extra.groupby(edges[:, col].astype(np.int64))
        part = pd.concat([grouped.mean().add_prefix(f"{side}_mean_"), grouped.max().add_prefix(f"{side}_max_")], axis=1)
        parts.append(part)
    feats = pd.concat(parts, axis=1)
    feats.index = names[feats.index.to_numpy()]
    ap = _fit_and_ap(feats, train, test, label_of, seed, trees)
    # Kept for the ablation by pattern group (--ablate-gfp); outside the timed part.
    seconds = time.perf_counter() - start
    feats.to_parquet(Path(ws_path) / "bench_features_gfp.parquet")
    np.save(Path(ws_path) / "bench_gfp_edges.npy", out)
    return {"seconds": seconds, "gfp_seconds": gfp_seconds, "ap": ap, "features": feats.shape[1],
            "edge_features": extra.shape[1]}


# GFP's edge-feature columns (after the 5 input columns) in the order snapml appends them, for the
# settings of gfp_params(): 5 bins per pattern; vertex statistics 8 per direction, source then sink.
GFP_GROUPS = {
    "fan (in/out, 7-day bins)": range(0, 10),
    "degree (in/out, 7-day bins)": range(10, 20),
    "scatter-gather (7-day bins)": range(20, 25),
    "temporal cycles (7-day bins)": range(25, 30),
    "vertex statistics of the payer (30 days)": range(30, 46),
    "vertex statistics of the payee (30 days)": range(46, 62),
}
OWN_GROUPS = {
    "counterparty activity at transfer time (ctx*)": ("ctx",),
    "payment cadence (cad_*)": ("cad_",),
    "both new groups": ("ctx", "cad_"),
    "windowed (w*, sg_, tcycle, nbw_, tw_)": ("w1_", "w7_", "w30_", "sg_", "tcycle", "nbw_", "tw_"),
}


def ablate(ws_path: Path, labels: str, trees: int, seed: int) -> None:
    """What carries the AP: LightGBM (funds learn's default settings, no label-aware features) on the
    same split with one feature group only / without it, for GFP's per-account features (kept by the
    GFP child) and for chainbreaker's features."""
    import pandas as pd

    from chainbreaker.chains.funds.features_graph import META_COLUMNS

    train, test, label_of = _split_and_labels(str(ws_path), labels)

    def ap(feats) -> float:  # type: ignore[no-untyped-def]
        return _fit_and_ap(feats, train, test, label_of, seed, trees)

    print("\n== ablation: LightGBM (default settings, no label-aware features) on the same split ==")
    print(f"{'feature group':<50}{'columns':>8}{'only':>9}{'without':>9}")
    gfp_path = ws_path / "bench_features_gfp.parquet"
    if gfp_path.exists():
        gfp = pd.read_parquet(gfp_path)
        print(f"{'GFP: all':<50}{gfp.shape[1]:>8}{ap(gfp):>9.4f}{'':>9}", flush=True)
        for name, idx in GFP_GROUPS.items():
            cols = [c for c in gfp.columns if int(c.rsplit("_g", 1)[1]) in idx]
            print(f"{'GFP: ' + name:<50}{len(cols):>8}{ap(gfp[cols]):>9.4f}{ap(gfp.drop(columns=cols)):>9.4f}",
                  flush=True)
    own_path = ws_path / "bench_features_chainbreaker.parquet"
    if not own_path.exists():
        run_child("chainbreaker", str(ws_path), "duckdb")
    own = pd.read_parquet(own_path).drop(columns=[c for c in META_COLUMNS if c != "account"], errors="ignore")
    print(f"{'chainbreaker: all':<50}{own.shape[1]:>8}{ap(own):>9.4f}{'':>9}", flush=True)
    for name, prefixes in OWN_GROUPS.items():
        cols = [c for c in own.columns if c.startswith(prefixes)]
        print(f"{'chainbreaker: ' + name:<50}{len(cols):>8}{ap(own[cols]):>9.4f}{ap(own.drop(columns=cols)):>9.4f}",
              flush=True)


def run_child(*args: str) -> dict:
    proc = subprocess.run([sys.executable, str(HERE), "--child", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"child {args[0]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def compare(ws_path: Path) -> tuple[int, list[str]]:
    import numpy as np
    import pandas as pd

    a = pd.read_parquet(ws_path / "bench_features_chainbreaker.parquet")
    b = pd.read_parquet(ws_path / "bench_features_pandas.parquet")
    shared = [c for c in b.columns if c in a.columns]
    b = b.reindex(a.index)
    bad = [c for c in shared if not np.allclose(a[c].astype(float), b[c].astype(float), rtol=1e-6, atol=1e-6,
                                                equal_nan=True)]
    return len(shared), bad


# ---------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--scale", type=int, default=1, help="disjoint copies of AMLSim for the throughput part")
    parser.add_argument("--engine", default="duckdb")
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--loader", choices=("ingest", "own"), default=None,
                        help="ingest: chainbreaker's bank ingest (default when available); own: bench/public_aml.py loader")
    parser.add_argument("--all", action="store_true", help="also the time-ordered split and feature throughput vs pandas")
    parser.add_argument("--no-gfp", action="store_true", help="skip the GFP (snapml) peer")
    parser.add_argument("--gfp-window", type=int, default=7, help="GFP pattern window in days (default 7)")
    parser.add_argument("--ablate", action="store_true",
                        help="after the comparison, AP of LightGBM on each feature group alone / without it "
                             "(GFP's groups and chainbreaker's)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, *rest = args.child
        if kind == "chainbreaker":
            out = child_chainbreaker(rest[0], rest[1])
        elif kind == "pandas":
            out = child_pandas(rest[0])
        elif kind == "aggregates":
            out = child_aggregates(rest[0], rest[1], int(rest[2]), int(rest[3]))
        elif kind == "gfp":
            GFP_PARAMS_DAYS["window"] = int(rest[4])
            out = child_gfp(rest[0], rest[1], int(rest[2]), int(rest[3]))
        else:
            out = child_learn(rest[0], rest[1], rest[2], int(rest[3]), int(rest[4]))
        out["peak_mb"] = round(_peak_mb(), 1)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        out["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 1)
        print(json.dumps(out, default=str))
        return

    if not (args.data_dir / "transactions.csv.gz").exists():
        raise SystemExit(f"AMLSim data not found in {args.data_dir}")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cb-bench-learn-"))
    print(f"workdir {workdir}; data {args.data_dir}")

    # 1. Evaluation on AMLSim as is.
    loader = args.loader
    if loader is None:
        import importlib.util

        loader = "ingest" if importlib.util.find_spec("chainbreaker.chains.funds.bank.service") else "own"
    t0 = time.perf_counter()
    ws1 = prepare(workdir, args.data_dir, 1, loader)
    print(f"loaded AMLSim into {ws1} with loader '{loader}' in {time.perf_counter() - t0:.1f} s")
    labels = str(ws1 / "amlsim_labels.csv")
    # 1a. The three methods on the same split, each in its own process (peak memory = its VmHWM).
    header = f"{'method':<44}{'features':>9}{'AP':>8}{'seconds':>9}{'CPU s':>8}{'peak MB':>9}"

    def row(name: str, res: dict, nfeat: int) -> None:
        print(f"{name:<44}{nfeat:>9}{res['ap']:>8.4f}{res['seconds']:>9.1f}{res['cpu_seconds']:>8.1f}"
              f"{res['peak_mb']:>9.0f}", flush=True)

    r = run_child("learn", str(ws1), labels, "stratified", str(args.trees), str(args.seed))
    g = r["graph"]
    print(f"\n== AMLSim, split=stratified seed={args.seed}: {r['labels']:,} labelled accounts ({r['positives']:,} SAR); "
          f"held back {g['n_test']:,} ({g['n_test_positive']:,} SAR), trained on {g['n_train']:,} ==")
    print(header)
    row("chainbreaker funds learn (whole run)", r, g["n_features"])
    agg = run_child("aggregates", str(ws1), labels, str(args.trees), str(args.seed))
    row("LightGBM on plain aggregates", agg, agg["features"])
    GFP_PARAMS_DAYS["window"] = args.gfp_window
    gfp = None
    if not args.no_gfp:
        gfp = run_child("gfp", str(ws1), labels, str(args.trees), str(args.seed), str(args.gfp_window))
        row(f"GFP (snapml, {args.gfp_window}-day windows) + LightGBM", gfp, gfp["features"])
    print(f"funds learn: features {r['feature_seconds']:.1f} s, training (CV, held-back, baseline, final models) {r['train_seconds']:.1f} s; "
          f"P@0.5 {g['precision']:.4f}, R@0.5 {g['recall']:.4f}, Brier {g['brier']}; baseline inside learn AP "
          f"{r['baseline']['average_precision']:.4f}; top features: " + ", ".join(n for n, _ in r["top_features"]))
    if gfp is not None:
        print(f"GFP: {gfp['edge_features']} edge features in {gfp['gfp_seconds']:.1f} s (params {gfp_params()})")
        verdict = r["ap"] >= gfp["ap"] and r["seconds"] <= gfp["seconds"]
        print(f"funds learn AP {'>=' if r['ap'] >= gfp['ap'] else '<'} GFP AP; time "
              f"{'<=' if r['seconds'] <= gfp['seconds'] else '>'} GFP time -> {'PASS' if verdict else 'FAIL'}")
    if args.ablate:
        ablate(ws1, labels, args.trees, args.seed)
    if not args.all:
        return
    # 1b. The time-ordered split.
    for split in ("time",):
        r = run_child("learn", str(ws1), labels, split, str(args.trees), str(args.seed))
        g, b = r["graph"], r["baseline"]
        print(f"\n== funds learn on AMLSim, split={split}, seed={args.seed}, trees={args.trees} ==")
        print(f"labels {r['labels']:,} ({r['positives']:,} SAR); held back {g['n_test']:,} accounts "
              f"({g['n_test_positive']:,} SAR); trained on {g['n_train']:,}")
        print(f"{'model':<40}{'features':>9}{'AP':>9}{'P@0.5':>9}{'R@0.5':>9}")
        print(f"{'graph features + LightGBM':<40}{g['n_features']:>9}{g['average_precision']:>9.4f}"
              f"{g['precision']:>9.4f}{g['recall']:>9.4f}")
        print(f"{'plain aggregates + LightGBM (baseline)':<40}{b['n_features']:>9}{b['average_precision']:>9.4f}"
              f"{b['precision']:>9.4f}{b['recall']:>9.4f}")
        print(f"features {r['feature_seconds']:.1f} s, training {r['train_seconds']:.1f} s, "
              f"whole run {r['seconds']:.1f} s, peak {r['peak_mb']:.0f} MB")

    # 2. Feature throughput beside pandas (--all).
    ws_k = prepare(workdir, args.data_dir, args.scale, "own")
    cb = run_child("chainbreaker", str(ws_k), args.engine)
    pdr = run_child("pandas", str(ws_k))
    n = pdr["transactions"]
    shared, bad = compare(ws_k)
    print(f"\n== account features, AMLSim x{args.scale}: {n:,} transfers, {cb['accounts']:,} accounts ==")
    print(f"{'side':<36}{'seconds':>9}{'transfers/s':>14}{'peak MB':>10}")
    print(f"{'chainbreaker (' + args.engine + ' + igraph cycles)':<36}{cb['seconds']:>9.2f}"
          f"{n / cb['seconds']:>14,.0f}{cb['peak_mb']:>10.0f}")
    print(f"{'pandas (same relational features)':<36}{pdr['seconds']:>9.2f}{n / pdr['seconds']:>14,.0f}"
          f"{pdr['peak_mb']:>10.0f}")
    print(f"speed-up {pdr['seconds'] / cb['seconds']:.1f}x; {shared} shared feature columns, "
          f"{shared - len(bad)} identical" + (f"; DIFFERENT: {', '.join(bad)}" if bad else ""))
    if bad:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
