"""Where the chains meet (跨链关联): links between chain outputs, made after the chains ran.

The chains never read or write each other's tables; :func:`link` reads what each chain wrote and
makes, in one transaction:

* the lead rows of the shared ``accounts`` table: payee and withdrawal cards of seized platforms
  (:mod:`chainbreaker.intel.platform_accounts`, origins ``platform_deposit`` / ``platform_withdrawal``)
  and cards or crypto addresses shown on gambling pages (:mod:`chainbreaker.intel.web_accounts`,
  origin ``web_indicator``), all ``requested = False``, so funds screening, tracing and next-request
  suggestions see them; rows of other origins are kept as they are;
* the table ``links``: one row per link between two chain entities, with its ``kind``, the
  ``chain`` whose output it came from, counts and money where there are some, and ``evidence``
  (the rows behind it). Kinds: ``shows_card`` (site → account, tech), ``deposit_to`` and
  ``withdrawal_to`` (platform member → account, promotion), ``holds`` (person with a resident ID →
  account, funds; companies as holders wait for intel's entities, issue 12);
* findings of chain ``intel``: ``LINK-FUNDS``, an account flagged by the funds chain that a
  seized platform collected into or paid out to.

Everything is rebuilt from the chains' current tables, so running it twice changes nothing and
the result does not depend on the order in which the chains ran.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa

from chainbreaker.core.model.finding import Finding, Scope, publish
from chainbreaker.core.model.schemas import ACCOUNTS
from chainbreaker.intel.platform_accounts import ORIGINS as PLATFORM_ORIGINS
from chainbreaker.intel.platform_accounts import funds_flagged_payments, platform_account_rows
from chainbreaker.intel.web_accounts import ORIGIN as WEB_ORIGIN
from chainbreaker.intel.web_accounts import web_account_rows, web_indicator_rows

CHAIN = "intel"
LEAD_ORIGINS = (*PLATFORM_ORIGINS, WEB_ORIGIN)
MAX_EVIDENCE = 20

LINKS = pa.schema([
    ("kind", pa.string()),  # shows_card | deposit_to | withdrawal_to | holds
    ("chain", pa.string()),  # the chain whose output the link comes from
    ("src_type", pa.string()),  # site | member | person
    ("src_key", pa.string()),
    ("dst_type", pa.string()),  # account
    ("dst_key", pa.string()),
    ("count", pa.int64()),
    ("amount", pa.decimal128(38, 2)),
    ("first_ts", pa.timestamp("us", tz="UTC")),
    ("last_ts", pa.timestamp("us", tz="UTC")),
    ("evidence", pa.string()),  # JSON list of references to source rows
    ("run_id", pa.string()),
])


@dataclass
class LinkResult:
    run_id: str
    accounts: dict[str, int] = field(default_factory=dict)  # lead origin -> rows in ``accounts``
    links: dict[str, int] = field(default_factory=dict)  # kind -> rows in ``links``
    findings: dict[str, int] = field(default_factory=dict)  # rule -> findings of chain intel


def link(ws: Any) -> LinkResult:
    """Make the cross-chain links of workspace ``ws`` from whatever chains have run (idempotent)."""
    with ws.transaction("intel.link", inputs=["platform_payments", "tech_indicators", "accounts", "findings"]) as tx:
        return link_in(tx)


def link_in(tx: Any) -> LinkResult:
    """:func:`link` inside an open transaction (the links commit with the rest of it)."""
    res = LinkResult(tx.run_id)
    with tx.timed("accounts"):
        res.accounts = _lead_accounts(tx)
    with tx.timed("links"):
        res.links = _links(tx)
    with tx.timed("findings"):
        found = _funds_link_findings(tx)
        publish(tx, CHAIN, found, Scope(rule_ids=["LINK-FUNDS"]))
        res.findings = {"LINK-FUNDS": len(found)}
    tx.counts.update({"accounts": res.accounts, "links": res.links, "findings": res.findings})
    return res


def _lead_accounts(tx: Any) -> dict[str, int]:
    """``accounts`` = rows of other origins (kept) + the lead rows rebuilt from the chains' outputs."""
    con = tx.con
    leads = pa.concat_tables([platform_account_rows(con), web_account_rows(con)])
    if not tx.has_table("accounts") and not leads.num_rows:
        return {}
    cols = ", ".join(f'"{f.name}"' for f in ACCOUNTS)
    if tx.has_table("accounts"):
        kept = con.sql(f"SELECT {cols} FROM accounts WHERE origin IS NULL OR NOT list_contains(?, origin)",
                       params=[list(LEAD_ORIGINS)]).to_arrow_table().cast(ACCOUNTS)
        tx.write("accounts", pa.concat_tables([kept, leads]))
    else:
        tx.write("accounts", leads)
    counts: dict[str, int] = defaultdict(int)
    for origin in leads.column("origin").to_pylist():
        counts[origin] += 1
    return dict(counts)


