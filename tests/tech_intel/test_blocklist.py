"""Blocklists: every format, reasons, allowlist, never a public suffix, victims of injection never listed."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from chainbreaker.chains.tech.blocklist import FORMATS, Builder, write_blocklist
from chainbreaker.core.model.finding import Finding, findings_table


@pytest.fixture()
def scanned(ws):
    rows = [
        {"host": "www.xpj8888.com", "url": "http://www.xpj8888.com/", "score": 0.98, "is_gambling": True},
        {"host": "m.xpj8888.com", "url": "http://m.xpj8888.com/", "score": 0.97, "is_gambling": True},
        {"host": "gamble.blogspot.com", "url": "http://gamble.blogspot.com/", "score": 0.9, "is_gambling": True},
        {"host": "news.police.gov.cn", "url": "http://news.police.gov.cn/", "score": 0.1, "is_gambling": False},
        # An injected county site: gambling for Baiduspider only, and named by an inject.* finding.
        {"host": "www.county.gov.cn", "url": "http://www.county.gov.cn/", "score": 0.99, "is_gambling": True,
         "persona": "baiduspider"},
        {"host": "www.county.gov.cn", "url": "http://www.county.gov.cn/", "score": 0.1, "is_gambling": False},
        {"host": "www.school.edu.cn", "url": "http://www.school.edu.cn/", "score": 0.97, "is_gambling": True},
    ]
    pages = pa.Table.from_pylist([{"persona": "desktop", **r} for r in rows])
    findings = [
        Finding(run_id="r1", chain="tech", rule_id="inject.loader_script", subject_type="page",
                subject_key="http://www.county.gov.cn/index.html", score=0.9, explanation_zh="注入", explanation_en="injected",
                facts={"operator_domains": ["js.amjs-cdn.com", "com.cn", "co.za"]}),
        Finding(run_id="r1", chain="tech", rule_id="inject.hidden_links", subject_type="page",
                subject_key="http://www.school.edu.cn/", score=0.9, explanation_zh="暗链", explanation_en="hidden links",
                facts={"operator_domains": []}),
        Finding(run_id="r1", chain="tech", rule_id="gambling.site", subject_type="site", subject_key="www.tyc5577.com",
                score=0.95, explanation_zh="赌博网站", explanation_en="gambling site"),
        Finding(run_id="r1", chain="funds", rule_id="funds.x", subject_type="account", subject_key="www.notme.com",
                score=0.95, explanation_zh="-", explanation_en="-"),
    ]
    domains = pa.Table.from_pylist([
        {"host": "hg0088.com", "score": 0.97, "is_gambling": True},
        {"host": "a.b.bet365-vip.net", "score": 0.93, "is_gambling": True},
        {"host": "library.example.org", "score": 0.01, "is_gambling": False},
    ])
    with ws.transaction("test.seed") as tx:
        tx.write("tech_pages", pages)
        tx.write("findings", findings_table(findings))
        tx.write("tech_domains", domains)
    return ws


def test_domains_format_lists_operators_not_victims_nor_suffixes(scanned, tmp_path):
    out = tmp_path / "bl.txt"
    result = write_blocklist(scanned, "domains", out)
    names = out.read_text().split()
    assert names == sorted(names, key=lambda n: (n.split(".")[::-1], n))
    assert set(names) == {"xpj8888.com", "tyc5577.com", "amjs-cdn.com", "hg0088.com", "a.b.bet365-vip.net",
                          "gamble.blogspot.com"}
    # Injected sites are victims: never listed, even when some persona saw gambling content there.
    assert "county.gov.cn" not in out.read_text() and "school.edu.cn" not in out.read_text() and "gov.cn" not in names
    assert result["skipped"]["public_suffix"] == 2  # com.cn and co.za named by a kit are never listed
    assert "notme.com" not in out.read_text()  # other chains' findings are not tech evidence


def test_allowlist_removes_names_and_demotes_domains(scanned, tmp_path):
    allow = tmp_path / "allow.txt"
    allow.write_text("# ours\nm.xpj8888.com\ntyc5577.com\n", encoding="utf-8")
    out = tmp_path / "bl.hosts"
    result = write_blocklist(scanned, "hosts", out, allowlist=allow)
    text = out.read_text()
    assert "0.0.0.0 www.xpj8888.com" in text and "m.xpj8888.com" not in text.replace("# ", "")
    assert "0.0.0.0 xpj8888.com" not in text  # a wildcard on xpj8888.com would block the allowlisted host
    assert "tyc5577.com" not in text
    assert result["skipped"]["allowlisted"] >= 2


def test_every_format_renders_and_parses(scanned, tmp_path):
    import stix2
    from pymisp import MISPEvent

    for fmt in FORMATS:
        out = tmp_path / f"bl.{fmt}"
        write_blocklist(scanned, fmt, out)
        text = out.read_text()
        assert "xpj8888.com" in text, fmt
    assert "address=/xpj8888.com/#" in (tmp_path / "bl.dnsmasq").read_text()
    rpz = (tmp_path / "bl.rpz").read_text()
    assert "xpj8888.com CNAME ." in rpz and "*.xpj8888.com CNAME ." in rpz and "SOA" in rpz
    adg = (tmp_path / "bl.adguard").read_text()
    assert "||xpj8888.com^" in adg and "|a.b.bet365-vip.net^" in adg and "! xpj8888.com: gambling page" in adg
    bundle = stix2.parse((tmp_path / "bl.stix").read_text(), allow_custom=False)
    indicators = [o for o in bundle.objects if o.type == "indicator"]
    assert any(o.pattern == "[domain-name:value = 'xpj8888.com']" for o in indicators)
    assert all(o.description for o in indicators)
    event = MISPEvent()
    event.load(json.loads((tmp_path / "bl.misp").read_text()))
    values = {a.value for o in event.objects for a in o.attributes}
    assert "xpj8888.com" in values and "amjs-cdn.com" in values


def test_builder_rejects_suffixes_and_ip():
    b = Builder(set())
    for raw in ("co.za", "com.cn", "blogspot.com", "1.2.3.4", "东西"):
        b.add(raw, "r", domain_level=True)
    assert b.result() == []


def test_unknown_format_and_missing_allowlist_are_clear_errors(scanned, tmp_path):
    from chainbreaker.core.errors import InputError

    with pytest.raises(InputError):
        write_blocklist(scanned, "csv", tmp_path / "x")
    with pytest.raises(InputError):
        write_blocklist(scanned, "hosts", tmp_path / "x", allowlist=tmp_path / "nope.txt")


def test_reasons_are_masked_for_the_role_and_the_export_audited(ws, tmp_path):
    """A victim page's URL can carry a phone or an ID number; the reason that quotes it is masked."""
    url = "http://www.county.gov.cn/ask.php?tel=13800138000&sfz=11010519491231002X"
    findings = [Finding(run_id="r1", chain="tech", rule_id="inject.loader_script", subject_type="page",
                        subject_key=url, score=0.9, explanation_zh="注入", explanation_en="injected",
                        facts={"operator_domains": ["js.amjs-cdn.com"]})]
    with ws.transaction("test.seed") as tx:
        tx.write("findings", findings_table(findings))
    for fmt in ("hosts", "stix"):
        out = tmp_path / f"viewer.{fmt}"
        result = write_blocklist(ws, fmt, out, role="viewer", user="张警官")
        text = out.read_text("utf-8")
        assert "amjs-cdn.com" in text  # host names are not personal data
        assert "13800138000" not in text and "11010519491231002X" not in text
        assert "138****8000" in text and "110105********002X" in text
        assert result["masked_kinds"] == {"reasons": "free_text"}
        audit = [json.loads(x) for x in (ws.root / "audit.jsonl").read_text("utf-8").splitlines()]
        start, done = audit[-2:]
        assert (start["phase"], done["phase"]) == ("start", "done") and start["action"] == "tech.blocklist"
        assert start["role"] == "viewer" and start["user"] == "张警官" and start["masked_kinds"] == {"reasons": "free_text"}
    out = tmp_path / "investigator.txt"
    assert write_blocklist(ws, "hosts", out, role="investigator")["masked_kinds"] == {}
    assert "13800138000" in out.read_text("utf-8")
