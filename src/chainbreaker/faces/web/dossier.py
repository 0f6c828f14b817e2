"""Search and dossier behind a small interface (检索与档案), so the intel dossier can replace it.

:class:`DossierSource` is what the web face calls; :class:`LakeDossierSource` answers from the
``findings`` table and the lake tables that carry identifiers today (accounts, statements, platform
members, persons, travel, sites). When intel's entity store lands, a source built on it is passed
to ``create_app(dossiers=...)`` and nothing else changes. Masking and audit happen here, by the
caller's masking role, never in the routes.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from chainbreaker.core.errors import InputError
from chainbreaker.core.model.masking import mask_table, mask_text
from chainbreaker.core.model.personal import kind_for_name
from chainbreaker.core.timefmt import show_time
from chainbreaker.core.workspace import MANIFEST, Workspace
from chainbreaker.faces.web.refs import RefBook

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
SORTED_BY = {"findings": ("subject_key",), "links": ("src_key",), "transactions": ("from_account",)}
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

    DOSSIER_CACHE = 1024  # masked dossiers kept per process (per snapshot, identifier and role)

    def __init__(self, ws: Workspace, refs: RefBook | None = None) -> None:
        self.ws = ws
        self._local = threading.local()
        self._lock = threading.Lock()
        self._snapshot: tuple[str, duckdb.DuckDBPyConnection, dict[str, dict[str, str]]] | None = None
        self._manifest_seen: tuple[tuple[int, int, int], str] | None = None
        self._refs = refs or RefBook.for_workspace(ws)
        self._cache: OrderedDict[tuple[str, str, str], tuple[dict[str, Any] | None, dict[str, Any]]] = OrderedDict()
        self._cache_lock = threading.Lock()

    # The tables search and dossiers read are loaded once per process into an in-memory DuckDB database
    # (with the lookup tables of _build_search_index) and reloaded when the manifest changes (a new
    # analysis run); each request thread reads it through its own cursor. Parquet scans per request
    # were ~10x slower.
    def _stamp(self) -> str:
        """The current table versions; the manifest is parsed again only when its file changed."""
        path = self.ws.lake / MANIFEST
        try:
            st = path.stat()
            sig = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            sig = (0, 0, 0)
        seen = self._manifest_seen
        if seen is not None and seen[0] == sig:
            return seen[1]
        stamp = json.dumps({k: v.get("version") for k, v in self.ws.tables().items()}, sort_keys=True)
        self._manifest_seen = (sig, stamp)
        return stamp

    def _con(self) -> tuple[duckdb.DuckDBPyConnection, dict[str, dict[str, str]], str]:
        stamp = self._stamp()
        snap = self._snapshot
        if snap is None or snap[0] != stamp:
            with self._lock:
                snap = self._snapshot
                if snap is None or snap[0] != stamp:
                    snap = (stamp, *self._load(self.ws.tables()))
                    self._snapshot = snap
                    with self._cache_lock:
                        self._cache.clear()
        local = getattr(self._local, "cursor", None)
        if local is None or local[0] != snap[0]:
            local = (snap[0], snap[1].cursor())
            self._local.cursor = local
        return local[1], snap[2], snap[0]

    def warm(self) -> None:
        """Load the snapshot now (the server calls this at start, before it takes requests)."""
        self._con()

    def _load(self, tables: dict[str, Any]) -> tuple[duckdb.DuckDBPyConnection, dict[str, dict[str, str]]]:
        db = duckdb.connect(":memory:")
        db.execute("SET threads = 2")
        wanted = {"findings", "transactions", "links"} | {k.table for k in SEARCHABLE}
        cols: dict[str, dict[str, str]] = {}
        for name in sorted(wanted & set(tables)):
            # sorted by the column looked up most, so DuckDB's zone maps skip the other row groups (DuckDB
            # did not use ART indexes for these lookups: they cost ~8 s per column at 1M rows for nothing)
            have = {r[0] for r in db.sql("SELECT * FROM read_parquet($1)", params=[self.ws.table_glob(name)]).description}
            order = next((c for c in SORTED_BY.get(name, ()) if c in have), None)
            db.execute(f'CREATE TABLE "{name}" AS SELECT * FROM read_parquet($1)'
                       + (f' ORDER BY "{order}"' if order else ""), [self.ws.table_glob(name)])
            cols[name] = {r[0]: str(r[1]) for r in db.execute(f'DESCRIBE "{name}"').fetchall()}
        _build_search_index(db, cols)
        return db, cols

    def search(self, q: str, *, role: str, user: str, limit: int = 20) -> list[dict[str, Any]]:
        q = clean_query(q)
        limit = max(1, min(int(limit), 100))
        con, cols, _ = self._con()
        hits: dict[str, dict[str, Any]] = {}

        def add(ident: str, kind: str, table: str, label: str | None, findings: int) -> None:
            hit = hits.setdefault(ident, {"ident": ident, "kind": kind, "label": label, "sources": [], "findings": 0})
            if table not in hit["sources"]:
                hit["sources"].append(table)
            hit["label"] = hit["label"] or label
            hit["findings"] = max(hit["findings"], findings)

        # identifiers: one range scan of the sorted search index (exact hits first, then those with findings)
        if len(q) >= MIN_PREFIX:  # the range lets DuckDB skip the row groups of other identifiers
            where, params = "key >= $1 AND key < $3 AND starts_with(key, $1)", [q, limit, q + "\U0010ffff"]
        else:
            where, params = "key = $1", [q, limit]
        for key, kind, table, label, n in con.execute(
                f"WITH m AS (SELECT * FROM search_index WHERE {where}), "
                "top AS (SELECT key FROM m GROUP BY key ORDER BY bool_or(key = $1) DESC, max(n) DESC, key LIMIT $2) "
                "SELECT key, kind, tab, any_value(label) FILTER (label IS NOT NULL), max(n) FROM m SEMI JOIN top "
                "USING (key) GROUP BY key, kind, tab ORDER BY key, min(ord)", params).fetchall():
            add(key, kind, table, label, int(n))
        # names (Chinese text): a substring match over the name index, exact names first
        if len(hits) < limit and not q.isascii() and "name_index" in cols:
            for key, name, table, kind, n in con.execute(
                    "SELECT key, name, tab, kind, n FROM name_index WHERE contains(name, $1) "
                    "QUALIFY row_number() OVER (PARTITION BY tab ORDER BY name <> $1, key) <= $2 "
                    "ORDER BY ord, name <> $1, key", [q, limit]).fetchall():
                if len(hits) < limit or key in hits:
                    add(key, kind, table, name, int(n))
        results = list(hits.values())[:limit]
        results.sort(key=lambda r: (-r["findings"], r["ident"] != q, r["ident"]))
        self.ws.audit("web.search", user=user, role=role, query=q, results=len(results))
        return [self._mask_hit(r, role) for r in results]

    def _mask_hit(self, hit: dict[str, Any], role: str) -> dict[str, Any]:
        kind = MASK_KIND.get(hit["kind"])
        return {**hit, "ident": self._refs.ref(hit["ident"], role, kind), "display": mask_text(hit["ident"], role, kind),
                "label": mask_text(hit["label"], role, "name") if hit["label"] else None}

    def dossier(self, ident: str, *, role: str, user: str) -> dict[str, Any] | None:
        """The masked dossier of ``ident`` (or its reference), audited on every call, cached or not.

        The answer is kept per snapshot, identifier and role (the cache empties when an analysis run
        changes the manifest); callers must not modify it.
        """
        ident = self._refs.resolve(clean_query(ident))
        con, cols, stamp = self._con()
        key = (stamp, ident, str(role))
        with self._cache_lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
        if cached is None:
            cached = self._assemble(con, cols, ident, role)
            with self._cache_lock:
                self._cache[key] = cached
                while len(self._cache) > self.DOSSIER_CACHE:
                    self._cache.popitem(last=False)
        found, detail = cached
        self.ws.audit("web.dossier", user=user, role=role, ident=ident, **detail)  # before the data leaves
        return found

    def _assemble(self, con: duckdb.DuckDBPyConnection, cols: dict[str, dict[str, str]], ident: str,
                  role: str) -> tuple[dict[str, Any] | None, dict[str, Any]]:
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
        # the search index holds the row ids of the rows that carry the identifier: only those rows are read,
        # named by their row ids in the query (DuckDB then fetches them by row id; a sub-query made it
        # join against the whole table, 2-3x the time)
        rids: dict[str, list[int]] = {}
        for table, kind, rid in con.execute("SELECT tab, kind, rid FROM search_index WHERE key = $1 "
                                            "AND rid IS NOT NULL", [ident]).fetchall():
            kinds.add(kind)
            rids.setdefault(table, []).append(int(rid))
        for spec in SEARCHABLE:
            if spec.table not in rids:
                continue
            wanted = sorted(set(rids[spec.table]))[:RECORDS_PER_TABLE]
            table = con.sql(f'SELECT * FROM "{spec.table}" WHERE rowid IN ({",".join(map(str, wanted))}) '
                            "ORDER BY rowid").to_arrow_table()
            records[spec.table] = _plain_rows(mask_table(table, role))
        records = {k: v for k, v in records.items() if v}
        txns = self._txn_rows(con, cols, ident)
        statements = self._statements(con, cols, txns, ident, role)
        graph = self._graph(con, cols, txns, ident, role, findings)
        if not findings and not records and not statements:
            return None, {"found": False}
        kind = (findings[0]["subject_type"] if findings else None) or (sorted(kinds)[0] if kinds else "subject")
        return ({"ident": self._refs.ref(ident, role, MASK_KIND.get(kind)),
                 "display": mask_text(ident, role, MASK_KIND.get(kind)), "kind": kind,
                 "findings": findings, "records": records, "statements": statements, "graph": graph,
                 "source": "lake"},
                {"found": True, "findings": len(findings), "tables": sorted(records)})

    @staticmethod
    def _txn_rows(con: duckdb.DuckDBPyConnection, cols: dict[str, dict[str, str]], ident: str) -> str:
        """The statement rows of ``ident`` as a filter on ``transactions``: their row ids written out when
        there are few (DuckDB fetches those rows directly), else the look-up in ``txn_index``."""
        if not {"from_account", "to_account"} <= set(cols.get("transactions", {})):
            return "false"
        found = con.execute(f"SELECT rid FROM txn_index WHERE account = $1 LIMIT {TXN_ROWIDS + 1}", [ident]).fetchall()
        if not found:
            return "false"
        if len(found) > TXN_ROWIDS:
            return _TXN_ROWS
        return f"rowid IN ({','.join(str(int(r[0])) for r in found)})"

    def _statements(self, con: duckdb.DuckDBPyConnection, cols: dict[str, dict[str, str]], txns: str, ident: str,
                    role: str) -> list[dict[str, Any]]:
        have = cols.get("transactions", {})
        if not {"from_account", "to_account", "ts", "amount"} <= set(have):
            return []
        table = con.sql(
            "SELECT ts, from_account, from_name, to_account, to_name, amount, currency, channel, summary, src_file, "
            f"src_row, txn_id FROM transactions WHERE {txns} ORDER BY ts LIMIT {STATEMENT_ROWS}",
            params=[ident] if "$1" in txns else None).to_arrow_table()
        return _plain_rows(mask_table(table, role))

    def _graph(self, con: duckdb.DuckDBPyConnection, cols: dict[str, dict[str, str]], txns: str, ident: str,
               role: str, findings: list[dict[str, Any]]) -> dict[str, Any]:
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
        have = cols.get("transactions", {})
        if {"from_account", "to_account", "amount"} <= set(have):
            rows = con.execute(
                "SELECT CASE WHEN from_account = $1 THEN to_account ELSE from_account END AS other, "
                "from_account = $1 AS outgoing, sum(amount) AS total, count(*) AS n, min(ts) AS first_ts, "
                "max(ts) AS last_ts, arg_min(src_file, ts) AS src_file, arg_min(src_row, ts) AS src_row "
                f"FROM transactions WHERE ({txns}) AND from_account <> to_account "
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
        have = cols.get("accounts", {})
        if {"account", "holder_id"} <= set(have):
            for account, holder, name in con.execute(
                    "SELECT DISTINCT account, holder_id, holder_name FROM (SELECT * FROM accounts WHERE account = $1 "
                    f"UNION ALL SELECT * FROM accounts WHERE holder_id = $1) LIMIT {EDGES}", [ident]).fetchall():
                if account and holder:
                    a = node(str(account), "account")
                    h = node(str(holder), "id_number", name)
                    edges.append({"source": h, "target": a, "kind": "holds", "evidence": {"table": "accounts"}})
        have = cols.get("links", {})
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


# the statement rows of account $1 (paid or received, each row once), found through txn_index
_TXN_ROWS = "rowid IN (SELECT rid FROM txn_index WHERE account = $1)"
TXN_ROWIDS = 5000  # up to this many statement rows an account's rows are named by row id in the query


def _build_search_index(db: duckdb.DuckDBPyConnection, cols: dict[str, dict[str, str]]) -> None:
    """Lookup tables built once per snapshot (at server start and after an analysis run), in every worker:

    * ``search_index``: identifier → kind, table, column, label, number of findings and the row id of
      the row that carries it (findings: one row per subject, no row id), sorted by identifier so
      that a lookup or a prefix search reads a few row groups;
    * ``txn_index``: account → row ids of its statement rows (paid or received), sorted by account;
    * ``name_index``: name → identifier, for Chinese names (a substring scan of names only).
    """
    has_findings = "subject_key" in cols.get("findings", {})
    counts = ("(SELECT CAST(subject_key AS VARCHAR) AS key, count(*) AS n FROM findings GROUP BY 1)"
              if has_findings else "(SELECT NULL::VARCHAR AS key, 0 AS n WHERE false)")
    parts = []
    if has_findings:
        parts.append("SELECT CAST(subject_key AS VARCHAR) AS key, coalesce(any_value(subject_type), 'subject') AS kind, "
                     "'findings' AS tab, CAST(NULL AS VARCHAR) AS col, CAST(NULL AS VARCHAR) AS label, 0 AS ord, "
                     "CAST(NULL AS BIGINT) AS rid FROM findings GROUP BY 1")
    for i, spec in enumerate(SEARCHABLE, start=1):
        have = cols.get(spec.table, {})
        label = f'CAST("{spec.label}" AS VARCHAR)' if spec.label in have else "CAST(NULL AS VARCHAR)"
        parts += [f"SELECT CAST(\"{column}\" AS VARCHAR), '{kind}', '{spec.table}', '{column}', {label}, {i * 10 + j}, "
                  f'rowid FROM "{spec.table}"' for j, (column, kind) in enumerate(spec.keys) if column in have]
    body = " UNION ALL ".join(parts) or ("SELECT NULL::VARCHAR AS key, NULL::VARCHAR AS kind, NULL::VARCHAR AS tab, "
                                         "NULL::VARCHAR AS col, NULL::VARCHAR AS label, 0 AS ord, NULL::BIGINT AS rid "
                                         "WHERE false")
    db.execute(f"CREATE TABLE search_index AS SELECT m.*, coalesce(c.n, 0) AS n FROM ({body}) m "
               f"LEFT JOIN {counts} c USING (key) WHERE m.key IS NOT NULL AND m.key <> '' ORDER BY m.key, m.ord")
    if {"from_account", "to_account"} <= set(cols.get("transactions", {})):
        db.execute("CREATE TABLE txn_index AS SELECT * FROM (SELECT CAST(from_account AS VARCHAR) AS account, rowid AS rid "
                   "FROM transactions UNION ALL SELECT CAST(to_account AS VARCHAR), rowid FROM transactions) "
                   "WHERE account IS NOT NULL ORDER BY account")
    names = []
    for i, (table, name_col, key_col) in enumerate(NAME_COLUMNS):
        have = cols.get(table, {})
        if name_col in have and key_col in have:
            kind = "id_number" if key_col.endswith("id_number") or key_col == "holder_id" else "member"
            names.append(f"SELECT DISTINCT CAST(\"{key_col}\" AS VARCHAR) AS key, CAST(\"{name_col}\" AS VARCHAR) AS name, "
                         f"'{table}' AS tab, '{kind}' AS kind, {i} AS ord FROM \"{table}\" "
                         f'WHERE "{name_col}" IS NOT NULL AND "{key_col}" IS NOT NULL')
    if names:
        db.execute(f"CREATE TABLE name_index AS SELECT x.*, coalesce(c.n, 0) AS n FROM ({' UNION ALL '.join(names)}) x "
                   f"LEFT JOIN {counts} c USING (key) WHERE x.key <> ''")
        cols["name_index"] = {"key": "VARCHAR", "name": "VARCHAR"}


def kind_label(column: str) -> str | None:
    return kind_for_name(column)
