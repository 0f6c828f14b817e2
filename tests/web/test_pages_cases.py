"""Casework edit forms: create and update a case, add a task and move its status, record a measure;
CSRF required, roles enforced, bad input a clear message, every change in the history with its user."""

from __future__ import annotations

import re

from .conftest import csrf
from .pages_support import CASE
from .support import ZHANG_ID, audit_lines


def _post(client, path: str, data: dict[str, str], *, with_csrf: bool = True):  # type: ignore[no-untyped-def]
    return client.post(path, data=data, headers=csrf(client) if with_csrf else {})


def test_create_case_then_edit_it_with_history(pages_client_for) -> None:  # type: ignore[no-untyped-def]
    client = pages_client_for("investigator")
    form = client.get("/cases/new").text
    assert "新建案件" in form and "督办级别" in form
    r = _post(client, "/cases/new", {"number": "WEB-NEW-1", "name": "跨境赌博推广案", "supervision": "市督",
                                     "status": "初查", "opened_on": "2025-11-03", "unit": "大理州公安局"})
    assert r.status_code == 303 and r.headers["location"] == "/cases/WEB-NEW-1"
    again = _post(client, "/cases/new", {"number": "WEB-NEW-1", "name": "重复"})
    assert again.status_code == 400 and "已存在" in again.text
    r = _post(client, "/cases/WEB-NEW-1", {"name": "跨境赌博推广案", "supervision": "省督", "status": "立案侦查",
                                          "opened_on": "2025-11-03", "closed_on": "", "unit": "大理州公安局"})
    assert r.status_code == 303
    page = client.get("/cases/WEB-NEW-1").text
    assert 'id="case-status">立案侦查<' in page
    assert "status：初查 → 立案侦查" in page and "supervision：市督 → 省督" in page  # the history, with…
    assert page.count("<td>investigator</td>") >= 2  # …who made each change
    bad_date = _post(client, "/cases/WEB-NEW-1", {"closed_on": "2025-02-30"})
    assert bad_date.status_code == 400 and "不是日期" in bad_date.text
    before = _post(client, "/cases/WEB-NEW-1", {"closed_on": "2025-01-01"})
    assert before.status_code == 400 and "结案日期早于立案日期" in before.text
    bad_status = _post(client, "/cases/WEB-NEW-1", {"status": "已破案"})
    assert bad_status.status_code == 400 and "可选" in bad_status.text


def test_task_added_and_moved_through_its_statuses(pages_client_for) -> None:  # type: ignore[no-untyped-def]
    client = pages_client_for("commander")
    page = client.get(f"/cases/{CASE}").text
    assert "调取银行流水" in page and "task-status-form" in page
    before = len(re.findall(r'<tr data-task="(\d+)">', page))
    r = _post(client, f"/cases/{CASE}/tasks", {"title": "冻结涉案账户", "owner": "", "due": "2025-12-31"})
    assert r.status_code == 303
    page = client.get(f"/cases/{CASE}").text
    task_ids = re.findall(r'<tr data-task="(\d+)">', page)
    assert len(task_ids) == before + 1
    r = _post(client, f"/cases/{CASE}/tasks/{task_ids[-1]}/status", {"status": "进行中"})
    assert r.status_code == 303
    page = client.get(f"/cases/{CASE}").text
    assert "status：待办 → 进行中" in page and "<td>commander</td>" in page
    wrong = _post(client, f"/cases/{CASE}/tasks/999999/status", {"status": "完成"})
    assert wrong.status_code == 400 and "没有编号为 999999 的任务" in wrong.text
    no_title = _post(client, f"/cases/{CASE}/tasks", {"title": " "})
    assert no_title.status_code == 400 and "任务内容为空" in no_title.text


def test_measure_recorded_and_masked_by_role(pages_client_for, pages_ws) -> None:  # type: ignore[no-untyped-def]
    ws, _ = pages_ws
    client = pages_client_for("investigator")
    bad = _post(client, f"/cases/{CASE}/measures", {"id_number": "110105194912310021", "measure": "刑事拘留",
                                                    "taken_on": "2025-10-05"})
    assert bad.status_code == 400 and "身份证号无效" in bad.text
    r = _post(client, f"/cases/{CASE}/measures", {"id_number": ZHANG_ID, "name": "张伟", "measure": "刑事拘留",
                                                  "taken_on": "2025-10-05"})
    assert r.status_code == 303
    assert ZHANG_ID in client.get(f"/cases/{CASE}").text  # investigators see ID numbers
    commander = pages_client_for("commander").get(f"/cases/{CASE}").text
    assert ZHANG_ID not in commander and "110105" in commander and "刑事拘留" in commander
    assert "measure-add-form" not in commander  # a commander does not record measures…
    assert _post(pages_client_for("commander"), f"/cases/{CASE}/measures",
                 {"id_number": ZHANG_ID, "measure": "逮捕", "taken_on": "2025-10-06"}).status_code == 403  # …nor post them
    assert any(a["action"] == "ops.case.measures" and a["user"] == "commander" for a in audit_lines(ws))


def test_edits_need_the_csrf_header_and_a_role_that_may_edit(pages_client_for) -> None:  # type: ignore[no-untyped-def]
    client = pages_client_for("analyst")
    r = _post(client, f"/cases/{CASE}", {"status": "结案"}, with_csrf=False)
    assert r.status_code == 403 and "CSRF" in r.text
    assert "结案" not in client.get(f"/cases/{CASE}").text.split('id="case-status">')[1][:10]
    for role in ("partner", "tip_reviewer"):
        assert _post(pages_client_for(role), f"/cases/{CASE}", {"status": "结案"}).status_code == 403
    too_long = _post(client, f"/cases/{CASE}", {"name": "案" * 500})
    assert too_long.status_code == 400 and "超过" in too_long.text
    missing = client.get("/cases/NO-SUCH-CASE")
    assert missing.status_code == 400 and "找不到案件" in missing.text


def test_case_list_links_to_the_case_pages(pages_client_for) -> None:  # type: ignore[no-untyped-def]
    html = pages_client_for("analyst").get("/cases").text
    assert f'href="/cases/{CASE}"' in html and 'id="new-case"' in html
