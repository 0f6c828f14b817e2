"""Blocklists (封堵清单) from tech findings and the domain model, in DNS/proxy/CTI formats.

Entries come from

* ``gambling.site`` findings, and hosts whose pages are gambling for visitors arriving directly
  (``tech_pages``, personas desktop/wechat, no injection or cloaking finding on the host): the host
  and its registrable domain;
* injection/cloaking findings (``inject.*``, ``cloak.*``): only the *operator* domains they name
  (``facts.operator_domains``) — the injected site itself is a victim and is never listed;
* ``tech_domains`` rows the domain model flagged: the host (and the registrable domain when the
  host is the registrable domain itself).

Safety rules: a public suffix or a whole second-level registry such as ``co.za`` or ``com.cn`` is
never listed (public-suffix list, offline, private section included so ``foo.blogspot.com`` stays a
host); IP addresses are not domains and are skipped; an allowlisted name removes itself and its
subdomains, and a registrable domain above an allowlisted host is demoted to host entries, so a
wildcard format never blocks the allowlisted host.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from chainbreaker.core.model.finding import query

FORMATS = ("hosts", "domains", "dnsmasq", "rpz", "adguard", "stix", "misp")


@dataclass
class Entry:
    name: str
    level: str  # "domain" (name and all subdomains) or "host" (exactly this name)
    reasons: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def _psl() -> Any:
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def clean_host(name: str) -> str | None:
    from chainbreaker.core.model.identifiers import Domain

    return Domain.clean(name)


def registrable(host: str) -> str | None:
    """eTLD+1 with the private section of the suffix list; None for a public suffix."""
    ext = _psl()(host)
    if not ext.domain or not ext.suffix:
        return None
    return f"{ext.domain}.{ext.suffix}"


def read_allowlist(path: Path | None) -> set[str]:
    from chainbreaker.core.errors import InputError

    if path is None:
        return set()
    if not path.exists():
        raise InputError(f"白名单文件不存在：{path}", f"Allowlist file not found: {path}")
    out = set()
    for line in path.read_text(encoding="utf-8-sig", errors="replace").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and (host := clean_host(line.split()[-1])):
            out.add(host)
    return out


class Builder:
    """Collects candidate names with reasons and applies the safety rules."""

    def __init__(self, allow: set[str]) -> None:
        self.allow = allow
        self.entries: dict[str, Entry] = {}
        self.skipped: dict[str, list[str]] = defaultdict(list)

    def _allowed(self, name: str) -> bool:
        return any(name == a or name.endswith("." + a) for a in self.allow)

    def add(self, raw: str, reason: str, *, domain_level: bool) -> None:
        host = clean_host(raw)
        if host is None:
            self.skipped["not_a_domain"].append(str(raw)[:100])
            return
        reg = registrable(host)
        if reg is None:
            self.skipped["public_suffix"].append(host)
            return
        if self._allowed(host):
            self.skipped["allowlisted"].append(host)
            return
        names = [(host, "host")]
        if domain_level:
            if any(a == reg or a.endswith("." + reg) for a in self.allow):
                self.skipped["domain_demoted_by_allowlist"].append(reg)
            else:
                names = [(reg, "domain")] + ([(host, "host")] if host != reg else [])
        for name, level in names:
            entry = self.entries.setdefault(name, Entry(name, level))
            if level == "domain":
                entry.level = "domain"
            if reason not in entry.reasons:
                entry.reasons.append(reason)

    def result(self) -> list[Entry]:
        # A host under a listed domain is covered by the wildcard formats; keep it for hosts files only.
        return sorted(self.entries.values(), key=lambda e: (e.name.split(".")[::-1], e.name))


def collect(ws: Any, allow: set[str], *, min_score: float = 0.5) -> Builder:
    """Candidates from the workspace's tech results."""
    b = Builder(allow)
    con = ws.duck()
    try:
        if ws.has_table("tech_pages"):
            # Only what a visitor arriving directly sees counts: a victim of injection shows gambling
            # content to spiders or search-referred visitors, and a victim is never listed.
            con.register("_victim_findings", query(con, chain="tech", rule_prefix=["inject.", "cloak."],
                                                   columns=["subject_key"]))
            victims = """SELECT DISTINCT lower(regexp_extract(subject_key, '^(?:https?://)?([^/:?#]+)', 1)) AS host
                         FROM _victim_findings"""
            for host, score in con.sql(f"""SELECT host, max(score) FROM tech_pages
                                           WHERE persona IN ('desktop', 'wechat') AND score IS NOT NULL
                                           GROUP BY host HAVING bool_and(is_gambling)
                                           AND lower(host) NOT IN (SELECT host FROM ({victims}) WHERE host IS NOT NULL)
                                           ORDER BY host""").fetchall():
                b.add(host, f"gambling page (score {score:.2f}) / 赌博页面", domain_level=True)
        if ws.has_table("findings"):
            found = query(con, chain="tech", rule_prefix=["gambling.site", "inject.", "cloak."],
                          columns=["rule_id", "subject_key", "score", "facts"])
            rows = sorted((r["rule_id"], r["subject_key"], r["score"], r["facts"]) for r in found.to_pylist()
                          if r["rule_id"] == "gambling.site" or r["rule_id"].startswith(("inject.", "cloak.")))
            for rule_id, subject, score, facts in rows:
                if rule_id == "gambling.site":
                    b.add(subject, f"gambling.site finding (score {score:.2f}) / 赌博网站", domain_level=True)
                    continue
                try:
                    operators = json.loads(facts or "{}").get("operator_domains") or []
                except (json.JSONDecodeError, AttributeError):
                    operators = []
                for op in operators:
                    b.add(str(op), f"operator domain named by {rule_id} on {subject} / 注入源域名", domain_level=True)
        if ws.has_table("tech_domains"):
            for host, score in con.sql("""SELECT host, score FROM tech_domains WHERE is_gambling AND score >= ?
                                          ORDER BY host""", params=[min_score]).fetchall():
                b.add(host, f"domain-name model (score {score:.2f}) / 域名模型", domain_level=registrable(host) == host)
    finally:
        con.close()
    return b


