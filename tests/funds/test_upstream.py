"""Risk along money edges (上游风险传导): the end of a collection chain scores high on its own inflow.

collection cards (跑分) → transit cards (fast in/out) → a settlement card that does nothing else
suspicious: it takes money from the two transit cards in the daytime, in uneven amounts, keeps it
and pays a property developer three times. Before the upstream signal it scored 0.375 (the
network signal needs three flagged payers). Look-alikes tied to the same flagged cards stay low: a
landlord and a relative paid a little by them, a merchant they shop at among a hundred customers,
the company whose payroll includes them, and the developer and a cash-out dealer each paid by the
settlement card alone.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from chainbreaker.chains.funds.screen import screen
from chainbreaker.core.workspace import Workspace

from .scenario import Book, write_lake

DAYS = 30


def chain(seed: int = 3) -> Book:
    b = Book(seed)
    r = b.rng
    gamblers = [b.account(f"G{i:03d}", "normal", "gambler") for i in range(200)]
    customers = [b.account(f"C{i:03d}", "normal") for i in range(100)]
    cards = [b.account(f"COLLECT{i}", "op", "collection") for i in range(6)]
    transit = [b.account(f"TRANSIT{i}", "op", "transit") for i in range(2)]
    settle = b.account("SETTLE", "op", "settlement")
    developer = b.account("DEVELOPER", "normal", "property")
    dealer = b.account("DEALER", "normal", "otc")
    landlord = b.account("LANDLORD", "lookalike", "landlord")
    relative = b.account("RELATIVE", "lookalike", "family")
    merchant = b.account("MERCHANT", "lookalike", "merchant")
    company = b.account("COMPANY", "lookalike", "payroll")
    staff = [b.account(f"EMP{i:02d}", "normal") for i in range(25)]
    clients = [b.account(f"CLIENT{i}", "normal") for i in range(3)]
    for day in range(DAYS):
        for k, card in enumerate(cards):
            hour = 10 + r.random() * 2
            for _ in range(r.randint(5, 8)):
                hour += r.random() * 1.2
                amt = r.choice([200, 300, 500, 1000, 2000, 3000])
                b.pay(r.choice(gamblers), card, amt, b.at(day, hour))
                hop = b.at(day, hour + r.uniform(3, 15) / 60)
                b.pay(card, transit[k % 2], amt, hop)
                # the transit card keeps a 0.5% fee and passes the rest on within minutes
                b.pay(transit[k % 2], settle, round(amt * 0.995, 2), hop + dt.timedelta(minutes=r.uniform(2, 9)))
        for _ in range(r.randint(3, 6)):
            b.pay(r.choice(customers), merchant, round(r.uniform(30, 900), 2), b.at(day, 9 + r.random() * 10))
    for day in (10, 20, 29):
        b.pay(settle, developer, 260_000 + day * 111.11, b.at(day, 15.5))
    b.pay(settle, dealer, 50_000.37, b.at(25, 14))
    for t in transit:  # the people behind the transit cards live ordinary lives too
        b.pay(t, landlord, 3000, b.at(1, 9))
        b.pay(t, relative, 1888, b.at(12, 19))
        b.pay(t, merchant, 760.5, b.at(8, 18))
        b.pay(company, t, 6100, b.at(9, 10))
    for week in range(4):
        for c in clients:
            b.pay(c, company, r.randint(40_000, 60_000) + 0.5, b.at(week * 7 + 1, 11))
    for i, emp in enumerate(staff):
        b.pay(company, emp, round(r.uniform(5000, 9000), 2), b.at(9, 10 + i / 60))
    return b


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory):
    book = chain()
    ws = Workspace(tmp_path_factory.mktemp("chain") / "ws")
    write_lake(ws, book)
    screen(ws)
    risk = {r["account"]: r for r in ws.read_arrow("account_risk").to_pylist()}
    findings = {(f["rule_id"], f["subject_key"]): f for f in ws.read_arrow("findings").to_pylist()}
    return book, risk, findings


def test_the_settlement_card_at_the_end_of_the_chain_scores_high(result) -> None:
    _, risk, _ = result
    for card in ("COLLECT0", "TRANSIT0", "TRANSIT1"):
        assert risk[card]["score"] >= 0.7, (card, risk[card])
    settle = risk["SETTLE"]
    assert settle["score"] >= 0.7 and settle["flagged"], settle
    facts = json.loads(settle["key_facts"])
    # nothing else about it is suspicious: no fast forwarding, no fan pattern, no night, no round amounts
    for rule in ("paofen", "fast_in_out", "fan_in", "fan_out", "card_pool", "dormant", "night", "round_amount"):
        assert facts["signals"][rule] < 0.3, (rule, facts["signals"])
    assert facts["signals"]["upstream"] == 1.0


def test_the_finding_names_the_flagged_payers_and_how_much(result) -> None:
    book, risk, findings = result
    f = findings[("funds.upstream", "SETTLE")]
    facts = json.loads(f["facts"])
    payers = facts["flagged_payers"]
    assert [p["account"] for p in payers] == sorted(["TRANSIT0", "TRANSIT1"], key=lambda a: -float(
        next(p["amount"] for p in payers if p["account"] == a)))
    received = {a: sum(r["amount"] for r in book.rows if r["from_account"] == a and r["to_account"] == "SETTLE")
                for a in ("TRANSIT0", "TRANSIT1")}
    assert {p["account"]: p["amount"] for p in payers} == {a: str(v) for a, v in received.items()}
    assert all(p["score"] == risk[p["account"]]["score"] for p in payers)
    assert facts["flagged_in_share"] == 1.0 and facts["flagged_feed_share"] > 0.95
    assert "TRANSIT0" in f["explanation_zh"] and "TRANSIT1" in f["explanation_zh"] and "元" in f["explanation_zh"]
    assert f["explanation_zh"].startswith("【资金主要来自可疑账户】")
    assert len(json.loads(f["evidence"])) == 20 and facts["evidence_rows_total"] > 20


@pytest.mark.parametrize("account", ["LANDLORD", "RELATIVE", "MERCHANT", "COMPANY", "DEVELOPER", "DEALER"])
def test_lookalikes_tied_to_flagged_cards_stay_low(result, account: str) -> None:
    _, risk, _ = result
    assert risk[account]["score"] < 0.5, risk[account]
    assert json.loads(risk[account]["key_facts"])["signals"]["upstream"] == 0.0
