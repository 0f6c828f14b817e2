"""The chain pages over an ASGI client: funds screening list, account statement, trace view; the agent
card with its legal assessment and the workbook download; masking per role and audit of every read."""

from __future__ import annotations

import io
import json
import re

import openpyxl

from .pages_support import FAN_SEED, FAN_WIDTH, PLATFORM, fan_account
from .support import HUB, audit_lines


def _json_block(html: str, element_id: str) -> dict:  # type: ignore[type-arg]
    m = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert m, f"no #{element_id} in the page"
    import html as htmllib

    return json.loads(htmllib.unescape(m.group(1)))


def _no_inline_script(html: str) -> None:
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert " on" + "click=" not in html and "javascript:" not in html


def test_screening_list_links_by_rank_and_masks_for_a_commander(pages_client_for) -> None:  # type: ignore[no-untyped-def]
    html = pages_client_for("analyst").get("/funds").text
    assert "资金链：筛查结果" in html and 'href="/funds/trace?rank=1"' in html and HUB in html  # analysts see cards
    _no_inline_script(html)
    masked = pages_client_for("commander").get("/funds").text
    assert 'href="/funds/account?rank=1"' in masked
    assert HUB not in masked and FAN_SEED not in masked  # no number in the text, nor in a link


def test_account_page_shows_statement_rows_paged_and_audits(pages_client_for, pages_ws) -> None:  # type: ignore[no-untyped-def]
    ws, _ = pages_ws
    r = pages_client_for("investigator").get("/funds/account", params={"account": HUB})
    assert r.status_code == 200
    assert "交易流水" in r.text and "中国工商银行交易明细信息.csv:10" in r.text and r.text.count("<tr>") >= 30
    by_rank = pages_client_for("commander").get("/funds/account", params={"rank": 1})
    assert by_rank.status_code == 200 and HUB not in by_rank.text and "6222" in by_rank.text
    assert "/funds/trace?rank=1" in by_rank.text  # the links keep the rank, never the number
    assert any(a["action"] == "funds.account.detail" and a["user"] == "commander" for a in audit_lines(ws))
    missing = pages_client_for("analyst").get("/funds/account", params={"account": "6200000000000000000"})
    assert missing.status_code == 400 and "不在交易数据中" in missing.text and "Traceback" not in missing.text


