"""A small hand-made province for funds tests: ordinary life, look-alikes and one gambling operation.

Deterministic (fixed seed). Roles are returned so tests can check every rule against them:

* ``op``: 跑分 collection cards sharing one device (card pool), mule cards forwarding within minutes,
  a settlement account, a payout card paying winnings, one collection card dormant for months.
* ``lookalike``: a company paying salaries to many staff (代发工资), a shop taking many small
  daytime payments and settling to its owner every evening, a family moving money in a loop.
* ``normal``: employees, gamblers (customers of the operation, not part of it), landlords, merchants.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from decimal import Decimal
from typing import Any

import pyarrow as pa

from chainbreaker.core.model.schemas import ACCOUNTS, TRANSACTIONS

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2026, 9, 1, tzinfo=SHANGHAI)
DAYS = 30


class Book:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.rows: list[dict[str, Any]] = []
        self.roles: dict[str, str] = {}
        self.kind: dict[str, str] = {}
        self.holder: dict[str, str] = {}
        self.file_sha = hashlib.sha256(f"statement-{seed}".encode()).hexdigest()

    def account(self, name: str, role: str, kind: str = "", holder: str | None = None) -> str:
        self.roles[name] = role
        self.kind[name] = kind
        self.holder[name] = holder or f"H-{name}"
        return name

    def pay(self, src: str, dst: str, amount: float | Decimal, when: dt.datetime, ip: str | None = None,
            mac: str | None = None, summary: str = "转账") -> None:
        n = len(self.rows)
        self.rows.append({
            "txn_id": f"T{n:07d}", "serial_no": f"S{n:07d}", "from_account": src, "to_account": dst,
            "from_name": self.holder.get(src), "to_name": self.holder.get(dst), "from_bank": "工商银行",
            "to_bank": "建设银行", "amount": Decimal(str(amount)).quantize(Decimal("0.01")), "currency": "CNY",
            "ts": when.astimezone(dt.UTC), "channel": "网银", "summary": summary, "ip": ip, "mac": mac,
            "is_cash": False, "direction_raw": "出", "from_balance": None, "to_balance": None,
            "requested_side": "from", "src_sha256": self.file_sha, "src_file": "交易明细信息.csv",
            "src_row": n + 2,
        })

    def at(self, day: int, hour: float) -> dt.datetime:
        return START + dt.timedelta(days=day, hours=hour)


def build(seed: int = 7) -> Book:
    b = Book(seed)
    r = b.rng
    staff = [b.account(f"EMP{i:03d}", "normal") for i in range(60)]
    people = [b.account(f"P{i:03d}", "normal") for i in range(40)]
    gamblers = [b.account(f"G{i:03d}", "normal", "gambler") for i in range(80)]
    merchants = [b.account(f"M{i:02d}", "normal", "merchant") for i in range(8)]
    clients = [b.account(f"CLIENT{i}", "normal") for i in range(4)]
    landlord = b.account("LANDLORD", "normal")

    # Look-alike 1: 代发工资 company: revenue from a few clients, salaries to 60 staff on the 10th.
    company = b.account("COMPANY", "lookalike", "payroll")
    for week in range(4):
        for c in clients:
            b.pay(c, company, r.randint(80_000, 150_000) + 0.5, b.at(week * 7 + 1, 10 + r.random() * 5))
    for i, emp in enumerate(staff):
        b.pay(company, emp, round(r.uniform(5000, 12000), 2), b.at(9, 10 + i / 120), summary="代发工资")
    # Staff spend and pay rent.
    for emp in staff + people:
        b.pay(emp, landlord, 3000, b.at(r.randint(0, 4), 9 + r.random() * 10), summary="房租")
        for _ in range(r.randint(2, 6)):
            b.pay(emp, r.choice(merchants), round(r.uniform(20, 800), 2), b.at(r.randint(0, DAYS - 1), 8 + r.random() * 13))

    # Look-alike 2: a shop with many small daytime payments, settling to its owner each evening.
    shop = b.account("SHOP", "lookalike", "shop")
    owner = b.account("SHOPOWNER", "lookalike", "shop_owner")
    customers = staff + people
    for day in range(DAYS):
        total = Decimal(0)
        for _ in range(r.randint(20, 40)):
            amt = Decimal(str(round(r.uniform(8, 260), 2)))
            total += amt
            b.pay(r.choice(customers), shop, amt, b.at(day, 9 + r.random() * 12))
        b.pay(shop, owner, total, b.at(day, 22), summary="结算")

    # Look-alike 3: a family moving round sums around, sharing home Wi-Fi.
    fam = [b.account(f"FAM{i}", "lookalike", "family") for i in range(3)]
    for week in range(4):
        amt = r.choice([2000, 5000, 10000])
        b.pay(fam[0], fam[1], amt, b.at(week * 7 + 2, 19), ip="10.1.1.8")
        b.pay(fam[1], fam[2], amt, b.at(week * 7 + 3, 20), ip="10.1.1.8")
        b.pay(fam[2], fam[0], amt / 2, b.at(week * 7 + 4, 21), ip="10.1.1.8")

    # The gambling operation.
    cards = [b.account(f"CARD{i}", "op", "collection", holder=f"CARDHOLDER{i}") for i in range(8)]
    mules = [b.account(f"MULE{i}", "op", "mule", holder=f"MULEHOLDER{i}") for i in range(3)]
    settle = b.account("SETTLE", "op", "settlement")
    payout = b.account("PAYOUT", "op", "payout")
    cashout = b.account("OTC", "normal", "otc")
    studio_mac = "AA:BB:CC:00:11:22"
    # One card was dormant for half a year.
    b.pay(people[0], cards[7], 500, START - dt.timedelta(days=200))
    for day in range(DAYS):
        for k, card in enumerate(cards):
            if k == 7 and day < 15:
                continue
            hour = 20 + r.random() * 2
            for _ in range(r.randint(4, 9)):
                g = r.choice(gamblers)
                amt = r.choice([200, 300, 500, 1000, 2000, 3000])
                hour += r.random() * 0.8
                b.pay(g, card, amt, b.at(day, hour))
                mule = mules[k % len(mules)]
                b.pay(card, mule, amt, b.at(day, hour + r.uniform(2, 12) / 60), ip=f"58.1.2.{k}", mac=studio_mac)
        for mule in mules:
            b.pay(mule, settle, r.randint(8, 15) * 1000, b.at(day, 27 + r.random()), mac=studio_mac)
        b.pay(settle, cashout, r.randint(20, 30) * 1000, b.at(day, 28.5))
        b.pay(settle, payout, r.randint(5, 9) * 1000, b.at(day, 29))
        for _ in range(r.randint(4, 8)):
            b.pay(payout, r.choice(gamblers), r.choice([500, 1000, 2000]), b.at(day, 29 + r.random() * 0.5))
    # A loop through the operation: the settlement tops up a mule that passes money back.
    b.pay(settle, mules[0], 20000, b.at(3, 12))
    b.pay(mules[0], settle, 20000, b.at(3, 12.1))
    return b


def transactions_table(b: Book, requested: set[str] | None = None) -> pa.Table:
    """Transfers; ``requested_side`` says whose statement each came from (all when ``requested`` is None)."""
    rows = b.rows
    if requested is not None:
        rows = []
        for r in b.rows:
            f, t = r["from_account"] in requested, r["to_account"] in requested
            rows.append({**r, "requested_side": "both" if f and t else "from" if f else "to" if t else None})
    return pa.Table.from_pylist(rows, schema=TRANSACTIONS)


def accounts_table(b: Book, requested: set[str] | None = None) -> pa.Table:
    rows = []
    for i, name in enumerate(sorted(b.roles)):
        rows.append({
            "account": name, "account_raw": name, "card_no": None, "holder_name": b.holder[name],
            "holder_id": f"ID-{b.holder[name]}", "bank": "工商银行", "branch": None, "open_date": None,
            "close_date": None, "status": "正常", "balance": None, "last_login_ip": None,
            "requested": (requested is None) or (name in requested), "origin": "bank",
            "src_sha256": b.file_sha, "src_row": i + 2,
        })
    return pa.Table.from_pylist(rows, schema=ACCOUNTS)


def write_lake(ws: Any, b: Book, requested: set[str] | None = None) -> None:
    with ws.transaction("test.lake") as tx:
        tx.write("transactions", transactions_table(b, requested))
        tx.write("accounts", accounts_table(b, requested))


def screened_features(root: Any, b: Book) -> dict[str, dict[str, Any]]:
    """Write ``b`` to a fresh workspace under ``root``, screen it, return ``funds_features`` by account."""
    from chainbreaker.chains.funds.screen import screen
    from chainbreaker.core.workspace import Workspace

    ws = Workspace(root / "ws")
    write_lake(ws, b)
    screen(ws)
    return {r["account"]: r for r in ws.read_arrow("funds_features").to_pylist()}
