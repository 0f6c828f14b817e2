"""One engine contract, two scales: Ibis over DuckDB (default) or local/remote PySpark.

Analyses are written once as Ibis expressions over the lake tables returned by
:meth:`Engine.table`; the engine decides how they run. Spark is an optional extra, imported
lazily with an error that says what to install.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
import pyarrow as pa
import sqlglot.expressions as sge

from chainbreaker.core.errors import EngineError
from chainbreaker.core.settings import Settings, get_settings, user_cache_dir
from chainbreaker.core.sql import ident
from chainbreaker.core.sqlcache import Fingerprint, SqlCache, recipe_key, shared_folder, source_digest
from chainbreaker.core.workspace import Workspace

ENGINES = ("duckdb", "spark")
# Declared capability gaps (what Ibis can express but a backend rejects or runs badly). Analyses
# choose the cheaper formulation when the engine has it and an equivalent portable one otherwise;
# tests check both give the same result.
CAPABILITIES: dict[str, frozenset[str]] = {
    # sort-merge ASOF join: ~2x cheaper than a framed min/max window; FIRST_VALUE/LAST_VALUE IGNORE NULLS
    # over one sort per account: ~1.8x cheaper again (Ibis cannot say IGNORE NULLS on DuckDB: raw SQL)
    # lake_row_ids: each lake row's file and row number (a few columns read now, the rest of a few rows later)
    "duckdb": frozenset({"asof_join", "ignore_nulls_window", "lake_row_ids"}),
    "spark": frozenset(),                # Ibis's PySpark backend rejects asof_join
}
# a lake row id (Engine.table_with_row_ids): the file's index << 40 | the row's number within its file
LAKE_FILE_ROW_BITS = 40
LAKE_FILE_ROW_MASK = (1 << LAKE_FILE_ROW_BITS) - 1
_SPARK_SESSION: Any = None
# DuckDB type text (as DESCRIBE gives it) and nullability -> Ibis dtype: parsing the text (sqlglot) costs
# ~0.5 ms a column, and a screen looks up ~200 columns of a dozen staged tables
_DUCK_TYPES: dict[tuple[str, bool], dt.DataType] = {}


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

    def __init__(self, ws: Workspace, name: str = "duckdb", settings: Settings | None = None,
                 duck: duckdb.DuckDBPyConnection | None = None) -> None:
        """``duck``: run the DuckDB engine on this connection (a transaction's, whose views show the
        lake with the run's staged tables), so what the engine materialises is visible to the run's
        own SQL without a copy. Ignored by Spark."""
        if name not in ENGINES:
            raise EngineError(f"未知引擎 {name}，可选：{', '.join(ENGINES)}", f"Unknown engine {name}; use one of {ENGINES}")
        self.ws = ws
        self.name = name
        self.settings = settings or get_settings()
        self._views = name == "duckdb" and duck is not None
        self.duck = duck
        if self._views:
            # Ibis sets the session time zone to UTC on the connection it wraps: same as Spark's
            self.con = ibis.duckdb.from_connection(duck)
        elif name == "duckdb":
            self.con = ibis.duckdb.connect(
                threads=self.settings.duckdb_threads, memory_limit=self.settings.duckdb_memory_limit
            )
            # the faces show their own progress; DuckDB's bar would write over it
            self.con.raw_sql("SET enable_progress_bar = false")
        else:
            self.con = ibis.pyspark.connect(spark_session(self.settings))
        self._tables: dict[str, Any] = {}
        # compiled SQL kept across runs (DuckDB only: Spark plans are not SQL text)
        self.sql_cache = None
        if name == "duckdb" and self.settings.sql_cache:
            shared = None
            if self.settings.sql_cache_shared:
                with contextlib.suppress(OSError):  # no writable cache folder: the workspace's own only
                    shared = shared_folder(user_cache_dir())
            self.sql_cache = SqlCache(ws.root / "cache" / "sql", shared=shared)

    def table(self, name: str) -> ibis.Table:
        if name not in self._tables and self._views:
            self._tables[name] = self._duck_table(name)
        if name not in self._tables:
            glob = self.ws.table_glob(name)
            if self.name == "duckdb":
                # the view Ibis's read_parquet makes, looked up with the engine's own DESCRIBE (Ibis's: ~5-10 ms a table)
                self._tables[name] = self._parquet_view(f"lake_{name}", [glob])
            else:
                self._tables[name] = self.con.read_parquet(glob, table_name=f"lake_{name}")
        return self._tables[name]

    def table_with_row_ids(self, name: str) -> ibis.Table | None:
        """Lake table ``name`` with a column ``lake_row`` (int64) that names each row: the file's index
        among the table's files << :data:`LAKE_FILE_ROW_BITS` | the row's number within its file (also
        a column of its own, ``lake_file_row``: the Parquet reader filters on it while reading). The
        same rows get the same values in every statement of this engine, so a statement that reads a
        few columns of every row can keep ``lake_row`` and a later one fetch other columns of the few
        rows it needs. None when the engine does not have the capability ``lake_row_ids``, or its lake
        tables are a transaction's views (which may show the run's own staged tables)."""
        key = f"{name}#rows"
        if key not in self._tables:
            if not self.supports("lake_row_ids") or self._views:
                return None
            # the files listed in order, rather than a glob: their index is the row id's high part
            pattern = Path(self.ws.table_glob(name))
            files = [str(f) for f in sorted(pattern.parent.glob(pattern.name))]
            self._tables[key] = self._parquet_view(
                f"lake_{name}_rows", files, f", file_row_number AS lake_file_row, "
                f"(CAST(file_index AS BIGINT) << {LAKE_FILE_ROW_BITS}) | file_row_number AS lake_row")
        return self._tables[key]

    def _parquet_view(self, view: str, paths: list[str], extra: str = "") -> ibis.Table:
        """DuckDB: the temporary view ``view`` of the Parquet files (or globs) ``paths``, with the columns
        ``extra`` (SQL, after ``*``) besides theirs, as an Ibis table."""
        files = ", ".join(sge.convert(os.path.abspath(p)).sql("duckdb") for p in paths)
        self.con.con.execute(f"CREATE OR REPLACE TEMPORARY VIEW {ident(view)} AS SELECT *{extra} FROM READ_PARQUET([{files}])")
        return self._duck_table(view)

    def _duck_table(self, name: str) -> ibis.Table:
        """DuckDB: the table or view ``name`` of the connection, as Ibis's ``con.table(name)`` gives it (the
        same expression: same schema, source and namespace), from one ``DESCRIBE`` on the raw connection
        with the column types parsed once per process. Ibis's own lookup (its ``DESCRIBE`` built with
        sqlglot, every type text parsed again) cost ~4 ms a staged table. The types are DuckDB's, not the
        expression's: a staged sum of integers is HUGEINT (``decimal(38, 0)``), which the next statements'
        SQL and results depend on."""
        rows = self.con.con.execute(f"DESCRIBE {ident(name)}").fetchall()
        mapper = self.con.compiler.type_mapper
        fields = {}
        for column, typ, null, *_ in rows:
            key = (typ, null == "YES")
            dtype = _DUCK_TYPES.get(key)
            if dtype is None:
                dtype = mapper.from_string(typ, nullable=key[1])
                if len(_DUCK_TYPES) < 1000:
                    _DUCK_TYPES[key] = dtype
            fields[column] = dtype
        schema = ibis.schema(fields)
        if schema.geospatial:  # Ibis loads its spatial extension for these
            return self.con.table(name)
        return ops.DatabaseTable(name, schema=schema, source=self.con,
                                 namespace=ops.Namespace(catalog=None, database=None)).to_expr()

    def supports(self, capability: str) -> bool:
        """Whether this engine has ``capability`` (see :data:`CAPABILITIES`)."""
        return capability in CAPABILITIES[self.name]

    def has_table(self, name: str) -> bool:
        return self.ws.has_table(name)

    def sql_cache_counts(self) -> dict[str, int]:
        """For a run's record: statements whose SQL came from the cache (of them, from the shared folder)
        and statements compiled; empty without the cache."""
        c = self.sql_cache
        if c is None:
            return {}
        return {"sql_cached": c.hits, "sql_cached_shared": c.shared_hits, "sql_compiled": c.misses + c.uncached}

    def compile(self, expr: ibis.Expr) -> str:
        """The SQL of ``expr`` (DuckDB: from the compiled-SQL cache when an earlier run compiled it)."""
        if self.sql_cache is None:
            return str(self.con.compile(expr))
        return self.sql_cache.compile(self.con, expr)

    def to_arrow(self, expr: ibis.Expr) -> Any:
        """Execute ``expr`` and return a pyarrow Table (same on every engine)."""
        if self.sql_cache is None:
            return self.con.to_pyarrow(expr)
        from ibis.backends.duckdb.converter import DuckDBPyArrowData

        # what Ibis's DuckDB to_pyarrow does, with the SQL from the cache: memtables registered first
        self.con._run_pre_execute_hooks(expr)
        table = self.con.con.sql(self.compile(expr.as_table())).to_arrow_table()
        return expr.__pyarrow_result__(table, data_mapper=DuckDBPyArrowData)

    def _recipe(self, kind: str, inputs: tuple[ibis.Table | None, ...], params: str,
                code: tuple[str, ...]) -> Fingerprint | None:
        if self.sql_cache is None:
            return None
        return recipe_key(kind, inputs, self.con, params, source_digest(("chainbreaker.core", *code)))

    def recipe_sql(self, kind: str, build: Callable[..., ibis.Table], inputs: tuple[ibis.Table | None, ...],
                   params: str, code: tuple[str, ...]) -> tuple[str, ibis.Table | None] | None:
        """DuckDB with the SQL cache: the SQL of ``build(*inputs)`` by its recipe (see
        :func:`~chainbreaker.core.sqlcache.recipe_key`; ``code``: the packages whose source builds it,
        besides ``chainbreaker.core``), and the expression when it had to be built. None when the
        statement has no recipe key here (Spark, the cache off, an input that is not a named table)."""
        fp = self._recipe(kind, inputs, params, code)
        if fp is None or self.sql_cache is None:
            return None
        return self.sql_cache.recipe(self.con, fp, lambda: build(*inputs))

    def recipe_arrow(self, kind: str, build: Callable[..., ibis.Table], inputs: tuple[ibis.Table | None, ...],
                     params: str, code: tuple[str, ...]) -> pa.Table:
        """``to_arrow(build(*inputs))``; with the DuckDB SQL cache, by its recipe (see :meth:`recipe_sql`).
        The Arrow types Ibis gives the expression's result are kept beside its SQL, so that a hit
        converts DuckDB's result the same way without the expression."""
        fp = self._recipe(kind, inputs, params, code)
        if fp is None or self.sql_cache is None:
            return self.to_arrow(build(*inputs))
        sql, expr = self.sql_cache.recipe(self.con, fp, lambda: build(*inputs))
        types_key = f"{fp.key}-arrow"
        stored = self.sql_cache.load_text(types_key) if expr is None else None
        if expr is None and stored is None:  # the types went missing (trimmed apart): built again
            expr = build(*inputs)
        if expr is not None:
            from ibis.formats.pyarrow import PyArrowSchema

            schema = PyArrowSchema.from_ibis(expr.schema())
            self.sql_cache.store_text(types_key, base64.b64encode(schema.serialize().to_pybytes()).decode("ascii"))
            self.con._run_pre_execute_hooks(expr)  # memtables it reads (not cached then) registered first
        else:
            schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(stored or "")))
        return _as_schema(self.con.con.sql(sql).to_arrow_table(), schema)

    def into_duck(self, table: ibis.Table, name: str) -> None:
        """Make ``table`` the temp table ``name`` of the DuckDB connection given as ``duck`` (for the
        run's own SQL after the engine's part). DuckDB: nothing moves when ``table`` is already that
        temp table (staged under ``name``); Spark: the rows come back as Arrow (zones restored)."""
        if self.duck is None:
            raise EngineError("内部错误：引擎没有 DuckDB 连接。", "Internal error: the engine has no DuckDB connection.")
        if self._views:
            if getattr(table.op(), "name", None) != name:
                self.con.raw_sql(f"CREATE OR REPLACE TEMP TABLE {ident(name)} AS {self.compile(table)}")
            return
        arrow = utc_timestamps(self.to_arrow(table))
        self.duck.register(f"_{name}_arrow", arrow)
        try:
            self.duck.execute(f"CREATE OR REPLACE TEMP TABLE {ident(name)} AS SELECT * FROM {ident('_' + name + '_arrow')}")
        finally:
            self.duck.unregister(f"_{name}_arrow")

    def from_duck(self, name: str) -> ibis.Table:
        """The temp table ``name`` of the ``duck`` connection as an engine table."""
        if self.duck is None:
            raise EngineError("内部错误：引擎没有 DuckDB 连接。", "Internal error: the engine has no DuckDB connection.")
        if self._views:
            return self._duck_table(name)
        return self.materialise_arrow(self.duck.sql(f"SELECT * FROM {ident(name)}").to_arrow_table(), name)

    def duck_cursor(self) -> duckdb.DuckDBPyConnection | None:
        """DuckDB: a new connection (cursor) to the engine's database, for DuckDB SQL over Arrow results
        beside the engine (opening a database of its own costs ~20-40 ms, closing it as much); None on Spark."""
        return self.con.con.cursor() if self.name == "duckdb" else None

    def count(self, expr: ibis.Table) -> int:
        """Number of rows of ``expr``."""
        return int(self.con.execute(expr.count()))

    # ------------------------------------------------------------------ staging (物化中间结果)
    def materialise(self, expr: ibis.Table, name: str, scratch: Path) -> ibis.Table:
        """Compute ``expr`` once and return it as a table to read several times.

        DuckDB: a temporary table (in memory, spills to disk under the memory limit; no Parquet
        encode/decode). Spark: a Parquet file under ``scratch``, read back (Spark does not reuse a
        sub-plan that is read several times). Drop with :meth:`drop_staged`.
        """
        if self.name == "duckdb":
            self.con.raw_sql(f"CREATE OR REPLACE TEMP TABLE {ident(name)} AS {self.compile(expr)}")
            return self._duck_table(name)
        target = scratch / name / "part.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        self.con.to_parquet(expr, str(target))
        return self.con.read_parquet(str(target), table_name=name)

    def materialise_job(self, expr: ibis.Table | str, name: str,
                        arrows: dict[str, pa.Table] | None = None) -> Callable[[], None] | None:
        """DuckDB: a function that materialises ``expr`` (an expression or its SQL) as ``name`` on a
        connection of its own, to run on another thread while this engine goes on (then
        :meth:`staged_table`); None elsewhere.

        ``expr`` is compiled now. The function runs it on a cursor (a second connection to the same
        database) as a regular table, since temporary tables and views belong to their connection:
        the lake views of this engine are recreated there, and ``arrows`` (name -> Arrow table)
        registered under the names of the staged Arrow tables ``expr`` reads. Drop with :meth:`drop_staged`.
        """
        if self.name != "duckdb":
            return None
        sql = expr if isinstance(expr, str) else self.compile(expr)
        con = self.con.con
        lake = [getattr(t.op(), "name", "") for t in self._tables.values()]
        views = [r[0] for r in con.execute(
            "SELECT sql FROM duckdb_views() WHERE temporary AND list_contains(?, view_name)", [lake]).fetchall()]
        zone = con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0]
        cursor = con.cursor()

        def run() -> None:
            try:
                cursor.execute("SET TimeZone = ?", [zone])
                for view in views:
                    cursor.execute(view)
                for arrow_name, table in (arrows or {}).items():
                    cursor.register(arrow_name, table)
                cursor.execute(f"CREATE OR REPLACE TABLE {ident(name)} AS {sql}")
            finally:
                cursor.close()
        return run

    def staged_table(self, name: str) -> ibis.Table:
        """The table ``name`` made by a :meth:`materialise_job` function, once it has run."""
        return self._duck_table(name)

    def materialise_arrow(self, table: pa.Table, name: str) -> ibis.Table:
        """An Arrow table as an engine table (DuckDB: a temporary table, so compiled SQL sees it;
        Spark: a temporary view of a DataFrame made from the Arrow data itself: an Ibis memtable goes
        through pandas, whose Arrow-backed strings PySpark 4.0 cannot take, and falls back to its slow
        row-by-row path with a warning)."""
        if self.name != "duckdb":
            self.con._session.createDataFrame(table).createOrReplaceTempView(name)
            return self.con.table(name)
        con = self.con.con
        con.register(f"{name}_arrow", table)
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {ident(name)} AS SELECT * FROM {ident(name + '_arrow')}")
        finally:
            con.unregister(f"{name}_arrow")
        return self._duck_table(name)

    def drop_staged(self, names: list[str]) -> None:
        """Drop temporary tables made by :meth:`materialise` (Spark's files go with the scratch folder)."""
        if self.name == "duckdb":
            for name in names:
                self.con.raw_sql(f"DROP TABLE IF EXISTS {ident(name)}")

    def staging(self, scratch: Path, prefix: str, tag: str, params: str = "", code: tuple[str, ...] = ()) -> Staging:
        """A :class:`Staging` of this engine: named intermediate results, dropped on close. ``params`` and
        ``code``: what the builders of :meth:`Staging.recipe` depend on besides their tables."""
        return Staging(self, scratch, prefix, tag, params, code)


