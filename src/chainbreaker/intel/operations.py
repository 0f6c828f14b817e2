"""Operations: groups of entities that form one gambling operation (团伙/全链条): ``intel operations``.

Communities of the link graph (``entity_links``, undirected, weighted by ``1 + ln(1 + count)``)
found with igraph's Leiden algorithm on the **modularity** objective (its default, CPM, returns
singletons on graphs like this one), with a fixed seed so a re-run gives the same groups. A
community becomes an operation only when it is anchored on findings: at least one of its entities
is the subject of a finding of some chain. Per operation: its chains, key persons, cards, sites,
platforms, total money flow inside it, findings, and a score

    score = mean of the three highest finding scores of its entities × (0.6 + 0.1 × chains with findings)

capped at 1: strong findings count, and an operation seen by more chains ranks higher. Tables
``operations`` (ranked) and ``operation_members`` (operation → entity).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa

from chainbreaker.intel.entities import MONEY_KINDS

SEED = 20261206
# plain modularity; below 1 it prefers fewer, larger groups (an analyst's --resolution when an operation
# comes out split, e.g. its boss apart from the cards on a small graph)
RESOLUTION = 1.0
TOP = 10
OPERATIONS = pa.schema([
    ("operation_id", pa.string()), ("rank", pa.int64()), ("score", pa.float64()), ("n_entities", pa.int64()),
    ("chains", pa.string()), ("finding_chains", pa.string()), ("n_findings", pa.int64()),
    ("key_persons", pa.string()), ("cards", pa.string()), ("sites", pa.string()), ("platforms", pa.string()),
    ("total_flow", pa.decimal128(38, 2)), ("n_links", pa.int64()), ("modularity", pa.float64()),
    ("run_id", pa.string()),
])
MEMBERS = pa.schema([("operation_id", pa.string()), ("entity_id", pa.string()), ("entity_type", pa.string()),
                     ("degree", pa.int64()), ("finding_score", pa.float64())])


@dataclass
class OperationsResult:
    run_id: str
    operations: int = 0
    communities: int = 0
    modularity: float = 0.0
    top: list[dict[str, Any]] = field(default_factory=list)


def operations(ws: Any, seed: int = SEED, resolution: float = RESOLUTION) -> OperationsResult:
    """Find and rank the operations of workspace ``ws`` (needs ``intel resolve`` first)."""
    from chainbreaker.core.errors import InputError

    if not ws.has_table("entity_links"):
        raise InputError("还没有实体与关系：请先运行 chainbreaker intel resolve。",
                         "No entities yet: run chainbreaker intel resolve first.")
    with ws.transaction("intel.operations", inputs=["entity_links", "entity_sources", "findings"]) as tx:
        return _operations(tx, seed, resolution)


def _entity_findings(con: Any) -> dict[str, list[tuple[str, float, str]]]:
    """entity → [(chain, score, finding id)] via the keys chains use for it."""
    have = {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
    if "findings" not in have:
        return {}
    rows = con.sql("""
        SELECT DISTINCT s.entity_id, f.chain, f.score, f.id
        FROM (SELECT DISTINCT entity_id, subject_key FROM entity_sources) s
        JOIN findings f ON f.subject_key = s.subject_key ORDER BY 1, 4""").fetchall()
    out: dict[str, list[tuple[str, float, str]]] = defaultdict(list)
    for entity, chain, score, fid in rows:
        out[entity].append((chain, float(score or 0), fid))
    return out


def _operations(tx: Any, seed: int, resolution: float) -> OperationsResult:
    import igraph as ig

    res = OperationsResult(tx.run_id)
    con = tx.con
    links = con.sql("SELECT kind, chain, src_id, dst_id, count, amount FROM entity_links").to_arrow_table().to_pylist()
    names = sorted({x for r in links for x in (r["src_id"], r["dst_id"])})
    index = {n: i for i, n in enumerate(names)}
    pairs: dict[tuple[int, int], float] = defaultdict(float)
    for r in links:
        a, b = sorted((index[r["src_id"]], index[r["dst_id"]]))
        if a != b:
            pairs[(a, b)] += 1 + math.log1p(r["count"] or 1)
    g = ig.Graph(n=len(names), edges=list(pairs), directed=False)
    weights = list(pairs.values())
    rng_before = random.getstate()
    random.seed(seed)  # igraph draws from Python's random module: a fixed seed gives the same groups
    try:
        parts = g.community_leiden(objective_function="modularity", weights=weights or None, n_iterations=-1,
                                     resolution=resolution)
    finally:
        random.setstate(rng_before)
    membership = parts.membership if names else []
    res.modularity = float(g.modularity(membership, weights=weights or None)) if names and pairs else 0.0
    groups: dict[int, list[str]] = defaultdict(list)
    for name, c in zip(names, membership, strict=True):
        groups[c].append(name)
    res.communities = len(groups)
    found = _entity_findings(con)
    degree = dict(zip(names, g.degree(), strict=True)) if names else {}
    ops, members = [], []
    for group in groups.values():
        anchors = [e for e in group if e in found]
        if not anchors or len(group) < 2:
            continue
        ops.append(_describe(group, anchors, found, links, degree, res.modularity))
    ops.sort(key=lambda o: (-o["score"], -o["total_flow"], o["operation_id"]))
    for rank, op in enumerate(ops, 1):
        op["rank"] = rank
        op["run_id"] = tx.run_id
        for e in op.pop("_members"):
            members.append({"operation_id": op["operation_id"], "entity_id": e, "entity_type": e.split(":", 1)[0],
                            "degree": degree.get(e, 0), "finding_score": max((s for _, s, _ in found.get(e, [])),
                                                                             default=None)})
    tx.write("operations", pa.Table.from_pylist(ops, schema=OPERATIONS))
    tx.write("operation_members", pa.Table.from_pylist(members, schema=MEMBERS))
    res.operations = len(ops)
    res.top = ops[:TOP]
    tx.counts.update({"operations": res.operations, "communities": res.communities, "modularity": res.modularity})
    return res


def _describe(group: list[str], anchors: list[str], found: dict[str, list[tuple[str, float, str]]],
              links: list[dict[str, Any]], degree: dict[str, int], modularity: float) -> dict[str, Any]:
    inside = set(group)
    internal = [r for r in links if r["src_id"] in inside and r["dst_id"] in inside]
    flow = sum((Decimal(r["amount"] or 0) for r in internal if r["kind"] in MONEY_KINDS), Decimal(0))
    card_flow: dict[str, Decimal] = defaultdict(Decimal)
    for r in internal:
        if r["kind"] in MONEY_KINDS:
            for e in (r["src_id"], r["dst_id"]):
                card_flow[e] += Decimal(r["amount"] or 0)
    scores = sorted((s for e in anchors for _, s, _ in found[e]), reverse=True)
    finding_chains = sorted({c for e in anchors for c, _, _ in found[e]})
    ids = {fid for e in anchors for _, _, fid in found[e]}
    score = min(1.0, sum(scores[:3]) / len(scores[:3]) * (0.6 + 0.1 * len(finding_chains)))

    def weight(e: str) -> tuple[float, int, str]:
        return (-max((s for _, s, _ in found.get(e, [])), default=0.0), -degree.get(e, 0), e)

    persons = sorted((e for e in group if e.startswith("person:")), key=weight)[:TOP]
    cards = sorted((e for e in group if e.startswith("account:")), key=lambda e: (-card_flow.get(e, 0), weight(e)))
    return {
        "operation_id": "OP-" + hashlib.sha1(min(anchors).encode("utf-8")).hexdigest()[:10],
        "score": round(score, 6), "n_entities": len(group),
        "chains": json.dumps(sorted({r["chain"] for r in internal} | set(finding_chains))),
        "finding_chains": json.dumps(finding_chains), "n_findings": len(ids),
        "key_persons": json.dumps(persons, ensure_ascii=False), "cards": json.dumps(cards[:TOP]),
        "sites": json.dumps(sorted(e for e in group if e.startswith(("site:", "domain:")))[:TOP]),
        "platforms": json.dumps(sorted(e for e in group if e.startswith("platform:")), ensure_ascii=False),
        "total_flow": flow, "n_links": len(internal), "modularity": round(modularity, 6), "_members": sorted(group),
    }
