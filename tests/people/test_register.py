from __future__ import annotations

import json
from decimal import Decimal

import pyarrow as pa
import pytest
from sqlalchemy import inspect

from chainbreaker.chains.people.analyze import analyze
from chainbreaker.core.errors import InputError
from chainbreaker.core.model.finding import Finding, findings_table
from chainbreaker.core.model.schemas import ACCOUNTS
from chainbreaker.ops import register
from chainbreaker.synth.travel import generate_travel, load_travel_tables

HOLDER = "11010519491231002X"


@pytest.fixture()
def reg_ws(ws):
    data = generate_travel(800, seed=21)
    load_travel_tables(ws, data)
    analyze(ws, data.as_of)
    account = {n: None for n in ACCOUNTS.names}
    account.update(account="6222020000001", holder_id=HOLDER, holder_name="张三", origin="bank", requested=True,
                   balance=Decimal("10.00"))
    with ws.transaction("test.other-chains") as tx:
        tx.write("accounts", pa.Table.from_pylist([account], schema=ACCOUNTS))
        other = findings_table([
            Finding("r1", "funds", "funds.fast_in_out", "account", "6222020000001", 0.8, "快进快出", "fast in-out"),
            Finding("r1", "funds", "funds.low", "account", "6222020000001", 0.2, "弱信号", "weak"),
            Finding("r1", "promotion", "promotion.agent_threshold", "agent", "m9", 0.9, "代理伞下 150 人", "agent",
                    facts={"id_number": "530102199001011231"}),
            Finding("r1", "promotion", "promotion.agent_threshold", "agent", "m10", 0.9, "代理", "agent",
                    facts={"id_number": "530102199001011230"}),  # invalid check digit: skipped
        ])
        tx.con.register("_o", other)
        tx.write("findings", "SELECT * FROM findings UNION ALL SELECT * FROM _o")
    return ws, data


def test_proposals_from_every_chain_then_confirmed_by_analyst(reg_ws):
    ws, data = reg_ws
    s = register.propose(ws)
    assert s.new > 0 and s.skipped_invalid_id == 1
    props = register.list_proposals(ws)
    by = {(p["person_key"], p["role"], p["chain"]) for p in props}
    assert (f"ID:{HOLDER}", "涉赌重点人员", "funds") in by  # flagged card's holder
    assert ("ID:530102199001011231", "招赌人员", "promotion") in by  # platform agent with an ID number
    assert sum(1 for p in props if p["rule_id"] == "funds.low") == 0  # weak funds signal not proposed
    truth = data.truth_persons.to_pandas()
    stranded = set(truth[truth.stranded == 1].person_key)
    labour = {p["person_key"] for p in props if p["role"] == "赌博劳务人员"}
    assert labour == stranded
    assert register.propose(ws).new == 0  # idempotent
    key = sorted(labour)[0]
    r = register.add_person(ws, key, "赌博劳务人员", "analyst1", "出入境记录核实滞留")
    assert r["proposals_confirmed"] == 1 and r["status"] == "线索"
    assert all(p["person_key"] != key or p["role"] != "赌博劳务人员" for p in register.list_proposals(ws))
    persons = register.list_persons(ws)
    assert persons[0]["person_key"] == key and persons[0]["name"]


def test_status_workflow_with_who_when_why(reg_ws):
    ws, _ = reg_ws
    register.add_person(ws, HOLDER, "涉赌重点人员", "a1", "资金链线索")
    with pytest.raises(InputError):
        register.set_status(ws, HOLDER, "认定", "a1", "跳级")  # must go step by step
    with pytest.raises(InputError):
        register.set_status(ws, HOLDER, "核查", "a1", "  ")  # a reason is required
    register.set_status(ws, HOLDER, "核查", "a1", "调取流水")
    register.set_status(ws, HOLDER, "认定", "a2", "流水证实")
    with pytest.raises(InputError) as exc:
        register.set_status(ws, HOLDER, "处置", "a2", "处理")
    assert "劝返" in exc.value.zh
    register.set_status(ws, HOLDER, "处置", "a2", "移送", disposal="刑事")
    with pytest.raises(InputError):
        register.add_person(ws, HOLDER, "涉赌重点人员", "a1", "重复")
    with pytest.raises(InputError):
        register.add_person(ws, HOLDER, "不存在的角色", "a1", "x")
    d = register.show_person(ws, HOLDER, "a3", "investigator")
    assert d["status"] == "处置" and d["disposal"] == "刑事"
    hist = [(h["kind"], h["from"], h["to"], h["who"]) for h in d["history"]]
    assert hist == [("created", None, "线索", "a1"), ("role", None, "涉赌重点人员", "a1"), ("status", "线索", "核查", "a1"),
                    ("status", "核查", "认定", "a2"), ("status", "认定", "处置/刑事", "a2")]
    assert all(h["at"] and h["why"] for h in d["history"])
    audit = [json.loads(line) for line in (ws.root / "audit.jsonl").read_text("utf-8").splitlines()]
    assert audit[-1]["action"] == "people.register.show" and audit[-1]["user"] == "a3"
    assert audit[-1]["person_key"] == f"ID:{HOLDER}"


def test_register_lives_in_the_workspace_sqlite(reg_ws):
    from chainbreaker.ops.db import engine_for

    ws, _ = reg_ws
    engine = engine_for(ws)
    assert str(engine.url) == f"sqlite:///{ws.root / 'chainbreaker.db'}"
    assert {"register_person", "register_role", "register_change", "register_proposal"} <= set(
        inspect(engine).get_table_names())
    with pytest.raises(InputError):
        register.person_key_of("12345")


@pytest.mark.parametrize("typed", ["530103********0005", "ID:530103********0005", "138****5678", "6222********1234",
                                   "530103XXXXXXXX0005", " 530103＊＊＊＊＊＊＊＊0005 ", "ID:5301••••••••0005"])
def test_register_refuses_a_masked_value_typed_back_in(reg_ws, typed):
    ws, _ = reg_ws
    for call in (lambda: register.add_person(ws, typed, "出境参赌人员", "analyst1", "核实"),
                 lambda: register.set_status(ws, typed, "核查", "analyst1", "核实"),
                 lambda: register.show_person(ws, typed, "analyst1", "viewer")):
        with pytest.raises(InputError) as exc:
            call()
        assert "脱敏" in exc.value.zh and "masked" in exc.value.en
    assert register.list_persons(ws) == []


def test_cli_refuses_a_masked_value_with_a_chinese_error(tmp_path):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "chainbreaker.faces.cli.main", "--workspace", str(tmp_path / "ws"), "people",
                        "register", "add", "530103********0005", "-r", "出境参赌人员", "--why", "核实"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "脱敏" in r.stderr and "Traceback" not in r.stderr
