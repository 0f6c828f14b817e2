"""One entity/link view over whatever the chains and ER have written (实体关系视图).

Nodes: ``person`` (a resolved person of ``person_clusters``), ``account`` (bank cards and
accounts from ``accounts`` and ``transactions``), ``member`` (a platform account of a person).
Edges: ``holds`` (person → account: the KYC holder or a member's bound card), ``uses`` (person →
platform member), ``transferred_to`` (account → account, aggregated: sum, count, first, last).

Node ids are opaque (a hash of the identifier) so that masking the attributes for a role masks
the file; the attributes carry ``type, label, score, flags, holder, bank`` and the identifiers.
Amounts are exact decimal text; times are Asia/Shanghai ISO text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from chainbreaker.core.errors import InputError
from chainbreaker.core.model.masking import mask_table

NODE_COLUMNS = ("node_id", "type", "label", "score", "flags", "name", "id_number", "birth_date", "phone",
                "holder_name", "bank", "account", "platform", "member_id", "sources")
EDGE_COLUMNS = ("source", "target", "kind", "amount", "count", "first_ts", "last_ts", "evidence")


@dataclass
class Graph:
    nodes: pa.Table
    edges: pa.Table


def _tables(con: Any) -> set[str]:
    return {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}


def _cols(con: Any, table: str) -> set[str]:
    return {r[0] for r in con.sql(f'DESCRIBE "{table}"').fetchall()}


def build(con: Any, tz: str = "Asia/Shanghai") -> Graph:
    """Nodes and edges from the lake views on ``con`` (``ws.duck()``)."""
    have = _tables(con)
    if "person_clusters" not in have and "accounts" not in have and "transactions" not in have:
        raise InputError("没有可导出的实体：请先运行 chainbreaker intel match 或导入银行流水。",
                         "Nothing to export: run `chainbreaker intel match` or ingest bank statements first.")
    parts_n: list[str] = []
    parts_e: list[str] = []
    acct_sources = []
    if "accounts" in have:
        c = _cols(con, "accounts")
        holder = "holder_name" if "holder_name" in c else "NULL"
        bank = "bank" if "bank" in c else "NULL"
        acct_sources.append(f"SELECT account, {holder} AS holder_name, {bank} AS bank FROM accounts")
    if "transactions" in have:
        acct_sources.append("SELECT from_account, from_name, from_bank FROM transactions WHERE from_account IS NOT NULL")
        acct_sources.append("SELECT to_account, to_name, to_bank FROM transactions WHERE to_account IS NOT NULL")
    if "person_records" in have:
        acct_sources.append("SELECT bank_card, name_raw, bank FROM person_records WHERE bank_card IS NOT NULL")
    score = "NULL::DOUBLE"
    join_risk = ""
    if "account_risk" in have:
        score, join_risk = "r.score", "LEFT JOIN account_risk r ON r.account = a.account"
    flags = "NULL::VARCHAR"
    join_f = ""
    if "findings" in have:
        flags = "f.flags"
        join_f = ("LEFT JOIN (SELECT subject_key, string_agg(DISTINCT chain || ':' || rule_id, ',' ORDER BY "
                  "chain || ':' || rule_id) AS flags FROM findings WHERE subject_type = 'account' "
                  "GROUP BY subject_key) f ON f.subject_key = a.account")
    if acct_sources:
        union = " UNION ALL ".join(f"({s})" for s in acct_sources)
        con.sql(f"""CREATE OR REPLACE TEMP TABLE _x_accounts AS
            SELECT account, mode(holder_name) AS holder_name, mode(bank) AS bank
            FROM (SELECT * FROM ({union}) u(account, holder_name, bank)) GROUP BY account""")
        parts_n.append(f"""
            SELECT 'A' || substr(md5(a.account), 1, 16) AS node_id, 'account' AS type, NULL AS label,
                   {score}::DOUBLE AS score, {flags} AS flags, NULL AS name, NULL AS id_number, NULL AS birth_date,
                   NULL AS phone, a.holder_name, a.bank, a.account, NULL AS platform, NULL AS member_id,
                   NULL AS sources
            FROM _x_accounts a {join_risk} {join_f}""")
    if "person_clusters" in have:
        pf = "NULL::VARCHAR"
        pjoin = ""
        if "findings" in have:
            pf = "pf.flags"
            pjoin = ("LEFT JOIN (SELECT c.cluster_id, string_agg(DISTINCT f.chain || ':' || f.rule_id, ',' ORDER BY "
                     "f.chain || ':' || f.rule_id) AS flags FROM findings f JOIN person_records r ON "
                     "f.subject_key IN (r.id_number, r.source_key) JOIN person_clusters c USING (record_id) "
                     "GROUP BY c.cluster_id) pf ON pf.cluster_id = p.cluster_id")
        parts_n.append(f"""
            SELECT p.cluster_id AS node_id, 'person' AS type, NULL AS label, NULL::DOUBLE AS score, {pf} AS flags,
                   p.name, p.id_number, p.birth_date, p.phone, NULL AS holder_name, NULL AS bank, NULL AS account,
                   NULL AS platform, NULL AS member_id, p.sources
            FROM (SELECT c.cluster_id, mode(r.name) AS name,
                         mode(r.id_number) FILTER (WHERE r.id_valid) AS id_number,
                         mode(r.birth_date)::VARCHAR AS birth_date, mode(r.phone) AS phone,
                         string_agg(DISTINCT r.source_kind, ',' ORDER BY r.source_kind) AS sources
                  FROM person_clusters c JOIN person_records r USING (record_id) GROUP BY c.cluster_id) p {pjoin}""")
        parts_n.append("""
            SELECT 'M' || substr(md5(r.source_key), 1, 16) AS node_id, 'member', NULL, NULL::DOUBLE, NULL, r.name, NULL, NULL,
                   r.phone, NULL, NULL, NULL, split_part(r.source_key, ':', 1),
                   substr(r.source_key, length(split_part(r.source_key, ':', 1)) + 2), r.source_table
            FROM person_records r WHERE r.source_kind = 'platform_member'""")
        parts_e.append("""
            SELECT DISTINCT c.cluster_id, 'A' || substr(md5(r.bank_card), 1, 16), 'holds', NULL, NULL::BIGINT,
                   NULL, NULL, r.source_table || ':' || r.src_sha256 || ':' || r.src_row
            FROM person_records r JOIN person_clusters c USING (record_id) WHERE r.bank_card IS NOT NULL""")
        parts_e.append("""
            SELECT c.cluster_id, 'M' || substr(md5(r.source_key), 1, 16), 'uses', NULL, NULL::BIGINT, NULL, NULL,
                   r.source_table || ':' || r.src_sha256 || ':' || r.src_row
            FROM person_records r JOIN person_clusters c USING (record_id) WHERE r.source_kind = 'platform_member'""")
    if "transactions" in have:
        parts_e.append(f"""
            SELECT 'A' || substr(md5(from_account), 1, 16), 'A' || substr(md5(to_account), 1, 16), 'transferred_to',
                   sum(amount)::VARCHAR, count(*), strftime(timezone('{tz}', min(ts)), '%Y-%m-%dT%H:%M:%S+08:00'),
                   strftime(timezone('{tz}', max(ts)), '%Y-%m-%dT%H:%M:%S+08:00'),
                   'transactions:' || min(txn_id)
            FROM transactions WHERE from_account IS NOT NULL AND to_account IS NOT NULL
            GROUP BY from_account, to_account""")
    cols = ", ".join(NODE_COLUMNS)
    nodes = con.sql(f"SELECT {cols} FROM (" + " UNION ALL ".join(f"({p})" for p in parts_n)
                    + ") ORDER BY type, node_id").to_arrow_table() if parts_n else None
    if nodes is not None and nodes.column_names != list(NODE_COLUMNS):
        nodes = nodes.rename_columns(list(NODE_COLUMNS))
    edges = (con.sql(" UNION ALL ".join(f"({p})" for p in parts_e)).to_arrow_table().rename_columns(list(EDGE_COLUMNS))
             if parts_e else pa.table({c: pa.array([], pa.string()) for c in EDGE_COLUMNS}))
    if nodes is None:
        nodes = pa.table({c: pa.array([], pa.string()) for c in NODE_COLUMNS})
    return Graph(nodes=nodes, edges=edges)


def masked(g: Graph, role: str) -> Graph:
    """The graph as ``role`` may see it; ``label`` is made after masking (name, else account)."""
    nodes = mask_table(g.nodes, role)
    label = [n or a or m for n, a, m in zip(nodes.column("name").to_pylist(), nodes.column("account").to_pylist(),
                                           nodes.column("member_id").to_pylist(), strict=True)]
    idx = nodes.column_names.index("label")
    nodes = nodes.set_column(idx, pa.field("label", pa.string()), pa.array(label, pa.string()))
    return Graph(nodes=nodes, edges=mask_table(g.edges, role))
