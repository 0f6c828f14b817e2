"""``intel match``: gather person records, link them, cluster them, apply judgements (人员同一认定).

Writes, in one transaction (all or nothing):

* ``person_records``: one row per appearance of a person in a source (see :mod:`.records`);
* ``person_matches``: every link considered: exact pivots (``method`` = id_number | phone |
  bank_card), model pairs (``splink``, with ``match_weight``, ``match_probability`` and the level
  of every comparison in ``levels``) and analysts' accepts (``judgement``); ``status`` says what
  became of it (linked | below_threshold | rejected | split_off | shared_value | different_ids);
* ``person_clusters``: record → person (``cluster_id``), with the size of the person;
* ``person_pivot_skipped``: identifier values too widely shared to prove one person.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa

from chainbreaker.core.errors import InputError
from chainbreaker.core.workspace import Workspace
from chainbreaker.intel.er import judgements as jm
from chainbreaker.intel.er.clusters import Clusterer
from chainbreaker.intel.er.model import ModelParams, model_summary, score
from chainbreaker.intel.er.pivots import MAX_NAMES, pivot_edges
from chainbreaker.intel.er.records import gather

MATCHES = pa.schema([
    ("record_l", pa.string()), ("record_r", pa.string()), ("method", pa.string()), ("pivot_value", pa.string()),
    ("match_weight", pa.float64()), ("match_probability", pa.float64()), ("levels", pa.string()),
    ("judgement_id", pa.string()), ("status", pa.string()),
])


@dataclass
class MatchResult:
    records: int = 0
    persons: int = 0
    pivot_links: int = 0
    model_pairs: int = 0
    model_links: int = 0
    # sum of (1 - probability) over the model pairs that were linked: the false links the model itself
    # expects among them (its own estimate, compared with the truth in bench_intel_er)
    expected_false_links: float = 0.0
    judgements_applied: int = 0
    skipped_values: int = 0
    by_source: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    run_id: str = ""


def resolve(records: pa.Table, pivots: pa.Table, scored: pa.Table, eff: jm.Effective,
            link_probability: float) -> tuple[list[int], pa.Table, int]:
    """Cluster records (returns root index per record), the matches table and model links used."""
    ids = records.column("record_id").to_pylist()
    index = {r: i for i, r in enumerate(ids)}
    rejects = [(index[a], index[b]) for a, b, _ in eff.rejects if a in index and b in index]
    rejected_pairs = {(min(a, b), max(a, b)): j for a, b, j in eff.rejects}
    accepted_pairs = {(min(a, b), max(a, b)): j for a, b, j in eff.accepts}
    split = {index[r] for r, _ in eff.splits if r in index}
    uf = Clusterer(len(ids), rejects)
    find, union = uf.find, uf.union

    def take(a: str, b: str) -> str:
        ia, ib = index[a], index[b]
        if rejected_pairs and (min(a, b), max(a, b)) in rejected_pairs:
            return "rejected"
        if split and (ia in split or ib in split):
            return "split_off"
        if union(ia, ib) or find(ia) == find(ib):
            return "linked"
        return "rejected"  # a rejection across the two groups (cannot-link)

    acc = [(a, b, j) for a, b, j in eff.accepts if a in index and b in index]
    acc_status = []
    for a, b, _j in acc:
        ok = union(index[a], index[b]) or find(index[a]) == find(index[b])
        acc_status.append("linked" if ok else "rejected")
    pv = pivots.to_pydict()
    pv_status = [("shared_value" if not usable else "different_ids" if conflict else take(a, b))
                 for a, b, usable, conflict in zip(pv["record_l"], pv["record_r"], pv["usable"], pv["conflict"],
                                                   strict=True)]
    # model pairs, strongest first
    sc = scored.sort_by([("match_probability", "descending"), ("record_l", "ascending"), ("record_r", "ascending")])
    sc_status, model_links = [], 0
    for a, b, p in zip(sc.column("record_l").to_pylist(), sc.column("record_r").to_pylist(),
                       sc.column("match_probability").to_pylist(), strict=True):
        if p >= link_probability:
            same_before = find(index[a]) == find(index[b])
            status = take(a, b)
            model_links += status == "linked" and not same_before
        else:
            status = "below_threshold"
        sc_status.append(status)
    judged = {**accepted_pairs, **rejected_pairs}

    def part(left: list[str], right: list[str], method: Any, value: Any, w: Any, p: Any, lv: Any,
             status: list[str]) -> pa.Table:
        n = len(left)
        lo = [min(a, b) for a, b in zip(left, right, strict=True)]
        hi = [max(a, b) for a, b in zip(left, right, strict=True)]
        jid = [judged.get((x, y)) for x, y in zip(lo, hi, strict=True)] if judged else [None] * n
        def col(v: Any, t: pa.DataType) -> Any:
            return v if isinstance(v, (pa.Array, pa.ChunkedArray)) else pa.array([v] * n if not isinstance(v, list)
                                                                                  else v, t)
        return pa.table([pa.array(lo, pa.string()), pa.array(hi, pa.string()), col(method, pa.string()),
                         col(value, pa.string()), col(w, pa.float64()), col(p, pa.float64()), col(lv, pa.string()),
                         pa.array(jid, pa.string()), pa.array(status, pa.string())], schema=MATCHES)

    parts = [
        part([a for a, _, _ in acc], [b for _, b, _ in acc], "judgement", None, None, 1.0, None, acc_status),
        part(pv["record_l"], pv["record_r"], pv["method"], pv["pivot_value"], None, 1.0,
             [f'{{"pivot": "{m}"}}' for m in pv["method"]], pv_status),
        part(sc.column("record_l").to_pylist(), sc.column("record_r").to_pylist(), "splink", None,
             sc.column("match_weight").cast(pa.float64()), sc.column("match_probability").cast(pa.float64()),
             sc.column("levels").cast(pa.string()), sc_status),
    ]
    return uf.roots(), pa.concat_tables(parts), model_links


def match(ws: Workspace, params: ModelParams | None = None, *, progress: Any = None) -> MatchResult:
    """Run person entity resolution over the workspace (idempotent: same inputs, same persons)."""
    params = params or ModelParams()
    say = progress or (lambda _msg: None)
    res = MatchResult()
    with ws.transaction("intel.match", settings=asdict(params)) as tx:
        t0 = time.perf_counter()
        say("汇集人员记录 gathering person records")
        records = gather(tx.con)
        if records is None or records.num_rows == 0:
            raise InputError("工作区中没有含人员信息的表（accounts、persons、platform_members、travel_*）："
                             "请先导入银行流水、平台数据或出入境记录。",
                             "No table with persons in the workspace (accounts, persons, platform_members, "
                             "travel_*): ingest bank statements, a platform or travel records first.")
        tx.write("person_records", records)
        res.records = records.num_rows
        res.by_source = dict(tx.con.sql("SELECT source_table, count(*) FROM person_records GROUP BY 1 ORDER BY 1")
                             .fetchall())
        res.timings["gather"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        say("精确关联 exact pivots")
        pivots = pivot_edges(tx.con, MAX_NAMES).to_arrow_table()
        tx.con.register("_pivots", pivots)
        skipped = tx.con.sql("SELECT method AS kind, pivot_value AS value, count(*) + 1 AS records FROM _pivots "
                             "WHERE NOT usable GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2").to_arrow_table()
        tx.con.unregister("_pivots")
        tx.write("person_pivot_skipped", skipped)
        res.skipped_values = skipped.num_rows
        res.timings["pivots"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        say("模型训练与打分 training and scoring the model (Splink)")
        scored = score(records, params)
        res.model_pairs = scored.pairs.num_rows
        res.timings["model"] = round(time.perf_counter() - t0, 2)
        res.timings.update({f"model.{k}": v for k, v in scored.timings.items()})
        t0 = time.perf_counter()
        say("归并人员 clustering")
        eff = jm.effective(tx.con)
        res.judgements_applied = len(eff.accepts) + len(eff.rejects) + len(eff.splits)
        roots, matches, res.model_links = resolve(records, pivots, scored.pairs, eff, params.link_probability)
        tx.con.register("_m", matches.select(["method", "status"]))
        res.pivot_links = int(tx.con.sql("SELECT count(*) FROM _m WHERE status = 'linked' AND method NOT IN "
                                         "('splink', 'judgement')").fetchall()[0][0])
        tx.con.unregister("_m")
        tx.con.register("_m", matches.select(["method", "status", "match_probability"]))
        res.expected_false_links = round(float(tx.con.sql(
            "SELECT coalesce(sum(1 - match_probability), 0) FROM _m WHERE method = 'splink' AND status = 'linked'"
        ).fetchall()[0][0]), 2)
        tx.con.unregister("_m")
        tx.write("person_matches", matches)
        tx.con.register("_roots", pa.table({"record_id": records.column("record_id"),
                                            "root": pa.array(roots, pa.int64())}))
        clusters = tx.con.sql("""
            WITH g AS (SELECT r.root, 'P' || min(r.record_id) AS cluster_id, count(*) AS cluster_size,
                              count(DISTINCT p.source_table) AS cluster_sources
                       FROM _roots r JOIN person_records p USING (record_id) GROUP BY r.root)
            SELECT r.record_id, g.cluster_id, g.cluster_size, g.cluster_sources
            FROM _roots r JOIN g USING (root) ORDER BY g.cluster_id, r.record_id
        """).to_arrow_table()
        tx.con.unregister("_roots")
        tx.write("person_clusters", clusters)
        res.persons = len(set(clusters.column("cluster_id").to_pylist()))
        res.timings["cluster"] = round(time.perf_counter() - t0, 2)
        tx.counts.update({"records": res.records, "persons": res.persons, "model_pairs": res.model_pairs,
                          "model_links": res.model_links, "judgements_applied": res.judgements_applied,
                          "expected_false_links": res.expected_false_links})
        tx.settings["model"] = json.loads(model_summary(scored.model))
        res.run_id = tx.run_id
    return res
