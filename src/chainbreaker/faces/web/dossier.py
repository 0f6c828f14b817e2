"""Search and dossier behind a small interface (检索与档案), so the intel dossier can replace it.

:class:`DossierSource` is what the web face calls; :class:`LakeDossierSource` answers from the
``findings`` table and the lake tables that carry identifiers today (accounts, statements, platform
members, persons, travel, sites). When intel's entity store lands, a source built on it is passed
to ``create_app(dossiers=...)`` and nothing else changes. Masking and audit happen here, by the
caller's masking role, never in the routes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from chainbreaker.core.errors import InputError
from chainbreaker.core.model.masking import mask_table, mask_text
from chainbreaker.core.model.personal import kind_for_name
from chainbreaker.core.timefmt import show_time
from chainbreaker.core.workspace import Workspace

MAX_QUERY = 100
# what the API schema promises: some visible character, none of the characters masking writes
QUERY_PATTERN = r"^[^*＊•●]*[^\s*＊•●][^*＊•●]*$"
MASK_CHARS = re.compile(r"[*＊•●]")
MIN_PREFIX = 3
RECORDS_PER_TABLE = 50
STATEMENT_ROWS = 200
EDGES = 60


@dataclass(frozen=True)
class Keyed:
    """A lake table with the columns that identify something, and the kind of each."""

    table: str
    keys: tuple[tuple[str, str], ...]  # (column, entity kind)
    label: str | None = None  # column shown next to the key (a holder's or member's name)


# entity kinds: account, id_number, phone, member, domain, person_key, name, site
SEARCHABLE: tuple[Keyed, ...] = (
    Keyed("accounts", (("account", "account"), ("card_no", "account"), ("holder_id", "id_number")), "holder_name"),
    Keyed("persons", (("id_number", "id_number"), ("phone", "phone")), "name"),
    Keyed("platform_members", (("member_id", "member"), ("username", "member"), ("phone", "phone"),
                               ("id_number", "id_number"), ("bank_card", "account")), "real_name"),
    Keyed("travel_person_metrics", (("person_key", "person_key"),), None),
    Keyed("tech_domains", (("domain", "domain"),), None),
    Keyed("account_risk", (("account", "account"),), None),
)
NAME_COLUMNS = (("accounts", "holder_name", "holder_id"), ("persons", "name", "id_number"),
                ("platform_members", "real_name", "member_id"))
MASK_KIND = {"id_number": "id_number", "phone": "phone", "account": "card", "name": "name", "person_key": "person_key"}


class DossierSource(Protocol):
    """What the web face needs for search and dossiers."""

    def search(self, q: str, *, role: str, user: str, limit: int = 20) -> list[dict[str, Any]]: ...

    def dossier(self, ident: str, *, role: str, user: str) -> dict[str, Any] | None: ...


def clean_query(q: str) -> str:
    q = (q or "").strip()
    if not q:
        raise InputError("请输入要检索的号码、姓名或域名。", "Type a number, name or domain to search for.")
    if len(q) > MAX_QUERY:
        raise InputError(f"检索内容过长（上限 {MAX_QUERY} 字）。", f"The search text is too long (limit {MAX_QUERY}).")
    if MASK_CHARS.search(q):
        raise InputError("检索内容是脱敏后的值（含 *），无法据此检索；请输入完整号码。",
                         "The search text is a masked value (it has *); type the full number.")
    return q


class LakeDossierSource:
    """Search and dossiers from ``findings`` and the identifier-carrying lake tables."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._local = threading.local()
        self._lock = threading.Lock()
        self._snapshot: tuple[str, duckdb.DuckDBPyConnection, dict[str, list[str]]] | None = None
        self._refs = RefBook()

    # The tables search and dossiers read are loaded once into an in-memory DuckDB database (with
    # indexes on the looked-up columns) and reloaded when the manifest changes (a new analysis run);
    # each request thread reads it through its own cursor. Parquet scans per request were ~10x slower.
    def _con(self) -> tuple[duckdb.DuckDBPyConnection, dict[str, list[str]]]:
        tables = self.ws.tables()
        stamp = json.dumps({k: v.get("version") for k, v in tables.items()}, sort_keys=True)
        snap = self._snapshot
        if snap is None or snap[0] != stamp:
            with self._lock:
                snap = self._snapshot
                if snap is None or snap[0] != stamp:
                    snap = (stamp, *self._load(tables))
                    self._snapshot = snap
        local = getattr(self._local, "cursor", None)
        if local is None or local[0] != stamp:
            local = (stamp, snap[1].cursor())
            self._local.cursor = local
        return local[1], snap[2]

    def _load(self, tables: dict[str, Any]) -> tuple[duckdb.DuckDBPyConnection, dict[str, list[str]]]:
        db = duckdb.connect(":memory:")
        db.execute("SET threads = 2")
        wanted = {"findings", "transactions", "links"} | {k.table for k in SEARCHABLE}
        cols: dict[str, list[str]] = {}
        for name in sorted(wanted & set(tables)):
            db.execute(f'CREATE TABLE "{name}" AS SELECT * FROM read_parquet($1)', [self.ws.table_glob(name)])
            cols[name] = [r[0] for r in db.execute(f'DESCRIBE "{name}"').fetchall()]
        indexed = [("findings", "subject_key"), ("transactions", "from_account"), ("transactions", "to_account"),
                   ("links", "src_key"), ("links", "dst_key")]
        indexed += [(k.table, c) for k in SEARCHABLE for c, _ in k.keys]
        for table, column in indexed:
            if column in cols.get(table, []):
                db.execute(f'CREATE INDEX "ix_{table}_{column}" ON "{table}" ("{column}")')
        return db, cols

    def search(self, q: str, *, role: str, user: str, limit: int = 20) -> list[dict[str, Any]]:
        q = clean_query(q)
        limit = max(1, min(int(limit), 100))
        con, cols = self._con()
        hits: dict[str, dict[str, Any]] = {}

        def add(ident: str, kind: str, table: str, label: str | None) -> None:
            hit = hits.setdefault(ident, {"ident": ident, "kind": kind, "label": label, "sources": [], "findings": 0})
            if table not in hit["sources"]:
                hit["sources"].append(table)
            hit["label"] = hit["label"] or label

        prefix = len(q) >= MIN_PREFIX
        if "findings" in cols:
            for key, stype in con.execute(
                    "SELECT DISTINCT subject_key, subject_type FROM findings WHERE subject_key = $1 "
                    "OR ($2 AND starts_with(subject_key, $1)) LIMIT $3", [q, prefix, limit]).fetchall():
                add(key, stype or "subject", "findings", None)
        for spec in SEARCHABLE:
            have = cols.get(spec.table, [])
            label = spec.label if spec.label in have else None
            for column, kind in spec.keys:
                if column not in have or len(hits) >= limit:
                    continue
                shown = f'any_value("{label}")' if label else "NULL"
                sql = (f'SELECT CAST("{column}" AS VARCHAR), {shown} '
                       f'FROM "{spec.table}" WHERE CAST("{column}" AS VARCHAR) = $1 '
                       f'OR ($2 AND starts_with(CAST("{column}" AS VARCHAR), $1)) GROUP BY 1 LIMIT $3')
                for ident, name in con.execute(sql, [q, prefix, limit]).fetchall():
                    if ident:
                        add(ident, kind, spec.table, name)
        for table, name_col, key_col in NAME_COLUMNS:
            have = cols.get(table, [])
            if name_col in have and key_col in have and len(hits) < limit and not q.isascii():
                for ident, name in con.execute(
                        f'SELECT DISTINCT CAST("{key_col}" AS VARCHAR), "{name_col}" FROM "{table}" '
                        f'WHERE "{name_col}" = $1 OR contains("{name_col}", $1) LIMIT $2', [q, limit]).fetchall():
                    if ident:
                        add(ident, "id_number" if key_col.endswith("id_number") or key_col == "holder_id" else "member",
                            table, name)
        results = list(hits.values())[:limit]
        if results and "findings" in cols:
            counts = dict(con.execute("SELECT subject_key, count(*) FROM findings WHERE list_contains($1, subject_key) "
                                      "GROUP BY 1", [[r["ident"] for r in results]]).fetchall())
            for r in results:
                r["findings"] = int(counts.get(r["ident"], 0))
        results.sort(key=lambda r: (-r["findings"], r["ident"] != q, r["ident"]))
        self.ws.audit("web.search", user=user, role=role, query=q, results=len(results))
        return [self._mask_hit(r, role) for r in results]

    def _mask_hit(self, hit: dict[str, Any], role: str) -> dict[str, Any]:
        kind = MASK_KIND.get(hit["kind"])
        return {**hit, "ident": self._refs.ref(hit["ident"], role, kind), "display": mask_text(hit["ident"], role, kind),
                "label": mask_text(hit["label"], role, "name") if hit["label"] else None}

    def dossier(self, ident: str, *, role: str, user: str) -> dict[str, Any] | None:
        ident = self._refs.resolve(clean_query(ident))
        con, cols = self._con()
        findings: list[dict[str, Any]] = []
        if "findings" in cols:
            rel = con.sql("SELECT id, chain, rule_id, subject_type, subject_key, score, severity, period_start, "
                              "period_end, facts, explanation_zh, explanation_en, evidence FROM findings "
                              "WHERE subject_key = $1 ORDER BY score DESC, id LIMIT 200", params=[ident]).to_arrow_table()
            findings = mask_table(rel, role).to_pylist()
            for f in findings:
                f["facts"] = _json(f["facts"], {})
                f["evidence"] = _json(f["evidence"], [])
                f["period_start"] = show_time(f["period_start"]) if f["period_start"] else None
                f["period_end"] = show_time(f["period_end"]) if f["period_end"] else None
        records: dict[str, list[dict[str, Any]]] = {}
        kinds: set[str] = set()
        for spec in SEARCHABLE:
            have = cols.get(spec.table, [])
            where = [f'CAST("{c}" AS VARCHAR) = $1' for c, _ in spec.keys if c in have]
            if not where:
                continue
            table = con.sql(f'SELECT * FROM "{spec.table}" WHERE {" OR ".join(where)} LIMIT {RECORDS_PER_TABLE}',
                            params=[ident]).to_arrow_table()
            if table.num_rows:
                records[spec.table] = _plain_rows(mask_table(table, role))
                kinds.update(k for c, k in spec.keys if c in have and ident in table.column(c).cast(pa.string()).to_pylist())
        statements = self._statements(con, cols, ident, role)
        graph = self._graph(con, cols, ident, role, findings)
        if not findings and not records and not statements:
            self.ws.audit("web.dossier", user=user, role=role, ident=ident, found=False)
            return None
        kind = (findings[0]["subject_type"] if findings else None) or (sorted(kinds)[0] if kinds else "subject")
        self.ws.audit("web.dossier", user=user, role=role, ident=ident, found=True, findings=len(findings),
                      tables=sorted(records))
        return {"ident": self._refs.ref(ident, role, MASK_KIND.get(kind)),
                "display": mask_text(ident, role, MASK_KIND.get(kind)), "kind": kind,
                "findings": findings, "records": records, "statements": statements, "graph": graph,
                "source": "lake"}

    def _statements(self, con: duckdb.DuckDBPyConnection, cols: dict[str, list[str]], ident: str,
                    role: str) -> list[dict[str, Any]]:
        have = cols.get("transactions", [])
        if not {"from_account", "to_account", "ts", "amount"} <= set(have):
            return []
        table = con.sql(
            "SELECT ts, from_account, from_name, to_account, to_name, amount, currency, channel, summary, src_file, "
            "src_row, txn_id FROM (SELECT * FROM transactions WHERE from_account = $1 UNION ALL "
            "SELECT * FROM transactions WHERE to_account = $1 AND from_account IS DISTINCT FROM $1) ORDER BY ts LIMIT "
            f"{STATEMENT_ROWS}", params=[ident]).to_arrow_table()
        return _plain_rows(mask_table(table, role))

    def _graph(self, con: duckdb.DuckDBPyConnection, cols: dict[str, list[str]], ident: str, role: str,
               findings: list[dict[str, Any]]) -> dict[str, Any]:
        """Link chart: the subject, its money counterparties (weighted by amount) and accounts of a holder."""
        nodes: dict[str, dict[str, Any]] = {}
        edges: list[dict[str, Any]] = []

        def node(key: str, kind: str, label: str | None = None) -> str:
            ref = self._refs.ref(key, role, MASK_KIND.get(kind, kind))  # never a clear value the role may not see
            nid = f"{kind}:{ref}"
            if nid not in nodes:
                shown = mask_text(label, role, "name") if label else mask_text(key, role, MASK_KIND.get(kind, kind))
                nodes[nid] = {"id": nid, "kind": kind, "key": ref, "label": shown}
            return nid

        root = node(ident, findings[0]["subject_type"] if findings else "account")
        nodes[root]["root"] = True
        nodes[root]["findings"] = len(findings)
        have = cols.get("transactions", [])
        if {"from_account", "to_account", "amount"} <= set(have):
            rows = con.execute(
                "SELECT CASE WHEN from_account = $1 THEN to_account ELSE from_account END AS other, "
                "from_account = $1 AS outgoing, sum(amount) AS total, count(*) AS n, min(ts) AS first_ts, "
                "max(ts) AS last_ts, arg_min(src_file, ts) AS src_file, arg_min(src_row, ts) AS src_row "
                "FROM (SELECT * FROM transactions WHERE from_account = $1 UNION ALL SELECT * FROM transactions "
                "WHERE to_account = $1 AND from_account IS DISTINCT FROM $1) WHERE from_account <> to_account "
                f"GROUP BY 1, 2 ORDER BY total DESC LIMIT {EDGES}", [ident]).fetchall()
            for other, outgoing, total, n, first, last, src_file, src_row in rows:
                if other is None:
                    continue
                o = node(str(other), "account")
                a, b = (root, o) if outgoing else (o, root)
                edges.append({"source": a, "target": b, "kind": "money", "amount": str(total), "count": int(n),
                              "first": show_time(first) if first else None, "last": show_time(last) if last else None,
                              "evidence": {"table": "transactions", "src_file": mask_text(src_file, role),
                                           "src_row": src_row}})
        have = cols.get("accounts", [])
        if {"account", "holder_id"} <= set(have):
            for account, holder, name in con.execute(
                    "SELECT DISTINCT account, holder_id, holder_name FROM accounts WHERE account = $1 OR holder_id = $1 "
                    f"LIMIT {EDGES}", [ident]).fetchall():
                if account and holder:
                    a = node(str(account), "account")
                    h = node(str(holder), "id_number", name)
                    edges.append({"source": h, "target": a, "kind": "holds", "evidence": {"table": "accounts"}})
        have = cols.get("links", [])
        if {"kind", "src_type", "src_key", "dst_type", "dst_key"} <= set(have):
            # cross-chain links made by intel (a site showing a card, a member paying into an account...)
            for kind, st, sk, dt_, dk, n, amount, first, evidence in con.execute(
                    "SELECT kind, src_type, src_key, dst_type, dst_key, count, amount, first_ts, evidence FROM "
                    "(SELECT * FROM links WHERE src_key = $1 UNION ALL SELECT * FROM links WHERE dst_key = $1 "
                    f"AND src_key IS DISTINCT FROM $1) LIMIT {EDGES}", [ident]).fetchall():
                a, b = node(str(sk), st or "subject"), node(str(dk), dt_ or "account")
                edges.append({"source": a, "target": b, "kind": kind, "count": n,
                              "amount": None if amount is None else str(amount),
                              "first": show_time(first) if first else None,
                              "evidence": {"table": "links", "refs": mask_text(evidence, role)}})
        return {"nodes": list(nodes.values()), "edges": edges}


