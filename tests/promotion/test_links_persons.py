"""Links to the funds chain and person de-duplication with analyst overrides."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from chainbreaker.chains.promotion.analyze import analyze
from chainbreaker.chains.promotion.ingest import ingest_platform
from chainbreaker.core.model.finding import Finding, publish
from chainbreaker.core.model.schemas import ACCOUNTS, TRANSACTIONS
from chainbreaker.core.workspace import Workspace
from chainbreaker.intel.link import link
from chainbreaker.intel.platform_accounts import funds_flagged_payments


def _bank_side(ws: Workspace, card: str) -> None:
    """What bank ingest (H1) would have written: one bank account row and a transfer out of ``card``."""
    acct = pa.Table.from_pylist([{"account": card, "account_raw": card + "\t", "card_no": card, "holder_name": "张三",
                                  "requested": True, "origin": "bank", "src_sha256": "b" * 64, "src_row": 2}],
                                schema=ACCOUNTS)
    txn = pa.Table.from_pylist([{"txn_id": "t1", "from_account": card, "to_account": "6217000000000000001",
                                 "amount": Decimal("180000.00"), "currency": "CNY",
                                 "ts": dt.datetime(2025, 3, 1, tzinfo=dt.UTC), "requested_side": "from",
                                 "src_sha256": "b" * 64, "src_file": "建设银行交易明细信息.csv", "src_row": 2}],
                               schema=TRANSACTIONS)
    with ws.transaction("test.bank") as tx:
        tx.write("accounts", acct)
        tx.write("transactions", txn)


def test_payee_cards_become_accounts_and_funds_flags_show_on_both_sides(tmp_path: Path, exports, pyramid) -> None:
    ws = Workspace(tmp_path / "ws")
    card = pyramid.payees[0]
    _bank_side(ws, card)
    ingest_platform(ws, exports["pyramid"]["csv"], pyramid.name)
    con = ws.duck()
    # the promotion chain writes only its own tables; intel links its payee cards to the accounts
    assert dict(con.sql("SELECT origin, count(*) FROM accounts GROUP BY 1").fetchall()) == {"bank": 1}
    link(ws)
    con = ws.duck()
    origins = dict(con.sql("SELECT origin, count(*) FROM accounts GROUP BY 1").fetchall())
    assert origins["bank"] == 1  # the bank's own row is kept
    assert origins["platform_deposit"] == len(pyramid.payees)
    assert origins["platform_withdrawal"] > 0
    assert con.sql("SELECT bool_or(requested) FROM accounts WHERE origin LIKE 'platform_%'").fetchall()[0][0] is False
    # The funds chain sees the platform account in the transactions it already holds.
    assert con.sql(f"SELECT count(*) FROM transactions t JOIN accounts a ON a.account = t.from_account "
                   f"WHERE a.origin = 'platform_deposit' AND a.account = '{card}'").fetchall()[0][0] == 1
    # Funds screening flags the card (a finding of chain "funds", as funds.screen writes them) ...
    with ws.transaction("test.funds") as tx:
        f = Finding(tx.run_id, "funds", "FUNDS-PAOFEN", "account", card, 0.85, "疑似跑分卡", "suspected 跑分 card")
        publish(tx, "funds", [f])
    analyze(ws)
    con = ws.duck()
    assert not con.sql("SELECT count(*) FROM findings WHERE rule_id = 'LINK-FUNDS'").fetchall()[0][0]
    # ... and intel shows the platform payments into it, with the source rows.
    link(ws)
    con = ws.duck()
    found = con.sql(f"SELECT facts, evidence, explanation_zh FROM findings WHERE chain='intel' AND rule_id='LINK-FUNDS' "
                    f"AND subject_key = '{card}'").fetchall()
    assert len(found) == 1
    facts, evidence, zh = json.loads(found[0][0]), json.loads(found[0][1]), found[0][2]
    expected = con.sql(f"SELECT sum(amount), count(*) FROM platform_payments WHERE account='{card}' AND ok AND kind='deposit'").fetchall()[0]
    assert Decimal(facts["value"]) == expected[0] and facts["payments"] == expected[1]
    assert facts["funds_rules"] == "FUNDS-PAOFEN" and "资金链" in zh
    assert evidence[0] == {"table": "findings", "chain": "funds", "subject_key": card}
    assert all(e["table"] == "platform_payments" for e in evidence[1:]) and len(evidence) > 1
    # The funds finding itself is untouched by the promotion run and by intel.
    assert con.sql("SELECT count(*) FROM findings WHERE chain='funds'").fetchall()[0][0] == 1
    assert funds_flagged_payments(con).num_rows == 1


def _three_people(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "会员表.csv").write_text(
        "会员ID,上级ID,手机号,身份证号,银行卡号,设备号\n"
        "1,,13800000000,,,\n"
        "2,1,13811111111,,6222020000000000001,\n"
        "3,1,138-1111-1111,,,\n"  # same phone as 2 written differently
        "4,1,,,6222020000000000001,\n"  # same card as 2
        "5,1,13800000000,,,D1\n"  # same phone as the shop phone of 1
        "6,1,,,,D1\n", "utf-8")
    return folder


def test_person_dedup_and_overrides(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ingest_platform(ws, _three_people(tmp_path), "己")
    analyze(ws)
    con = ws.duck()
    row = con.sql("SELECT downline_accounts, downline_persons FROM agent_metrics WHERE member_id='1'").fetchall()[0]
    assert row == (5, 2)  # {2,3,4} one person, {5,6} another (1 is the agent itself)
    merges = con.sql("SELECT member_id, via_kind FROM promotion_person_merges ORDER BY 1, 2").fetchall()
    assert ("3", "phone") in merges and ("4", "bank_card") in merges and ("6", "device") in merges
    # The analyst says the phone of 1/5 is a shop phone and account 4 is a different person.
    (ws.config_dir / "promotion_persons.yaml").write_text(
        "ignore_values:\n  - {kind: phone, value: '13800000000'}\nseparate_accounts:\n  - {platform: 己, member_id: '4'}\n",
        "utf-8")
    analyze(ws)
    con = ws.duck()
    assert con.sql("SELECT downline_persons FROM agent_metrics WHERE member_id='1'").fetchall()[0][0] == 3
    run = [r for r in ws.runs() if r["kind"] == "promotion.analyze"][-1]
    assert run["settings"]["person_override_counts"] == {"ignore_values": 1, "separate_accounts": 1}
    cnt = json.loads(con.sql("SELECT evidence FROM findings WHERE rule_id='CNT' AND subject_key='己:1'").fetchall()[0][0])
    assert {e.get("member_id") for e in cnt if e["table"] == "promotion_person_merges"} >= {"2", "3", "5", "6"}
