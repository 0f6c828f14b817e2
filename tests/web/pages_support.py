"""The web tests' workspace (support.build_workspace) with what the chain pages show: a small synthetic
platform ingested and analysed (agent cards, workbooks), 300 travellers ingested and analysed
(stranded persons, groups, timelines), a screening run, a fan-out of 45 accounts
from one seed with onward transfers (the trace view's folding), and one case with a task."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from chainbreaker.core.model.schemas import TRANSACTIONS
from chainbreaker.core.workspace import Workspace

from .support import _row, build_workspace

SITE = "bet-example.com"  # scanned by three personas, two of them rendered with screenshots
SITE_PHONE = "13987654321"  # a contact number found on the site (masked for roles that may not see phones)
FAN_SEED = "6222020200112233445"  # pays 45 accounts, each of which passes money on
FAN_WIDTH = 45
PLATFORM = "金沙测试"
CASE = "WEB-2025-001"


def fan_account(i: int) -> str:
    return f"62170000200{i:08d}"


def onward_account(i: int) -> str:
    return f"62284800300{i:08d}"


def build_pages_workspace(root: Path, scratch: Path) -> tuple[Workspace, str]:
    """The workspace and the member id of the platform's biggest agent (by downline)."""
    from chainbreaker.chains.funds.service import screen_accounts
    from chainbreaker.chains.promotion.analyze import analyze
    from chainbreaker.chains.promotion.ingest import ingest_platform
    from chainbreaker.ops.casework import add_case_task
    from chainbreaker.ops.casework_edit import create_case
    from chainbreaker.synth.platform import export_platform, generate_platform

    ws = build_workspace(root)
    start = dt.datetime(2024, 4, 1, 2, 0, tzinfo=dt.UTC)
    rows = []
    for i in range(FAN_WIDTH):
        rows.append(_row(TRANSACTIONS, txn_id=f"fan{i:03d}", from_account=FAN_SEED, to_account=fan_account(i),
                         from_name="周强", amount=Decimal(f"{5000 + 100 * i}.00"), currency="CNY",
                         ts=start + dt.timedelta(minutes=i), channel="网银转账", summary="转账", requested_side="both",
                         src_sha256="c" * 64, src_file="中国银行交易明细.csv", src_row=100 + i))
        for j in range(1 + i % 2):
            rows.append(_row(TRANSACTIONS, txn_id=f"on{i:03d}{j}", from_account=fan_account(i),
                             to_account=onward_account(2 * i + j), amount=Decimal(f"{2000 + 10 * i}.00"), currency="CNY",
                             ts=start + dt.timedelta(hours=2, minutes=i + j), channel="网银转账", summary="转账",
                             requested_side="both", src_sha256="c" * 64, src_file="中国银行交易明细.csv",
                             src_row=300 + 2 * i + j))
    with ws.transaction("web.pages.test") as tx:
        tx.write("transactions", pa.Table.from_pylist(rows, schema=TRANSACTIONS), mode="append")
    screen_accounts(ws)
    synth = generate_platform("pyramid", 300, 2000, seed=11, name=PLATFORM)
    files = export_platform(synth, scratch / "platform", formats=("csv",))
    # ingested beside (the base workspace's four-row member table has too few columns to append to),
    # then the platform tables replace it
    side = Workspace(scratch / "platform-ws")
    ingest_platform(side, files["csv"], PLATFORM)
    with ws.transaction("web.pages.platform") as tx:
        for name in side.tables():
            if name.startswith("platform_"):
                tx.write(name, side.read_arrow(name))
    analyze(ws, PLATFORM)
    con = ws.duck()
    try:
        agent = con.execute("SELECT member_id FROM agent_metrics WHERE platform = ? "
                            "ORDER BY downline_accounts DESC, member_id LIMIT 1", [PLATFORM]).fetchall()[0][0]
    finally:
        con.close()
    from chainbreaker.chains.people.analyze import analyze as analyze_travel
    from chainbreaker.chains.people.ingest import ingest_travel
    from chainbreaker.synth.travel import write_travel_files

    travel = write_travel_files(scratch / "province", 300, seed=11)
    ingest_travel(ws, [scratch / "province" / "travel"])
    analyze_travel(ws, travel.as_of)
    write_scanned_sites(ws)
    create_case(ws, CASE, "网络赌博平台案", supervision="省督", status="立案侦查", opened_on=dt.date(2025, 10, 2),
                unit="昆明市公安局", who="test")
    add_case_task(ws, CASE, "调取银行流水", who="test")
    return ws, str(agent)


