"""Entities and typed links across the chains (实体与关系): ``intel resolve``.

Reads whatever canonical and result tables the chains wrote and makes three lake tables, rebuilt
from scratch on every run (so running it twice changes nothing):

* ``entity_sources``: one row per source row an entity was seen in (entity, the producing chain,
  table, file SHA-256, file name, row number, and the key the chain itself uses for the entity,
  so findings can be joined back);
* ``entities``: one row per entity: ``entity_id`` (``type:key``), type, normalised key, a label,
  its identifiers, the chains and tables that saw it, how many source rows;
* ``entity_links``: typed links between entities (``kind``, ``chain``), money links aggregated
  (amount sum, count, first/last time) and the way back to the rows (``evidence``).

Entity types: ``person`` (valid resident ID ``ID:<18 digits>``; else the people chain's own key),
``account`` (bank card or account number), ``phone`` (E.164), ``ip``, ``mac``, ``device``,
``wallet`` (crypto address), ``site`` (host as scanned), ``domain`` (registrable domain),
``member`` (``platform:member_id``), ``platform``, ``org`` (a company holder).

Exact pivots are normalised the same way everywhere (:mod:`chainbreaker.core.model.identifiers`):
15-digit IDs become 18, card numbers lose spaces, dashes and full-width digits, phones become
E.164, hosts become registrable domains. Where ``intel match`` (Splink entity resolution) has
written ``person_clusters``, the person entities of one cluster are merged into one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from chainbreaker.core.model.identifiers import (
    AccountNumber,
    BankCard,
    CryptoAddress,
    Domain,
    IPAddress,
    Mobile,
    ResidentID,
)

MAX_EVIDENCE = 20
ENTITY_TYPES = ("person", "account", "phone", "ip", "mac", "device", "wallet", "site", "domain", "member",
                "platform", "org")
MONEY_KINDS = ("transferred_to", "deposit_to", "withdrawal_to")

# ``name`` holds a person's name (personal data, masked by role on every output); ``label`` what is
# not personal (bank, username, host)
SOURCES = pa.schema([
    ("entity_id", pa.string()), ("entity_type", pa.string()), ("key", pa.string()), ("name", pa.string()),
    ("label", pa.string()),
    ("chain", pa.string()), ("source_table", pa.string()), ("subject_key", pa.string()),
    ("src_sha256", pa.string()), ("src_file", pa.string()), ("src_row", pa.int64()),
])
ENTITIES = pa.schema([
    ("entity_id", pa.string()), ("entity_type", pa.string()), ("key", pa.string()), ("name", pa.string()),
    ("label", pa.string()),
    ("identifiers", pa.string()),  # JSON list of the normalised identifiers merged into the entity
    ("subject_keys", pa.string()),  # JSON list of the keys chains use for it (to join findings)
    ("chains", pa.string()), ("tables", pa.string()), ("n_sources", pa.int64()), ("run_id", pa.string()),
])
ENTITY_LINKS = pa.schema([
    ("kind", pa.string()), ("chain", pa.string()), ("src_id", pa.string()), ("dst_id", pa.string()),
    ("count", pa.int64()), ("amount", pa.decimal128(38, 2)),
    ("first_ts", pa.timestamp("us", tz="UTC")), ("last_ts", pa.timestamp("us", tz="UTC")),
    ("evidence", pa.string()), ("run_id", pa.string()),
])
_ID_RE = "^([0-9]{15}|[0-9]{17}[0-9Xx])$"


@dataclass
class ResolveResult:
    run_id: str
    entities: dict[str, int] = field(default_factory=dict)  # type -> entities
    links: dict[str, int] = field(default_factory=dict)  # kind -> links
    sources: int = 0
    merged_by_er: int = 0  # person entities folded into another by person_clusters


def resolve(ws: Any) -> ResolveResult:
    """Build or refresh ``entities``, ``entity_sources`` and ``entity_links`` of workspace ``ws``."""
    with ws.transaction("intel.resolve") as tx:
        return resolve_in(tx)


def resolve_in(tx: Any) -> ResolveResult:
    res = ResolveResult(tx.run_id)
    con = tx.con
    have = {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
    cols = {t: {r[0] for r in con.sql(f'DESCRIBE "{t}"').fetchall()} for t in have}
    with tx.timed("pivots"):
        _register_pivots(con, have, cols)
    with tx.timed("sources"):
        sources = _sources(con, have, cols)
    with tx.timed("links"):
        links = _links(con, have, cols)
    with tx.timed("merge"):
        canon = _er_merge(con, have, sources)
        res.merged_by_er = len(canon)
        if canon:
            sources, links = _apply_canon(sources, links, canon)
    entities = _entities(con, sources, tx.run_id)
    links = links.set_column(links.schema.get_field_index("run_id"), "run_id",
                             pa.array([tx.run_id] * links.num_rows, pa.string()))
    if not sources.num_rows and not any(tx.has_table(t) for t in ("entities", "entity_links", "entity_sources")):
        return res
    tx.write("entity_sources", sources)
    tx.write("entities", entities)
    tx.write("entity_links", links)
    res.sources = sources.num_rows
    res.entities = _count(entities.column("entity_type").to_pylist())
    res.links = _count(links.column("kind").to_pylist())
    tx.counts.update({"entities": res.entities, "links": res.links, "sources": res.sources,
                      "merged_by_er": res.merged_by_er})
    return res


def _count(values: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for v in values:
        out[v] += 1
    return dict(sorted(out.items()))


# ------------------------------------------------------------------ pivots (normalised identifiers)
def phone_e164(text: object) -> str | None:
    m = Mobile.clean(text)
    return f"+86{m}" if m else None


def _mapping(con: Any, name: str, values: list[str], fn: Callable[[object], str | None]) -> None:
    con.register(name, pa.table({"raw": pa.array(values, pa.string()),
                                 "norm": pa.array([fn(v) for v in values], pa.string())}))


def _distinct(con: Any, parts: list[str]) -> list[str]:
    if not parts:
        return []
    sql = " UNION ".join(f"SELECT CAST({c} AS VARCHAR) AS v FROM {t} WHERE {c} IS NOT NULL" for t, c in
                         (p.split(".", 1) for p in parts))
    return [r[0] for r in con.sql(sql).fetchall()]


def _register_pivots(con: Any, have: set[str], cols: dict[str, set[str]]) -> None:
    """Mapping tables raw → normalised for IDs, phones, cards and hosts (normalised once per value)."""
    def present(*pairs: str) -> list[str]:
        return [p for p in pairs if p.split(".")[0] in have and p.split(".")[1] in cols[p.split(".")[0]]]

    _mapping(con, "_pv_id", _distinct(con, present("accounts.holder_id", "persons.id_number",
                                                     "platform_members.id_number")), ResidentID.clean)
    _mapping(con, "_pv_phone", _distinct(con, present("persons.phone", "platform_members.phone")), phone_e164)
    _mapping(con, "_pv_card", _distinct(con, present("platform_members.bank_card")), AccountNumber.clean)
    _mapping(con, "_pv_host", _distinct(con, present("tech_captures.host", "tech_indicators.host")),
             lambda h: Domain.registrable(str(h).split(":")[0]))


# ------------------------------------------------------------------ sources
def _evidence_sql(table: str, sha: str = "src_sha256", row: str = "src_row", file: str | None = "src_file") -> str:
    f = f", 'file': {file}" if file else ""
    return (f"CAST(to_json(list({{'table': '{table}', 'file_sha256': {sha}{f}, 'row': {row}}} "
            f"ORDER BY {sha}, {row})[1:{MAX_EVIDENCE}]) AS VARCHAR)")


def _sources(con: Any, have: set[str], cols: dict[str, set[str]]) -> pa.Table:
    parts: list[str] = []

    def add(etype: str, key: str, label: str, chain: str, table: str, subject: str, where: str,
            join: str = "", file: str = "src_file") -> None:
        f = f"t.{file}" if table.startswith("(") or file in cols.get(table, set()) else "NULL"
        parts.append(f"""SELECT '{etype}:' || ({key}) AS entity_id, '{etype}' AS entity_type, ({key}) AS key,
                         CAST({label if etype == "person" else "NULL"} AS VARCHAR) AS name,
                         CAST({"NULL" if etype == "person" else label} AS VARCHAR) AS label, '{chain}' AS chain, '{table}' AS source_table,
                         CAST({subject} AS VARCHAR) AS subject_key, t.src_sha256, CAST({f} AS VARCHAR) AS src_file,
                         CAST(t.src_row AS BIGINT) AS src_row
                         FROM {table} t {join} WHERE ({key}) IS NOT NULL AND {where}""")

    if "accounts" in have:
        add("account", "t.account", "t.bank", "funds", "accounts", "t.account", "t.origin = 'bank'")
        add("person", "'ID:' || i.norm", "t.holder_name", "funds", "accounts", "'ID:' || i.norm",
            "t.origin = 'bank'", "JOIN _pv_id i ON i.raw = t.holder_id")
        add("org", "upper(t.holder_id)", "t.holder_name", "funds", "accounts", "t.holder_id",
            f"t.origin = 'bank' AND NOT regexp_matches(t.holder_id, '{_ID_RE}') "
            "AND regexp_matches(upper(t.holder_id), '^[0-9A-Z]{18}$')")
        add("ip", "t.last_login_ip", "NULL", "funds", "accounts", "t.last_login_ip", "t.origin = 'bank'")
    if "transactions" in have:
        for side in ("from", "to"):
            add("account", f"t.{side}_account", f"t.{side}_bank", "funds", "transactions", f"t.{side}_account",
                "true")
        add("ip", "t.ip", "NULL", "funds", "transactions", "t.ip", "true")
        add("mac", "upper(t.mac)", "NULL", "funds", "transactions", "t.mac", "true")
    if "persons" in have:
        add("person", "'ID:' || i.norm", "t.name", "funds", "persons", "'ID:' || i.norm", "true",
            "JOIN _pv_id i ON i.raw = t.id_number")
        add("phone", "p.norm", "NULL", "funds", "persons", "p.norm", "true", "JOIN _pv_phone p ON p.raw = t.phone")
    if "platform_members" in have:
        m = cols["platform_members"]

        def o(name: str) -> str:  # optional columns of a seized database
            return f"t.{name}" if name in m else "NULL"

        add("member", "t.platform || ':' || t.member_id", o('username'), "promotion", "platform_members",
            "t.platform || ':' || t.member_id", "t.member_id IS NOT NULL")
        add("platform", "t.platform", "t.platform", "promotion", "platform_members", "t.platform", "true")
        add("person", "'ID:' || i.norm", o('real_name'), "promotion", "platform_members", "'ID:' || i.norm", "true",
            f"JOIN _pv_id i ON i.raw = {o('id_number')}")
        add("phone", "p.norm", "NULL", "promotion", "platform_members", "p.norm", "true",
            f"JOIN _pv_phone p ON p.raw = {o('phone')}")
        add("account", "c.norm", "NULL", "promotion", "platform_members", "c.norm", "true",
            f"JOIN _pv_card c ON c.raw = {o('bank_card')}")
        for ipcol in ("register_ip", "last_login_ip"):
            if ipcol in m:
                add("ip", f"t.{ipcol}", "NULL", "promotion", "platform_members", f"t.{ipcol}", "true")
        if "device" in m:
            add("device", "t.device", "NULL", "promotion", "platform_members", "t.device", "true")
    if "platform_payments" in have:
        add("account", "t.account", "NULL", "promotion", "platform_payments", "t.account", "t.ok")
    if "tech_indicators" in have:
        # a web capture has no row number: the capture hash is the evidence, row 0
        ind = ("(SELECT host, url, kind, value, capture_sha256 AS src_sha256, url AS src_file, 0 AS src_row "
               "FROM tech_indicators)")
        add("site", "t.host", "t.host", "tech", ind, "t.host", "true")
        add("account", "t.value", "NULL", "tech", ind, "t.value", "t.kind IN ('bank_card', 'account')")
        add("wallet", "t.value", "t.kind", "tech", ind, "t.value", "t.kind LIKE 'crypto%' OR t.kind = 'wallet'")
        add("phone", "'+86' || t.value", "NULL", "tech", ind, "t.value", "t.kind IN ('phone', 'mobile')")
        add("domain", "h.norm", "h.norm", "tech", ind, "h.norm", "true", "JOIN _pv_host h ON h.raw = t.host")
    if "tech_captures" in have:
        cap = ("(SELECT host, capture_sha256 AS src_sha256, url AS src_file, 0 AS src_row FROM tech_captures "
               "WHERE capture_sha256 IS NOT NULL)")
        add("site", "t.host", "t.host", "tech", cap, "t.host", "true")
        add("domain", "h.norm", "h.norm", "tech", cap, "h.norm", "true", "JOIN _pv_host h ON h.raw = t.host")
    for table in ("travel_crossings", "travel_flights", "travel_trains", "travel_hotels"):
        if table in have:
            add("person", _person_key("t"), "t.name", "people", table, "t.person_key", "true")
    if "travel_kin" in have:
        add("person", _person_key("t"), "t.name", "people", "travel_kin", "t.person_key", "true")
        add("person", "CASE WHEN t.kin_id_valid THEN 'ID:' || t.kin_id_number ELSE t.kin_key END", "t.kin_name",
            "people", "travel_kin", "t.kin_key", "t.kin_key IS NOT NULL")
    if not parts:
        return SOURCES.empty_table()
    sql = " UNION ALL ".join(parts).replace("FROM (SELECT", "FROM (SELECT")
    table = con.sql(f"SELECT * FROM ({sql}) ORDER BY ALL").to_arrow_table()
    return table.cast(SOURCES)


def _person_key(alias: str) -> str:
    """The people chain's ``person_key`` is ``ID:<18>`` for a valid ID: the same key as everywhere else."""
    return f"{alias}.person_key"


