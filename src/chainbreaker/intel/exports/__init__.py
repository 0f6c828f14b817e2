"""Exports of the intel picture for an analyst's other tools (情报导出).

FollowTheMoney JSONL (Aleph/OpenAleph), GraphML and GEXF (Gephi, Cytoscape, igraph, networkx) and
an i2 Analyst's Notebook link table with its import specification. All are built from one
entity/link view (:mod:`.graph`), masked for the role and written through the audited
``core.exports.output_file``.
"""
