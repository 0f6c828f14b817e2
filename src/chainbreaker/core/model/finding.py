"""The Finding store: one shape for every chain, and the only writer and reader of ``findings``.

Every chain hands its findings to :func:`publish` with a :class:`Scope` (which of its earlier
findings this run replaces) and reads them back with :func:`query`. The finding id is stable
across runs: a hash of chain, rule, subject and period (:func:`finding_id`), so a case can cite a
finding and a re-run updates it instead of adding a copy. ``run_id`` is a column, not part of the id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

SEVERITIES = ("info", "low", "medium", "high", "critical")
# (lower bound, name), highest first: the one table severity is derived from, in Python and SQL
SEVERITY_BOUNDS = ((0.9, "critical"), (0.7, "high"), (0.5, "medium"), (0.3, "low"))

FINDINGS_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("run_id", pa.string()),
        ("chain", pa.string()),  # funds | promotion | tech | people | intel
        ("rule_id", pa.string()),
        ("rule_version", pa.string()),
        ("subject_type", pa.string()),  # account | member | person | site | group ...
        ("subject_key", pa.string()),
        ("score", pa.float64()),
        ("severity", pa.string()),
        ("period_start", pa.timestamp("us", tz="UTC")),
        ("period_end", pa.timestamp("us", tz="UTC")),
        ("facts", pa.string()),  # JSON object metric -> value
        ("explanation_zh", pa.string()),
        ("explanation_en", pa.string()),
        ("evidence", pa.string()),  # JSON list of references
    ]
)
_COLUMNS = [f.name for f in FINDINGS_SCHEMA]
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def severity_for(score: float) -> str:
    """Severity band of a score in [0, 1] (see :data:`SEVERITY_BOUNDS`)."""
    for bound, name in SEVERITY_BOUNDS:
        if score >= bound:
            return name
    return "info"


def _epoch_us(ts: dt.datetime | None) -> str:
    if ts is None:
        return ""
    if ts.tzinfo is None:  # naive times are stored as UTC (pyarrow's cast does the same)
        ts = ts.replace(tzinfo=dt.UTC)
    return str((ts - _EPOCH) // dt.timedelta(microseconds=1))


def finding_id(chain: str, rule_id: str, subject_type: str | None, subject_key: str | None,
               period_start: dt.datetime | None = None, period_end: dt.datetime | None = None) -> str:
    """The stable id of a finding: the same claim about the same subject and period keeps its id."""
    key = "|".join([chain, rule_id, subject_type or "", subject_key or "", _epoch_us(period_start),
                    _epoch_us(period_end)])
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


# The SQL twin of finding_id() and severity_for(), used by publish() on whole tables at once;
# tests/model/test_finding_store.py checks both give the same answer.
_ID_SQL = ("substr(sha1(concat_ws('|', chain, rule_id, coalesce(subject_type, ''), coalesce(subject_key, ''), "
           "coalesce(CAST(epoch_us(period_start) AS VARCHAR), ''), "
           "coalesce(CAST(epoch_us(period_end) AS VARCHAR), ''))), 1, 16)")
_SEVERITY_SQL = ("CASE " + " ".join(f"WHEN score >= {b} THEN '{n}'" for b, n in SEVERITY_BOUNDS)
                 + " ELSE 'info' END")


@dataclass
class Finding:
    """A claim the software makes about a subject, with the facts and the evidence behind it.

    Evidence references are dicts such as ``{"table": "transactions", "file_sha256": ...,
    "row": 12}`` (a source row), ``{"capture": sha256, "url": ..., "persona": ...}`` (a web
    capture) or ``{"table": "members", "key": ...}``.
    """

    run_id: str
    chain: str
    rule_id: str
    subject_type: str
    subject_key: str
    score: float
    explanation_zh: str
    explanation_en: str
    rule_version: str = "1"
    facts: dict[str, Any] = field(default_factory=dict)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    period_start: dt.datetime | None = None
    period_end: dt.datetime | None = None
    severity: str | None = None

    @property
    def id(self) -> str:
        return finding_id(self.chain, self.rule_id, self.subject_type, self.subject_key,
                          self.period_start, self.period_end)

    def as_row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "run_id": self.run_id,
            "chain": self.chain,
            "rule_id": self.rule_id,
            "rule_version": self.rule_version,
            "subject_type": self.subject_type,
            "subject_key": self.subject_key,
            "score": float(self.score),
            "severity": self.severity or severity_for(self.score),
            "period_start": self.period_start,
            "period_end": self.period_end,
            "facts": json.dumps(self.facts, ensure_ascii=False, default=str, sort_keys=True),
            "explanation_zh": self.explanation_zh,
            "explanation_en": self.explanation_en,
            "evidence": json.dumps(self.evidence, ensure_ascii=False, default=str),
        }


def findings_table(findings: list[Finding]) -> pa.Table:
    return pa.Table.from_pylist([f.as_row() for f in findings], schema=FINDINGS_SCHEMA)


@dataclass
class Scope:
    """Which of a chain's earlier findings one run replaces (all conditions given must hold).

    ``Scope()`` is everything of the chain; ``Scope(rule_prefix="funds.")`` one rule family;
    ``Scope(rule_ids=..., subjects=...)`` the rules of a scanner on the targets it scanned;
    ``Scope(facts={"platform": ["A"]})`` the findings whose ``facts.platform`` is A.
    Findings of other chains are never touched.
    """

    rule_prefix: str | None = None
    rule_ids: Sequence[str] | None = None
    subjects: Sequence[str] | None = None
    facts: Mapping[str, Sequence[str]] | None = None

    def where(self, chain: str) -> tuple[str, list[Any]]:
        """A SQL predicate (with parameters) selecting the findings in scope."""
        parts: list[str] = ["chain = ?"]
        params: list[Any] = [chain]
        if self.rule_prefix is not None:
            parts.append("starts_with(rule_id, ?)")
            params.append(self.rule_prefix)
        if self.rule_ids is not None:
            parts.append("list_contains(?, rule_id)")
            params.append(list(self.rule_ids))
        if self.subjects is not None:
            parts.append("list_contains(?, subject_key)")
            params.append(list(self.subjects))
        for key, values in (self.facts or {}).items():
            parts.append("list_contains(?, json_extract_string(facts, ?))")
            params += [list(values), "$." + key]
        return " AND ".join(parts), params


def _incoming(tx: Any, findings: list[Finding] | pa.Table | str) -> pa.Table:
    if isinstance(findings, str):
        return tx.con.sql(findings).to_arrow_table()
    if isinstance(findings, pa.Table):
        return findings
    return findings_table(list(findings))


def publish(target: Any, chain: str, findings: list[Finding] | pa.Table | str, scope: Scope | None = None) -> int:
    """Replace the ``chain``'s findings in ``scope`` by ``findings``; return how many were published.

    ``target`` is an open transaction (the findings commit with the rest of the run) or a
    workspace (a transaction of its own). ``findings`` are :class:`Finding` objects, an Arrow
    table of :data:`FINDINGS_SCHEMA` or a SQL query on the transaction's connection; ``id``,
    ``run_id`` and ``severity`` may be missing or NULL: the store fills them (the id always
    from :func:`finding_id`, the run id of the transaction, severity from the score). A finding
    with the id of an existing one replaces it wherever it was; two with the same id in one
    batch are one claim, and the higher score is kept.
    """
    if not hasattr(target, "run_id"):  # a workspace: publish in a transaction of its own
        with target.transaction(f"{chain}.findings") as tx:
            return publish(tx, chain, findings, scope)
    tx = target
    table = _incoming(tx, findings)
    for name in _COLUMNS:
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(table.num_rows, FINDINGS_SCHEMA.field(name).type))
    table = table.select(_COLUMNS).cast(FINDINGS_SCHEMA)
    if not table.num_rows and not tx.has_table("findings"):
        return 0  # nothing to publish and nothing to replace
    table = table.append_column("_ord", pa.array(range(table.num_rows), pa.int64()))
    con = tx.con
    con.register("_publish_in", table)
    try:
        chains = {r[0] for r in con.sql("SELECT DISTINCT chain FROM _publish_in").fetchall()}
        if chains - {chain}:
            raise ValueError(f"publish({chain!r}) got findings of chain(s) {sorted(chains - {chain})}")
        cols = ", ".join(_COLUMNS)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _publish_new AS
            WITH stamped AS (
                SELECT {_ID_SQL} AS id, coalesce(run_id, ?) AS run_id, chain, rule_id,
                       coalesce(rule_version, '1') AS rule_version, subject_type, subject_key, score,
                       coalesce(severity, {_SEVERITY_SQL}) AS severity,
                       period_start, period_end, facts, explanation_zh, explanation_en, evidence, _ord
                FROM _publish_in)
            SELECT {cols} FROM stamped
            QUALIFY row_number() OVER (PARTITION BY stamped.id ORDER BY score DESC NULLS LAST, _ord) = 1
            ORDER BY _ord""", [tx.run_id])
        if tx.has_table("findings"):
            pred, params = (scope or Scope()).where(chain)
            kept = con.sql(
                f"SELECT {cols} FROM findings WHERE NOT coalesce(({pred}), false) AND id NOT IN (SELECT id FROM _publish_new)",
                params=params).to_arrow_table().cast(FINDINGS_SCHEMA)
            new = con.sql(f"SELECT {cols} FROM _publish_new").to_arrow_table().cast(FINDINGS_SCHEMA)
            tx.write("findings", pa.concat_tables([kept, new]))
            published = new.num_rows
        else:
            published = tx.write("findings", con.sql(f"SELECT {cols} FROM _publish_new").to_arrow_table()
                                 .cast(FINDINGS_SCHEMA))
        con.execute("DROP TABLE _publish_new")
    finally:
        con.unregister("_publish_in")
    return published


