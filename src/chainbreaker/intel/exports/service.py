"""``intel export``: the entity/link view as FtM JSONL, GraphML, GEXF or an i2 link table.

Masked for the role and audited like every other output (``core.exports.output_file``).
"""

from __future__ import annotations

from pathlib import Path

from chainbreaker.core.errors import InputError
from chainbreaker.core.exports import output_file
from chainbreaker.core.model.masking import columns_to_mask
from chainbreaker.core.workspace import Workspace
from chainbreaker.intel.exports import formats
from chainbreaker.intel.exports.graph import build, masked

FORMATS = {"ftm": "ftm.jsonl", "graphml": "graphml", "gexf": "gexf", "i2": "i2.csv"}


def export_graph(ws: Workspace, fmt: str, out: Path | str, *, role: str = "analyst", user: str = "local") -> dict:
    """Write the intel graph in ``fmt``; returns counts (nodes, edges, entities or rows, files)."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise InputError(f"不支持的格式 {fmt}，可选：{'、'.join(FORMATS)}", f"Unsupported format {fmt}; use {', '.join(FORMATS)}")
    con = ws.duck()
    try:
        g = build(con)
    finally:
        con.close()
    hidden = sorted(columns_to_mask(g.nodes.column_names, role))
    g = masked(g, role)
    result = {"nodes": g.nodes.num_rows, "edges": g.edges.num_rows, "files": []}
    with output_file(ws, out, f"intel.export.{fmt}", default_name=f"chainbreaker.{FORMATS[fmt]}", user=user, role=role,
                     format=fmt, nodes=g.nodes.num_rows, edges=g.edges.num_rows, masked=hidden) as o:
        with open(o.path, "w", encoding="utf-8-sig" if fmt == "i2" else "utf-8", newline="") as fh:
            if fmt == "graphml":
                formats.write_graphml(g.nodes, g.edges, fh)
            elif fmt == "gexf":
                formats.write_gexf(g.nodes, g.edges, fh)
            elif fmt == "ftm":
                result["entities"] = formats.write_ftm(g.nodes, g.edges, fh)
            else:
                result["rows"] = formats.write_i2(g.nodes, g.edges, fh)
        o.result.update({k: v for k, v in result.items() if k != "files"})
    result["files"].append(str(o.target))
    if fmt == "i2":
        spec = o.target.with_name(o.target.name.rsplit(".", 1)[0] + ".import.xml")
        formats.write_i2_spec(o.target.name, spec)
        result["files"].append(str(spec))
    return result
