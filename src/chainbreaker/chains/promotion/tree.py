"""The agent tree (代理层级), built level by level as Ibis expressions (DuckDB or Spark), never by
recursion in Python.

Conventions (documented in docs/promotion.md and shared with the synthetic ground truth):

* a member whose upline is empty is a root; one whose upline is itself (自我推荐) or names a member
  missing from the dump (孤儿) is treated as a root and reported;
* members that never reach a root sit on or under a cycle of uplines; each cycle is cut at its
  smallest member id, which becomes a root, and the cycle is reported;
* ``level`` is 1 at a root; ``path`` lists node indexes from the root down to the member;
  ``upline_path`` is the member ids of the ancestors from the root down, joined by ``>``.

The descent is one join per level, from the roots down, until a level comes back empty. It cannot
loop: a member on a cycle of uplines is never reached from a root (its upline is on the cycle too),
so every level is new members only (the cycle guard), and the members left over are the cycles and
what hangs under them, found afterwards on the driver. ``MAX_LEVELS`` caps the depth: a chain of
uplines deeper than that is refused with a clear error instead of running one join per member.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa

from chainbreaker.core.engine import Engine
from chainbreaker.core.errors import InputError

MAX_LEVELS = 2000  # deepest real agent trees have tens of levels; each level is one engine join


@dataclass
class TreeIssues:
    self_refs: list[tuple[str, str, int]] = field(default_factory=list)  # (platform, member_id, idx)
    orphans: list[tuple[str, str, str, int]] = field(default_factory=list)  # (platform, member_id, upline, idx)
    cycles: list[tuple[str, list[str]]] = field(default_factory=list)  # (platform, members in cycle order)
    roots: dict[str, int] = field(default_factory=dict)  # platform -> number of roots
    levels: int = 0


@dataclass
class Tree:
    """Engine tables of one tree build: ``nodes`` (idx, platform, member_id, upline_id, parent,
    status) and ``tree`` (idx, level, path, upline_path); ``staged``: intermediate results to drop."""
    nodes: ibis.Table
    tree: ibis.Table
    issues: TreeIssues
    staged: list[str]


def build_tree(eng: Engine, members: ibis.Table, scratch: Path) -> Tree:
    """Tables ``nodes`` and ``tree`` on ``eng`` from ``members`` (platform_members rows)."""
    staged: list[str] = []

    def stage(expr: ibis.Table, name: str) -> ibis.Table:
        if name in staged:  # a name is staged once (Spark will not overwrite a result)
            name = f"{name}_{len(staged)}"
        staged.append(name)
        return eng.materialise(expr, name, scratch)

    m = members.select("platform", "member_id", "upline_id")
    m = m.mutate(idx=ibis.row_number().over(order_by=[m.platform, m.member_id]).cast("int64"))
    m = stage(m, "_tree_m")
    up = m.view()
    j = m.left_join(up, [m.platform == up.platform, up.member_id == m.upline_id])
    raw = j.select(
        idx=m.idx, platform=m.platform, member_id=m.member_id, upline_id=m.upline_id,
        parent=ibis.ifelse(m.upline_id == m.member_id, ibis.null("int64"), up.idx),
        status=ibis.cases((m.upline_id.isnull(), "root"), (m.upline_id == m.member_id, "self"),
                          (up.idx.isnull(), "orphan"), else_="child"),
    )
    nodes = stage(raw, "nodes")
    issues = TreeIssues()
    odd = eng.to_arrow(nodes.filter(nodes.status.isin(["self", "orphan"]))
                       .select("idx", "platform", "member_id", "upline_id", "status").order_by("idx")).to_pylist()
    issues.self_refs = [(r["platform"], r["member_id"], int(r["idx"])) for r in odd if r["status"] == "self"]
    issues.orphans = [(r["platform"], r["member_id"], r["upline_id"], int(r["idx"])) for r in odd
                      if r["status"] == "orphan"]
    levels: list[ibis.Table] = []
    issues.levels = _descend(eng, nodes, _roots(nodes.filter(nodes.parent.isnull())), levels, stage)
    # Whatever was not reached hangs on a cycle: find the cycles with vectorised pointer jumping.
    reached = _union(levels).select("idx") if levels else None
    left_expr = nodes if reached is None else nodes.anti_join(reached, "idx")
    left = eng.to_arrow(left_expr.select("idx", "parent", "platform", "member_id").order_by("idx"))
    if left.num_rows:
        cycles = _find_cycles(np.asarray(left["idx"].to_numpy(), dtype=np.int64),
                              np.asarray(left["parent"].to_numpy(), dtype=np.int64))
        pos = {int(i): k for k, i in enumerate(left["idx"].to_pylist())}
        plat, mid = left["platform"].to_pylist(), left["member_id"].to_pylist()
        for c in cycles:
            issues.cycles.append((plat[pos[c[0]]], [mid[pos[i]] for i in c]))
        cut = eng.materialise_arrow(pa.table({"idx": pa.array([c[0] for c in cycles], pa.int64()),
                                              "cut": pa.array([True] * len(cycles))}), "_tree_cut")
        staged.append("_tree_cut")
        jc = nodes.left_join(cut, "idx")
        nodes = stage(jc.select(
            idx=nodes.idx, platform=nodes.platform, member_id=nodes.member_id, upline_id=nodes.upline_id,
            parent=ibis.ifelse(cut.cut.notnull(), ibis.null("int64"), nodes.parent),
            status=ibis.ifelse(cut.cut.notnull(), "cycle", nodes.status)), "_tree_nodes1")
        nodes = stage(nodes, "nodes")  # under the name the run's SQL reads (Spark: nodes_<n>, copied by name)
        issues.levels = max(issues.levels,
                            _descend(eng, nodes, _roots(nodes.filter(nodes.status == "cycle")), levels, stage))
    issues.roots = {r["platform"]: int(r["n"]) for r in eng.to_arrow(
        nodes.filter(nodes.parent.isnull()).group_by("platform").aggregate(n=ibis._.count())
        .order_by("platform")).to_pylist()}
    tree = stage(_union(levels).select("idx", "level", "path", "upline_path"), "tree")
    keep = {getattr(nodes.op(), "name", None), "nodes", "tree"}
    return Tree(nodes, tree, issues, [n for n in staged if n not in keep])


def _roots(roots: ibis.Table) -> ibis.Table:
    return roots.select(idx=roots.idx, level=ibis.literal(1, "int64"), path=ibis.array([roots.idx]),
                        upline_path=ibis.literal("", "string"), member_id=roots.member_id)


def _union(levels: list[ibis.Table]) -> ibis.Table:
    out = levels[0]
    for t in levels[1:]:
        out = out.union(t, distinct=False)
    return out


def _descend(eng: Engine, nodes: ibis.Table, frontier: ibis.Table, levels: list[ibis.Table], stage) -> int:  # type: ignore[no-untyped-def]
    """Add the frontier and each level under it to ``levels``, one join per level; the depth reached."""
    depth = 0
    frontier = stage(frontier, f"_tree_lvl{len(levels)}")
    while eng.count(frontier):
        depth += 1
        if depth > MAX_LEVELS:
            raise InputError(f"代理层级超过 {MAX_LEVELS} 层，无法分析（请检查上级字段是否错位）。",
                             f"The agent tree is deeper than {MAX_LEVELS} levels (check the upline column).")
        levels.append(frontier)
        f = frontier
        child = nodes.join(f, nodes.parent == f.idx).select(
            idx=nodes.idx, level=f.level + 1, path=f.path.concat(ibis.array([nodes.idx])),
            upline_path=ibis.ifelse(f.upline_path == "", f.member_id, f.upline_path.concat(">", f.member_id)),
            member_id=nodes.member_id)
        frontier = stage(child, f"_tree_lvl{len(levels)}")
    return depth


def _find_cycles(idx: np.ndarray, parent: np.ndarray) -> list[list[int]]:
    """Among unreached nodes (each with a parent among them) return every cycle, starting at its
    smallest index and following uplines. Pointer jumping keeps this vectorised."""
    order = np.argsort(idx)
    idx, parent = idx[order], parent[order]
    nxt = np.searchsorted(idx, parent)  # local positions of the parents
    n = len(idx)
    # After >= n steps every walk is on its cycle; the image of that map is exactly the cycle nodes.
    jump = nxt.copy()
    steps = 1
    while steps < n:
        jump = jump[jump]
        steps *= 2
    on_cycle = np.zeros(n, dtype=bool)
    on_cycle[jump] = True
    low = np.where(on_cycle, idx, np.iinfo(np.int64).max)
    ptr = nxt.copy()
    steps = 1
    while steps < n:  # minimum over each cycle by pointer doubling
        low = np.minimum(low, low[ptr])
        ptr = ptr[ptr]
        steps *= 2
    cycles = []
    for start in np.unique(low[on_cycle]):
        pos = int(np.searchsorted(idx, start))
        members = [int(idx[pos])]
        cur = int(nxt[pos])
        while cur != pos:  # cycles are short; the walk is bounded by the cycle length
            members.append(int(idx[cur]))
            cur = int(nxt[cur])
        cycles.append(members)
    return cycles