# ------------------------------------------------------------------ links
def _links(con: Any, have: set[str], cols: dict[str, set[str]]) -> pa.Table:
    parts: list[str] = []

    def add(kind: str, chain: str, src: str, dst: str, table: str, where: str = "true", join: str = "",
            count: str = "count(*)", amount: str = "NULL", ts: str | None = None, ev: str | None = None) -> None:
        first = f"min({ts})" if ts else "NULL"
        last = f"max({ts})" if ts else "NULL"
        evidence = ev or _evidence_sql(table, "t.src_sha256", "t.src_row",
                                       "t.src_file" if "src_file" in cols.get(table, set()) else None)
        parts.append(f"""SELECT '{kind}' AS kind, '{chain}' AS chain, {src} AS src_id, {dst} AS dst_id,
                                {count} AS count, CAST({amount} AS DECIMAL(38, 2)) AS amount,
                                {first} AS first_ts, {last} AS last_ts, {evidence} AS evidence, NULL AS run_id
                         FROM {table} t {join}
                         WHERE {src} IS NOT NULL AND {dst} IS NOT NULL AND {where} GROUP BY ALL""")

    if "transactions" in have:
        add("transferred_to", "funds", "'account:' || t.from_account", "'account:' || t.to_account", "transactions",
            "t.from_account <> t.to_account", amount="sum(t.amount)", ts="t.ts")
        add("used_device", "funds", "'account:' || t.from_account", "'ip:' || t.ip", "transactions",
            "t.requested_side IN ('from', 'both')", ts="t.ts")
        add("used_device", "funds", "'account:' || t.from_account", "'mac:' || upper(t.mac)", "transactions",
            "t.requested_side IN ('from', 'both')", ts="t.ts")
    if "accounts" in have:
        add("holds", "funds", "'person:ID:' || i.norm", "'account:' || t.account", "accounts", "t.origin = 'bank'",
            "JOIN _pv_id i ON i.raw = t.holder_id")
        add("holds", "funds", "'org:' || upper(t.holder_id)", "'account:' || t.account", "accounts",
            f"t.origin = 'bank' AND NOT regexp_matches(t.holder_id, '{_ID_RE}') "
            "AND regexp_matches(upper(t.holder_id), '^[0-9A-Z]{18}$')")
        add("used_device", "funds", "'account:' || t.account", "'ip:' || t.last_login_ip", "accounts",
            "t.origin = 'bank'")
    if "persons" in have:
        add("has_phone", "funds", "'person:ID:' || i.norm", "'phone:' || p.norm", "persons", "true",
            "JOIN _pv_id i ON i.raw = t.id_number JOIN _pv_phone p ON p.raw = t.phone")
    if "platform_members" in have:
        m = cols["platform_members"]

        def o(name: str) -> str:
            return f"t.{name}" if name in m else "NULL"

        member = "'member:' || t.platform || ':' || t.member_id"
        add("member_of", "promotion", member, "'platform:' || t.platform", "platform_members")
        add("agent_of", "promotion", f"'member:' || t.platform || ':' || {o('upline_id')}", member, "platform_members",
            f"{o('upline_id')} IS NOT NULL AND {o('upline_id')} <> '' AND {o('upline_id')} <> t.member_id")
        add("holds", "promotion", "'person:ID:' || i.norm", member, "platform_members", "true",
            f"JOIN _pv_id i ON i.raw = {o('id_number')}")
        add("has_phone", "promotion", member, "'phone:' || p.norm", "platform_members", "true",
            f"JOIN _pv_phone p ON p.raw = {o('phone')}")
        add("binds_card", "promotion", member, "'account:' || c.norm", "platform_members", "true",
            f"JOIN _pv_card c ON c.raw = {o('bank_card')}")
        for ipcol in ("register_ip", "last_login_ip"):
            if ipcol in m:
                add("used_device", "promotion", member, f"'ip:' || t.{ipcol}", "platform_members")
        if "device" in m:
            add("used_device", "promotion", member, "'device:' || t.device", "platform_members")
    if "platform_payments" in have:
        add("deposit_to", "promotion", "'member:' || t.platform || ':' || t.member_id", "'account:' || t.account",
            "platform_payments", "t.ok AND t.kind = 'deposit'", amount="sum(t.amount)", ts="t.ts")
        add("withdrawal_to", "promotion", "'member:' || t.platform || ':' || t.member_id", "'account:' || t.account",
            "platform_payments", "t.ok AND t.kind <> 'deposit'", amount="sum(t.amount)", ts="t.ts")
    if "tech_indicators" in have:
        web = ("CAST(to_json(list_sort(list(DISTINCT {'table': 'tech_indicators', 'capture': t.capture_sha256, "
               f"'url': t.url, 'persona': t.persona}}))[1:{MAX_EVIDENCE}]) AS VARCHAR)")
        add("shows_card", "tech", "'site:' || t.host", "'account:' || t.value", "tech_indicators",
            "t.kind IN ('bank_card', 'account')", ev=web)
        add("shows_wallet", "tech", "'site:' || t.host", "'wallet:' || t.value", "tech_indicators",
            "t.kind LIKE 'crypto%' OR t.kind = 'wallet'", ev=web)
        add("shows_phone", "tech", "'site:' || t.host", "'phone:+86' || t.value", "tech_indicators",
            "t.kind IN ('phone', 'mobile')", ev=web)
        add("on_domain", "tech", "'site:' || t.host", "'domain:' || h.norm", "tech_indicators", "true",
            "JOIN _pv_host h ON h.raw = t.host", ev=web)
    if "tech_captures" in have:
        cap = ("CAST(to_json(list_sort(list(DISTINCT {'table': 'tech_captures', 'capture': t.capture_sha256, "
               f"'url': t.url}}))[1:{MAX_EVIDENCE}]) AS VARCHAR)")
        add("on_domain", "tech", "'site:' || t.host", "'domain:' || h.norm", "tech_captures",
            "t.capture_sha256 IS NOT NULL", "JOIN _pv_host h ON h.raw = t.host", ev=cap)
    if "travel_pairs" in have:
        add("travelled_with", "people", "'person:' || t.a", "'person:' || t.b", "travel_pairs", "true",
            count="sum(t.trips_together)", ts="CAST(t.first_day AS TIMESTAMPTZ)",
            ev="CAST(to_json(list({'table': 'travel_pairs', 'a': t.a, 'b': t.b, 'kinds': t.kinds} ORDER BY t.a, t.b)) "
               "AS VARCHAR)")
    if "travel_kin" in have:
        add("kin_of", "people", "'person:' || t.person_key", "'person:' || "
            "CASE WHEN t.kin_id_valid THEN 'ID:' || t.kin_id_number ELSE t.kin_key END", "travel_kin")
    if not parts:
        return ENTITY_LINKS.empty_table()
    sql = " UNION ALL ".join(parts)
    # one row per (kind, chain, src, dst): the same link seen from two mapped sources is merged
    merged = con.sql(f"""
        SELECT kind, chain, src_id, dst_id, sum(count) AS count, sum(amount) AS amount, min(first_ts) AS first_ts,
               max(last_ts) AS last_ts, min(evidence) AS evidence, NULL AS run_id
        FROM ({sql}) GROUP BY kind, chain, src_id, dst_id ORDER BY kind, chain, src_id, dst_id""").to_arrow_table()
    return merged.cast(ENTITY_LINKS)