def _links(tx: Any) -> dict[str, int]:
    con = tx.con
    parts: list[pa.Table] = []
    web = web_indicator_rows(con)
    if web:
        parts.append(pa.Table.from_pylist([
            {"kind": "shows_card", "chain": "tech", "src_type": "site", "src_key": urlsplit(url).hostname or url,
             "dst_type": "account", "dst_key": value, "count": 1,
             "evidence": json.dumps([{"table": "tech_indicators", "capture": sha, "url": url, "kind": kind}],
                                    ensure_ascii=False)}
            for kind, value, _payee, sha, url in web], schema=LINKS))
    if tx.has_table("platform_payments"):
        parts.append(con.sql(f"""
            SELECT CASE kind WHEN 'deposit' THEN 'deposit_to' ELSE 'withdrawal_to' END AS kind, 'promotion' AS chain,
                   'member' AS src_type, platform || ':' || member_id AS src_key, 'account' AS dst_type,
                   account AS dst_key, count(*) AS count, sum(amount) AS amount, min(ts) AS first_ts, max(ts) AS last_ts,
                   CAST(to_json(list({{'table': 'platform_payments', 'file_sha256': src_sha256, 'file': src_file,
                                      'row': src_row}} ORDER BY src_sha256, src_row)[1:{MAX_EVIDENCE}]) AS VARCHAR)
                       AS evidence,
                   NULL AS run_id
            FROM platform_payments WHERE ok AND member_id IS NOT NULL
            GROUP BY kind, platform, member_id, account""").to_arrow_table().cast(LINKS))
    if tx.has_table("accounts"):
        parts.append(con.sql(f"""
            SELECT 'holds' AS kind, 'funds' AS chain, 'person' AS src_type, 'ID:' || holder_id AS src_key,
                   'account' AS dst_type, account AS dst_key, count(*) AS count, NULL AS amount,
                   NULL AS first_ts, NULL AS last_ts,
                   CAST(to_json(list({{'table': 'accounts', 'file_sha256': src_sha256, 'row': src_row}}
                                     ORDER BY src_sha256, src_row)[1:{MAX_EVIDENCE}]) AS VARCHAR) AS evidence,
                   NULL AS run_id
            FROM accounts WHERE origin = 'bank' AND regexp_matches(holder_id, '^([0-9]{{15}}|[0-9]{{17}}[0-9Xx])$')
            GROUP BY holder_id, account""").to_arrow_table().cast(LINKS))
    if not parts and not tx.has_table("links"):
        return {}
    table = pa.concat_tables(parts) if parts else LINKS.empty_table()
    table = table.set_column(table.schema.get_field_index("run_id"), "run_id",
                             pa.array([tx.run_id] * table.num_rows, pa.string()))
    table = table.sort_by([("kind", "ascending"), ("src_key", "ascending"), ("dst_key", "ascending")])
    tx.write("links", table)
    counts: dict[str, int] = defaultdict(int)
    for kind in table.column("kind").to_pylist():
        counts[kind] += 1
    return dict(sorted(counts.items()))


def _money(v: Any) -> str:
    return f"{Decimal(v or 0):,.2f}"


def _funds_link_findings(tx: Any) -> list[Finding]:
    """LINK-FUNDS: one finding per funds-flagged account that platforms collected into or paid out to."""
    by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for x in funds_flagged_payments(tx.con).to_pylist():
        if "platform" not in x:
            break
        by_account[x["account"]].append(x)
    out = []
    for account, rows in sorted(by_account.items()):
        first = rows[0]
        parts_zh = [f"在平台“{x['platform']}”数据库中{'收取充值' if x['kind'] == 'deposit' else '接收提现'} "
                    f"{x['payments']} 笔，涉及会员 {x['members']} 名，合计 {_money(x['amount'])} 元" for x in rows]
        parts_en = [f"{x['payments']} {x['kind']} payments of platform '{x['platform']}' ({x['members']} members, "
                    f"{_money(x['amount'])} yuan)" for x in rows]
        total = sum((Decimal(x["amount"] or 0) for x in rows), Decimal(0))
        out.append(Finding(
            tx.run_id, CHAIN, "LINK-FUNDS", "account", account, max(0.5, float(first["funds_score"] or 0)),
            f"资金链已标记的账户 {account}（规则 {first['funds_rules']}）" + "；".join(parts_zh)
            + "：资金链与推广链相互印证。",
            f"Account {account} flagged by the funds chain ({first['funds_rules']}) appears in "
            + "; ".join(parts_en) + ".",
            facts={"platform": first["platform"], "platforms": sorted({x["platform"] for x in rows}),
                   "kinds": sorted({x["kind"] for x in rows}), "metric": "platform_payment_amount",
                   "threshold": None, "value": str(total), "payments": sum(x["payments"] for x in rows),
                   "members": sum(x["members"] for x in rows), "funds_rules": first["funds_rules"],
                   "chains": ["funds", "promotion"]},
            evidence=[{"table": "findings", "chain": "funds", "subject_key": account}]
            + [{"table": "platform_payments", **s} for x in rows for s in x["sample_rows"]][:MAX_EVIDENCE],
            period_start=min(x["first_ts"] for x in rows), period_end=max(x["last_ts"] for x in rows)))
    return out
