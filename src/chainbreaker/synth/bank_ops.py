"""Embedded gambling operations (赌博资金链) with ground truth.

One group ("op-SS-GG") is a 跑分 fleet run by one studio:
gamblers → collection cards (跑分卡: many small, mostly round, mostly evening/night payments from
distinct payers) → mule cards (快进快出: forwarded within minutes, near-zero balance; one or two
tiers) → one settlement account (集中) → cash-out merchants (gold/OTC, outside the province) and
payout cards → winning gamblers (which closes 资金回路 loops). All the fleet's cards are operated
from the studio's IP/MAC (card pool) though held by different people; the cards were opened
together at one branch, or are old dormant cards that suddenly wake up (休眠激活). Test transfers
of 1.00 precede the activity. Some fleet accounts sit at banks outside the province and are never
requested: they appear only as counterparties (建议调单 targets).
"""

from __future__ import annotations

import numpy as np

from chainbreaker.synth import bank_entities as E
from chainbreaker.synth.bank_life import Residents
from chainbreaker.synth.bank_world import DAY_US, MIN_US, PERIOD_DAYS, START_US, World, local_ts

ROUND_AMOUNTS = np.array([100, 200, 300, 500, 800, 1000, 2000, 3000, 5000], dtype=np.int64) * 100
ROUND_P = np.array([.12, .15, .08, .2, .05, .2, .12, .05, .03])
# Gamblers play in the evening and at night.
NIGHT_P = np.array([8, 7, 6, 4, 2, 1, .5, .3, .3, .5, 1, 1, 1.5, 1.5, 1.5, 2, 2, 2.5, 3, 4, 6, 8, 9, 9], dtype=float)


