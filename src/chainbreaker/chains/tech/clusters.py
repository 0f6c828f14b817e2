"""Operator clusters (运营团伙聚类): sites that share indicators or a page template.

Two hosts are linked when

* they show the same payment channel or contact (bank card, crypto address, Telegram, QQ, WeChat,
  phone, e-mail), the same tracker or push key (Baidu Tongji, CNZZ, 51.la, Google, push service),
  the same APK/IPA or the same loader host — values seen on at most ``max_hosts`` hosts, so shared
  infrastructure like a public CDN does not glue everything together; or
* their pages have the same DOM shape: tag-path shingles of the page, MinHash signatures, estimated
  Jaccard similarity at least ``template_threshold``. Template links are only drawn between hosts
  that the classifier flagged as gambling (many honest sites share a CMS theme).

Clusters are the connected components; each lists the shared evidence.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

LINK_KINDS = ("bank_card", "crypto_tron", "crypto_ethereum", "crypto_bitcoin", "telegram", "qq", "wechat",
              "phone", "email", "analytics_baidu", "analytics_cnzz", "analytics_51la", "analytics_google",
              "push_key", "app_download", "loader_host")
# Hosts so common on honest pages that sharing them says nothing about an operator.
COMMON_INFRA = ("baidu.com", "cnzz.com", "51.la", "google-analytics.com", "googletagmanager.com", "googleapis.com",
                "gstatic.com", "google.com", "jsdelivr.net", "cloudflare.com", "bootcdn.cn", "bootcss.com",
                "staticfile.org", "jquery.com", "qq.com", "gtimg.com", "bdstatic.com", "cdnjs.com", "unpkg.com",
                "facebook.net", "meiqia.com", "53kf.com", "livechatinc.com", "tawk.to")
NUM_PERM = 128
_PRIME = (1 << 61) - 1


@dataclass
class Cluster:
    cluster_id: str
    hosts: list[str]
    shared: list[dict[str, Any]] = field(default_factory=list)  # {kind, value, hosts}
    templates: list[dict[str, Any]] = field(default_factory=list)  # {a, b, jaccard}


# ------------------------------------------------------------------ DOM shape
def dom_shingles(html: str, k: int = 3, max_nodes: int = 20000) -> set[str]:
    """Shingles of consecutive tag paths (tag + first class, 3 ancestors) in document order."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html or "")
    root = tree.root
    if root is None:
        return set()
    paths: list[str] = []
    stack: list[tuple[Any, tuple[str, ...]]] = [(root, ())]
    while stack and len(paths) < max_nodes:
        node, ancestors = stack.pop()
        if node.tag in ("-text", "-comment", None) or node.tag.startswith("-"):
            continue
        cls = (node.attributes.get("class") or "").split()
        label = node.tag + ("." + cls[0] if cls else "")
        path = (*ancestors[-3:], label)
        paths.append("/".join(path))
        children = []
        child = node.child
        while child is not None:
            children.append(child)
            child = child.next
        stack.extend((c, path) for c in reversed(children))
    return {"|".join(paths[i:i + k]) for i in range(max(1, len(paths) - k + 1))} if paths else set()


def _perm_params(num_perm: int = NUM_PERM, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.integers(1, 1 << 31, num_perm, dtype=np.uint64), rng.integers(0, 1 << 31, num_perm, dtype=np.uint64))


def minhash(shingles: set[str], num_perm: int = NUM_PERM, seed: int = 1) -> np.ndarray:
    """MinHash signature (universal hashing of 32-bit shingle hashes)."""
    a, b = _perm_params(num_perm, seed)
    if not shingles:
        return np.full(num_perm, np.iinfo(np.uint64).max, dtype=np.uint64)
    hv = np.asarray([int.from_bytes(hashlib.blake2b(s.encode(), digest_size=4).digest(), "little") for s in shingles],
                    dtype=np.uint64)
    # a, b < 2^31 and h < 2^32 keep a*h + b below 2^64 in uint64 arithmetic.
    prod = a[None, :] * hv[:, None]
    return ((prod + b[None, :]) % np.uint64(_PRIME)).min(axis=0)


def jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    return float(np.mean(sig_a == sig_b))


# ------------------------------------------------------------------ clustering
def _registrable(host: str) -> str:
    from chainbreaker.core.model.identifiers import Domain

    return Domain.registrable(host) or host


