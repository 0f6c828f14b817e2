"""Through the scanner (loopback test websites): verdicts on every persona, accounts from indicators, clusters."""

from __future__ import annotations

import pytest

pytest.importorskip("chainbreaker.synth.websites")


def test_scan_classifies_indicators_reach_accounts(ws):
    from chainbreaker.chains.tech.clusters import run_clusters
    from chainbreaker.chains.tech.personas import default_personas
    from chainbreaker.chains.tech.scan import scan
    from chainbreaker.synth.websites import running_test_sites

    personas = [p for p in default_personas() if p.name in ("desktop", "baiduspider", "desktop+ref")]
    with running_test_sites(["gambling", "news_crackdown", "lottery"]) as sites:
        urls = {name: sites.url(name) for name in ("gambling", "news_crackdown", "lottery")}
        scan(ws, list(urls.values()), personas=personas, own_sites=True)
    from chainbreaker.intel.link import link

    link(ws)  # the cards found on pages reach the funds chain's accounts through intel
    con = ws.duck()
    verdicts = con.sql("SELECT url, persona, score, is_gambling FROM tech_pages").fetchall()
    by_url: dict[str, list[bool]] = {}
    for url, _persona, _score, is_gambling in verdicts:
        by_url.setdefault(url, []).append(bool(is_gambling))
    gambling_root = urls["gambling"]
    assert all(by_url[gambling_root]) and len(by_url[gambling_root]) == 3
    for name in ("news_crackdown", "lottery"):
        assert not any(by_url[urls[name]]), name  # honest look-alikes: never gambling, whatever the persona
    accounts = con.sql("SELECT account, holder_name, origin, requested FROM accounts ORDER BY account").fetchall()
    con.close()
    assert ("6228480402564890018", "张伟", "web_indicator", False) in accounts
    assert any(a[0] == "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE" for a in accounts)
    assert run_clusters(ws) == []  # one gambling site: nothing to group
