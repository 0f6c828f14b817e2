"""The Splink model for persons without a shared identifier (模糊人员比对).

One settings object serves both backends: DuckDB (default, embedded) and Spark (``engine=spark``,
the optional extra, imported lazily). The comparisons use only functions both engines have
(equality, ``levenshtein``, ``substr``), so the same trained model gives the same scores on either.
Parameters are estimated from the data on every run, none is set by hand:

* the prior (probability that two random records match) from the exact pivots used as
  deterministic rules (ID number, mobile), with an assumed recall of those rules;
* ``u`` (chance agreement among non-matches) by random sampling of record pairs;
* ``m`` (agreement among matches) by expectation maximisation on two blockings (same birth date,
  same name pinyin), each training the comparisons it does not block on.

The ID number is compared in its three parts, each its own comparison, because a typo damages
only one of them and the parts are independent among strangers (Splink adds the weights of the
comparisons as if they were): the region code (digits 1-6), the birth date (digits 7-14, read as
written even when it is no valid date; from the source's own birth date when there is no ID) and
the rest (sequence code with the sex digit, and the check digit). Comparing the whole number with a
Levenshtein distance instead counted birth date and region twice and let namesakes born the same
day in the same county through.

One rule is not learnt but follows from the standard: the check digit of GB 11643 (ISO 7064
MOD 11-2) catches every single mistyped digit and every swap of two neighbouring digits, so two
numbers that both pass the check and differ are not one number with a typo: such pairs are two
people and are never scored (they are left out of every blocking, for training and prediction;
an analyst can still ``judge accept`` them).

Comparisons: name (same characters, same pinyin, both with term frequencies so 王伟 counts for less
than a rare name; swapped given name; one pinyin letter off), birth date (exact, one digit off),
region (exact, one digit off), ID rest (same, one digit off), mobile, address (not the bank: see
``settings``). Each predicted pair keeps the level of every comparison, so an analyst sees why two
records were linked.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from chainbreaker.core.errors import EngineError, InputError

MODEL_COLUMNS = ("record_id", "name", "name_py", "surname_py", "given_py_sorted", "id_number", "id_valid",
                 "birth_date", "region", "phone", "address")

# Share of true pairs the deterministic rules (same ID, same mobile) are assumed to find; used
# only for the prior. The synthetic province (bench_intel_er) measures ~0.75; a lower value
# raises the prior and so the probability of every fuzzy pair a little.
DETERMINISTIC_RECALL = 0.7

# The model's input, derived once from person_records on the local DuckDB (so both engines score
# exactly the same values): the ID's parts as written, the ID's validity only for 18-character IDs.
_INPUT_SQL = """
    SELECT record_id, name, name_py, surname_py, given_py_sorted, id_number,
           CASE WHEN is18 THEN id_valid END AS id_valid,
           CASE WHEN is18 THEN substr(id_number, 7, 8) ELSE strftime(birth_date, '%Y%m%d') END AS birth,
           CASE WHEN is18 THEN substr(id_number, 1, 6) END AS region,
           CASE WHEN is18 THEN substr(id_number, 15, 4) END AS id_rest,
           phone, address
    FROM (SELECT *, coalesce(regexp_full_match(id_number, '[0-9]{17}[0-9X]'), false) AS is18 FROM _records_in)
