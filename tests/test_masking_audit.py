"""``--role`` is a claim: every audit record says so (role_claimed, role_source, the OS user)."""

from __future__ import annotations

import getpass
import json

import pyarrow as pa
import pytest

from test_cli_hostile import cli


@pytest.fixture()
def small_ws(tmp_path):
    from chainbreaker.core.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    with ws.transaction("test") as tx:
        tx.write("persons", pa.table({"id_number": ["11010519491231002X"], "name": ["张三"], "phone": ["13912345678"]}))
    return ws


def _records(ws) -> list[dict]:
    return [json.loads(line) for line in (ws.root / "audit.jsonl").read_text("utf-8").splitlines()]


def test_cli_role_is_recorded_as_a_claim(small_ws, tmp_path, monkeypatch):
    monkeypatch.delenv("CHAINBREAKER_ROLE", raising=False)
    out = tmp_path / "p.csv"
    assert cli("--workspace", str(small_ws.root), "export", "persons", "--out", str(out), "--role", "investigator")[0] == 0
    assert cli("--workspace", str(small_ws.root), "--role", "viewer", "export", "persons", "--out", str(out))[0] == 0
    assert cli("--workspace", str(small_ws.root), "export", "persons", "--out", str(out))[0] == 0
    recs = [r for r in _records(small_ws) if r["action"] == "export" and r.get("phase", "done") == "done"]
    assert [(r["role"], r["role_source"], r["role_claimed"]) for r in recs] == [
        ("investigator", "cli", True), ("viewer", "cli", True), ("analyst", "setting", True)]
    assert all(r["os_user"] == getpass.getuser() for r in recs)
    assert "13912345678" not in out.read_text("utf-8-sig")  # the last export ran as analyst (setting)


def test_every_audit_record_carries_the_role_fields(small_ws):
    small_ws.audit("anything")
    rec = _records(small_ws)[-1]
    assert rec["role_claimed"] is True and rec["role_source"] == "setting" and rec["os_user"]


def test_only_a_login_is_not_a_claim(small_ws):
    from chainbreaker.core.model.masking import Role

    small_ws.audit("web.read", user="zhang", role=Role("investigator", source="login"))
    rec = _records(small_ws)[-1]
    assert (rec["role"], rec["role_source"], rec["role_claimed"]) == ("investigator", "login", False)


def test_an_unknown_role_on_the_command_line_is_a_clear_error(small_ws):
    code, out, err = cli("--workspace", str(small_ws.root), "--role", "boss", "tables")
    assert code == 2 and "角色" in err and "viewer" in err