# ------------------------------------------------------------------ merge persons by ER clusters
def _er_merge(con: Any, have: set[str], sources: pa.Table) -> dict[str, str]:
    """Person entity → the entity it folds into, from ``person_clusters`` of ``intel match`` (if run)."""
    if not {"person_clusters", "person_records"} <= have or not sources.num_rows:
        return {}
    con.register("_rs_sources", sources)
    try:
        rows = con.sql("""
            SELECT DISTINCT c.cluster_id, s.entity_id
            FROM _rs_sources s
            JOIN person_records r ON r.source_table = s.source_table AND r.src_sha256 = s.src_sha256
                                 AND r.src_row = s.src_row
            JOIN person_clusters c ON c.record_id = r.record_id
            WHERE s.entity_type = 'person' ORDER BY 1, 2""").fetchall()
    finally:
        con.unregister("_rs_sources")
    by_cluster: dict[str, list[str]] = defaultdict(list)
    for cluster, entity in rows:
        by_cluster[cluster].append(entity)
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    for entities in by_cluster.values():
        root = find(min(entities))
        for e in entities:
            r = find(e)
            if r != root:
                lo, hi = sorted((r, root))
                parent[hi] = lo
                root = lo
    return {e: find(e) for e in parent if find(e) != e}


def _apply_canon(sources: pa.Table, links: pa.Table, canon: dict[str, str]) -> tuple[pa.Table, pa.Table]:
    def remap(col: pa.ChunkedArray) -> pa.Array:
        return pa.array([canon.get(v, v) for v in col.to_pylist()], pa.string())

    sources = sources.set_column(0, "entity_id", remap(sources.column("entity_id")))
    links = links.set_column(2, "src_id", remap(links.column("src_id")))
    links = links.set_column(3, "dst_id", remap(links.column("dst_id")))
    rows = [r for r in links.to_pylist() if r["src_id"] != r["dst_id"]]
    return sources, pa.Table.from_pylist(rows, schema=ENTITY_LINKS)