def _connection(source: Any) -> Any:
    """A DuckDB connection with the lake's views, from a workspace, a transaction or a connection."""
    if hasattr(source, "run_id"):
        return source.con
    if hasattr(source, "duck"):
        return source.duck()
    return source


def query(source: Any, *, subject: str | Sequence[str] | None = None, chain: str | Sequence[str] | None = None,
          rule_id: str | Sequence[str] | None = None, rule_prefix: str | Sequence[str] | None = None,
          id: str | Sequence[str] | None = None, id_prefix: str | None = None,  # noqa: A002 - the column's name
          subject_type: str | None = None, min_score: float | None = None,
          facts: Mapping[str, Sequence[str]] | None = None, columns: Sequence[str] | None = None,
          limit: int | None = None) -> pa.Table:
    """Findings matching every condition given, highest score first (an empty table when none).

    ``source`` is a workspace, an open transaction (sees its staged findings) or a DuckDB
    connection with the lake's views. ``subject``, ``chain``, ``rule_id`` and ``rule_prefix``
    take one value or several; ``id`` cites findings by id (stable across runs), ``id_prefix`` by
    the first characters of one.
    """
    cols = list(columns or _COLUMNS)
    unknown = set(cols) - set(_COLUMNS)
    if unknown:
        raise ValueError(f"unknown findings columns {sorted(unknown)}")
    schema = pa.schema([FINDINGS_SCHEMA.field(c) for c in cols])
    con = _connection(source)
    tables = {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
    if "findings" not in tables:
        return schema.empty_table()

    def many(v: str | Sequence[str]) -> list[str]:
        return [v] if isinstance(v, str) else list(v)

    where: list[str] = ["true"]
    params: list[Any] = []
    for column, value in (("subject_key", subject), ("chain", chain), ("rule_id", rule_id), ("id", id)):
        if value is not None:
            where.append(f"list_contains(?, {column})")
            params.append(many(value))
    if rule_prefix is not None:
        prefixes = many(rule_prefix)
        where.append("(" + " OR ".join(["starts_with(rule_id, ?)"] * len(prefixes)) + ")" if prefixes else "false")
        params += prefixes
    if id_prefix is not None:
        where.append("starts_with(id, ?)")
        params.append(id_prefix)
    if subject_type is not None:
        where.append("subject_type = ?")
        params.append(subject_type)
    if min_score is not None:
        where.append("score >= ?")
        params.append(float(min_score))
    for key, values in (facts or {}).items():
        where.append("list_contains(?, json_extract_string(facts, ?))")
        params += [list(values), "$." + key]
    sql = (f"SELECT {', '.join(cols)} FROM findings WHERE {' AND '.join(where)} "
           f"ORDER BY score DESC, chain, rule_id, subject_key, id" + (f" LIMIT {int(limit)}" if limit else ""))
    return con.sql(sql, params=params).to_arrow_table().cast(schema)


def count_by_rule(source: Any, chain: str) -> dict[str, int]:
    """Number of findings per rule of one chain, most frequent first (ties by rule id)."""
    rules = query(source, chain=chain, columns=["rule_id"]).column("rule_id").to_pylist()
    counts: dict[str, int] = {}
    for r in rules:
        counts[r] = counts.get(r, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
