"""One engine contract, two scales: Ibis over DuckDB (default) or local/remote PySpark.

Analyses are written once as Ibis expressions over the lake tables returned by
:meth:`Engine.table`; the engine decides how they run. Spark is an optional extra, imported
lazily with an error that says what to install.
"""

from __future__ import annotations

import os
import re
from typing import Any

import ibis

from chainbreaker.core.errors import EngineError
from chainbreaker.core.settings import Settings, get_settings
from chainbreaker.core.workspace import Workspace

ENGINES = ("duckdb", "spark")
# Declared capability gaps (what Ibis can express but a backend rejects or runs badly). Analyses
# choose the cheaper formulation when the engine has it and an equivalent portable one otherwise;
# tests check both give the same result.
CAPABILITIES: dict[str, frozenset[str]] = {
    "duckdb": frozenset({"asof_join"}),  # sort-merge ASOF join: ~2x cheaper than a framed window
    "spark": frozenset(),                # Ibis's PySpark backend rejects asof_join
}
_SPARK_SESSION: Any = None


_MASTER = re.compile(r"local(\[(\d+|\*)\])?|spark://[A-Za-z0-9.\-]+:\d{1,5}")


def check_spark_master(master: str) -> str:
    """``master`` if it is ``local[N]`` or ``spark://host:port``; a clear error otherwise (hostile input)."""
    if not _MASTER.fullmatch(master):
        raise EngineError(
            f"Spark 主节点地址无效：{master!r}。应为 local[N] 或 spark://主机:端口。",
            f"Invalid Spark master {master!r}: use local[N] or spark://host:port.")
    return master


def spark_session(settings: Settings | None = None) -> Any:
    """One Spark session per process (start-up costs ~6 s): local, or a standalone cluster's driver."""
    global _SPARK_SESSION
    if _SPARK_SESSION is not None:
        return _SPARK_SESSION
    settings = settings or get_settings()
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise EngineError(
            "未安装 Spark 引擎。请运行：pip install 'chainbreaker[spark]'（需要 Java 17）。",
            "The Spark engine is not installed. Run: pip install 'chainbreaker[spark]' (needs Java 17).",
        ) from exc
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)  # type: ignore[attr-defined]
    master = check_spark_master(settings.spark_master)
    builder = SparkSession.builder.master(master)
    if master.startswith("spark://"):
        # a standalone cluster: executors run on the workers and read the lake by its path
        builder = (builder.config("spark.executor.memory", settings.spark_executor_memory)
                   .config("spark.driver.host", os.environ["SPARK_LOCAL_IP"])
                   .config("spark.driver.bindAddress", os.environ["SPARK_LOCAL_IP"]))
    _SPARK_SESSION = (
        builder
        .appName("chainbreaker")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(settings.spark_shuffle_partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("CHAINBREAKER_SPARK_DRIVER_MEMORY", "6g"))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    _SPARK_SESSION.sparkContext.setLogLevel("ERROR")
    return _SPARK_SESSION


class Engine:
    """Ibis backend with the workspace's lake tables registered by name."""

    def __init__(self, ws: Workspace, name: str = "duckdb", settings: Settings | None = None) -> None:
        if name not in ENGINES:
            raise EngineError(f"未知引擎 {name}，可选：{', '.join(ENGINES)}", f"Unknown engine {name}; use one of {ENGINES}")
        self.ws = ws
        self.name = name
        self.settings = settings or get_settings()
        if name == "duckdb":
            self.con = ibis.duckdb.connect(
                threads=self.settings.duckdb_threads, memory_limit=self.settings.duckdb_memory_limit
            )
        else:
            self.con = ibis.pyspark.connect(spark_session(self.settings))
        self._tables: dict[str, Any] = {}

    def table(self, name: str) -> ibis.Table:
        if name not in self._tables:
            glob = self.ws.table_glob(name)
            self._tables[name] = self.con.read_parquet(glob, table_name=f"lake_{name}")
        return self._tables[name]

    def supports(self, capability: str) -> bool:
        """Whether this engine has ``capability`` (see :data:`CAPABILITIES`)."""
        return capability in CAPABILITIES[self.name]

    def has_table(self, name: str) -> bool:
        return self.ws.has_table(name)

    def to_arrow(self, expr: ibis.Expr) -> Any:
        """Execute ``expr`` and return a pyarrow Table (same on every engine)."""
        return self.con.to_pyarrow(expr)
