from __future__ import annotations

import pytest
from typer.testing import CliRunner

from chainbreaker.core.errors import InputError
from chainbreaker.core.workspace import Workspace
from chainbreaker.intel.er.judgements import judge, judgements
from chainbreaker.intel.er.service import match


def _rid(ws: Workspace, row: int) -> str:
    return ws.duck().sql("SELECT record_id FROM person_records WHERE src_row = $1", params=[row]).fetchall()[0][0]


def _cluster(ws: Workspace, rid: str) -> str:
    return ws.duck().sql("SELECT cluster_id FROM person_clusters WHERE record_id = $1", params=[rid]).fetchall()[0][0]


def test_reject_survives_rerun_and_undo_restores(er_ws: Workspace):
    holder, traveller, zhang = _rid(er_ws, 900001), _rid(er_ws, 900005), _rid(er_ws, 900002)
    assert _cluster(er_ws, holder) == _cluster(er_ws, traveller)
    jid = judge(er_ws, "reject", holder, traveller, user="李警官", reason="出境记录照片不符")
    match(er_ws)
    assert _cluster(er_ws, holder) != _cluster(er_ws, traveller)  # no path through the KYC rows either
    statuses = {r[0] for r in er_ws.duck().sql(
        "SELECT status FROM person_matches WHERE judgement_id = $1", params=[jid]).fetchall()}
    assert statuses <= {"rejected"}
    # accept joins strangers; split takes a record out
    judge(er_ws, "accept", holder, zhang, user="李警官", reason="同一人冒用两个身份")
    match(er_ws)
    assert _cluster(er_ws, holder) == _cluster(er_ws, zhang)
    judge(er_ws, "undo", jid, user="王队", reason="复核：照片一致")
    match(er_ws)
    assert _cluster(er_ws, holder) == _cluster(er_ws, traveller)
    log = judgements(er_ws).to_pylist()
    assert [r["action"] for r in log] == ["reject", "accept", "undo"]
    assert log[0]["undone"] and log[0]["user"] == "李警官" and log[0]["judged_at"] is not None


def test_split_and_bad_input(er_ws: Workspace):
    traveller = _rid(er_ws, 900005)
    before = _cluster(er_ws, traveller)
    judge(er_ws, "split", traveller, user="a", reason="护照信息不同")
    match(er_ws)
    after = er_ws.duck().sql("SELECT cluster_size FROM person_clusters WHERE record_id = $1",
                             params=[traveller]).fetchall()[0][0]
    assert after == 1
    assert _cluster(er_ws, _rid(er_ws, 900001)) != _cluster(er_ws, traveller)
    assert before != traveller
    with pytest.raises(InputError):
        judge(er_ws, "accept", traveller, "nope", user="a", reason="x")
    with pytest.raises(InputError):
        judge(er_ws, "reject", traveller, _rid(er_ws, 900001), user="a", reason=" ")
    with pytest.raises(InputError):
        judge(er_ws, "undo", "J000", user="a", reason="x")


def test_cli_judge_and_list(er_ws: Workspace, monkeypatch):
    from chainbreaker.faces.cli.context import console
    from chainbreaker.faces.cli.main import app

    monkeypatch.setattr(console, "width", 300)  # the console may have been made narrow by an earlier test

    a, b = _rid(er_ws, 900001), _rid(er_ws, 900002)
    runner = CliRunner()
    out = runner.invoke(app, ["--workspace", str(er_ws.root), "intel", "judge", "reject", a, b,
                              "--reason", "[red]不同人", "--user", "张三"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["--workspace", str(er_ws.root), "intel", "judge", "list"], env={"COLUMNS": "300"})
    assert out.exit_code == 0 and "reject" in out.output and "[red]不同人" in out.output
    out = runner.invoke(app, ["--workspace", str(er_ws.root), "intel", "judge", "accept", a, "missing", "--reason", "x"])
    assert out.exit_code != 0 and "Traceback" not in out.output
