"""The API contract: search and dossier masked per role, exports masked, audited and refused by role."""

from __future__ import annotations

import io
import json

import pyarrow.parquet as pq

from .support import HUB, OTHERS, ZHANG_ID, ZHANG_PHONE, audit_lines


def test_search_finds_accounts_by_number_and_people_by_name(client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for("investigator")
    hits = client.get("/api/search", params={"q": HUB}).json()
    assert hits[0]["ident"] == HUB and hits[0]["findings"] == 1 and "findings" in hits[0]["sources"]
    by_name = client.get("/api/search", params={"q": "张伟"}).json()
    assert ZHANG_ID in {h["ident"] for h in by_name}
    assert client.get("/api/search", params={"q": ZHANG_PHONE}).json()[0]["kind"] == "phone"
    assert client.get("/api/search", params={"q": "nothing-like-this"}).json() == []


def test_search_is_masked_for_roles_that_may_not_see_ids(client_for, web_ws) -> None:  # type: ignore[no-untyped-def]
    clear = client_for("investigator").get("/api/search", params={"q": ZHANG_ID}).json()
    assert clear[0]["display"] == ZHANG_ID
    masked = client_for("analyst").get("/api/search", params={"q": ZHANG_ID}).json()
    hit = masked[0]
    assert hit["display"] != ZHANG_ID and "*" in hit["display"]
    assert ZHANG_ID not in json.dumps(masked)  # not even in the reference to the dossier
    dossier = client_for("analyst").get(f"/api/entities/{hit['ident']}").json()
    assert ZHANG_ID not in json.dumps(dossier, ensure_ascii=False) and dossier["records"]["persons"]
    viewer_like = client_for("commander").get("/api/search", params={"q": HUB}).json()
    assert HUB not in json.dumps(viewer_like)  # a commander sees card numbers masked
    assert any(a["action"] == "web.search" and a["role_source"] == "login" for a in audit_lines(web_ws))


def test_dossier_has_findings_records_statements_and_a_money_graph(client_for) -> None:  # type: ignore[no-untyped-def]
    d = client_for("analyst").get(f"/api/entities/{HUB}").json()
    assert d["findings"][0]["rule_id"] == "fast_in_fast_out" and d["findings"][0]["evidence"]
    assert ZHANG_ID not in d["findings"][0]["explanation_zh"]  # analysts do not see ID numbers in text either
    assert len(d["statements"]) == 30 and d["records"]["accounts"][0]["holder_name"] == "张伟"
    money = [e for e in d["graph"]["edges"] if e["kind"] == "money"]
    assert {e["source"] for e in money} | {e["target"] for e in money} >= {f"account:{o}" for o in OTHERS}
    assert all(e["evidence"]["src_row"] for e in money)
    site = [e for e in d["graph"]["edges"] if e["kind"] == "shows_card"]  # a cross-chain link from intel
    assert site and site[0]["source"] == "site:bet-example.com" and site[0]["target"] == f"account:{HUB}"
    assert client_for("analyst").get("/api/entities/0000000000000").status_code == 404


def test_tables_and_exports_in_every_format(client_for, web_ws) -> None:  # type: ignore[no-untyped-def]
    client = client_for("analyst")
    names = {t["name"] for t in client.get("/api/tables").json()}
    assert {"accounts", "transactions", "findings", "persons"} <= names
    for fmt in ("csv", "jsonl", "parquet", "xlsx"):
        r = client.get("/api/tables/persons/export", params={"format": fmt})
        assert r.status_code == 200, r.text
        assert r.headers["content-disposition"].startswith("attachment") and f"persons.{fmt}" in r.headers["content-disposition"]
        if fmt == "parquet":
            row = pq.read_table(io.BytesIO(r.content)).to_pylist()[0]
            assert row["id_number"] != ZHANG_ID and row["phone"] != ZHANG_PHONE and row["name"] == "张伟"
        elif fmt in ("csv", "jsonl"):
            assert ZHANG_ID not in r.content.decode("utf-8-sig") and "张伟" in r.content.decode("utf-8-sig")
    exports = [a for a in audit_lines(web_ws) if a["action"] == "export" and a.get("user") == "analyst"]
    assert exports and exports[-1]["role"] == "analyst" and exports[-1]["role_source"] == "login"
    assert client.get("/api/tables/no_such_table/export").status_code == 404


def test_roles_that_may_not_export_get_403(client_for) -> None:  # type: ignore[no-untyped-def]
    for role in ("commander", "partner", "tip_reviewer"):
        r = client_for(role).get("/api/tables/persons/export", params={"format": "csv"})
        assert r.status_code == 403 and "error" in r.json()
    assert client_for("admin").get("/api/tables/persons/export").text.count(ZHANG_ID) == 1


def test_agent_tree_loads_one_level_at_a_time(client_for) -> None:  # type: ignore[no-untyped-def]
    client = client_for("analyst")
    roots = client.get("/promotion").text
    assert "A1" in roots and "A2" not in roots and 'hx-get="/promotion/children?member=A1' in roots
    kids = client.get("/promotion/children", params={"member": "A1"}).text
    assert "A2" in kids and "A3" in kids and "M9" not in kids
    assert "直属 1" in kids  # A2 has one direct member
    assert "无下级" in client.get("/promotion/children", params={"member": "M9"}).text


def test_english_ui_and_errors(web_ws) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from chainbreaker.faces.web.app import create_app

    client = TestClient(create_app(web_ws, lang="en"))
    assert "Log in" in client.get("/login").text and 'lang="en"' in client.get("/login").text
    assert client.get("/api/me").json()["error"] == "Not logged in, or the session has expired."