class RefBook:
    """Opaque references for values a role may not see in clear: search results and link-chart nodes
    point at ``r-<token>`` instead of the clear number, and the dossier resolves it (per process)."""

    LIMIT = 200_000

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)
        self._book: dict[str, str] = {}
        self._lock = threading.Lock()

    def ref(self, value: str, role: str, kind: str | None) -> str:
        if mask_text(value, role, kind) == value:
            return value
        token = "r-" + hmac.new(self._secret, value.encode("utf-8"), hashlib.sha256).hexdigest()[:24]
        with self._lock:
            if len(self._book) >= self.LIMIT:
                self._book.clear()
            self._book[token] = value
        return token

    def resolve(self, ident: str) -> str:
        if ident.startswith("r-"):
            value = self._book.get(ident)
            if value is None:
                from chainbreaker.faces.web.services import NotFound

                raise NotFound("该引用已失效，请重新检索。", "This reference has expired; search again.")
            return value
        return ident


def _json(text: Any, default: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) else default
    except ValueError:
        return default


def _plain_rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows ready for JSON and templates: times in the configured zone, money as exact text."""
    out = []
    for row in table.to_pylist():
        clean: dict[str, Any] = {}
        for k, v in row.items():
            if hasattr(v, "isoformat") and hasattr(v, "hour"):
                v = show_time(v)
            elif hasattr(v, "isoformat"):
                v = v.isoformat()
            elif v is not None and not isinstance(v, (str, int, float, bool)):
                v = str(v)
            clean[k] = v
        out.append(clean)
    return out


def kind_label(column: str) -> str | None:
    return kind_for_name(column)
