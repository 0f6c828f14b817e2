from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import igraph
import networkx as nx
import pyarrow as pa
import pytest

from chainbreaker.core.errors import InputError
from chainbreaker.core.model.schemas import TRANSACTIONS
from chainbreaker.core.workspace import Workspace
from chainbreaker.intel.exports.service import export_graph

UTC = dt.UTC


@pytest.fixture
def graph_ws(er_ws: Workspace) -> Workspace:
    ts = [dt.datetime(2024, 3, 1, 2, 0, tzinfo=UTC), dt.datetime(2024, 3, 2, 15, 30, tzinfo=UTC)]
    rows = {f.name: [None, None] for f in TRANSACTIONS}
    rows.update({"txn_id": ["t1", "t2"], "from_account": ["6217000011112222333"] * 2,
                 "to_account": ["6222020200112233445"] * 2, "from_name": ["张丽"] * 2, "to_name": ["王小明"] * 2,
                 "amount": [Decimal("5000.00"), Decimal("12000.50")], "currency": ["CNY"] * 2, "ts": ts,
                 "src_sha256": ["cd" * 32] * 2, "src_row": [1, 2]})
    findings = pa.table({"chain": ["funds"], "rule_id": ["fan_in"], "subject_type": ["account"],
                         "subject_key": ["6222020200112233445"], "score": [0.9]})
    risk = pa.table({"account": ["6222020200112233445"], "score": [0.93]})
    with er_ws.transaction("fixture.funds") as tx:
        tx.write("transactions", pa.table(rows, schema=TRANSACTIONS))
        tx.write("findings", findings)
        tx.write("account_risk", risk)
    return er_ws


def test_ftm_validated_by_followthemoney(graph_ws: Workspace, tmp_path):
    from followthemoney import model

    r = export_graph(graph_ws, "ftm", tmp_path / "g.ftm.jsonl", role="investigator")
    lines = [json.loads(x) for x in (tmp_path / "g.ftm.jsonl").read_text("utf-8").splitlines()]
    assert r["entities"] == len(lines) > 0
    ids = {e["id"] for e in lines}
    schemata = {e["schema"] for e in lines}
    assert {"Person", "BankAccount", "Ownership", "Payment", "UserAccount"} <= schemata
    for e in lines:
        proxy = model.get_proxy(e, cleaned=False)
        assert proxy.schema.validate(e) is None, e
        for prop in proxy.iterprops():
            if prop.type.name == "entity":
                assert set(proxy.get(prop)) <= ids, (e, prop.name)
    pay = [e for e in lines if e["schema"] == "Payment"]
    assert pay[0]["properties"]["amount"] == ["17000.50"]
    assert pay[0]["properties"]["startDate"] == ["2024-03-01T10:00:00"]  # Asia/Shanghai


def test_graphml_and_gexf_open_in_networkx_and_igraph(graph_ws: Workspace, tmp_path):
    export_graph(graph_ws, "graphml", tmp_path / "g.graphml", role="investigator")
    export_graph(graph_ws, "gexf", tmp_path / "g.gexf", role="investigator")
    g = nx.read_graphml(tmp_path / "g.graphml")
    ig = igraph.Graph.Read_GraphML(str(tmp_path / "g.graphml"))
    assert g.number_of_nodes() == ig.vcount() > 0 and g.number_of_edges() == ig.ecount() > 0
    accounts = {n: d for n, d in g.nodes(data=True) if d.get("account") == "6222020200112233445"}
    (node, attrs), = accounts.items()
    assert attrs["type"] == "account" and attrs["score"] == pytest.approx(0.93) and attrs["flags"] == "funds:fan_in"
    assert {"type", "score", "flags", "holder_name", "bank"} <= set(ig.vs.attributes())
    holders = [u for u, _v, d in g.in_edges(node, data=True) if d["kind"] == "holds"]
    assert holders and g.nodes[holders[0]]["type"] == "person"
    gx = nx.read_gexf(tmp_path / "g.gexf")
    assert gx.number_of_nodes() == g.number_of_nodes() and gx.number_of_edges() == g.number_of_edges()


def test_masked_for_role_and_audited_i2(graph_ws: Workspace, tmp_path):
    r = export_graph(graph_ws, "i2", tmp_path / "links.csv", role="viewer")
    text = (tmp_path / "links.csv").read_text("utf-8-sig")
    assert "6222020200112233445" not in text and "王小明" not in text
    assert "transferred_to" in text and r["rows"] > 0
    spec = (tmp_path / "links.import.xml").read_text("utf-8")
    assert "links.csv" in spec and "实体1标识" in spec
    audit = [json.loads(x) for x in graph_ws.audit_path.read_text("utf-8").splitlines()]
    assert any(a["action"] == "intel.export.i2" and a.get("phase") == "done" for a in audit)
    with pytest.raises(InputError):
        export_graph(graph_ws, "pdf", tmp_path / "x")


def test_cli_export(graph_ws: Workspace, tmp_path):
    from typer.testing import CliRunner

    from chainbreaker.faces.cli.main import app

    out = CliRunner().invoke(app, ["--workspace", str(graph_ws.root), "intel", "export", "--format", "graphml",
                                   "--out", str(tmp_path), "--role", "analyst"], env={"COLUMNS": "300"})
    assert out.exit_code == 0, out.output
    assert (tmp_path / "chainbreaker.graphml").exists()
    assert nx.read_graphml(tmp_path / "chainbreaker.graphml").number_of_nodes() > 0
