"""Ordinary life of the province: households, employers, shops, landlords, utilities.

It also holds the legitimate look-alikes that screening must leave below 0.5:
- ``payroll``: companies gathering client payments and paying many staff at once (代发工资);
- ``shop``: a shop taking many small daytime payments from distinct payers, settled to its owner
  every night (近零余额 but daytime, odd amounts, one owner);
- ``family``: households moving money around among members (shared home IP/MAC, round amounts,
  quick re-transfers, cycles);
- ``utility``: utilities collecting small bills from thousands of residents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chainbreaker.synth import bank_entities as E
from chainbreaker.synth.bank_world import (
    MIN_US,
    PERIOD_DAYS,
    World,
    hours_to_seconds,
    local_ts,
    lognormal_cents,
    uscc,
)

MONTH_STARTS = np.array([0, 31, 61, 92, 122, 153])  # Mar..Aug 2026 relative to 1 March
UTILITIES = ("云南电网有限责任公司昆明供电局", "昆明自来水集团有限公司", "中国移动通信集团云南有限公司")


@dataclass
class Residents:
    person: np.ndarray  # person index per resident
    household: np.ndarray
    main_acct: np.ndarray  # every resident's first account
    all_accts: np.ndarray  # all resident accounts
    all_owner: np.ndarray  # resident index of each account in all_accts


def _days_hours(rng: np.random.Generator, n: int, hours: np.ndarray, p: np.ndarray,
                days: tuple[int, int] = (0, PERIOD_DAYS)) -> np.ndarray:
    day = rng.integers(days[0], days[1], size=n)
    hour = rng.choice(hours, size=n, p=p / p.sum())
    return local_ts(day, hours_to_seconds(rng, hour))


DAY_HOURS = np.arange(24)
# Ordinary people: almost nothing between 01:00 and 06:00.
ORDINARY_P = np.array([2, 1, .3, .2, .2, .3, 1, 3, 6, 7, 7, 7, 8, 7, 6, 6, 6, 7, 8, 9, 9, 8, 6, 4], dtype=float)
SHOP_P = np.array([0, 0, 0, 0, 0, 0, 0, 2, 6, 6, 5, 7, 10, 8, 5, 5, 5, 7, 10, 10, 7, 4, 0, 0], dtype=float)


def build_residents(w: World, n_residents: int) -> Residents:
    rng = w.rng
    sizes = rng.choice([1, 2, 3, 4, 5], size=n_residents, p=[.2, .3, .25, .17, .08])
    sizes = sizes[: np.searchsorted(np.cumsum(sizes), n_residents) + 1]
    household = np.repeat(np.arange(len(sizes)), sizes)[:n_residents]
    n_h = int(household.max()) + 1
    h_surname = rng.integers(0, len(E.SURNAMES), size=n_h)
    same = rng.random(n_residents) < 0.75
    surnames = np.where(same, h_surname[household], rng.integers(0, len(E.SURNAMES), size=n_residents))
    h_region = rng.integers(0, len(E.REGIONS), size=n_h)
    region = h_region[household]
    names = E.person_names(rng, n_residents, surnames)
    ids = E.resident_ids(rng, n_residents)
    streets = ("人民路", "北京路", "青年路", "东风路", "金碧路", "环城南路", "龙泉路", "滇池路")
    st = rng.integers(0, len(streets), size=n_residents)
    no = rng.integers(1, 400, size=n_residents)
    addresses = [f"云南省{E.REGIONS[r][1]}{streets[s]}{k}号" for r, s, k in zip(region, st, no, strict=True)]
    person = w.people.add(names, ids, E.mobiles(rng, n_residents), addresses)
    h_device = w.devices.add(rng, n_h)
    device = h_device[household]

    second = rng.random(n_residents) < 0.3
    owners = np.concatenate([np.arange(n_residents), np.flatnonzero(second)])
    banks = w.province_banks(len(owners))
    accts = w.accounts.add(
        number=w.new_cards(banks), holder_name=[names[i] for i in owners], holder_id=[ids[i] for i in owners],
        role="resident", bank=banks, holder=person[owners], is_corp=False, requested=True,
        device=device[owners], open_day=-rng.integers(60, 4000, size=len(owners)),
        buffer=lognormal_cents(rng, len(owners), 3000, 1.0), region=region[owners],
    )
    return Residents(person, household, accts[:n_residents], accts, owners)


def payroll(w: World, res: Residents) -> None:
    """Companies, their clients and suppliers (external) and monthly salaries (代发工资)."""
    rng = w.rng
    n_res = len(res.person)
    n_comp = max(3, n_res // 45)
    sizes = 1.0 / np.arange(1, n_comp + 1) ** 0.9
    employed = np.flatnonzero(rng.random(n_res) < 0.6)
    employer = rng.choice(n_comp, size=len(employed), p=sizes / sizes.sum())
    region_names = [r[1] for r in E.REGIONS]
    cnames = E.company_names(rng, n_comp, region_names)
    banks = w.province_banks(n_comp)
    staff_count = np.bincount(employer, minlength=n_comp)
    look = ["payroll" if s >= 12 else "" for s in staff_count]
    gid = [f"payroll-{w.shard:02d}-{i:04d}" if s >= 12 else "" for i, s in enumerate(staff_count)]
    comp = w.accounts.add(
        number=w.new_corporate(banks), holder_name=cnames, holder_id=uscc(rng, n_comp), role="company",
        bank=banks, holder=np.full(n_comp, -1), is_corp=True, requested=True, device=w.devices.add(rng, n_comp),
        open_day=-rng.integers(300, 5000, size=n_comp), buffer=lognormal_cents(rng, n_comp, 80_000, 0.8),
        region=rng.integers(0, len(E.REGIONS), size=n_comp), lookalike=look, group_id=gid,
    )
    for i, name in enumerate(cnames):
        for p in employed[employer == i]:
            w.people.workplace[res.person[p]] = name
    # Salaries: the 10th of each month, one batch per company within a few minutes.
    salary = lognormal_cents(w.rng, len(employed), 5200, 0.35, 2200, 40000)
    months = len(MONTH_STARTS)
    emp_rep = np.repeat(np.arange(len(employed)), months)
    month_rep = np.tile(np.arange(months), len(employed))
    day = MONTH_STARTS[month_rep] + 9
    batch_sec = 9 * 3600 + (employer[emp_rep] * 37) % 3600 + rng.integers(0, 300, size=len(emp_rep))
    cents = (salary[emp_rep] * rng.uniform(0.95, 1.08, size=len(emp_rep))).astype(np.int64)
    w.ledger.add("salary", comp[employer[emp_rep]], res.main_acct[employed[emp_rep]], cents, local_ts(day, batch_sec))
    # Client payments arrive days before payday and roughly cover the payroll (集中转入, then 分散转出).
    n_clients = max(4, n_comp)
    cl_banks = w.external_banks(n_clients)
    clients = w.accounts.add(
        number=w.new_corporate(cl_banks), holder_name=E.company_names(rng, n_clients, [r[1] for r in E.EXTERNAL_REGIONS]),
        holder_id=uscc(rng, n_clients, "440100"), role="client_company", bank=cl_banks, holder=np.full(n_clients, -1),
        is_corp=True, requested=False, device=w.devices.add(rng, n_clients), open_day=np.full(n_clients, -2000),
        buffer=np.zeros(n_clients, dtype=np.int64), region=np.zeros(n_clients),
    )
    monthly_payroll = np.bincount(employer, weights=salary, minlength=n_comp)
    per_month = rng.integers(1, 4, size=(n_comp, months))
    c_idx = np.repeat(np.arange(n_comp), per_month.sum(axis=1))
    m_idx = np.concatenate([np.repeat(np.arange(months), per_month[i]) for i in range(n_comp)])
    k = per_month[c_idx, m_idx]
    amount = (monthly_payroll[c_idx] * rng.uniform(1.1, 1.6, size=len(c_idx)) / k + 500_000).astype(np.int64)
    amount = (amount // 100) * 100
    day = MONTH_STARTS[m_idx] + rng.integers(2, 9, size=len(c_idx))
    ts = local_ts(day, hours_to_seconds(rng, rng.integers(9, 17, size=len(c_idx))))
    w.ledger.add("client_payment", clients[rng.integers(0, n_clients, size=len(c_idx))], comp[c_idx], amount, ts)
    # Suppliers take the rest, mid-month.
    amount2 = (monthly_payroll[c_idx] * rng.uniform(0.1, 0.5, size=len(c_idx)) / k + 300_000).astype(np.int64)
    day2 = MONTH_STARTS[m_idx] + rng.integers(12, 28, size=len(c_idx))
    ts2 = local_ts(day2, hours_to_seconds(rng, rng.integers(9, 17, size=len(c_idx))))
    w.ledger.add("supplier_payment", comp[c_idx], clients[rng.integers(0, n_clients, size=len(c_idx))], amount2, ts2)


def shops(w: World, res: Residents, n_shops: int, n_sales: int) -> None:
    """Shops with many small daytime payments, settled to the owner's own account every night."""
    rng = w.rng
    owners = rng.choice(len(res.person), size=n_shops, replace=False)
    banks = w.province_banks(n_shops)
    names = [w.people.name[res.person[o]] for o in owners]
    region = w.accounts.col("region")[res.main_acct[owners]]
    sname = [f"{E.REGIONS[r][1][-3:]}{w.people.name[res.person[o]][0]}记{E.SHOP_KINDS[k]}"
             for r, o, k in zip(region, owners, rng.integers(0, len(E.SHOP_KINDS), size=n_shops), strict=True)]
    shop = w.accounts.add(
        number=w.new_cards(banks), holder_name=names, holder_id=[w.people.id_number[res.person[o]] for o in owners],
        role="shop", bank=banks, holder=res.person[owners], is_corp=False, requested=True,
        device=w.accounts.col("device")[res.main_acct[owners]], open_day=-rng.integers(200, 3000, size=n_shops),
        buffer=lognormal_cents(rng, n_shops, 500, 0.5), region=region, lookalike="shop",
        group_id=[f"shop-{w.shard:02d}-{i:04d}" for i in range(n_shops)], shop_name=sname,
    )
    # Every shop sells every day; the rest of the sales follow a skewed popularity.
    base_shop = np.repeat(np.arange(n_shops), PERIOD_DAYS)
    base_day = np.tile(np.arange(PERIOD_DAYS), n_shops)
    extra = max(0, n_sales - len(base_shop))
    pop = 1.0 / np.arange(1, n_shops + 1) ** 0.7
    s_extra = rng.choice(n_shops, size=extra, p=pop / pop.sum())
    sale_shop = np.concatenate([base_shop, s_extra])
    sale_day = np.concatenate([base_day, rng.integers(0, PERIOD_DAYS, size=extra)])
    hour = rng.choice(DAY_HOURS, size=len(sale_shop), p=SHOP_P / SHOP_P.sum())
    sec = np.minimum(hours_to_seconds(rng, hour), 21 * 3600 + 1800)
    ts = local_ts(sale_day, sec)
    cents = lognormal_cents(rng, len(sale_shop), 32, 0.8, 1, 3000)
    cents = np.where(rng.random(len(cents)) < 0.5, (cents // 50) * 50 + 50, cents)  # prices end in .50/.00 often
    payer = res.all_accts[rng.integers(0, len(res.all_accts), size=len(sale_shop))]
    pos = rng.random(len(sale_shop)) < 0.3
    w.ledger.add("shopping", payer[~pos], shop[sale_shop[~pos]], cents[~pos], ts[~pos])
    w.ledger.add("pos", payer[pos], shop[sale_shop[pos]], cents[pos], ts[pos])
    # Nightly settlement of the day's takings (22:00–23:30) to the owner's personal account.
    key = sale_shop.astype(np.int64) * PERIOD_DAYS + sale_day
    uniq, inv = np.unique(key, return_inverse=True)
    total = np.bincount(inv, weights=cents).astype(np.int64)
    s_shop, s_day = uniq // PERIOD_DAYS, uniq % PERIOD_DAYS
    sec = 22 * 3600 + rng.integers(0, 5400, size=len(uniq))
    w.ledger.add("shop_settle", shop[s_shop], res.main_acct[owners[s_shop]], total, local_ts(s_day, sec))


def shops_size(n_residents: int, budget: int) -> tuple[int, int]:
    """Number of shops and of sales so that settlements + sales fit ``budget`` transactions."""
    n_shops = max(2, min(n_residents // 40, budget // (PERIOD_DAYS * 8)))
    n_sales = budget - n_shops * PERIOD_DAYS
    return n_shops, n_sales


def rent(w: World, res: Residents) -> None:
    rng = w.rng
    n_res = len(res.person)
    n_land = max(1, n_res // 40)
    landlords = rng.choice(n_res, size=n_land, replace=False)
    tenants = np.setdiff1d(np.flatnonzero(rng.random(n_res) < 0.25), landlords)
    if len(tenants) == 0:
        return
    lord = landlords[rng.integers(0, n_land, size=len(tenants))]
    amount = rng.choice(np.arange(800, 4001, 100), size=len(tenants)) * 100
    months = len(MONTH_STARTS)
    t_rep = np.repeat(np.arange(len(tenants)), months)
    day = np.tile(MONTH_STARTS, len(tenants)) + rng.integers(0, 5, size=len(t_rep))
    ts = local_ts(day, hours_to_seconds(rng, rng.integers(18, 23, size=len(t_rep))))
    w.ledger.add("rent", res.main_acct[tenants[t_rep]], res.main_acct[lord[t_rep]], amount[t_rep], ts)


def utilities(w: World, res: Residents, n_tx: int) -> None:
    rng = w.rng
    banks = w.province_banks(len(UTILITIES))
    util = w.accounts.add(
        number=w.new_corporate(banks), holder_name=list(UTILITIES), holder_id=uscc(rng, len(UTILITIES)),
        role="utility", bank=banks, holder=np.full(len(UTILITIES), -1), is_corp=True, requested=True,
        device=w.devices.add(rng, len(UTILITIES)), open_day=np.full(len(UTILITIES), -6000),
        buffer=lognormal_cents(rng, len(UTILITIES), 1e6, 0.3), region=np.zeros(len(UTILITIES)),
        lookalike="utility", group_id=[f"utility-{w.shard:02d}-{i}" for i in range(len(UTILITIES))],
    )
    payer = res.all_accts[rng.integers(0, len(res.all_accts), size=n_tx)]
    ts = _days_hours(rng, n_tx, DAY_HOURS, ORDINARY_P)
    w.ledger.add("utility", payer, util[rng.integers(0, len(UTILITIES), size=n_tx)],
                 lognormal_cents(rng, n_tx, 90, 0.6, 5, 2000), ts)
    # Utilities sweep their takings to their head office (external) monthly: not a pass-through.
    head = w.accounts.add(
        number=w.new_corporate(w.external_banks(1)), holder_name=["南方电网资金结算中心"], holder_id=uscc(rng, 1, "440100"),
        role="client_company", bank=np.array([E.N_PROVINCE_BANKS]), holder=np.array([-1]), is_corp=True,
        requested=False, device=w.devices.add(rng, 1), open_day=np.array([-6000]), buffer=np.zeros(1, dtype=np.int64),
        region=np.zeros(1),
    )
    months = len(MONTH_STARTS)
    u_rep = np.repeat(np.arange(len(UTILITIES)), months - 1)
    day = np.tile(MONTH_STARTS[1:], len(UTILITIES))
    sweep = np.full(len(u_rep), int(n_tx / len(UTILITIES) / months * 90 * 100 * 0.8))
    w.ledger.add("supplier_payment", util[u_rep], np.full(len(u_rep), head[0]), sweep,
                 local_ts(day, np.full(len(u_rep), 10 * 3600)))


def families(w: World, res: Residents, n_tx: int) -> None:
    """Money moving within households; 'mover' households do it a lot (the family look-alike)."""
    rng = w.rng
    hh = res.household
    n_h = int(hh.max()) + 1
    size = np.bincount(hh, minlength=n_h)
    multi = np.flatnonzero(size >= 2)
    if len(multi) == 0 or n_tx <= 0:
        return
    movers = rng.choice(multi, size=max(1, len(multi) // 7), replace=False)
    is_mover = np.zeros(n_h, dtype=bool)
    is_mover[movers] = True
    members_sorted = np.argsort(hh, kind="stable")
    first = np.searchsorted(hh[members_sorted], np.arange(n_h))
    pick_h = np.where(rng.random(n_tx) < 0.75, movers[rng.integers(0, len(movers), size=n_tx)],
                      multi[rng.integers(0, len(multi), size=n_tx)])
    a = rng.integers(0, size[pick_h])
    b = (a + 1 + rng.integers(0, size[pick_h] - 1)) % size[pick_h]
    src = members_sorted[first[pick_h] + a]
    dst = members_sorted[first[pick_h] + b]
    cents = rng.choice([20_000, 50_000, 100_000, 200_000, 300_000, 500_000, 1_000_000, 2_000_000], size=n_tx,
                       p=[.15, .2, .25, .15, .08, .1, .05, .02])
    n_fwd = n_tx // 4
    ts = _days_hours(rng, n_tx - n_fwd, DAY_HOURS, ORDINARY_P)
    w.ledger.add("family", res.main_acct[src[: n_tx - n_fwd]], res.main_acct[dst[: n_tx - n_fwd]], cents[: n_tx - n_fwd], ts)
    # A quarter are passed on to a third member within an hour (looks like 快进快出 but stays home).
    j = np.arange(n_fwd)
    third = members_sorted[first[pick_h[:n_fwd]] + (b[:n_fwd] + 1) % size[pick_h[:n_fwd]]]
    ts_f = ts[j % len(ts)] + rng.integers(10, 60, size=n_fwd) * MIN_US
    w.ledger.add("family", res.main_acct[dst[j % len(ts)]], res.main_acct[third], cents[j % len(ts)], ts_f)
    mover_acct_mask = is_mover[hh[res.all_owner]]
    for acct, hid in zip(res.all_accts[mover_acct_mask], hh[res.all_owner][mover_acct_mask], strict=True):
        w.accounts.lookalike[acct] = "family"
        w.accounts.group_id[acct] = f"family-{w.shard:02d}-{hid:05d}"


def p2p_and_cash(w: World, res: Residents, n_p2p: int, n_cash: int) -> None:
    rng = w.rng
    n_acc = len(res.all_accts)
    i = rng.integers(0, n_acc, size=n_p2p)
    src = res.all_accts[i]
    dst = res.all_accts[(i + 1 + rng.integers(0, n_acc - 1, size=n_p2p)) % n_acc]
    red = rng.random(n_p2p) < 0.2
    cents = np.where(red, rng.choice([5200, 6600, 8800, 16800, 20000, 52000], size=n_p2p),
                     lognormal_cents(rng, n_p2p, 260, 1.1, 1, 200_000))
    ts = _days_hours(rng, n_p2p, DAY_HOURS, ORDINARY_P)
    w.ledger.add("p2p", src, dst, cents, ts)
    acct = res.all_accts[rng.integers(0, len(res.all_accts), size=n_cash)]
    cents = rng.choice([10_000, 20_000, 30_000, 50_000, 100_000, 200_000], size=n_cash)
    ts = _days_hours(rng, n_cash, DAY_HOURS, ORDINARY_P)
    w.ledger.add("cash", acct, np.full(n_cash, -1), cents, ts)
