"""People pages: stranded list, travel timeline per person and per group, the key-person register with
its status workflow; links carry opaque references for roles that may not see ID numbers."""

from __future__ import annotations

import re

from .conftest import csrf
from .support import audit_lines


def _stranded(ws):  # type: ignore[no-untyped-def]
    con = ws.duck()
    try:
        return [r[0] for r in con.execute("SELECT person_key FROM travel_person_metrics WHERE stranded "
                                          "ORDER BY days_since_last DESC, person_key").fetchall()]
    finally:
        con.close()


def test_stranded_list_links_by_reference_not_by_id(pages_client_for, pages_ws) -> None:  # type: ignore[no-untyped-def]
    ws, _ = pages_ws
    keys = _stranded(ws)
    assert keys and keys[0].startswith("ID:")
    commander = pages_client_for("commander").get("/people").text
    assert "滞留境外人员" in commander and "出行团伙" in commander
    assert not any(k[3:] in commander for k in keys)  # no ID number in text or links
    refs = re.findall(r'href="/people/person\?ref=(r-[A-Za-z0-9_-]+)"', commander)
    assert len(refs) == len(keys)
    investigator = pages_client_for("investigator").get("/people").text
    assert keys[0][3:] in investigator  # investigators see them in clear


def test_person_timeline_in_time_order_masked(pages_client_for, pages_ws) -> None:  # type: ignore[no-untyped-def]
    ws, _ = pages_ws
    key = _stranded(ws)[0]
    client = pages_client_for("commander")
    ref = re.findall(r'href="/people/person\?ref=(r-[A-Za-z0-9_-]+)"', client.get("/people").text)[0]
    html = client.get("/people/person", params={"ref": ref}).text
    assert "出行时间线" in html and "出境" in html and key[3:] not in html
    times = re.findall(r"<li class=\"(?:exit)?\"><b>([0-9: -]+)</b>", html)
    assert len(times) >= 2 and times == sorted(times)
    assert any(a["action"] == "people.timeline" and a["user"] == "commander" for a in audit_lines(ws))
    gone = client.get("/people/person", params={"ref": "r-000000000000000000000000"})
    assert gone.status_code == 404 and "引用无效或已失效" in gone.text


def test_group_timeline_names_who_travelled_together(pages_client_for, pages_ws) -> None:  # type: ignore[no-untyped-def]
    ws, _ = pages_ws
    con = ws.duck()
    group, size = con.execute("SELECT group_id, size FROM travel_groups ORDER BY trips DESC, group_id LIMIT 1").fetchall()[0]
    con.close()
    html = pages_client_for("analyst").get("/people/group", params={"id": group}).text
    assert f"团伙出行时间线：{group}" in html
    assert len(re.findall(r'href="/people/person\?ref=', html)) == size
    lines = re.findall(r"（(\d+) 人）</li>", html)
    assert lines and max(int(n) for n in lines) >= 2  # a line names several members on the same day and place
    missing = pages_client_for("analyst").get("/people/group", params={"id": "TG-nope"})
    assert missing.status_code == 400 and "没有出行团伙" in missing.text


def test_register_add_and_status_workflow_with_history(pages_client_for, pages_ws) -> None:  # type: ignore[no-untyped-def]
    ws, _ = pages_ws
    key = _stranded(ws)[1]
    client = pages_client_for("investigator")
    r = client.post("/people/register/add", data={"person": key[3:], "role": "出境参赌人员", "why": "滞留缅甸逾千日"},
                    headers=csrf(client))
    assert r.status_code == 303 and r.headers["location"].startswith("/people/register/person?ref=")
    page = client.get(r.headers["location"]).text
    assert 'id="register-status">线索<' in page and "核查" in page  # the next step is offered
    ref = r.headers["location"].split("ref=")[1]
    from urllib.parse import unquote

    skip = client.post("/people/register/status", data={"ref": unquote(ref), "status": "认定", "why": "跳级"},
                       headers=csrf(client))
    assert skip.status_code == 400 and "逐级" in skip.text
    no_why = client.post("/people/register/status", data={"ref": unquote(ref), "status": "核查", "why": ""},
                         headers=csrf(client))
    assert no_why.status_code == 400
    ok = client.post("/people/register/status", data={"ref": unquote(ref), "status": "核查", "why": "已布置核查"},
                     headers=csrf(client))
    assert ok.status_code == 303
    page = client.get(ok.headers["location"]).text
    assert 'id="register-status">核查<' in page and "已布置核查" in page and "<td>investigator</td>" in page
    listing = pages_client_for("commander").get("/people/register").text
    assert "出境参赌人员" in listing and key[3:] not in listing and "核查" in listing
    assert pages_client_for("partner").post("/people/register/status", data={"ref": "x", "status": "核查"},
                                            headers=csrf(pages_client_for("partner"))).status_code == 403
    assert any(a["action"] == "people.register.show" for a in audit_lines(ws))
