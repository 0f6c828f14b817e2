"""Typed settings in one place. A run records the settings it used."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Process-wide settings, read from ``CHAINBREAKER_*`` environment variables."""

    model_config = SettingsConfigDict(env_prefix="CHAINBREAKER_", extra="ignore")

    workspace: Path = Field(Path("cb-workspace"), description="Workspace folder (lake, evidence, runs).")
    engine: Literal["duckdb", "spark"] = Field("duckdb", description="Analysis engine for Ibis expressions.")
    lang: Literal["zh", "en"] = Field("zh", description="Language of messages, reports and explanations.")
    timezone: str = Field("Asia/Shanghai", description="Time zone of source times that carry none.")
    duckdb_memory_limit: str = Field("6GB", description="DuckDB memory_limit for analyses.")
    duckdb_threads: int = Field(2, description="DuckDB worker threads (the reference machine has 2 cores).")
    sql_cache: bool = Field(
        True, description="Keep the DuckDB SQL compiled from Ibis expressions under <workspace>/cache/sql, so later "
        "runs of the same statements skip Ibis's compilation (~0.25 CPU s a funds screen); false compiles every time.")
    sql_cache_shared: bool = Field(
        True, description="Also keep the SQL of statements built only from table layouts, rules and code (never from "
        "data: recipes) in <user cache>/sql-recipes, shared by this user's workspaces, so a new workspace's first "
        "screen does not build and compile them again (~0.7 s at 1M transfers). The folder is used only when it is "
        "this user's and no one else can write to it. Ignored when sql_cache is false.")
    ingest_workers: int | None = Field(
        None, ge=1, description="Processes that read and normalise files in parallel in `ingest bank`, the "
        "ingest process included (default: min(2, number of files, CPU cores, 1 + cores the 1-minute load average "
        "leaves idle), or 1 for runs too small to gain; 1 = all in the "
        "ingest process).")
    mariadb_url: str = Field(
        "mysql://root@127.0.0.1:3306", description="MariaDB/MySQL server (mysql://user:password@host:port) that "
        "`ingest platform --via-mariadb` restores irregular SQL dumps into, in a scratch database it drops afterwards.")
    spark_shuffle_partitions: int = Field(4, description="spark.sql.shuffle.partitions for local Spark.")
    spark_master: str = Field(
        "local[2]", description="Spark master: `local[N]` (in-process) or `spark://host:port` of a standalone "
        "cluster whose workers can read the workspace folder (same path on every node).")
    spark_executor_memory: str = Field("1g", description="spark.executor.memory on a standalone cluster.")
    tech_host_budget: float = Field(
        120.0, ge=0, description="`tech scan`: seconds of requests per host for the whole scan (0 = no limit); "
        "when spent, the host's remaining fetches are skipped and recorded (error host_budget).")
    role: Literal["analyst", "investigator", "admin", "viewer"] = Field(
        "analyst", description="Role of the user: personal data is masked unless the role needs it."
    )
    user: str = Field("local", description="User name written to the audit log.")
    web_login_limit: int = Field(
        10, ge=1, description="`serve`: login attempts allowed per client address per 5 minutes (then 429).")
    web_tip_limit: int = Field(
        5, ge=1, description="`serve`: public tips allowed per client address per 10 minutes (then 429).")
    web_redis_url: str = Field(
        "redis://127.0.0.1:6379/0", description="`serve`: Redis where every worker process counts rate limits; "
        "when it does not answer at start (or an empty value), they count in the ops database.")


def user_cache_dir() -> Path:
    """This user's writable cache folder: ``$CHAINBREAKER_CACHE_DIR``, ``$XDG_CACHE_HOME`` or ``~/.cache``
    + ``chainbreaker``, else one in the temp folder. Created when missing."""
    candidates = [os.environ.get("CHAINBREAKER_CACHE_DIR"),
                  os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "chainbreaker"),
                  os.path.join(tempfile.gettempdir(), f"chainbreaker-cache-{os.getuid()}")]
    for candidate in candidates:
        if not candidate:
            continue
        path = Path(candidate)
        try:
            path.mkdir(parents=True, exist_ok=True)
            if os.access(path, os.W_OK):
                return path
        except OSError:
            continue
    raise OSError("no writable cache directory")


def get_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
