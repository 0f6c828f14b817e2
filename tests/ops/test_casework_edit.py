"""Hand-made casework edits (the web forms' service): create/update a case, task status, measures;
every change in the history; measures listed masked per role and audited. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from chainbreaker.core.errors import InputError
from chainbreaker.ops.casework import add_case_task, case_detail
from chainbreaker.ops.casework_edit import (
    add_measure,
    case_fields,
    case_measures,
    create_case,
    set_task_status,
    update_case,
)

ID = "11010519491231002X"


def test_case_life_with_history(ops_ws) -> None:  # type: ignore[no-untyped-def]
    create_case(ops_ws, "H-1", "手工录入案", supervision="市督", opened_on=dt.date(2025, 10, 1), unit="昆明市公安局", who="li")
    with pytest.raises(InputError, match="already exists"):
        create_case(ops_ws, "H-1", "again")
    with pytest.raises(InputError, match="supervision level"):
        create_case(ops_ws, "H-2", "x", supervision="国督")
    assert update_case(ops_ws, "H-1", {"status": "立案侦查", "unit": "昆明市公安局"}, who="wang") == {
        "status": ["初查", "立案侦查"]}  # an unchanged unit is not a change
    assert update_case(ops_ws, "H-1", {"status": "立案侦查"}, who="wang") == {}
    with pytest.raises(InputError, match="closing date"):
        update_case(ops_ws, "H-1", {"closed_on": dt.date(2025, 1, 1)})
    assert case_fields(ops_ws, "H-1")["closed_on"] is None  # the refused change left nothing behind
    task = add_case_task(ops_ws, "H-1", "调取流水", who="li")
    assert set_task_status(ops_ws, "H-1", task, "进行中", who="zhao")
    assert not set_task_status(ops_ws, "H-1", task, "进行中", who="zhao")
    with pytest.raises(InputError, match="task status"):
        set_task_status(ops_ws, "H-1", task, "搁置")
    history = case_detail(ops_ws, "H-1")["history"]
    assert [(h["entity"], h["action"], h["who"]) for h in history] == [
        ("case", "created", "li"), ("case", "updated", "wang"), ("task", "created", "li"), ("task", "updated", "zhao")]
    assert history[1]["changes"] == {"status": ["初查", "立案侦查"]}


def test_measures_are_checked_recorded_once_and_listed_masked(ops_ws) -> None:  # type: ignore[no-untyped-def]
    create_case(ops_ws, "H-3", "措施案")
    with pytest.raises(InputError, match="resident ID"):
        add_measure(ops_ws, "H-3", "110105194912310021", "刑事拘留", dt.date(2025, 10, 5))
    with pytest.raises(InputError, match="measure"):
        add_measure(ops_ws, "H-3", ID, "罚款", dt.date(2025, 10, 5))
    assert add_measure(ops_ws, "H-3", ID, "刑事拘留", dt.date(2025, 10, 5), name="张伟", who="li")
    assert not add_measure(ops_ws, "H-3", ID, "刑事拘留", dt.date(2025, 10, 5), who="li")
    assert case_detail(ops_ws, "H-3")["persons_measures"] == 1
    clear = case_measures(ops_ws, "H-3", role="investigator", user="li")
    masked = case_measures(ops_ws, "H-3", role="viewer", user="boss")
    assert clear[0]["id_number"] == ID and clear[0]["name"] == "张伟"
    assert ID not in json.dumps(masked, ensure_ascii=False) and "张伟" not in json.dumps(masked, ensure_ascii=False)
    audit = [json.loads(x) for x in ops_ws.audit_path.read_text("utf-8").split("\n") if x.strip()]
    assert audit[-1]["action"] == "ops.case.measures" and audit[-1]["user"] == "boss"
    history = case_detail(ops_ws, "H-3")["history"]
    assert history[-1]["entity"] == "measure" and ID not in json.dumps(history, ensure_ascii=False, default=str)