"""


@dataclass(frozen=True)
class ModelParams:
    """Settings of one ER run (recorded in the run log)."""

    engine: str = "duckdb"
    review_probability: float = 0.5  # pairs kept in person_matches for review
    link_probability: float = 0.99  # pairs that join clusters (see docs/intel.md: expected false links ≤ 1 %)
    u_max_pairs: float = 5e6
    em_max_pairs: float = 1e6  # blocked pairs each EM session trains on (records sampled to reach it)
    seed: int = 42


# Two numbers that both pass the check digit and differ: two people (see the module docstring).
_TWO_VALID_IDS = "coalesce(l.id_valid AND r.id_valid AND l.id_number <> r.id_number, false)"


def blocking(*cols: str) -> Any:
    """Records agreeing on ``cols``, except pairs of two different valid ID numbers."""
    from splink.blocking_rule_library import CustomRule

    same = " AND ".join(f"l.{c} = r.{c}" for c in cols)
    return CustomRule(f"{same} AND NOT {_TWO_VALID_IDS}", sql_dialect="duckdb")


def settings(params: ModelParams) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator

    def custom(sql: str, label: str) -> Any:
        return cll.CustomLevel(sql, label_for_charts=label, base_dialect_str="duckdb")

    def one_off(col: str, label: str) -> Any:
        return custom(f"levenshtein({col}_l, {col}_r) = 1", label)

    name = cl.CustomComparison(
        output_column_name="name",
        comparison_description="姓名（汉字、拼音）name in characters and pinyin",
        comparison_levels=[
            cll.NullLevel("name_py"),
            cll.ExactMatchLevel("name", term_frequency_adjustments=True).configure(
                label_for_charts="汉字相同 same characters"),
            cll.ExactMatchLevel("name_py", term_frequency_adjustments=True).configure(
                label_for_charts="拼音相同（同音字/繁体） same pinyin"),
            custom("surname_py_l = surname_py_r AND given_py_sorted_l = given_py_sorted_r",
                   "名字颠倒 given name swapped"),
            one_off("name_py", "拼音差一个字母 pinyin one letter off"),
            cll.ElseLevel(),
        ],
    )
    def digits(output: str, col: str, description: str, same: str, off: str) -> Any:
        """Exact, one character off (a slip of the pen), else: the levels of an ID-derived part."""
        return cl.CustomComparison(
            output_column_name=output,
            comparison_description=description,
            comparison_levels=[cll.NullLevel(col), cll.ExactMatchLevel(col).configure(label_for_charts=same),
                               one_off(col, off), cll.ElseLevel()],
        )

    birth = digits("birth_date", "birth", "出生日期（取自身份证号，或来源自带）birth date from the ID or the source",
                   "出生日期相同 same birth date", "出生日期差一位（笔误） birth date one digit off")
    region = digits("region", "region", "身份证地区码 region code of the ID",
                    "地区码相同 same region code", "地区码差一位（笔误） region code one digit off")
    id_rest = digits("id_number", "id_rest", "身份证顺序码、性别位与校验码 ID sequence, sex digit and check digit",
                     "顺序码与校验码相同 same sequence and check digit",
                     "顺序码差一位（校验不通过） sequence one digit off (check digit fails)")
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            name,
            birth,
            region,
            id_rest,
            cl.ExactMatch("phone"),
            cl.ExactMatch("address"),
            # no bank: a person banks with several banks, and in the sources only account holders
            # carry one, so two records of one person hardly ever both name a bank: EM has nothing
            # to estimate its m from (the session collapsed on it) and the evidence is weak anyway
        ],
        blocking_rules_to_generate_predictions=[
            blocking("surname_py", "birth"),
            blocking("given_py_sorted", "birth"),
            # same name pinyin up to swapped given names (same pinyin implies it), when the birth
            # date carries a typo: with the region, or with the rest of the ID
            blocking("surname_py", "given_py_sorted", "region"),
            blocking("surname_py", "given_py_sorted", "id_rest"),
        ],
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,  # gamma_* (the level of each comparison) comes with it
        additional_columns_to_retain=[],
    )


def _db_api(engine: str, spill_dir: str) -> Any:
    if engine == "duckdb":
        import duckdb
        from splink import DuckDBAPI

        from chainbreaker.core.settings import get_settings

        s = get_settings()
        # bounded like every other analysis: DuckDB spills to a temporary folder of its own (for an
        # in-memory database it would otherwise write ".tmp" into the current folder)
        con = duckdb.connect(config={"memory_limit": s.duckdb_memory_limit, "threads": s.duckdb_threads,
                                     "temp_directory": spill_dir})
        return DuckDBAPI(connection=con)
    if engine == "spark":
        from chainbreaker.core.engine import spark_session  # raises EngineError when the extra is missing

        spark = spark_session()
        from splink import SparkAPI

        # no Scala UDF jar: the comparisons use only functions Spark SQL has (levenshtein, substr)
        # persist, not checkpoint: a checkpoint needs a checkpoint folder the shared session does not set
        return SparkAPI(spark_session=spark, register_udfs_automatically=False, break_lineage_method="persist",
                        num_partitions_on_repartition=max(2, spark.sparkContext.defaultParallelism))
    raise EngineError(f"未知引擎：{engine}（可选 duckdb、spark）", f"Unknown engine: {engine} (duckdb or spark)")


@dataclass
class Scored:
    """Pairs scored by Splink (``record_l < record_r``) and the trained model."""

    pairs: pa.Table  # record_l, record_r, match_weight, match_probability, levels (JSON)
    model: dict[str, Any]
    timings: dict[str, float]


def _with_parameters(params: ModelParams, model: dict[str, Any], dialect: str) -> dict[str, Any]:
    """The settings written for ``dialect`` carrying the prior, m and u of a trained ``model``.

    A saved model holds its SQL in the dialect it was trained on (DuckDB quotes names with ``"``,
    which Spark reads as a string), so the settings are generated again for the engine that scores
    and only the estimated parameters are taken over, level by level.
    """
    out = settings(params).get_settings(dialect).as_dict()
    if [c["output_column_name"] for c in out["comparisons"]] != [c["output_column_name"] for c in model["comparisons"]]:
        raise InputError("模型与当前比对设置不一致，请重新训练（不带已保存模型运行 intel match）。",
                         "The saved model does not fit the current comparisons; train again.")
    out["probability_two_random_records_match"] = model["probability_two_random_records_match"]
    for comp, trained in zip(out["comparisons"], model["comparisons"], strict=True):
        for level, tl in zip(comp["comparison_levels"], trained["comparison_levels"], strict=True):
            for key in ("m_probability", "u_probability", "tf_minimum_u_value"):
                if key in tl:
                    level[key] = tl[key]
    return out


@contextmanager
def _em_estimates_at_float_limit() -> Iterator[None]:
    """Let EM estimate a probability of (numerically) zero.

    EM's maximum-likelihood m of a level that matches never take is 0 (on the synthetic province a
    birth date differing in more than one digit, in a small sample an address never differing);
    after a few iterations it underflows, and Splink 5 then refuses the value and drops the whole
    training session. The estimate is passed on as the smallest value Splink accepts (1e-300), the
    same estimate at the limit of float64; nothing else changes.
    """
    from splink.internals import expectation_maximisation as em
    from splink.internals.comparison_level import M_U_CLAMP_MIN

    original = em.compute_proportions_for_new_parameters

    def clamped(df_params: Any) -> Any:
        records = original(df_params)
        for r in records:
            if r.get("output_column_name") == "_probability_two_random_records_match":
                continue
            for key in ("m_probability", "u_probability"):
                v = r.get(key)
                if v is not None and math.isnan(v):  # no match mass left at all: the session collapsed
                    raise ValueError(f"EM collapsed: {key} of {r.get('output_column_name')} is not a number")
                if v is not None and v < M_U_CLAMP_MIN:
                    r[key] = M_U_CLAMP_MIN
        return records

    em.compute_proportions_for_new_parameters = clamped
    try:
        yield
    finally:
        em.compute_proportions_for_new_parameters = original


def model_input(records: pa.Table) -> pa.Table:
    """The columns the model compares, derived from ``person_records`` (see ``_INPUT_SQL``)."""
    import duckdb

    cols = [c for c in MODEL_COLUMNS if c in records.column_names]
    missing = [c for c in MODEL_COLUMNS if c not in cols]
    if missing:
        raise EngineError(f"人员记录缺少列：{'、'.join(missing)}", f"person records lack columns: {', '.join(missing)}")
    local = duckdb.connect()
    try:
        local.register("_records_in", records.select(cols))
        return local.sql(_INPUT_SQL).to_arrow_table()
    finally:
        local.close()


def score(records: pa.Table, params: ModelParams, model: dict[str, Any] | None = None) -> Scored:
    """Train on ``records`` and score the blocked pairs at or above ``review_probability``.

    With ``model`` (a trained model as saved in ``Scored.model``) nothing is trained: the pairs are
    scored with those parameters, e.g. to score on Spark exactly what was trained on DuckDB.
    """

    logging.getLogger("splink").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="cb-er-", ignore_cleanup_errors=True) as spill_dir:
        return _score(records, params, model, _db_api(params.engine, spill_dir))


def _score(records: pa.Table, params: ModelParams, model: dict[str, Any] | None, db: Any) -> Scored:
    from splink import Linker, block_on

    # a fresh name per run: a Spark session (shared by the process) keeps the tables of earlier runs
    df = db.register(model_input(records), table_name=f"person_records_in_{uuid.uuid4().hex[:8]}")
    linker = Linker(df, settings(params) if model is None else _with_parameters(params, model, db.sql_dialect.sql_dialect_str),
                    log_level=None)
    tr = linker.training
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal t0
        timings[step] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()

    if model is None:
        tr.estimate_probability_two_random_records_match([block_on("id_number"), block_on("phone")],
                                                         recall=DETERMINISTIC_RECALL)
        lap("prior")
        tr.estimate_u_using_random_sampling(max_pairs=params.u_max_pairs, seed=params.seed)
        lap("u")
        trained = 0
        for rule in ("birth", "name_py"):
            # a session drops the comparisons its blocking uses from the linker's settings and only
            # puts them back when it succeeds (Splink 5): keep a copy to restore after a failure
            before = linker._settings_obj.core_model_settings.copy()
            try:
                # max_pairs samples records (hash-based) so that about that many blocked pairs are
                # trained on: without it EM runs on every pair of the blocking (30M+ at 1M records)
                with _em_estimates_at_float_limit():
                    tr.estimate_parameters_using_expectation_maximisation(blocking(rule),
                                                                          max_pairs=params.em_max_pairs)
                trained += 1
            except ValueError as exc:  # the session collapsed (too few matches in the blocking)
                linker._settings_obj.core_model_settings = before
                logging.getLogger(__name__).warning("EM blocked on %s failed: %s", rule, exc)
        if not trained:
            raise InputError("人员比对模型无法训练：记录太少或缺少姓名、出生日期。请先导入更多含人员信息的数据。",
                             "The person matching model could not be trained: too few records, or no names and "
                             "birth dates. Ingest more data with persons first.")
        lap("em")
    pred = linker.inference.predict(threshold_match_probability=params.review_probability)
    trained_model = linker.misc.save_model_to_json()
    import duckdb

    out = pred.as_pyarrow_table()  # scored pairs leave the engine once; labels are added locally
    local = duckdb.connect()
    local.register("pred", out)
    pairs = local.sql(f"SELECT least(record_id_l, record_id_r) AS record_l, greatest(record_id_l, record_id_r) "
                      f"AS record_r, match_weight, match_probability, {_levels_sql(trained_model)} AS levels "
                      f"FROM pred ORDER BY record_l, record_r").to_arrow_table()
    local.close()
    if params.engine == "duckdb":
        db.duckdb_con.close()  # its spill folder goes with the temporary directory
    lap("predict")
    return Scored(pairs=pairs, model=trained_model, timings=timings)


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
