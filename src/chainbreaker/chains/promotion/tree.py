"""The agent tree (代理层级), built level by level in DuckDB, never by recursion in Python.

Conventions (documented in docs/promotion.md and shared with the synthetic ground truth):

* a member whose upline is empty is a root; one whose upline is itself (自我推荐) or names a member
  missing from the dump (孤儿) is treated as a root and reported;
* members that never reach a root sit on or under a cycle of uplines; each cycle is cut at its
  smallest member id, which becomes a root, and the cycle is reported;
* ``level`` is 1 at a root; ``path`` lists node indexes from the root down to the member.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np


@dataclass
class TreeIssues:
    self_refs: list[tuple[str, str, int]] = field(default_factory=list)  # (platform, member_id, idx)
    orphans: list[tuple[str, str, str, int]] = field(default_factory=list)  # (platform, member_id, upline, idx)
    cycles: list[tuple[str, list[str]]] = field(default_factory=list)  # (platform, members in cycle order)
    roots: dict[str, int] = field(default_factory=dict)  # platform -> number of roots
    levels: int = 0


def build_tree(con: duckdb.DuckDBPyConnection, where: str = "") -> TreeIssues:
    """Create temp tables ``nodes`` (idx, platform, member_id, upline_id, parent, status) and
    ``tree`` (idx, level, path) on ``con`` from the view ``platform_members``."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _m AS
        SELECT (row_number() OVER (ORDER BY platform, member_id) - 1)::BIGINT AS idx, platform, member_id, upline_id
        FROM platform_members {where}
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE nodes AS
        SELECT n.idx, n.platform, n.member_id, n.upline_id,
               CASE WHEN n.upline_id = n.member_id THEN NULL ELSE p.idx END AS parent,
               CASE WHEN n.upline_id IS NULL THEN 'root' WHEN n.upline_id = n.member_id THEN 'self'
                    WHEN p.idx IS NULL THEN 'orphan' ELSE 'child' END AS status
        FROM _m n LEFT JOIN _m p ON p.platform = n.platform AND p.member_id = n.upline_id
        ORDER BY n.idx
    """)
    issues = TreeIssues()
    for plat, mid, idx in con.sql("SELECT platform, member_id, idx FROM nodes WHERE status='self' ORDER BY idx").fetchall():
        issues.self_refs.append((plat, mid, int(idx)))
    for plat, mid, up, idx in con.sql(
            "SELECT platform, member_id, upline_id, idx FROM nodes WHERE status='orphan' ORDER BY idx").fetchall():
        issues.orphans.append((plat, mid, up, int(idx)))
    con.execute("CREATE OR REPLACE TEMP TABLE tree (idx BIGINT, level BIGINT, path BIGINT[])")
    con.execute("CREATE OR REPLACE TEMP TABLE frontier AS SELECT idx, 1::BIGINT AS level, [idx] AS path "
                "FROM nodes WHERE parent IS NULL")
    issues.levels = _descend(con)
    # Whatever was not reached hangs on a cycle: find the cycles with vectorised pointer jumping.
    left = con.sql("SELECT n.idx, n.parent FROM nodes n ANTI JOIN tree t USING (idx) ORDER BY n.idx").fetchnumpy()
    if len(left["idx"]):
        cycles = _find_cycles(np.asarray(left["idx"], dtype=np.int64), np.asarray(left["parent"], dtype=np.int64))
        cut = [c[0] for c in cycles]
        con.execute("UPDATE nodes SET status = 'cycle', parent = NULL WHERE idx IN (SELECT unnest($1::BIGINT[]))",
                    [cut])
        names = dict((int(i), (p, m)) for i, p, m in con.sql(
            "SELECT idx, platform, member_id FROM nodes WHERE idx IN (SELECT unnest($1::BIGINT[]))",
            params=[[i for c in cycles for i in c]]).fetchall())
        for c in cycles:
            issues.cycles.append((names[c[0]][0], [names[i][1] for i in c]))
        con.execute("CREATE OR REPLACE TEMP TABLE frontier AS SELECT idx, 1::BIGINT AS level, [idx] AS path "
                    "FROM nodes WHERE status = 'cycle'")
        issues.levels = max(issues.levels, _descend(con))
    issues.roots = {p: int(n) for p, n in con.sql(
        "SELECT platform, count(*) FROM nodes WHERE parent IS NULL GROUP BY 1 ORDER BY 1").fetchall()}
    return issues


def _descend(con: duckdb.DuckDBPyConnection) -> int:
    """Append the frontier and its descendants to ``tree``, one join per level."""
    depth = 0
    while True:
        n = int(con.sql("SELECT count(*) FROM frontier").fetchall()[0][0])
        if n == 0:
            return depth
        depth += 1
        con.execute("INSERT INTO tree SELECT idx, level, path FROM frontier")
        con.execute("""
            CREATE OR REPLACE TEMP TABLE frontier AS
            SELECT n.idx, f.level + 1 AS level, list_append(f.path, n.idx) AS path
            FROM nodes n JOIN frontier f ON n.parent = f.idx
        """)


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
