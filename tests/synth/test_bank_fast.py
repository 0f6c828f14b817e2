"""The canonical fast path: exact size, schema, determinism and the typologies it embeds."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow.compute as pc
import pytest

from chainbreaker.core.errors import InputError
from chainbreaker.core.model.identifiers import BankCard, ResidentID
from chainbreaker.core.model.schemas import ACCOUNTS, PERSONS, TRANSACTIONS
from chainbreaker.synth.bank import (
    generate_transactions_table,
    iter_transaction_shards,
    write_transactions_parquet,
)


@pytest.fixture(scope="module")
def province():
    return generate_transactions_table(20_000, seed=7)


@pytest.fixture(scope="module")
def con(province):
    c = duckdb.connect()
    c.register("tx", province.transactions)
    c.register("truth", province.truth)
    return c


def test_exact_size_and_schemas(province):
    tx, truth = province
    assert tx.num_rows == 20_000
    assert tx.schema.equals(TRANSACTIONS)
    assert province.accounts.schema.equals(ACCOUNTS)
    assert province.persons.schema.equals(PERSONS)
    assert pc.count_distinct(tx["txn_id"]).as_py() == tx.num_rows
    assert pc.min(tx["amount"]).as_py() > 0
    assert tx["ts"].null_count == 0
    # Every account in a transfer has a truth row; the truth names each account once.
    accounts = set(tx["from_account"].to_pylist()) | set(a for a in tx["to_account"].to_pylist() if a)
    assert accounts <= set(truth["account"].to_pylist())
    assert pc.count_distinct(truth["account"]).as_py() == truth.num_rows


def test_deterministic_by_seed():
    a = generate_transactions_table(6_000, seed=3)
    b = generate_transactions_table(6_000, seed=3)
    c = generate_transactions_table(6_000, seed=4)
    assert a.transactions.equals(b.transactions) and a.truth.equals(b.truth)
    assert not a.transactions.equals(c.transactions)


def test_too_small_is_a_clear_error():
    with pytest.raises(InputError) as exc:
        generate_transactions_table(100, seed=1)
    assert "5,000" in exc.value.message("zh")


def test_identifiers_are_realistic(province):
    acc = province.accounts.to_pydict()
    cards = [c for c in acc["card_no"] if c]
    assert cards and all(BankCard.luhn_ok(c) for c in cards)
    persons = province.persons.to_pydict()
    assert all(ResidentID.validate(i)[0] for i in persons["id_number"])
    banks = set(acc["bank"])
    assert {"中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "招商银行", "交通银行", "中国邮政储蓄银行"} <= banks


def test_every_transfer_touches_a_requested_account_and_balances_never_negative(province):
    tx = province.transactions
    side = tx["requested_side"].to_pylist()
    assert set(side) == {"from", "to", "both"}
    fb = pc.min(tx["from_balance"]).as_py()
    tb = pc.min(tx["to_balance"]).as_py()
    assert fb >= 0 and tb >= 0


def test_roles_and_lookalikes_present(province):
    truth = province.truth.to_pydict()
    roles = set(truth["role"])
    assert {"collection", "mule", "payout", "settlement", "gambler", "shop", "company", "utility"} <= roles
    assert {"payroll", "shop", "family"} <= set(truth["lookalike"])
    ops = [r for r, op in zip(truth["role"], truth["is_gambling_op"], strict=True) if op]
    assert set(ops) == {"collection", "mule", "payout", "settlement"}
    # Some fleet accounts are outside the province: seen only as counterparties.
    assert any(not req for op, req in zip(truth["is_gambling_op"], truth["requested"], strict=True) if op)


def _features(con):
    return con.sql("""
        with e as (
          select from_account a, -amount amt, ts, to_account cp from tx
          union all select to_account, amount, ts, from_account from tx where to_account is not null)
        select t.role, t.lookalike, a,
          count(distinct cp) filter (where amt > 0) d_in,
          count(distinct cp) filter (where amt < 0) d_out,
          avg(case when hour(ts at time zone 'Asia/Shanghai') < 6 then 1 else 0 end) night,
          sum(amt) filter (where amt > 0) s_in, sum(-amt) filter (where amt < 0) s_out
        from e join truth t on t.account = e.a where t.requested group by all""").df()


def test_collection_cards_look_like_paofen(con):
    f = _features(con)
    coll = f[f.role == "collection"]
    ordinary = f[f.role == "resident"]
    assert len(coll) >= 4
    # Many distinct payers, few recipients, almost everything passed on, night-heavy.
    assert coll.d_in.min() >= 15 and coll.d_out.max() <= 3
    assert ((coll.s_out / coll.s_in) > 0.98).all()
    assert coll.night.mean() > 4 * ordinary.night.mean()


def test_mules_forward_within_minutes(con):
    gaps = con.sql("""
        with inn as (select to_account a, ts from tx join truth t on t.account = tx.to_account
                     where t.role = 'mule' and t.requested),
             outs as (select from_account a, ts from tx)
        select inn.a, median(epoch(o.ts) - epoch(inn.ts)) / 60 gap_min
        from inn, lateral (select min(ts) ts from outs where outs.a = inn.a and outs.ts >= inn.ts) o
        group by inn.a""").df()
    assert len(gaps) >= 2
    assert (gaps.gap_min < 30).all()


def test_card_pool_shares_one_device(con):
    shared = con.sql("""
        select t.group_id, count(distinct tx.ip) ips, count(distinct tx.from_account) cards
        from tx join truth t on t.account = tx.from_account
        where t.is_gambling_op = 1 and tx.ip is not null group by 1""").df()
    assert len(shared) >= 2
    assert (shared.ips == 1).all() and (shared.cards >= 5).all()


def test_lookalikes_have_their_innocent_shape(con):
    f = _features(con)
    shops = f[f.lookalike == "shop"]
    assert (shops.d_in > 50).all() and (shops.d_out == 1).all() and shops.night.max() < 0.02
    payroll = f[(f.role == "company") & (f.lookalike == "payroll")]
    assert (payroll.d_out >= 12).all() and payroll.night.max() == 0


def test_shards_are_independent_and_exact(tmp_path):
    parts = list(iter_transaction_shards(12_000, seed=5, shard_size=6_000))
    assert [p.transactions.num_rows for p in parts] == [6_000, 6_000]
    a0 = set(parts[0].truth["account"].to_pylist())
    a1 = set(parts[1].truth["account"].to_pylist())
    assert not a0 & a1
    counts = write_transactions_parquet(tmp_path / "pq", 12_000, seed=5, shard_size=6_000)
    assert counts["transactions"] == 12_000
    import pyarrow.dataset as ds

    back = ds.dataset(tmp_path / "pq" / "transactions").to_table()
    assert back.num_rows == 12_000
    assert np.isin(parts[1].transactions["txn_id"].to_numpy(zero_copy_only=False),
                   back["txn_id"].to_numpy(zero_copy_only=False)).all()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_invariants_hold_for_any_seed(seed):
    tx, truth = res = generate_transactions_table(5_000, seed=seed)
    assert tx.num_rows == 5_000
    assert pc.min(tx["amount"]).as_py() > 0
    assert pc.min(tx["from_balance"]).as_py() >= 0 and pc.min(tx["to_balance"]).as_py() >= 0
    roles = set(truth["role"].to_pylist())
    assert {"collection", "mule", "payout", "settlement"} <= roles
    # Timestamps lie in the statement period and are ordered as a statement would be.
    ts = tx["ts"].cast("int64").to_numpy()
    assert (np.diff(ts) >= 0).all()
    assert str(pc.min(tx["ts"]).as_py()) >= "2026-02-28 16:00:00+00:00"
    assert str(pc.max(tx["ts"]).as_py()) < "2026-09-01 16:00:00+00:00"
    # Requested accounts in ACCOUNTS are exactly the truth's requested accounts.
    req = {a for a, r in zip(truth["account"].to_pylist(), truth["requested"].to_pylist(), strict=True) if r}
    assert set(res.accounts["account"].to_pylist()) == req
