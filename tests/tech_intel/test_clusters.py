"""Operator clusters: shared indicators and shared page templates, with the evidence listed."""

from __future__ import annotations

import json

import pyarrow as pa

from chainbreaker.chains.tech.clusters import build_clusters, dom_shingles, jaccard, minhash, run_clusters

TEMPLATE = """<html><head><title>{brand}</title></head><body>
<div class="header"><div class="logo">{brand}</div><ul class="nav"><li>首页</li><li>真人视讯</li><li>体育</li>
<li>彩票</li><li>电子</li><li>优惠</li></ul></div>
<div class="banner"><img src="/b1.jpg"><img src="/b2.jpg"></div>
<div class="games">{games}</div>
<form class="login"><input name="user"><input name="pwd" type="password"><button>登录</button></form>
<div class="footer"><p>{brand} 版权所有</p><p>合作伙伴</p></div></body></html>"""


def kit_page(brand: str, n_games: int = 12) -> str:
    games = "".join(f'<div class="game"><img src="/g{i}.png"><span>游戏{i}</span></div>' for i in range(n_games))
    return TEMPLATE.format(brand=brand, games=games)


HONEST = """<html><head><title>某某大学新闻网</title></head><body><header><nav><a>学校概况</a><a>院系设置</a></nav></header>
<main><article><h1>我校举行运动会</h1><p>……</p><p>……</p><table><tr><td>1</td></tr></table></article>
<aside><ul><li>通知公告</li><li>学术动态</li></ul></aside></main><footer>地址</footer></body></html>"""


def test_minhash_estimates_template_similarity():
    a, b, c = dom_shingles(kit_page("太阳城")), dom_shingles(kit_page("新葡京", 11)), dom_shingles(HONEST)
    exact_ab = len(a & b) / len(a | b)
    est_ab = jaccard(minhash(a), minhash(b))
    assert abs(est_ab - exact_ab) < 0.15 and est_ab > 0.8
    assert jaccard(minhash(a), minhash(c)) < 0.2


def test_clusters_from_shared_indicators_and_templates():
    pages = {"www.tyc111.com": kit_page("太阳城"), "www.xpj222.com": kit_page("新葡京", 11),
             "news.example.edu.cn": HONEST, "www.hg333.com": "<html><body><p>皇冠体育</p></body></html>",
             "www.amjs444.com": "<html><body><table><tr><td>澳门金沙</td></tr></table></body></html>"}
    gambling = {"www.tyc111.com", "www.xpj222.com", "www.hg333.com", "www.amjs444.com"}
    indicators = [
        ("www.hg333.com", "bank_card", "6222021234567890128"),
        ("m.amjs444.com", "bank_card", "6222021234567890128"),
        ("www.hg333.com", "loader_host", "cdn.bootcdn.cn"),  # common infrastructure: ignored
        ("www.tyc111.com", "loader_host", "cdn.bootcdn.cn"),
        ("news.example.edu.cn", "loader_host", "cdn.bootcdn.cn"),
        ("news.example.edu.cn", "analytics_baidu", "0123456789abcdef0123456789abcdef"),
    ]
    clusters = build_clusters(indicators, pages, gambling)
    groups = sorted(sorted(c.hosts) for c in clusters)
    assert groups == [["amjs444.com", "hg333.com"], ["tyc111.com", "xpj222.com"]]
    by_card = next(c for c in clusters if "hg333.com" in c.hosts)
    assert by_card.shared == [{"kind": "bank_card", "value": "6222021234567890128", "hosts": ["amjs444.com", "hg333.com"]}]
    by_template = next(c for c in clusters if "tyc111.com" in c.hosts)
    assert by_template.templates and by_template.templates[0]["jaccard"] >= 0.8


def test_run_clusters_writes_table_and_findings(ws):
    sha_a = ws.store_evidence_bytes(kit_page("太阳城").encode())
    sha_b = ws.store_evidence_bytes(kit_page("新葡京", 10).encode())
    sha_c = ws.store_evidence_bytes(HONEST.encode())
    pages = pa.Table.from_pylist([
        {"host": "www.tyc111.com", "url": "http://www.tyc111.com/", "persona": "desktop", "capture_sha256": sha_a, "is_gambling": True},
        {"host": "www.xpj222.com", "url": "http://www.xpj222.com/", "persona": "desktop", "capture_sha256": sha_b, "is_gambling": True},
        {"host": "www.univ.edu.cn", "url": "http://www.univ.edu.cn/", "persona": "desktop", "capture_sha256": sha_c, "is_gambling": False},
    ])
    inds = pa.Table.from_pylist([
        {"host": "www.xpj222.com", "url": "u", "persona": "desktop", "kind": "telegram", "value": "xpj_kefu", "context": "", "capture_sha256": sha_b},
        {"host": "www.dafa555.com", "url": "u", "persona": "desktop", "kind": "telegram", "value": "xpj_kefu", "context": "", "capture_sha256": "x"},
    ])
    with ws.transaction("test.scan") as tx:
        tx.write("tech_pages", pages)
        tx.write("tech_indicators", inds)
    clusters = run_clusters(ws)
    assert [sorted(c.hosts) for c in clusters] == [["dafa555.com", "tyc111.com", "xpj222.com"]]
    rows = ws.read_arrow("tech_clusters").to_pylist()
    assert {r["host"] for r in rows} == {"dafa555.com", "tyc111.com", "xpj222.com"}
    dafa = next(r for r in rows if r["host"] == "dafa555.com")
    assert json.loads(dafa["shared_indicators"])[0]["value"] == "xpj_kefu"
    findings = ws.read_arrow("findings").to_pylist()
    assert [f["rule_id"] for f in findings] == ["cluster.operator"] and "团伙" in findings[0]["explanation_zh"]


def test_run_clusters_without_scan_results_is_a_clear_error(ws):
    import pytest

    from chainbreaker.core.errors import InputError

    with pytest.raises(InputError):
        run_clusters(ws)
