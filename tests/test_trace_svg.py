"""The trace picture prints accounts only as the reader may see them (edge and node titles too)."""

from __future__ import annotations

from chainbreaker.core.model.masking import mask_text
from chainbreaker.faces.reports.trace_svg import TraceEdge, TraceNode, render_trace_svg


def test_svg_never_prints_a_clear_account() -> None:
    accounts = ["6222021234567890123", "6217001111222237334", "6228480402564890018"]
    nodes = [TraceNode(a, i, 100.0 * (3 - i), "…" + a[-4:], "seed" if i == 0 else "clean", "",
                       mask_text(a, "viewer", "card")) for i, a in enumerate(accounts)]
    edges = [TraceEdge(accounts[0], accounts[1], 200.0), TraceEdge(accounts[1], accounts[2], 100.0)]
    svg = render_trace_svg(nodes, edges, title="资金穿透图")
    assert svg.startswith("<svg") and svg.count("<path") >= 2
    assert not any(a in svg for a in accounts)
    assert "6222***********0123 → 6217***********7334" in svg