def build_clusters(indicators: list[tuple[str, str, str]], pages: dict[str, str], gambling_hosts: set[str], *,
                   max_hosts: int = 50, template_threshold: float = 0.8) -> list[Cluster]:
    """Clusters from (host, kind, value) indicators and {host: html} pages.

    Hosts of one registrable domain are one site here (a mirror ``m.`` host is not an operator link).
    """
    by_value: dict[tuple[str, str], set[str]] = defaultdict(set)
    for host, kind, value in indicators:
        if kind not in LINK_KINDS or not value:
            continue
        if kind == "loader_host" and _registrable(value).endswith(COMMON_INFRA):
            continue
        by_value[(kind, value)].add(_registrable(host))
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(x: str, y: str) -> None:
        parent[find(x)] = find(y)

    shared = {key: sorted(hosts) for key, hosts in by_value.items() if 2 <= len(hosts) <= max_hosts}
    for hosts in shared.values():
        for other in hosts[1:]:
            union(hosts[0], other)
    sites = sorted({_registrable(h) for h in pages if h in gambling_hosts or _registrable(h) in gambling_hosts})
    site_html: dict[str, str] = {}
    for host, html in sorted(pages.items()):
        site_html.setdefault(_registrable(host), html)
    sigs = {s: minhash(dom_shingles(site_html[s])) for s in sites if s in site_html}
    template_links: list[dict[str, Any]] = []
    names = sorted(sigs)
    if names:
        matrix = np.stack([sigs[n] for n in names])
        for i in range(len(names)):
            sim = (matrix[i + 1:] == matrix[i]).mean(axis=1)
            for j in np.nonzero(sim >= template_threshold)[0]:
                other = names[i + 1 + int(j)]
                template_links.append({"a": names[i], "b": other, "jaccard": round(float(sim[j]), 3)})
                union(names[i], other)
    members: dict[str, list[str]] = defaultdict(list)
    for site in list(parent):
        members[find(site)].append(site)
    clusters: list[Cluster] = []
    for group in members.values():
        if len(group) < 2:
            continue
        group.sort()
        gset = set(group)
        cid = "C" + hashlib.sha1("|".join(group).encode()).hexdigest()[:10]
        ev = [{"kind": k, "value": v, "hosts": hs} for (k, v), hs in sorted(shared.items()) if gset & set(hs)]
        tl = [t for t in template_links if t["a"] in gset]
        clusters.append(Cluster(cid, group, ev, tl))
    clusters.sort(key=lambda c: (-len(c.hosts), c.cluster_id))
    return clusters


def run_clusters(ws: Any, *, max_hosts: int = 50, template_threshold: float = 0.8) -> list[Cluster]:
    """Cluster the scanned sites of the workspace; writes ``tech_clusters`` and findings ``cluster.operator``."""
    import pyarrow as pa

    from chainbreaker.core.errors import InputError
    from chainbreaker.core.model.finding import Finding, Scope, publish

    if not ws.has_table("tech_indicators") and not ws.has_table("tech_pages"):
        raise InputError("工作区中没有扫描结果（tech_indicators / tech_pages），请先运行 chainbreaker tech scan",
                         "No scan results (tech_indicators / tech_pages) in the workspace; run chainbreaker tech scan first")
    con = ws.duck()
    indicators: list[tuple[str, str, str]] = []
    if ws.has_table("tech_indicators"):
        indicators = [tuple(r) for r in con.sql("SELECT DISTINCT host, kind, value FROM tech_indicators").fetchall()]
    pages: dict[str, str] = {}
    gambling: set[str] = set()
    if ws.has_table("tech_pages"):
        rows = con.sql("""SELECT host, capture_sha256, is_gambling, persona FROM tech_pages
                          WHERE capture_sha256 IS NOT NULL ORDER BY host, persona = 'desktop' DESC, url""").fetchall()
        for host, sha, is_gambling, _ in rows:
            if is_gambling:
                gambling.add(host)
            if host not in pages:
                path = ws.evidence_path(sha)
                if path.exists():
                    pages[host] = path.read_bytes()[:5_000_000].decode("utf-8", errors="replace")
    con.close()
    clusters = build_clusters(indicators, pages, gambling, max_hosts=max_hosts, template_threshold=template_threshold)
    with ws.transaction("tech.clusters", settings={"max_hosts": max_hosts, "template_threshold": template_threshold}) as tx:
        rows_out = [{"cluster_id": c.cluster_id, "host": h, "cluster_size": len(c.hosts),
                     "hosts": json.dumps(c.hosts, ensure_ascii=False),
                     "shared_indicators": json.dumps([e for e in c.shared if h in e["hosts"]], ensure_ascii=False),
                     "template_links": json.dumps([t for t in c.templates if h in (t["a"], t["b"])], ensure_ascii=False),
                     "run_id": tx.run_id} for c in clusters for h in c.hosts]
        schema = pa.schema([("cluster_id", pa.string()), ("host", pa.string()), ("cluster_size", pa.int64()),
                            ("hosts", pa.string()), ("shared_indicators", pa.string()),
                            ("template_links", pa.string()), ("run_id", pa.string())])
        tx.write("tech_clusters", pa.Table.from_pylist(rows_out, schema=schema))
        findings = []
        for c in clusters:
            kinds = sorted({e["kind"] for e in c.shared})
            # Sites linked only by the script host they load are more likely victims of one injection
            # campaign than the operator's own sites: say so.
            campaign = kinds == ["loader_host"] and not c.templates
            what_zh = "可能遭同一团伙注入（共用外部加载源）" if campaign else "可能属于同一运营团伙"
            what_en = "likely injected by one campaign (shared loader host)" if campaign else "likely one operator"
            findings.append(Finding(
                run_id=tx.run_id, chain="tech", rule_id="cluster.operator", subject_type="group",
                subject_key=c.cluster_id, score=min(1.0, 0.5 + 0.1 * len(c.shared) + 0.1 * len(c.templates)),
                explanation_zh=f"{len(c.hosts)} 个网站共用线索（{', '.join(kinds) or '无'}）"
                               f"{'及相同页面模板' if c.templates else ''}，{what_zh}：{', '.join(c.hosts[:8])}",
                explanation_en=f"{len(c.hosts)} sites share indicators ({', '.join(kinds) or 'none'})"
                               f"{' and a page template' if c.templates else ''}; {what_en}: {', '.join(c.hosts[:8])}",
                facts={"hosts": c.hosts, "shared": c.shared[:50], "template_links": c.templates[:50]},
                evidence=[{"table": "tech_indicators", "kind": e["kind"], "value": e["value"]} for e in c.shared[:20]]))
        publish(tx, "tech", findings, Scope(rule_prefix="cluster."))
        tx.counts.update({"clusters": len(clusters), "hosts": len(rows_out)})
    return clusters