def _as_schema(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with ``schema``'s column types, as Ibis converts a DuckDB result to an expression's schema."""
    if table.schema == schema:
        return table
    arrays = []
    for field in schema:
        column = table[field.name]
        if pa.types.is_null(field.type):
            column = pa.nulls(len(column))
        elif column.type != field.type:
            column = column.cast(field.type)
        arrays.append(column)
    return pa.Table.from_arrays(arrays, schema=schema)


def utc_timestamps(table: pa.Table) -> pa.Table:
    """Spark hands timestamps back without their zone; its session zone is UTC, as in the lake."""
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type) and f.type.tz is None:
            table = table.set_column(i, f.name, table.column(i).cast(pa.timestamp(f.type.unit, tz="UTC")))
    return table


class Staging:
    """Intermediate results of one run, materialised once each by the engine and dropped on close.

    ``stage(expr, kind)`` names the result ``<prefix>_<kind>_<tag>``; the scratch folder is the run's
    ``Workspace.scratch`` (removed with it, swept by the next writer after a kill).
    """

    def __init__(self, eng: Engine, scratch: Path, prefix: str, tag: str, params: str = "",
                 code: tuple[str, ...] = ()) -> None:
        self.eng, self.scratch, self.prefix, self.tag = eng, scratch, prefix, tag
        self.params, self.code = params, code
        self.names: list[str] = []

    def _name(self, kind: str) -> str:
        name = f"{self.prefix}_{kind}_{self.tag}"
        self.names.append(name)
        return name

    def __call__(self, expr: ibis.Table, kind: str) -> ibis.Table:
        return self.eng.materialise(expr, self._name(kind), self.scratch)

    def recipe(self, kind: str, build: Callable[..., ibis.Table], *inputs: ibis.Table | None) -> ibis.Table:
        """``self(build(*inputs), kind)``, where the DuckDB engine's SQL cache may give the statement's SQL
        without ``build`` being called: a statement built before from inputs of the same schemas, with
        the same parameters and the same source code (see :meth:`Engine.recipe_sql`).

        ``build`` may read nothing but its arguments (tables) and what ``params`` (given to
        :meth:`Engine.staging`) stands for; its source must be in the packages named by ``code``.
        """
        name = self._name(kind)
        found = self.eng.recipe_sql(kind, build, inputs, self.params, self.code)
        if found is None:
            return self.eng.materialise(build(*inputs), name, self.scratch)
        if found[1] is not None:  # built: memtables it reads (not cached then) registered first
            self.eng.con._run_pre_execute_hooks(found[1])
        self.eng.con.raw_sql(f"CREATE OR REPLACE TEMP TABLE {ident(name)} AS {found[0]}")
        return self.eng._duck_table(name)

    def recipe_arrow(self, kind: str, build: Callable[..., ibis.Table], *inputs: ibis.Table | None) -> pa.Table:
        """``eng.to_arrow(build(*inputs))`` by its recipe, as :meth:`recipe` stages."""
        return self.eng.recipe_arrow(kind, build, inputs, self.params, self.code)

    def beside(self, expr: ibis.Table, kind: str, submit: Callable[[Callable[[], None]], Future[None]],
               arrows: dict[str, pa.Table] | None = None) -> Callable[[], ibis.Table]:
        """Stage ``expr`` as ``stage(expr, kind)`` does, by ``submit`` (an executor's: another thread)
        while the engine runs other statements (DuckDB; elsewhere now). Returns a function that
        waits for it and gives the table. ``arrows``: see :meth:`Engine.materialise_job`."""
        return self._beside(expr, self._name(kind), submit, arrows)

    def beside_recipe(self, kind: str, build: Callable[..., ibis.Table], *inputs: ibis.Table | None,
                      submit: Callable[[Callable[[], None]], Future[None]],
                      arrows: dict[str, pa.Table] | None = None) -> Callable[[], ibis.Table]:
        """:meth:`beside` of ``build(*inputs)`` by its recipe, as :meth:`recipe` stages."""
        found = self.eng.recipe_sql(kind, build, inputs, self.params, self.code)
        if found is None:
            return self.beside(build(*inputs), kind, submit, arrows)
        return self._beside(found[0], self._name(kind), submit, arrows)

    def _beside(self, expr: ibis.Table | str, name: str, submit: Callable[[Callable[[], None]], Future[None]],
                arrows: dict[str, pa.Table] | None) -> Callable[[], ibis.Table]:
        job = self.eng.materialise_job(expr, name, arrows)
        if job is None:
            assert not isinstance(expr, str)
            table = self.eng.materialise(expr, name, self.scratch)
            return lambda: table
        future = submit(job)

        def result() -> ibis.Table:
            future.result()
            return self.eng.staged_table(name)
        return result

    def arrow(self, table: pa.Table, kind: str) -> ibis.Table:
        """An Arrow table as an engine table (DuckDB: raw statements do not see Ibis memtables)."""
        return self.eng.materialise_arrow(table, self._name(kind))

    def close(self) -> None:
        self.eng.drop_staged(self.names)