def _png(rgb: tuple[int, int, int]) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes(rgb) * 8 for _ in range(6))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 6, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def write_scanned_sites(ws: Workspace) -> None:
    """What ``tech scan --render`` and ``tech clusters`` leave for two sites: captures per persona (two
    rendered with a screenshot), pages with a decoded script, indicators, a cluster and a finding."""
    import json

    from chainbreaker.chains.tech.scan import TECH_CAPTURES, TECH_INDICATORS, TECH_PAGES
    from chainbreaker.core.model.finding import FINDINGS_SCHEMA, Finding

    at = dt.datetime(2025, 11, 1, 3, 0, tzinfo=dt.UTC)
    shots = {"browser": ws.store_evidence_bytes(_png((200, 30, 30))),
             "baidu_spider": ws.store_evidence_bytes(_png((30, 30, 200)))}
    caps, pages = [], []
    for host, personas in ((SITE, ("browser", "baidu_spider", "wechat")), ("bet-mirror.net", ("browser",))):
        for persona in personas:
            body = ws.store_evidence_bytes(f"<html>{host} {persona}</html>".encode())
            shot = shots.get(persona) if host == SITE else None
            url = f"https://{host}/"
            caps.append(_row(TECH_CAPTURES, run_id="t1", scanned_at=at, host=host, url=url, persona=persona,
                             rendered=shot is not None, status=200, final_url=url if persona != "baidu_spider" else
                             f"https://{host}/seo.html", capture_sha256=body, screenshot_sha256=shot, bytes=40,
                             truncated=False, bad_bytes=False, elapsed_s=0.2))
            scripts = [{"layers": ["eval", "base64"], "obfuscated": True, "remote_urls": ["https://cdn.bad-loader.top/x.js"],
                        "redirects": ["https://bet-landing.vip/"], "title_set": "澳门金沙娱乐场"}] if persona == "browser" else []
            pages.append(_row(TECH_PAGES, run_id="t1", host=host, url=url, persona=persona, rendered=shot is not None,
                              capture_sha256=body, title="澳门金沙娱乐场" if persona == "browser" else "企业官网",
                              score=0.93 if persona == "browser" else 0.1, is_gambling=persona == "browser",
                              reasons=json.dumps(["关键词：真人娱乐、百家乐", f"客服电话 {SITE_PHONE}"], ensure_ascii=False),
                              scripts=json.dumps(scripts, ensure_ascii=False), hidden_blocks="[]", offsite_hosts="[]",
                              script_srcs="[]", iframes="[]", error_signatures="[]", text_chars=100))
    indicators = [_row(TECH_INDICATORS, host=h, url=f"https://{h}/", persona="browser", kind=k, value=v, context="",
                       capture_sha256=None)
                  for h in (SITE, "bet-mirror.net") for k, v in (("phone", SITE_PHONE), ("qq", "QQ:88886666"))]
    shared = [{"kind": "phone", "value": SITE_PHONE, "hosts": [SITE, "bet-mirror.net"]}]
    clusters = [{"cluster_id": "TC-1", "host": h, "cluster_size": 2, "hosts": json.dumps([SITE, "bet-mirror.net"]),
                 "shared_indicators": json.dumps(shared), "template_links": json.dumps([{"a": SITE, "b": "bet-mirror.net",
                                                                                       "jaccard": 0.91}]),
                 "run_id": "t2"} for h in (SITE, "bet-mirror.net")]
    finding = Finding(run_id="t1", chain="tech", rule_id="cloaking", subject_type="site", subject_key=SITE, score=0.8,
                      explanation_zh=f"{SITE} 对百度蜘蛛与浏览器展示不同内容（伪装），客服电话 {SITE_PHONE}。",
                      explanation_en=f"{SITE} shows Baidu's spider other content than browsers; phone {SITE_PHONE}.",
                      facts={"personas": ["browser", "baidu_spider"]},
                      evidence=[{"table": "tech_captures", "persona": "baidu_spider"}]).as_row()
    with ws.transaction("web.pages.tech") as tx:
        tx.write("tech_captures", pa.Table.from_pylist(caps, schema=TECH_CAPTURES))
        tx.write("tech_pages", pa.Table.from_pylist(pages, schema=TECH_PAGES))
        tx.write("tech_indicators", pa.Table.from_pylist(indicators, schema=TECH_INDICATORS))
        tx.write("tech_clusters", pa.Table.from_pylist(clusters))
        tx.write("findings", pa.Table.from_pylist([finding], schema=FINDINGS_SCHEMA), mode="append")
