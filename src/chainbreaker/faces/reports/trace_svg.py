"""Inline SVG picture of a money trace (资金穿透图), laid out here, no JavaScript.

Nodes are placed in columns by hop (the seed on the left, money flowing right for a downstream
trace); within a column the igraph Sugiyama layout orders them to reduce edge crossings. Edge width
follows the attributed amount; node colour says what screening (and, in the demo, the truth) says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

NODE_COLORS = {
    "seed": "#b91c1c",
    "flagged": "#ea580c",
    "clean": "#64748b",
    "unrequested": "#7c3aed",
}


@dataclass
class TraceNode:
    account: str
    hop: int
    attributed: float
    label: str  # short label (e.g. masked account)
    kind: str  # seed | flagged | clean | unrequested
    tooltip: str = ""
    shown: str = ""  # the account as the reader may see it (masked by role); the picture never prints ``account``


@dataclass
class TraceEdge:
    src: str
    dst: str
    amount: float
    loop: bool = False


def _sugiyama_order(nodes: list[TraceNode], edges: list[TraceEdge]) -> dict[str, float]:
    """Vertical order within each hop column from igraph's Sugiyama layout (falls back to amount)."""
    index = {n.account: i for i, n in enumerate(nodes)}
    try:
        import igraph as ig

        g = ig.Graph(n=len(nodes), edges=[(index[e.src], index[e.dst]) for e in edges
                                          if e.src in index and e.dst in index and e.src != e.dst], directed=True)
        layout = g.layout_sugiyama(layers=[n.hop for n in nodes])
        return {n.account: float(layout.coords[i][0]) for i, n in enumerate(nodes)}
    except Exception:  # noqa: BLE001 - layout is cosmetic; keep the picture
        return {n.account: -n.attributed for n in nodes}


def render_trace_svg(nodes: list[TraceNode], edges: list[TraceEdge], title: str = "",
                     width: int = 960, row_height: int = 46) -> str:
    """A self-contained ``<svg>`` element."""
    if not nodes:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="40" role="img"><text x="10" y="25">{escape(title)}</text></svg>'
    order = _sugiyama_order(nodes, edges)
    columns: dict[int, list[TraceNode]] = {}
    for n in nodes:
        columns.setdefault(n.hop, []).append(n)
    hops = sorted(columns)
    tallest = max(len(c) for c in columns.values())
    height = 60 + tallest * row_height
    margin_x = 90
    step_x = (width - 2 * margin_x) / max(len(hops) - 1, 1)
    pos: dict[str, tuple[float, float]] = {}
    for ci, h in enumerate(hops):
        col = sorted(columns[h], key=lambda n: (order.get(n.account, 0.0), n.account))
        top = 45 + (tallest - len(col)) * row_height / 2
        for ri, n in enumerate(col):
            pos[n.account] = (margin_x + ci * step_x, top + ri * row_height + row_height / 2)
    max_amt = max((e.amount for e in edges), default=1.0) or 1.0
    max_attr = max((n.attributed for n in nodes), default=1.0) or 1.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" class="trace-svg">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#94a3b8"/></marker></defs>',
    ]
    for h, ci in zip(hops, range(len(hops)), strict=True):
        x = margin_x + ci * step_x
        parts.append(f'<text x="{x:.1f}" y="22" text-anchor="middle" class="hop">{escape(str(h))}</text>')
    seen = {n.account: n.shown or n.label for n in nodes}
    for e in edges:
        if e.src not in pos or e.dst not in pos:
            continue
        (x1, y1), (x2, y2) = pos[e.src], pos[e.dst]
        w = 1 + 7 * math.sqrt(e.amount / max_amt)
        color = "#dc2626" if e.loop else "#94a3b8"
        if e.src == e.dst:
            continue
        mx = (x1 + x2) / 2
        bend = 0 if x2 > x1 else 60  # back edges (loops) arc below
        parts.append(
            f'<path d="M{x1:.1f},{y1:.1f} C{mx:.1f},{y1 + bend:.1f} {mx:.1f},{y2 + bend:.1f} {x2:.1f},{y2:.1f}" '
            f'stroke="{color}" stroke-width="{w:.1f}" fill="none" opacity="0.7" marker-end="url(#arrow)">'
            f'<title>{escape(seen[e.src])} → {escape(seen[e.dst])}: {e.amount:,.2f}</title></path>')
    for n in nodes:
        x, y = pos[n.account]
        r = 7 + 11 * math.sqrt(max(n.attributed, 0) / max_attr)
        fill = NODE_COLORS.get(n.kind, NODE_COLORS["clean"])
        parts.append(
            f'<g class="node node-{escape(n.kind)}"><circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{fill}" '
            f'stroke="#fff" stroke-width="1.5"><title>{escape(n.tooltip or n.shown or n.label)}</title></circle>'
            f'<text x="{x:.1f}" y="{y + r + 12:.1f}" text-anchor="middle" class="nlabel">{escape(n.label)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)
