"""Persons from links (人员归并): union-find over links with analysts' constraints.

Links are taken strongest first: accepted by an analyst, then exact pivots, then model pairs by
probability. Two groups are never joined when an analyst rejected a pair of records across them
(cannot-link), so a rejection holds even when a third record would connect the two. A record an
analyst split off keeps only the links an analyst accepted.
"""

from __future__ import annotations

from collections.abc import Iterable


class Clusterer:
    """Union-find on integer record indexes with cannot-link constraints."""

    def __init__(self, n: int, rejects: Iterable[tuple[int, int]] = ()) -> None:
        self.parent = list(range(n))
        self.size = [1] * n
        self.forbid: dict[int, set[int]] = {}  # root → records its members may not join
        self.members: dict[int, set[int]] = {}  # root → its constrained members
        for a, b in rejects:
            if a == b:
                continue
            self.forbid.setdefault(a, set()).add(b)
            self.forbid.setdefault(b, set()).add(a)
            self.members.setdefault(a, set()).add(a)
            self.members.setdefault(b, set()).add(b)

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> bool:
        """Join the groups of ``a`` and ``b``; ``False`` when a rejection forbids it (or already one)."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        fa, fb = self.forbid.get(ra), self.forbid.get(rb)
        if fa and self.members.get(rb) and fa & self.members[rb]:
            return False
        if fb and self.members.get(ra) and fb & self.members[ra]:
            return False
        if self.size[ra] < self.size[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        if rb in self.forbid:
            self.forbid.setdefault(ra, set()).update(self.forbid.pop(rb))
        if rb in self.members:
            self.members.setdefault(ra, set()).update(self.members.pop(rb))
        return True

    def roots(self) -> list[int]:
        return [self.find(i) for i in range(len(self.parent))]
