"""The Splink model for persons without a shared identifier (模糊人员比对).

One settings object serves both backends: DuckDB (default, embedded) and Spark (``engine=spark``,
the optional extra, imported lazily). Parameters are estimated from the data on every run, none
is set by hand:

* the prior (probability that two random records match) from the exact pivots used as
  deterministic rules (ID number, mobile), with an assumed recall of those rules;
* ``u`` (chance agreement among non-matches) by random sampling of record pairs;
* ``m`` (agreement among matches) by expectation maximisation on two blockings (same birth date,
  same name pinyin), each training the comparisons it does not block on.

Comparisons: name (characters, pinyin with term frequencies, swapped given name, Jaro-Winkler on
pinyin), birth date (from the ID), ID number (exact, a typo or two), mobile, region of the ID,
address and bank. Each predicted pair keeps the level of every comparison, so an
analyst sees why two records were linked.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from chainbreaker.core.errors import EngineError, InputError

MODEL_COLUMNS = ("record_id", "source_table", "name", "name_py", "surname_py", "given_py_sorted", "id_number",
                 "birth_date", "region", "phone", "address", "bank_card", "bank")

# Share of true pairs the deterministic rules (same ID, same mobile) are assumed to find; used
# only for the prior. The synthetic province (bench_intel_er) measures ~0.75; a lower value
# raises the prior and so the probability of every fuzzy pair a little.
DETERMINISTIC_RECALL = 0.7
# Records sampled for each EM session when ``em_sample`` is not set: m converges on a sample, and
# pairs within one common name grow with the square of the records (王伟 in a province).
EM_RECORDS = 50_000


@dataclass(frozen=True)
class ModelParams:
    """Settings of one ER run (recorded in the run log)."""

    engine: str = "duckdb"
    review_probability: float = 0.5  # pairs kept in person_matches for review
    link_probability: float = 0.99  # pairs that join clusters
    u_max_pairs: float = 2e6
    em_sample: float | None = None  # share of records sampled for each EM session; None: about EM_RECORDS
    seed: int = 42


def settings(params: ModelParams) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    name = cl.CustomComparison(
        output_column_name="name",
        comparison_description="姓名（汉字、拼音）name in characters and pinyin",
        comparison_levels=[
            cll.NullLevel("name_py"),
            cll.ExactMatchLevel("name").configure(label_for_charts="汉字相同 same characters"),
            cll.ExactMatchLevel("name_py", term_frequency_adjustments=True).configure(
                label_for_charts="拼音相同（同音字/繁体） same pinyin"),
            cll.CustomLevel("surname_py_l = surname_py_r AND given_py_sorted_l = given_py_sorted_r",
                            label_for_charts="名字颠倒 given name swapped"),
            cll.JaroWinklerLevel("name_py", 0.9).configure(label_for_charts="拼音相近 pinyin similar"),
            cll.ElseLevel(),
        ],
    )
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            name,
            cl.DateOfBirthComparison("birth_date", input_is_string=False),
            cl.LevenshteinAtThresholds("id_number", [2]),
            cl.ExactMatch("phone"),
            cl.ExactMatch("region"),  # from the ID: fixed at birth, so a near region is only a typo
            cl.JaroWinklerAtThresholds("address", [0.9]),
            cl.ExactMatch("bank"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("surname_py", "birth_date"),
            block_on("given_py_sorted", "birth_date"),
            block_on("name_py", "region"),
        ],
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,  # gamma_* (the level of each comparison) comes with it
        additional_columns_to_retain=[],
    )


def _db_api(engine: str) -> Any:
    if engine == "duckdb":
        import duckdb
        from splink import DuckDBAPI

        from chainbreaker.core.settings import get_settings

        s = get_settings()
        # bounded like every other analysis: DuckDB spills to its temp folder instead of growing
        con = duckdb.connect(config={"memory_limit": s.duckdb_memory_limit, "threads": s.duckdb_threads})
        return DuckDBAPI(connection=con)
    if engine == "spark":
        from chainbreaker.core.engine import spark_session  # raises EngineError when the extra is missing

        spark = spark_session()
        from splink import SparkAPI

        return SparkAPI(spark_session=spark)
    raise EngineError(f"未知引擎：{engine}（可选 duckdb、spark）", f"Unknown engine: {engine} (duckdb or spark)")


@dataclass
class Scored:
    """Pairs scored by Splink (``record_l < record_r``) and the trained model."""

    pairs: pa.Table  # record_l, record_r, match_weight, match_probability, levels (JSON)
    model: dict[str, Any]
    timings: dict[str, float]


def score(records: pa.Table, params: ModelParams) -> Scored:
    """Train on ``records`` and score the blocked pairs at or above ``review_probability``."""
    from splink import Linker, block_on

    logging.getLogger("splink").setLevel(logging.WARNING)
    db = _db_api(params.engine)
    cols = [c for c in MODEL_COLUMNS if c in records.column_names]
    df = db.register(records.select(cols), table_name="person_records_in")
    linker = Linker(df, settings(params), log_level=None)
    tr = linker.training
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal t0
        timings[step] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()

    tr.estimate_probability_two_random_records_match([block_on("id_number"), block_on("phone")],
                                                     recall=DETERMINISTIC_RECALL)
    lap("prior")
    tr.estimate_u_using_random_sampling(max_pairs=params.u_max_pairs, seed=params.seed)
    lap("u")
    trained = 0
    sample = params.em_sample or min(1.0, EM_RECORDS / max(1, records.num_rows))
    for rule in ("birth_date", "name_py"):
        try:
            tr.estimate_parameters_using_expectation_maximisation(block_on(rule),
                                                                  record_sample_proportion=sample)
            trained += 1
        except ValueError as exc:  # a level never seen among matches drives its m to underflow
            logging.getLogger(__name__).warning("EM blocked on %s did not converge: %s", rule, exc)
    if not trained:
        raise InputError("人员比对模型无法训练：记录太少或缺少姓名、出生日期。请先导入更多含人员信息的数据。",
                         "The person matching model could not be trained: too few records, or no names and "
                         "birth dates. Ingest more data with persons first.")
    lap("em")
    pred = linker.inference.predict(threshold_match_probability=params.review_probability)
    model = linker.misc.save_model_to_json()
    import duckdb

    out = pred.as_pyarrow_table()  # scored pairs leave the engine once; labels are added locally
    local = duckdb.connect()
    local.register("pred", out)
    pairs = local.sql(f"SELECT record_id_l AS record_l, record_id_r AS record_r, match_weight, match_probability, "
                      f"{_levels_sql(model)} AS levels FROM pred").to_arrow_table()
    local.close()
    lap("predict")
    return Scored(pairs=pairs, model=model, timings=timings)


def level_labels(model: dict[str, Any]) -> dict[str, dict[int, str]]:
    """comparison output name → gamma value → label."""
    out: dict[str, dict[int, str]] = {}
    for comp in model["comparisons"]:
        levels = [lv for lv in comp["comparison_levels"]]
        n = len([lv for lv in levels if not lv.get("is_null_level")])
        labels: dict[int, str] = {}
        k = n - 1
        for lv in levels:
            if lv.get("is_null_level"):
                labels[-1] = "缺失 missing"
            else:
                labels[k] = lv.get("label_for_charts") or lv["sql_condition"]
                k -= 1
        out[comp["output_column_name"]] = labels
    return out


def _levels_sql(model: dict[str, Any]) -> str:
    """SQL building the per-pair JSON {comparison: {level, weight}} from the gamma_* and mw_* columns."""
    parts = []
    for comp, labels in level_labels(model).items():
        cases = " ".join(f"WHEN {g} THEN {_lit(lbl)}" for g, lbl in labels.items())
        parts.append(f"{_lit(comp)}: {{'level': CASE gamma_{comp} {cases} END, 'weight': round(mw_{comp}, 3)}}")
    return "to_json({" + ", ".join(parts) + "})::VARCHAR"


def _lit(s: str) -> str:
    return "'" + str(s).replace("'", "''") + "'"


def model_summary(model: dict[str, Any]) -> str:
    """The trained m/u per level as compact JSON (for the run log and docs)."""
    out = {"prior": model.get("probability_two_random_records_match")}
    for comp in model["comparisons"]:
        out[comp["output_column_name"]] = [
            {"level": lv.get("label_for_charts") or lv["sql_condition"], "m": lv.get("m_probability"),
             "u": lv.get("u_probability")}
            for lv in comp["comparison_levels"] if not lv.get("is_null_level")]
    return json.dumps(out, ensure_ascii=False, default=str)