def _forward(w: World, kind: str, src_acct: np.ndarray, ts: np.ndarray, cents: np.ndarray,
             accts: np.ndarray, chunk: np.ndarray, dests: list[np.ndarray],
             delay_min: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each account in ``accts`` passes on what it received in chunks of ``chunk`` payments.

    ``src_acct/ts/cents`` are the inbound transfers (to accounts in ``accts``); returns the new
    outbound transfers (to, ts, cents) after adding them to the ledger.
    """
    rng = w.rng
    local = np.searchsorted(accts, src_acct)
    order = np.lexsort((ts, local))
    loc, t, c = local[order], ts[order], cents[order]
    start = np.searchsorted(loc, np.arange(len(accts)))
    rank = np.arange(len(loc)) - start[loc]
    chunk_id = rank // chunk[loc]
    new = np.ones(len(loc), dtype=bool)
    new[1:] = (loc[1:] != loc[:-1]) | (chunk_id[1:] != chunk_id[:-1])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(loc)) - 1
    total = np.add.reduceat(c, starts) if len(starts) else np.empty(0, dtype=np.int64)
    who = loc[starts]
    out_ts = t[ends] + rng.integers(delay_min[0] * 60, delay_min[1] * 60, size=len(starts)) * 1_000_000
    n_dest = np.array([len(d) for d in dests])
    pad = np.zeros((len(dests), max(n_dest.max(), 1)), dtype=np.int64)
    for i, d in enumerate(dests):
        pad[i, : len(d)] = d
    dest = pad[who, rng.integers(0, 1 << 30, size=len(starts)) % n_dest[who]]
    w.ledger.add(kind, accts[who], dest, total, out_ts)
    return dest, out_ts, total


def _op_accounts(w: World, res: Residents, role: str, n: int, gid: str, branch_bank: int, branch_region: int,
                 studio: int, window_start: int, external: np.ndarray, dormant: np.ndarray) -> np.ndarray:
    """Cards held by recruited card sellers (distinct people), operated by the studio."""
    rng = w.rng
    holders = rng.choice(len(res.person), size=n, replace=False)
    banks = np.where(external, w.external_banks(n), branch_bank).astype(np.int16)
    open_day = np.where(dormant, -rng.integers(400, 1500, size=n), window_start - rng.integers(45, 60, size=n))
    region = np.where(dormant, rng.integers(0, len(E.REGIONS), size=n), branch_region)
    return w.accounts.add(
        number=w.new_cards(banks), holder_name=[w.people.name[res.person[h]] for h in holders],
        holder_id=[w.people.id_number[res.person[h]] for h in holders], role=role, bank=banks,
        holder=res.person[holders], is_corp=False, requested=~external, device=np.full(n, studio),
        open_day=open_day, buffer=rng.integers(0, 20_000, size=n), region=region, group_id=gid,
    )


def gambling_group(w: World, res: Residents, g: int, budget: int) -> None:
    rng = w.rng
    gid = f"op-{w.shard:02d}-{g:02d}"
    n_pay = max(60, int(budget * 0.55))
    n_coll = int(np.clip(round(n_pay / 350), 3, 10))
    n_mule = int(np.clip(n_coll // 2 + 1, 2, 6))
    n_payout = 1 if n_coll < 6 else 2
    win_len_target = int(np.clip(n_pay / n_coll / 25, 10, 70))
    ws = int(rng.integers(PERIOD_DAYS - win_len_target - 30, PERIOD_DAYS - win_len_target + 1))
    ws = max(ws, 40)
    win = min(win_len_target, PERIOD_DAYS - ws - 1)
    studio = w.devices.add(rng, 1, studio=True)[0]
    branch_bank = int(w.province_banks(1)[0])
    branch_region = int(rng.integers(0, len(E.REGIONS)))

    dormant_c = rng.random(n_coll) < 0.4
    coll = _op_accounts(w, res, "collection", n_coll, gid, branch_bank, branch_region, studio, ws,
                        np.zeros(n_coll, dtype=bool), dormant_c)
    ext_m = np.zeros(n_mule, dtype=bool)
    if rng.random() < 0.5:
        ext_m[-1] = True  # one second-tier mule at a bank outside the province: never requested
    dormant_m = rng.random(n_mule) < 0.4
    mules = _op_accounts(w, res, "mule", n_mule, gid, branch_bank, branch_region, studio, ws, ext_m, dormant_m)
    payout = _op_accounts(w, res, "payout", n_payout, gid, branch_bank, branch_region, studio, ws,
                          np.zeros(n_payout, dtype=bool), np.zeros(n_payout, dtype=bool))
    settle_ext = np.array([rng.random() < 0.3])
    settle = _op_accounts(w, res, "settlement", 1, gid, branch_bank, branch_region, studio, ws, settle_ext,
                          np.zeros(1, dtype=bool))
    n_cash = 2
    cash_banks = w.external_banks(n_cash)
    cashout = w.accounts.add(
        number=w.new_corporate(cash_banks),
        holder_name=[f"{E.EXTERNAL_REGIONS[i % 3][1][:2]}{'金鑫恒'[i % 3]}黄金珠宝有限公司" for i in range(n_cash)],
        holder_id=[f"91440100MA5{g:02d}{i}{w.shard:02d}X{i}" for i in range(n_cash)], role="cashout_merchant",
        bank=cash_banks, holder=np.full(n_cash, -1), is_corp=True, requested=False,
        device=w.devices.add(rng, n_cash), open_day=np.full(n_cash, -3000), buffer=np.zeros(n_cash, dtype=np.int64),
        region=np.zeros(n_cash), group_id=gid,
    )

    # Gamblers: mostly residents (their own accounts), some from outside the province.
    n_gamblers = int(min(max(15, n_pay // 6), max(15, len(res.all_accts) // 8)))
    n_ext = n_gamblers // 7
    local_g = res.all_accts[rng.choice(len(res.all_accts), size=n_gamblers - n_ext, replace=False)]
    ext_banks = w.external_banks(n_ext)
    ext_names = E.person_names(rng, n_ext)
    ext_person = w.people.add(ext_names, E.resident_ids(rng, n_ext, E.EXTERNAL_REGIONS), E.mobiles(rng, n_ext),
                              [""] * n_ext)
    ext_g = w.accounts.add(
        number=w.new_cards(ext_banks), holder_name=ext_names, holder_id=[w.people.id_number[p] for p in ext_person],
        role="gambler", bank=ext_banks, holder=ext_person, is_corp=False, requested=False,
        device=w.devices.add(rng, n_ext), open_day=np.full(n_ext, -1000), buffer=np.zeros(n_ext, dtype=np.int64),
        region=np.zeros(n_ext), group_id=gid,
    )
    for a in local_g:
        if w.accounts.role[a] == "resident":
            w.accounts.role[a] = "gambler"
            w.accounts.group_id[a] = gid
    gamblers = np.concatenate([local_g, ext_g])

    # 1. Test transfers of 1.00 from the settlement account the day before, then dormant cards' old life.
    cards = np.concatenate([coll, mules, payout])
    w.ledger.add("test", np.full(len(cards), settle[0]), cards, np.full(len(cards), 100),
                 local_ts(np.full(len(cards), ws - 1), rng.integers(10 * 3600, 12 * 3600, size=len(cards))))
    dormant = np.concatenate([coll[dormant_c], mules[dormant_m]])
    if len(dormant):
        k = rng.integers(1, 3, size=len(dormant))
        d_acct = np.repeat(dormant, k)
        d_from = res.main_acct[rng.integers(0, len(res.main_acct), size=len(d_acct))]
        d_day = rng.integers(0, 20, size=len(d_acct))
        d_ts = local_ts(d_day, rng.integers(9 * 3600, 17 * 3600, size=len(d_acct)))
        w.ledger.add("dormant_early", d_from, d_acct, rng.choice([20_000, 50_000, 100_000], size=len(d_acct)), d_ts)

    # 2. Gambler deposits into collection cards: round amounts or order-matching odd fen.
    day = ws + rng.integers(0, win, size=n_pay)
    hour = rng.choice(24, size=n_pay, p=NIGHT_P / NIGHT_P.sum())
    ts = local_ts(day, hour * 3600 + rng.integers(0, 3600, size=n_pay))
    cents = rng.choice(ROUND_AMOUNTS, size=n_pay, p=ROUND_P)
    odd = rng.random(n_pay) < 0.3
    cents = np.where(odd, cents + rng.integers(1, 100, size=n_pay), cents)
    to_card = coll[rng.integers(0, n_coll, size=n_pay)]
    payer = gamblers[rng.integers(0, len(gamblers), size=n_pay)]
    w.ledger.add("gamble_in", payer, to_card, cents, ts)

    # 3. Collection cards forward in chunks within minutes to tier-1 mules; tiers down to settlement.
    tier1 = mules[: max(1, n_mule // 2)] if n_mule >= 3 else mules
    tier2 = mules[len(tier1):]
    chunk = rng.integers(2, 7, size=n_coll)
    d, t, c = _forward(w, "op_forward", to_card, ts, cents, coll, chunk, [tier1] * n_coll, (1, 12))
    nxt = tier2 if len(tier2) else settle
    d, t, c = _forward(w, "op_forward", d, t, c, tier1, rng.integers(1, 3, size=len(tier1)), [nxt] * len(tier1), (2, 20))
    if len(tier2):
        d, t, c = _forward(w, "op_forward", d, t, c, tier2, rng.integers(1, 3, size=len(tier2)),
                           [settle] * len(tier2), (2, 25))

    # 4. Settlement: each night (03:00–05:00) sends the day's takings on: 65 % to cash-out merchants,
    #    35 % to payout cards, which pay winners within the hour (closing the loop back to gamblers).
    s_day = (t - START_US) // DAY_US
    days, inv = np.unique(s_day, return_inverse=True)
    total = np.bincount(inv, weights=c).astype(np.int64)
    night = local_ts(days + 1, rng.integers(3 * 3600, 5 * 3600, size=len(days)))
    night = np.maximum(night, np.zeros(len(days), dtype=np.int64))
    to_cash = total * 65 // 100
    w.ledger.add("settle_out", np.full(len(days), settle[0]), cashout[rng.integers(0, n_cash, size=len(days))],
                 to_cash, night)
    to_pay = total - to_cash
    p_card = payout[rng.integers(0, n_payout, size=len(days))]
    w.ledger.add("payout", np.full(len(days), settle[0]), p_card, to_pay, night + 5 * MIN_US)
    m = np.maximum(1, to_pay // 150_000)  # winners withdraw ~1,500 yuan on average: 分散转出
    each = (to_pay // m) // 10_000 * 10_000
    rep = np.repeat(np.arange(len(days)), m)
    ok = each[rep] > 0
    rep = rep[ok]
    # 出款: winners' withdrawals are paid out within minutes to an hour of the top-up.
    w_ts = night[rep] + 5 * MIN_US + rng.integers(2, 60, size=len(rep)) * MIN_US
    w.ledger.add("payout", p_card[rep], gamblers[rng.integers(0, len(gamblers), size=len(rep))], each[rep], w_ts)


def gambling(w: World, res: Residents, budget: int, n_groups: int) -> None:
    per = budget // n_groups
    for g in range(n_groups):
        gambling_group(w, res, g, per)
