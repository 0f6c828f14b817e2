"""A real distributed run: `funds screen --engine spark --spark-master spark://...` against a standalone master
and two workers on loopback gives exactly the DuckDB findings; `funds learn`'s features too (issue 15)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .scenario import Book, write_lake
from .test_engines_spark import _comparable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.spark_cluster import standalone_cluster, why_not  # noqa: E402

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    reason = why_not()
    if reason:
        pytest.skip(f"Spark standalone cluster test skipped: {reason}")
    with standalone_cluster(tmp_path_factory.mktemp("spark-cluster"), workers=2) as c:
        yield c


def _cli(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHAINBREAKER_SPARK_DRIVER_MEMORY": "1g", "SPARK_LOCAL_IP": "127.0.0.1"}
    env.pop("CHAINBREAKER_SPARK_MASTER", None)
    return subprocess.run([sys.executable, "-m", "chainbreaker.faces.cli.main", "--workspace", str(ws), *args],
                          capture_output=True, text=True, env=env, timeout=600)


def test_screen_on_a_standalone_cluster_equals_duckdb(tmp_path: Path, book: Book, cluster) -> None:
    from chainbreaker.chains.funds.screen import screen
    from chainbreaker.core.workspace import Workspace

    requested = {a for a in book.roles if not a.startswith("G")}
    duck = Workspace(tmp_path / "duck")
    write_lake(duck, book, requested=requested)
    screen(duck, engine="duckdb")
    spark = Workspace(tmp_path / "spark")
    write_lake(spark, book, requested=requested)
    done = _cli(spark.root, "funds", "screen", "--engine", "spark", "--spark-master", cluster.master_url)
    assert done.returncode == 0, done.stdout + done.stderr + cluster.log_tail()
    # the job really ran on the cluster's executors: each worker launched an executor for it
    assert len(list((cluster.logs.parent / "work").glob("*/app-*/*"))) >= 2, cluster.log_tail()
    d, s = _comparable(duck), _comparable(Workspace(spark.root))
    assert len(d[1]) > 0
    assert d[1] == s[1]  # findings: rule, account, score, facts, evidence, explanations
    assert d[0] == s[0]  # every account's score, rank, rules and key facts


def test_learn_features_on_a_standalone_cluster_equal_duckdb(tmp_path: Path, book: Book, cluster) -> None:
    from chainbreaker.chains.funds.features_graph import account_features
    from chainbreaker.core.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    write_lake(ws, book)
    out = tmp_path / "spark_features.parquet"
    script = ("import sys; from chainbreaker.core.workspace import Workspace; "
              "from chainbreaker.chains.funds.features_graph import account_features; "
              "import pyarrow.parquet as pq; "
              "pq.write_table(account_features(Workspace(sys.argv[1]), 'spark'), sys.argv[2])")
    env = {**os.environ, "CHAINBREAKER_SPARK_MASTER": cluster.master_url, "CHAINBREAKER_SPARK_DRIVER_MEMORY": "1g"}
    done = subprocess.run([sys.executable, "-c", script, str(ws.root), str(out)], capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:] + cluster.log_tail()
    duck = account_features(ws, "duckdb").to_pandas().set_index("account").sort_index()
    spark = pd.read_parquet(out).set_index("account").sort_index()
    assert list(spark.index) == list(duck.index) and list(spark.columns) == list(duck.columns)
    for column in duck.columns:
        assert np.allclose(duck[column].astype(float), spark[column].astype(float), rtol=1e-9, equal_nan=True), column


def test_a_hostile_master_url_is_refused(tmp_path: Path) -> None:
    done = _cli(tmp_path / "ws", "funds", "screen", "--engine", "spark", "--spark-master", "spark://x:1;rm -rf /")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "Spark" in done.stdout + done.stderr
