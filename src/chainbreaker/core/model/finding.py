"""The Finding: one shape for every chain, so intel, ops, the UI and exports treat them alike."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

SEVERITIES = ("info", "low", "medium", "high", "critical")

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


def severity_for(score: float) -> str:
    if score >= 0.9:
        return "critical"
    if score >= 0.7:
        return "high"
    if score >= 0.5:
        return "medium"
    if score >= 0.3:
        return "low"
    return "info"


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
        key = f"{self.run_id}|{self.chain}|{self.rule_id}|{self.subject_type}|{self.subject_key}"
        return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]

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


def replace_chain_findings(tx: Any, chain: str, new: pa.Table, rule_prefix: str | None = None) -> int:
    """Stage ``findings`` = existing findings of other chains (or other rule families) + ``new``.

    Each analysis run replaces its own findings and leaves the other chains' alone.
    """
    new = new.cast(FINDINGS_SCHEMA)
    tx.con.register("_new_findings", new)
    keep = f"chain <> '{chain}'"
    if rule_prefix:
        keep = f"({keep} OR rule_id NOT LIKE '{rule_prefix}%')"
    if tx.has_table("findings"):
        sql = f"SELECT * FROM findings WHERE {keep} UNION ALL SELECT * FROM _new_findings"
    else:
        sql = "SELECT * FROM _new_findings"
    rows = tx.write("findings", tx.con.sql(sql).to_arrow_table())
    tx.con.unregister("_new_findings")
    return rows