# ------------------------------------------------------------------ formats
def _comment(e: Entry, mark: str) -> str:
    return f"{mark} {e.name}: " + "; ".join(e.reasons)


def render(entries: list[Entry], fmt: str) -> str:
    """The blocklist text in ``fmt``."""
    now = dt.datetime.now(dt.UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    domains = [e for e in entries if e.level == "domain"]
    covered = {d.name for d in domains}

    def under_domain(e: Entry) -> bool:
        return e.level == "host" and any(e.name.endswith("." + d) for d in covered)

    wildcard = [e for e in entries if not under_domain(e)]
    if fmt == "hosts":
        lines = [f"# chainbreaker blocklist {stamp}; {len(entries)} names"]
        for e in entries:
            lines += [_comment(e, "#"), f"0.0.0.0 {e.name}"]
        return "\n".join(lines) + "\n"
    if fmt == "domains":
        return "".join(f"{e.name}\n" for e in wildcard)
    if fmt == "dnsmasq":
        lines = [f"# chainbreaker blocklist {stamp}"]
        for e in wildcard:  # address=/name/ matches the name and every subdomain
            lines += [_comment(e, "#"), f"address=/{e.name}/#"]
        return "\n".join(lines) + "\n"
    if fmt == "rpz":
        serial = now.strftime("%Y%m%d%H")
        lines = ["$TTL 300", f"@ IN SOA localhost. root.localhost. {serial} 3600 600 86400 300", "@ IN NS localhost.",
                 f"; chainbreaker blocklist {stamp}"]
        for e in wildcard:
            lines += [_comment(e, ";"), f"{e.name} CNAME ."]
            if e.level == "domain":
                lines.append(f"*.{e.name} CNAME .")
        return "\n".join(lines) + "\n"
    if fmt == "adguard":
        lines = [f"! Title: chainbreaker blocklist {stamp}"]
        for e in wildcard:
            lines += [_comment(e, "!"), f"||{e.name}^" if e.level == "domain" else f"|{e.name}^"]
        return "\n".join(lines) + "\n"
    if fmt == "stix":
        return _stix(wildcard, now)
    if fmt == "misp":
        return _misp(wildcard, now)
    from chainbreaker.core.errors import InputError

    raise InputError(f"不支持的格式 {fmt}（可选：{', '.join(FORMATS)}）", f"Unknown format {fmt} (choose {', '.join(FORMATS)})")


def _stix(entries: list[Entry], now: dt.datetime) -> str:
    import stix2

    identity = stix2.Identity(name="chainbreaker", identity_class="system")
    objects: list[Any] = [identity]
    for e in entries:
        objects.append(stix2.Indicator(
            name=f"Gambling domain {e.name}", description="; ".join(e.reasons),
            pattern=f"[domain-name:value = '{e.name}']", pattern_type="stix", valid_from=now,
            indicator_types=["malicious-activity"], created_by_ref=identity.id,
            labels=["gambling", "domain" if e.level == "domain" else "host"]))
    return str(stix2.Bundle(objects=objects, allow_custom=False).serialize(pretty=True)) + "\n"


def _misp(entries: list[Entry], now: dt.datetime) -> str:
    from pymisp import MISPEvent, MISPObject

    event = MISPEvent()
    event.uuid = str(uuid.uuid5(uuid.NAMESPACE_URL, "chainbreaker:" + "|".join(e.name for e in entries)))
    event.info = f"chainbreaker gambling blocklist {now:%Y-%m-%d}"
    event.distribution = 0
    event.threat_level_id = 3
    event.analysis = 2
    event.set_date(now.date())
    event.add_tag("gambling")
    for e in entries:
        obj = MISPObject("domain-ip", standalone=False)
        obj.comment = "; ".join(e.reasons)
        obj.add_attribute("domain", value=e.name, to_ids=True, comment=e.level)
        event.add_object(obj)
    return str(event.to_json(indent=2)) + "\n"


def blocklist_file_name(fmt: str) -> str:
    """The file written when ``--out`` is a folder."""
    return f"blocklist-{fmt}.json" if fmt in ("stix", "misp") else f"blocklist-{fmt}.txt"


def mask_entries(entries: list[Entry], role: str) -> tuple[list[Entry], dict[str, str]]:
    """Entries as ``role`` may see them. Host names are not personal data and stay; the reasons quote
    the pages they came from (a victim's URL may carry a phone or an ID number in its query), so
    identifiers of kinds the role does not see are masked inside them."""
    from chainbreaker.core.model.masking import hidden_kinds, mask_text

    if not hidden_kinds(role):
        return entries, {}
    out = [Entry(e.name, e.level, [mask_text(r, role) for r in e.reasons]) for e in entries]
    changed = any(a.reasons != b.reasons for a, b in zip(entries, out, strict=True))
    return out, ({"reasons": "free_text"} if changed else {})


def write_blocklist(ws: Any, fmt: str, out: Path, *, allowlist: Path | None = None, min_score: float = 0.5,
                    role: str = "analyst", user: str = "local") -> dict[str, Any]:
    """Build and write the blocklist, masked for ``role`` and audited; returns counts (entries,
    skipped by reason) and ``masked_kinds``."""
    from chainbreaker.core.errors import InputError

    if fmt not in FORMATS:
        raise InputError(f"不支持的格式 {fmt}（可选：{', '.join(FORMATS)}）", f"Unknown format {fmt} (choose {', '.join(FORMATS)})")
    builder = collect(ws, read_allowlist(allowlist), min_score=min_score)
    entries, masked_kinds = mask_entries(builder.result(), role)
    text = render(entries, fmt)
    from chainbreaker.core.exports import output_file  # audit first, temporary file, rename (one helper)

    with output_file(ws, out, "tech.blocklist", default_name=blocklist_file_name(fmt), user=user, role=role,
                     format=fmt, entries=len(entries), masked_kinds=masked_kinds) as target:
        target.path.write_text(text, encoding="utf-8")
    return {"entries": len(entries), "domains": sum(e.level == "domain" for e in entries),
            "skipped": {k: len(v) for k, v in builder.skipped.items()}, "masked_kinds": masked_kinds}
