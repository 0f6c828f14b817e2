"""A transfer seen from both sides is merged in Arrow (``tables._pairs``) exactly as the SQL
aggregate merges transfers of more legs: per column the first non-null value in the order
(payer's row first, then source file, then row); ``requested_side`` both when the sides differ."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pyarrow as pa

from chainbreaker.chains.funds.bank.normalise import LEGS
from chainbreaker.chains.funds.bank.tables import _TXN_VALUE_COLS, _pairs

SIDES = ("from", "to", "both")


def _value(field: pa.Field, rng: random.Random) -> object:
    if rng.random() < 0.4:
        return None
    if pa.types.is_decimal(field.type):
        return Decimal(rng.randint(1, 10**6)) / 100
    if pa.types.is_timestamp(field.type):
        return dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randint(0, 10**6))
    if pa.types.is_boolean(field.type):
        return rng.random() < 0.5
    if pa.types.is_integer(field.type):
        return rng.randint(1, 10**6)
    return rng.choice(["甲", "乙", "b", "a"]) + str(rng.randint(0, 9))


def _legs(rng: random.Random, n_pairs: int) -> list[dict]:
    legs: list[dict] = []
    rows = rng.sample(range(1, 10**6), 2 * n_pairs + 4)
    for t in range(n_pairs):
        for _ in range(2):
            leg = {f.name: _value(f, rng) for f in LEGS}
            leg.update(side=rng.choice(SIDES), src_sha256=rng.choice(["c" * 64, "a" * 64, "b" * 64]),
                       src_row=rows.pop(), txn_id=f"t{t:04d}", n_legs=2, k_serial=None, k_time=f"t{t:04d}")
            legs.append(leg)
    # a single leg and a transfer of three legs are not the pair path's
    for name, n in (("single", 1), ("three", 3)):
        for _ in range(n):
            leg = {f.name: _value(f, rng) for f in LEGS}
            leg.update(side="from", src_sha256="a" * 64, src_row=rows.pop(), txn_id=name, n_legs=n,
                       k_serial=None, k_time=name)
            legs.append(leg)
    rng.shuffle(legs)
    return legs


def _reference(legs: list[dict], touched: set[str]) -> dict[str, dict]:
    out = {}
    by_txn: dict[str, list[dict]] = {}
    for leg in legs:
        if leg["n_legs"] == 2 and leg["txn_id"] not in touched:
            by_txn.setdefault(leg["txn_id"], []).append(leg)
    for txn, group in by_txn.items():
        group.sort(key=lambda r: (2 if r["side"] == "to" else 1, r["src_sha256"], r["src_row"]))
        row = {c: next((r[c] for r in group if r[c] is not None), None) for c in _TXN_VALUE_COLS}
        sides = {r["side"] for r in group}
        row["requested_side"] = "both" if "both" in sides or sides == {"from", "to"} else sides.pop()
        out[txn] = row
    return out


def test_pairs_merge_like_the_aggregate() -> None:
    rng = random.Random(15)
    schema = LEGS
    for name, typ in (("k_serial", pa.string()), ("k_time", pa.string()), ("txn_id", pa.string()),
                      ("n_legs", pa.int64())):
        schema = schema.append(pa.field(name, typ))
    for _ in range(20):
        legs = _legs(rng, rng.randint(1, 40))
        touched = {f"t{rng.randint(0, 5):04d}"}
        table = pa.Table.from_pylist(legs, schema=schema)
        got = {r["txn_id"]: {k: v for k, v in r.items() if k != "txn_id"}
               for r in _pairs(table, pa.array(sorted(touched), pa.string())).to_pylist()}
        assert got == _reference(legs, touched)
