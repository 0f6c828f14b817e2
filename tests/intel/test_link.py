"""intel link: where the chains meet. The result does not depend on the order the chains ran in."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from chainbreaker.chains.promotion.analyze import analyze
from chainbreaker.chains.promotion.ingest import ingest_platform
from chainbreaker.chains.tech.indicators import extract_indicators
from chainbreaker.core.model.finding import Finding, Scope, publish, query
from chainbreaker.core.model.schemas import ACCOUNTS, TRANSACTIONS
from chainbreaker.core.workspace import Workspace
from chainbreaker.intel.link import link
from chainbreaker.synth.platform import SynthPlatform, export_platform, generate_platform

HOLDER = "110101199003077777"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> tuple[SynthPlatform, Path]:
    p = generate_platform("pyramid", 200, 1200, seed=11, name="金沙")
    files = export_platform(p, tmp_path_factory.mktemp("platform"), formats=("csv",))
    return p, files["csv"]


def _funds(ws: Workspace, card: str) -> None:
    """The funds chain: a statement of ``card`` (bank ingest's rows) and its screening finding."""
    with ws.transaction("test.bank") as tx:
        tx.write("accounts", pa.Table.from_pylist([{
            "account": card, "account_raw": card, "card_no": card, "holder_name": "张三", "holder_id": HOLDER,
            "requested": True, "origin": "bank", "src_sha256": "b" * 64, "src_row": 2}], schema=ACCOUNTS))
        tx.write("transactions", pa.Table.from_pylist([{
            "txn_id": "t1", "from_account": card, "to_account": "6217000000000000001", "amount": Decimal("180000.00"),
            "currency": "CNY", "ts": dt.datetime(2025, 3, 1, tzinfo=dt.UTC), "requested_side": "from",
            "src_sha256": "b" * 64, "src_file": "建设银行交易明细信息.csv", "src_row": 2}], schema=TRANSACTIONS))
    with ws.transaction("funds.screen") as tx:
        publish(tx, "funds", [Finding(tx.run_id, "funds", "funds.paofen", "account", card, 0.85, "疑似跑分卡",
                                      "suspected 跑分 card")], Scope(rule_prefix="funds."))


def _promotion(ws: Workspace, platform: tuple[SynthPlatform, Path]) -> None:
    ingest_platform(ws, platform[1], platform[0].name)
    analyze(ws)


def _tech(ws: Workspace, card: str) -> None:
    """The tech chain's output for a gambling page that shows the platform's payee card."""
    url = "https://www.jinsha-pay.com/pay/index.html"
    page = f"<html><head><title>金沙娱乐 充值中心</title></head><body>收款人：李四 卡号：{card}</body></html>"
    sha = ws.store_evidence_bytes(page.encode())
    rows = [{"host": "www.jinsha-pay.com", "url": url, "persona": "desktop", "kind": i.kind, "value": i.value,
             "context": i.context, "capture_sha256": sha} for i in extract_indicators(page, "", url)]
    assert any(r["kind"] == "bank_card" and r["value"] == card for r in rows)
    with ws.transaction("tech.scan") as tx:
        tx.write("tech_indicators", pa.Table.from_pylist(rows))
        tx.write("tech_pages", pa.Table.from_pylist([{"url": url, "capture_sha256": sha, "is_gambling": True}]))


def _snapshot(ws: Workspace) -> dict[str, list]:
    """Everything intel and the chains produced, without run ids (which differ by design)."""
    findings = sorted((r for r in query(ws).to_pylist()), key=lambda r: r["id"])
    for r in findings:
        r.pop("run_id")
    links = ws.read_arrow("links").drop_columns(["run_id"]).to_pylist()
    accounts = sorted(ws.read_arrow("accounts").to_pylist(), key=lambda r: (r["origin"], r["account"]))
    return {"findings": findings, "links": links, "accounts": accounts}


def test_link_is_independent_of_the_order_the_chains_ran(tmp_path: Path, platform) -> None:
    card = platform[0].payees[0]
    runs: dict[str, Callable[[Workspace], None]] = {
        "funds": lambda ws: _funds(ws, card), "promotion": lambda ws: _promotion(ws, platform),
        "tech": lambda ws: _tech(ws, card)}
    snapshots = []
    for order in (("funds", "promotion", "tech"), ("tech", "promotion", "funds")):
        ws = Workspace(tmp_path / "-".join(order))
        for chain in order:
            runs[chain](ws)
        first = link(ws)
        snap = _snapshot(ws)
        assert link(ws).links == first.links and _snapshot(ws) == snap  # idempotent
        snapshots.append(snap)
    assert snapshots[0] == snapshots[1]
    snap = snapshots[0]
    kinds = {r["kind"] for r in snap["links"]}
    assert kinds == {"shows_card", "deposit_to", "withdrawal_to", "holds"}
    # the site, the platform's members and the holder all meet at the payee card
    at_card = {(r["kind"], r["chain"]) for r in snap["links"] if r["dst_key"] == card}
    assert {("shows_card", "tech"), ("deposit_to", "promotion"), ("holds", "funds")} <= at_card
    holds = next(r for r in snap["links"] if r["kind"] == "holds")
    assert holds["src_key"] == f"ID:{HOLDER}" and json.loads(holds["evidence"])[0]["table"] == "accounts"
    deposits = [r for r in snap["links"] if r["kind"] == "deposit_to" and r["dst_key"] == card]
    assert all(r["amount"] > 0 and r["count"] >= 1 for r in deposits)
    # one finding where funds and promotion meet, made by intel
    link_findings = [r for r in snap["findings"] if r["rule_id"] == "LINK-FUNDS"]
    assert [(r["chain"], r["subject_key"]) for r in link_findings] == [("intel", card)]
    # the payee card is a lead account of two origins, never requested; the bank row is kept
    origins = {r["origin"] for r in snap["accounts"] if r["account"] == card}
    assert origins == {"bank", "platform_deposit", "web_indicator"}


def test_promotion_findings_do_not_depend_on_funds_having_run(tmp_path: Path, platform) -> None:
    card = platform[0].payees[0]
    alone, after_funds = Workspace(tmp_path / "a"), Workspace(tmp_path / "b")
    _promotion(alone, platform)
    _funds(after_funds, card)
    _promotion(after_funds, platform)

    def ids(ws: Workspace) -> list[str]:
        return sorted(query(ws, chain="promotion", columns=["id"]).column("id").to_pylist())

    assert ids(alone) == ids(after_funds)


def test_link_on_an_empty_workspace_writes_nothing(ws: Workspace) -> None:
    res = link(ws)
    assert res.accounts == {} and res.links == {} and res.findings == {"LINK-FUNDS": 0}
    assert not ws.has_table("accounts") and not ws.has_table("links") and not ws.has_table("findings")


def test_cli_intel_link(tmp_path: Path, platform) -> None:
    from typer.testing import CliRunner

    from chainbreaker.faces.cli.main import app

    ws = Workspace(tmp_path / "ws")
    _promotion(ws, platform)
    runner = CliRunner()
    result = runner.invoke(app, ["--workspace", str(ws.root), "--lang", "en", "intel", "link"])
    assert result.exit_code == 0, result.output
    assert "Cross-chain links made" in result.output and "deposit_to" in result.output
    assert ws.has_table("links") and ws.has_table("accounts")
    empty = runner.invoke(app, ["--workspace", str(tmp_path / "empty"), "intel", "link"])
    assert empty.exit_code == 0 and "还没有可关联" in empty.output