def _entities(con: Any, sources: pa.Table, run_id: str) -> pa.Table:
    if not sources.num_rows:
        return ENTITIES.empty_table()
    con.register("_rs_sources", sources)
    try:
        t = con.sql(f"""
            SELECT entity_id, any_value(entity_type) AS entity_type,
                   substr(entity_id, length(any_value(entity_type)) + 2) AS key,
                   min(name) AS name, min(label) AS label,
                   CAST(to_json(list_sort(list(DISTINCT key))) AS VARCHAR) AS identifiers,
                   CAST(to_json(list_sort(list(DISTINCT subject_key))) AS VARCHAR) AS subject_keys,
                   CAST(to_json(list_sort(list(DISTINCT chain))) AS VARCHAR) AS chains,
                   CAST(to_json(list_sort(list(DISTINCT source_table))) AS VARCHAR) AS tables,
                   count(*) AS n_sources, '{run_id}' AS run_id
            FROM _rs_sources GROUP BY entity_id ORDER BY entity_id""").to_arrow_table()
    finally:
        con.unregister("_rs_sources")
    return t.cast(ENTITIES)


def identifiers_of(text: str) -> list[str]:
    """Candidate entity ids for what an analyst typed: URL/domain, card/account, ID, phone, wallet,
    ``platform:member_id`` or an entity id itself (``person:ID:...``)."""
    s = (text or "").strip()
    if not s:
        return []
    head = s.split(":", 1)[0]
    if head in ENTITY_TYPES and ":" in s:
        return [s]
    out: list[str] = []
    if rid := ResidentID.clean(s):
        out.append(f"person:ID:{rid}")
    if phone := phone_e164(s):
        out.append(f"phone:{phone}")
    if CryptoAddress.kind(s):
        out.append(f"wallet:{s}")
    if s.lower().startswith(("http://", "https://")) or "." in s and not s.replace(".", "").isdigit():
        from urllib.parse import urlsplit

        netloc = urlsplit(s if "://" in s else f"http://{s}").netloc.lower()
        if netloc:
            out.append(f"site:{netloc}")
            if reg := Domain.registrable(netloc.split(":")[0]):
                out.append(f"domain:{reg}")
    if ip := IPAddress.clean(s):
        out.append(f"ip:{ip}")
    if ":" in s and not out:
        out.append(f"member:{s}")
    if not out and (acct := BankCard.clean(s) or AccountNumber.clean(s)):
        out.append(f"account:{acct}")
    return out
