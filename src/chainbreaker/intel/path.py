"""Shortest paths between any two identifiers over ``entity_links`` (关系路径): ``intel path``.

The search expands a frontier one hop at a time with a query on ``entity_links`` (no graph held in
memory, so it works on a lake of any size). ``direction="any"`` walks every link both ways.
``direction="money"`` walks money links (``transferred_to``, ``deposit_to``, ``withdrawal_to``)
only from payer to payee and in time order: a money hop is taken only if some of its transfers
happened at or after the earliest time the money could have arrived (the ``first_ts`` of the hop
before); other links (holder, site showing a card, same person) are walked both ways and keep the
time. Every state is kept per hop so the path read back is exactly the one found.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from chainbreaker.core.errors import InputError
from chainbreaker.core.model.finding import query
from chainbreaker.intel.entities import MONEY_KINDS, identifiers_of

DEFAULT_MAX_HOPS = 6
MAX_FINDINGS_PER_NODE = 20


@dataclass(frozen=True)
class _Hop:
    link: int  # index into the fetched links
    forward: bool


def resolved_connection(ws: Any) -> Any:
    """A connection to the lake whose entity tables are there and of the current shape."""
    from chainbreaker.intel.entities import ENTITIES, ENTITY_LINKS

    if not ws.has_table("entities") or not ws.has_table("entity_links"):
        raise InputError("还没有实体与关系：请先运行 chainbreaker intel resolve。",
                         "No entities yet: run chainbreaker intel resolve first.")
    con = ws.duck()
    for table, schema in (("entities", ENTITIES), ("entity_links", ENTITY_LINKS)):
        have = {r[0] for r in con.sql(f"DESCRIBE {table}").fetchall()}
        if set(schema.names) - have:
            raise InputError(f"表 {table} 由旧版本生成：请重新运行 chainbreaker intel resolve。",
                             f"Table {table} was made by an older version: run chainbreaker intel resolve again.")
    return con


def match_entities(con: Any, text: str) -> list[str]:
    """Entity ids in the workspace that ``text`` names (normalised identifier, entity id, or a key
    a chain uses: ``金沙:A001``, ``ID:...``, a scanned host)."""
    candidates = identifiers_of(text)
    s = (text or "").strip()
    rows = con.sql("""
        SELECT entity_id FROM entities
        WHERE list_contains(?, entity_id) OR key = ? OR list_contains(CAST(json(subject_keys) AS VARCHAR[]), ?)
           OR (entity_type = 'domain' AND list_contains(?, 'domain:' || key))
        ORDER BY entity_id""", params=[candidates, s, s, candidates]).fetchall()
    found = [r[0] for r in rows]
    # a domain names every site on it
    domains = [e for e in found if e.startswith("domain:")]
    if domains:
        more = con.sql("SELECT DISTINCT src_id FROM entity_links WHERE kind = 'on_domain' AND list_contains(?, dst_id)",
                       params=[domains]).fetchall()
        found += [r[0] for r in more if r[0] not in found]
    return found


def _neighbours(con: Any, frontier: list[str]) -> list[tuple[Any, ...]]:
    """Links touching the frontier, without their evidence (read back only for the path found)."""
    con.register("_path_frontier", pa.table({"id": pa.array(frontier, pa.string())}))
    try:
        return con.sql("""
            SELECT l.kind, l.chain, l.src_id, l.dst_id, l.first_us, l.last_us FROM _path_links l
            WHERE l.src_id IN (SELECT id FROM _path_frontier)
            UNION ALL
            SELECT l.kind, l.chain, l.src_id, l.dst_id, l.first_us, l.last_us FROM _path_links l
            WHERE l.dst_id IN (SELECT id FROM _path_frontier) AND l.src_id NOT IN (SELECT id FROM _path_frontier)
            ORDER BY 1, 3, 4, 2""").fetchall()
    finally:
        con.unregister("_path_frontier")


def _full_link(con: Any, link: tuple[Any, ...]) -> dict[str, Any]:
    row = con.sql("""SELECT kind, chain, src_id, dst_id, count, amount, first_ts, last_ts, evidence FROM entity_links
                     WHERE kind = ? AND chain = ? AND src_id = ? AND dst_id = ?""",
                  params=list(link[:4])).to_arrow_table().to_pylist()
    return row[0]


_MIN = -(2**62)  # before any time, in epoch microseconds


def shortest_path(con: Any, sources: list[str], targets: list[str], max_hops: int = DEFAULT_MAX_HOPS,
                  direction: str = "any") -> tuple[list[str], list[tuple[Any, ...]]]:
    """Node ids and links of one shortest path from any of ``sources`` to any of ``targets``."""
    if direction not in ("any", "money"):
        raise InputError(f"方向“{direction}”无效，可选 any 或 money。", f"Unknown direction '{direction}'; use any or money.")
    goal = set(targets)
    # the columns the search needs, once in memory (each hop is then a join, not a Parquet scan)
    con.execute("CREATE OR REPLACE TEMP TABLE _path_links AS SELECT kind, chain, src_id, dst_id, "
                "epoch_us(first_ts) AS first_us, epoch_us(last_ts) AS last_us FROM entity_links")
    # layer k: node -> (earliest money time, parent node, link)
    layers: list[dict[str, tuple[int, str | None, tuple[Any, ...] | None]]] = [{s: (_MIN, None, None) for s in sources}]
    best: dict[str, int] = {s: _MIN for s in sources}
    hit = next((s for s in sources if s in goal), None)
    while hit is None and len(layers) <= max_hops and layers[-1]:
        cur = layers[-1]
        nxt: dict[str, tuple[int, str | None, tuple[Any, ...] | None]] = {}
        for link in _neighbours(con, sorted(cur)):
            kind, _, src, dst, first_us, last_us = link
            for node, other, forward in ((src, dst, True), (dst, src, False)):
                if node not in cur:
                    continue
                t = cur[node][0]
                if direction == "money" and kind in MONEY_KINDS:
                    if not forward or (last_us is not None and last_us < t):
                        continue
                    t = max(t, first_us if first_us is not None else t)
                if other in best and best[other] <= t:
                    continue  # reached before, as early or earlier
                if other not in nxt or t < nxt[other][0]:
                    nxt[other] = (t, node, link)
        for node, (t, _, _) in nxt.items():
            best[node] = min(best.get(node, t), t)
        layers.append(nxt)
        hit = next((n for n in sorted(nxt) if n in goal), None)
    if hit is None:
        return [], []
    nodes, links = [hit], []
    for layer in reversed(layers):
        _, parent, link = layer[nodes[-1]]
        if parent is None:
            break
        nodes.append(parent)
        links.append(link)
    return nodes[::-1], links[::-1]


def _node(con: Any, entity_id: str) -> dict[str, Any]:
    row = con.sql("SELECT entity_type, key, coalesce(name, label), identifiers, subject_keys, chains FROM entities "
                  "WHERE entity_id = ?",
                  params=[entity_id]).fetchall()
    etype, key, label, idents, subjects, chains = row[0] if row else (entity_id.split(":")[0], None, None, "[]",
                                                                       "[]", "[]")
    found = query(con, subject=json.loads(subjects) or [key or ""], limit=MAX_FINDINGS_PER_NODE,
                  columns=["chain", "rule_id", "subject_type", "score", "severity", "explanation_zh",
                           "explanation_en"]).to_pylist()
    return {"id": entity_id, "type": etype, "label": label, "identifiers": json.loads(idents),
            "chains": json.loads(chains), "findings": found}


def _edge(link: dict[str, Any]) -> dict[str, Any]:
    out = {"kind": link["kind"], "chain": link["chain"], "from": link["src_id"], "to": link["dst_id"],
           "count": link["count"], "amount": None if link["amount"] is None else str(link["amount"]),
           "first_ts": link["first_ts"], "last_ts": link["last_ts"], "evidence": json.loads(link["evidence"] or "[]")}
    return out


def find_path(ws: Any, source: str, target: str, max_hops: int = DEFAULT_MAX_HOPS,
              direction: str = "any") -> dict[str, Any]:
    """``{"from", "to", "direction", "nodes": [...], "edges": [...]}``; empty lists when there is no path."""
    if direction not in ("any", "money"):
        raise InputError(f"方向“{direction}”无效，可选 any 或 money。", f"Unknown direction '{direction}'; use any or money.")
    if max_hops < 1 or max_hops > 12:
        raise InputError("--max-hops 必须在 1 到 12 之间。", "--max-hops must be between 1 and 12.")
    con = resolved_connection(ws)
    starts, ends = match_entities(con, source), match_entities(con, target)
    result: dict[str, Any] = {"from": source, "to": target, "direction": direction, "max_hops": max_hops,
                              "from_entities": starts, "to_entities": ends, "nodes": [], "edges": []}
    if not starts or not ends:
        return result
    nodes, links = shortest_path(con, starts, ends, max_hops, direction)
    result["nodes"] = [_node(con, n) for n in nodes]
    result["edges"] = [_edge(_full_link(con, x)) for x in links]
    return result