def test_trace_view_carries_every_hop_for_folding_masked_per_role(pages_client_for, pages_ws) -> None:  # type: ignore[no-untyped-def]
    ws, _ = pages_ws
    html = pages_client_for("analyst").get("/funds/trace", params={"account": FAN_SEED}).text
    _no_inline_script(html)
    g = _json_block(html, "trace-data")
    hop1 = [n for n in g["nodes"] if n["hop"] == 1]
    assert g["seed"] == FAN_SEED and len(hop1) == FAN_WIDTH and fan_account(0) in {n["account"] for n in hop1}
    assert {n["hop"] for n in g["nodes"]} == {0, 1, 2}
    edge = next(e for e in g["edges"] if e["hop"] == 1)
    assert edge["src_sha256"] == "c" * 64 and edge["src_row"] >= 100  # the evidence row behind the edge
    assert 'id="hop-limit"' in html and 'id="trace-min"' in html  # folding and the amount filter
    assert [h["accounts"] for h in g["per_hop"]] == [1, FAN_WIDTH, FAN_WIDTH + FAN_WIDTH // 2] and not g["truncated"]
    masked = pages_client_for("commander").get("/funds/trace", params={"account": FAN_SEED}).text
    mg = _json_block(masked, "trace-data")
    # the number the commander typed stays in the form; the graph shows every account masked
    assert FAN_SEED not in json.dumps(mg) and fan_account(0) not in masked
    assert len({n["account"] for n in mg["nodes"]}) == len(mg["nodes"])  # masked alike, still told apart
    assert any(a["action"] == "funds.trace.view" and a["role"] == "viewer" and a["masked_kinds"] for a in audit_lines(ws))
    up = pages_client_for("analyst").get("/funds/trace", params={"account": fan_account(3), "direction": "up"})
    assert up.status_code == 200 and FAN_SEED in up.text
    bad = pages_client_for("analyst").get("/funds/trace", params={"account": FAN_SEED, "hops": 99})
    assert bad.status_code == 422 and "请求参数无效" in bad.text


def test_agent_card_shows_the_legal_assessment_and_evidence(pages_client_for, pages_ws) -> None:  # type: ignore[no-untyped-def]
    ws, agent = pages_ws
    r = pages_client_for("analyst").get("/promotion/agent", params={"member": agent, "platform": PLATFORM})
    assert r.status_code == 200
    html = r.text
    _no_inline_script(html)
    assert "定罪量刑标准评估" in html and 'data-rule="N10-S3"' in html and 'data-rule="N10-A"' in html
    assert "公通字〔2010〕40号" in html  # the legal basis next to each threshold
    assert 'id="workbook-download"' in html and "研判结论与证据" in html and "platform_members" in html
    assert 'class="met"' in html  # this agent meets at least one rule (the agent rule)
    viewer = pages_client_for("commander").get("/promotion/agent", params={"member": agent}).text
    assert 'id="workbook-download"' not in viewer  # a commander may not take the workbook away
    assert any(a["action"] == "promotion.agent_card" and a["user"] == "commander" for a in audit_lines(ws))
    nobody = pages_client_for("analyst").get("/promotion/agent", params={"member": "no-such-member"})
    assert nobody.status_code == 400 and "找不到会员" in nobody.text


def test_workbook_download_is_the_masked_audited_workbook(pages_client_for, pages_ws) -> None:  # type: ignore[no-untyped-def]
    ws, agent = pages_ws
    r = pages_client_for("analyst").get("/promotion/workbook", params={"member": agent, "platform": PLATFORM})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    assert {"摘要", "伞下会员", "定罪量刑标准"} <= set(wb.sheetnames)
    rows = list(wb["伞下会员"].iter_rows(values_only=True))
    assert len(rows) > 10
    phones = [str(c) for row in rows[1:] for c in row if c is not None and re.fullmatch(r"1\d{10}", str(c))]
    assert not phones  # analysts do not see phone numbers
    start, done = [a for a in audit_lines(ws) if a["action"] == "promotion.workbook"][-2:]
    assert start["phase"] == "start" and done["phase"] == "done" and start["user"] == "analyst"
    assert start["role_source"] == "login"
    assert pages_client_for("commander").get("/promotion/workbook", params={"member": agent}).status_code == 403


def test_every_new_page_renders_in_chinese_without_inline_script(pages_client_for, pages_ws) -> None:  # type: ignore[no-untyped-def]
    from .pages_support import CASE, SITE

    _, agent = pages_ws
    client = pages_client_for("admin")
    people = client.get("/people").text
    person = re.findall(r'href="(/people/person\?ref=[^"]+)"', people)[0]
    group = re.findall(r'href="(/people/group\?id=[^"]+)"', people)[0]
    pages = {"/funds": "筛查结果", "/funds/account?rank=1": "交易流水", f"/funds/trace?account={FAN_SEED}": "资金穿透",
             "/funds/trace": "资金穿透", f"/promotion/agent?member={agent}": "定罪量刑标准评估", "/people": "滞留境外人员",
             person.replace("&amp;", "&"): "出行时间线", group: "团伙出行时间线", "/people/register": "重点人员库",
             "/tech": "扫描过的网站", f"/tech/site?host={SITE}": "解码后的脚本载荷", "/tech/clusters": "网站集群",
             "/cases/new": "新建案件", f"/cases/{CASE}": "修改记录"}
    for path, heading in pages.items():
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        assert heading in r.text and '<html lang="zh-CN">' in r.text, path
        _no_inline_script(r.text)
        assert r.headers["content-security-policy"].startswith("default-src 'self'")


def test_a_trace_too_wide_is_trimmed_hop_by_hop_but_counted_whole(pages_ws) -> None:  # type: ignore[no-untyped-def]
    from chainbreaker.chains.funds.service import trace_graph

    ws, _ = pages_ws
    g = trace_graph(ws, FAN_SEED, max_nodes=20, role="viewer", user="test")
    assert g["truncated"] and len(g["nodes"]) == 20 and {n["hop"] for n in g["nodes"]} == {0, 1}
    hop1 = [n["attributed"] for n in g["nodes"] if n["hop"] == 1]
    assert hop1 == sorted(hop1, reverse=True)  # the best attributed kept
    assert [h["accounts"] for h in g["per_hop"]] == [1, FAN_WIDTH, FAN_WIDTH + FAN_WIDTH // 2]
    kept = {n["account"] for n in g["nodes"]}
    assert g["edges"] and all(e["from_account"] in kept and e["to_account"] in kept for e in g["edges"])


def test_account_dossier_and_task_lists_link_to_the_new_pages(pages_client_for) -> None:  # type: ignore[no-untyped-def]
    from .pages_support import CASE

    dossier = pages_client_for("analyst").get(f"/entities/{HUB}").text
    assert f'href="/funds/trace?account={HUB}"' in dossier and f'href="/funds/account?account={HUB}"' in dossier
    assert "account-trace-link" not in pages_client_for("tip_reviewer").get(f"/entities/{HUB}").text
    assert f'href="/cases/{CASE}"' in pages_client_for("analyst").get("/tasks").text
    assert f'href="/cases/{CASE}"' in pages_client_for("analyst").get("/").text


def _href(html: str, element_id: str) -> str:
    import html as htmllib

    m = re.search(rf'<a id="{element_id}" href="([^"]+)"', html)
    assert m, f"no #{element_id} link in the page"
    return htmllib.unescape(m.group(1))


def test_a_masked_account_is_traced_from_its_dossier_by_reference(pages_client_for, pages_ws) -> None:  # type: ignore[no-untyped-def]
    """A commander reaches the fan-out seed through search (an r-… reference), and its dossier's trace and
    statement links work without the number ever being in an address; the opening is audited in clear."""
    ws, _ = pages_ws
    commander = pages_client_for("commander")
    hit = next(h for h in commander.get("/api/search", params={"q": FAN_SEED}).json()
               if h["display"].startswith(FAN_SEED[:4]))
    ref = hit["ident"]
    assert ref.startswith("r-") and FAN_SEED not in ref
    dossier = commander.get(f"/entities/{ref}")
    assert dossier.status_code == 200 and FAN_SEED not in dossier.text
    trace_href = _href(dossier.text, "account-trace-link")
    assert trace_href == f"/funds/trace?ref={ref}" and FAN_SEED not in trace_href
    before = len(audit_lines(ws))
    html = commander.get(trace_href).text
    g = _json_block(html, "trace-data")
    assert [h["accounts"] for h in g["per_hop"]] == [1, FAN_WIDTH, FAN_WIDTH + FAN_WIDTH // 2]  # the same trace
    assert FAN_SEED not in html and fan_account(0) not in html
    assert g["seed"].startswith(FAN_SEED[:4]) and g["seed"] != FAN_SEED
    # the form keeps the reference (hidden) so a changed direction or window traces the same account
    assert f'name="ref" value="{ref}"' in html and 'name="account"' not in html
    new = audit_lines(ws)[before:]
    opened = next(a for a in new if a["action"] == "web.ref.open")
    assert opened["user"] == "commander" and opened["account"] == FAN_SEED and opened["page"] == "/funds/trace"
    assert [a["action"] for a in new].index("web.ref.open") < [a["action"] for a in new].index("funds.trace.view")
    up = commander.get("/funds/trace", params={"ref": ref, "direction": "up", "hops": 2})
    assert up.status_code == 200 and FAN_SEED not in up.text
    statement = commander.get(_href(dossier.text, "account-statement-link"))
    assert statement.status_code == 200 and FAN_SEED not in statement.text
    assert f"/funds/trace?ref={ref}" in statement.text  # its trace links keep the reference too


def test_a_forged_or_malformed_account_reference_is_refused(pages_client_for) -> None:  # type: ignore[no-untyped-def]
    commander = pages_client_for("commander")
    forged = commander.get("/funds/trace", params={"ref": "r-" + "A" * 48})
    assert forged.status_code == 404 and "引用" in forged.text and "Traceback" not in forged.text
    assert commander.get("/funds/trace", params={"ref": "6222020200112233445"}).status_code in (400, 422)
    assert commander.get("/funds/account", params={"ref": "r-" + "B" * 48}).status_code == 404


def test_a_role_that_sees_the_number_gets_plain_account_links_in_the_dossier(pages_client_for) -> None:  # type: ignore[no-untyped-def]
    html = pages_client_for("analyst").get(f"/entities/{FAN_SEED}").text
    assert _href(html, "account-trace-link") == f"/funds/trace?account={FAN_SEED}"


def test_the_trace_form_as_submitted_with_an_empty_minimum_is_accepted(pages_client_for) -> None:  # type: ignore[no-untyped-def]
    client = pages_client_for("analyst")
    r = client.get("/funds/trace", params={"account": FAN_SEED, "hops": 2, "min_amount": "", "window_hours": 72})
    assert r.status_code == 200 and _json_block(r.text, "trace-data")["seed"] == FAN_SEED
    bad = client.get("/funds/trace", params={"account": FAN_SEED, "min_amount": "-5"})
    assert bad.status_code == 400 and "单笔最小金额" in bad.text
