"""Synthetic seized gambling-platform databases with ground truth (推广链 test and bench data).

Two structures seen in cases:

* ``pyramid``: six tiers 总监-大股东-股东-总代理-代理-会员, exported with 网狐-style English column
  names (``UserID``, ``SpreaderID``, ``BetAmount`` ...);
* ``quanmin``: "全民代理", every member may recruit (a skewed random recursive tree), exported with
  Chinese column names (``会员ID``, ``上级ID``, ``投注金额`` ...).

Both carry the pitfalls analysts meet: several roots, orphans whose upline is missing, an upline
pointing at itself, a cycle of uplines, people holding several accounts (shared ID number, phone,
bank card or device), failed deposits, rebates that are not commissions. With ``edge_cases`` an
extra branch holds agents exactly at and just below the 120-participant and 300,000-yuan
aggravation thresholds, one agent whose 121 accounts are 120 people, and one that recruited minors.

Everything is generated with vectorised numpy (1M members / 50M bets in minutes); money is kept in
integer fen; the ground truth for every ``agent_metrics`` column is computed here from the
generator's own knowledge (who is whose upline, which accounts are one person), not by the code
under test. Conventions shared with the analysis: a self-reference or a missing upline makes a
root; a cycle is cut at its smallest member id; ``downline_*`` cover the strict subtree; activity is
bets plus successful deposits; ``first/last_activity`` cover the member and the subtree;
``own_commission`` is commission plus dividend (返水 excluded).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

T0 = int(dt.datetime(2025, 1, 1, tzinfo=dt.UTC).timestamp())
SPAN = 180 * 86400
_CHECK = "10X98765432"
_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余于杜叶程苏魏吕丁任沈姚卢")
_GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国文斌宇浩凯健俊帆帅旭宁龙林欣佳")
_REGIONS = np.array(["110101", "310104", "440305", "360302", "330102", "510107", "420106", "350203"])

# Column names per export dialect: canonical field -> platform column.
DIALECTS: dict[str, dict[str, dict[str, str]]] = {
    "pyramid": {
        "members": {"member_id": "UserID", "username": "Accounts", "upline_id": "SpreaderID",
                    "level": "AgentLevel", "real_name": "Compellation", "id_number": "PassPortID",
                    "phone": "MobilePhone", "bank_card": "BankCard", "register_ip": "RegisterIP",
                    "register_time": "RegisterDate", "last_login_ip": "LastLogonIP",
                    "last_login_time": "LastLogonDate", "device": "RegisterMachine"},
        "bets": {"order_id": "OrderID", "member_id": "UserID", "game": "GameName", "period": "Period",
                 "stake": "BetAmount", "payout": "WinAmount", "valid_bet": "ValidBet", "rebate": "Rebate",
                 "ts": "BetTime"},
        "deposits": {"order_id": "OrderNo", "member_id": "UserID", "amount": "Amount", "channel": "PayChannel",
                     "payee_account": "PayeeAccount", "status": "Status", "ts": "PayTime"},
        "withdrawals": {"order_id": "OrderNo", "member_id": "UserID", "amount": "Amount",
                        "bank_card": "BankCard", "status": "Status", "ts": "ApplyTime"},
        "rebates": {"member_id": "UserID", "amount": "Amount", "kind": "Type", "ts": "SettleTime"},
    },
    "quanmin": {
        "members": {"member_id": "会员ID", "username": "用户名", "upline_id": "上级ID", "level": "代理级别",
                    "real_name": "真实姓名", "id_number": "身份证号", "phone": "手机号", "bank_card": "银行卡号",
                    "register_ip": "注册IP", "register_time": "注册时间", "last_login_ip": "最后登录IP",
                    "last_login_time": "最后登录时间", "device": "设备号"},
        "bets": {"order_id": "注单号", "member_id": "会员ID", "game": "游戏", "period": "期号",
                 "stake": "投注金额", "payout": "派彩", "valid_bet": "有效投注", "rebate": "返水", "ts": "投注时间"},
        "deposits": {"order_id": "订单号", "member_id": "会员ID", "amount": "充值金额", "channel": "充值渠道",
                     "payee_account": "收款账号", "status": "状态", "ts": "充值时间"},
        "withdrawals": {"order_id": "订单号", "member_id": "会员ID", "amount": "提现金额", "bank_card": "银行卡号",
                        "status": "状态", "ts": "申请时间"},
        "rebates": {"member_id": "会员ID", "amount": "佣金金额", "kind": "类型", "ts": "结算时间"},
    },
}
TABLE_NAMES = {
    "pyramid": {"members": "GameUser", "bets": "BetRecord", "deposits": "RechargeOrder",
                "withdrawals": "WithdrawOrder", "rebates": "AgentCommission"},
    "quanmin": {"members": "会员表", "bets": "注单表", "deposits": "充值记录", "withdrawals": "提现记录",
                "rebates": "佣金记录"},
}
TIER_NAMES = ["总监", "大股东", "股东", "总代理", "代理", "会员"]
GAMES = ["北京赛车", "重庆时时彩", "百家乐", "龙虎斗", "幸运飞艇", "捕鱼"]


@dataclass
class EdgeAgents:
    """Member ids of the planted threshold cases (``edge_cases=True``)."""

    persons_120: str = ""
    persons_119: str = ""
    accounts_121_persons_120: str = ""
    stake_300k: str = ""
    stake_300k_minus_1fen: str = ""
    recruits_minors: str = ""


@dataclass
class SynthPlatform:
    """A generated platform: canonical numpy columns plus the planted anomalies."""

    name: str
    kind: str
    member_id: np.ndarray  # str
    upline_id: np.ndarray  # str or None (object)
    parent_eff: np.ndarray  # int64 index of the effective upline, -1 for roots (truth convention)
    person: np.ndarray  # int64 person index per account (truth)
    attrs: dict[str, np.ndarray]  # id_number, phone, bank_card, device, real_name ... (object)
    tier: np.ndarray  # 1..6 tier for the pyramid, 0 for 全民代理
    register_ts: np.ndarray  # int64 epoch seconds
    bets: dict[str, np.ndarray]  # member (int idx), stake_fen, payout_fen, ts, game, period
    deposits: dict[str, np.ndarray]  # member, amount_fen, ts, ok, payee, channel
    withdrawals: dict[str, np.ndarray]  # member, amount_fen, ts, ok, card
    rebates: dict[str, np.ndarray]  # member, amount_fen, ts, kind (佣金/分红/返水)
    self_refs: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    cycle: list[str] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)
    edge: EdgeAgents = field(default_factory=EdgeAgents)
    payees: list[str] = field(default_factory=list)

    @property
    def n_members(self) -> int:
        return len(self.member_id)


# ---------------------------------------------------------------- structure
def _pyramid_parents(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    t5 = max(6, n // 40)
    sizes = [0, 0, 0, 0, t5]
    for k in (3, 2, 1, 0):
        sizes[k] = max(2 + k, sizes[k + 1] // (6 - k))
    sizes.append(max(0, n - sum(sizes)))
    parent = np.full(sum(sizes), -1, dtype=np.int64)
    tier = np.zeros(sum(sizes), dtype=np.int8)
    start = 0
    prev: tuple[int, int] | None = None
    for t, size in enumerate(sizes):
        tier[start:start + size] = t + 1
        if prev is not None:
            p0, psize = prev
            # Skewed recruitment: a few uplines hold most of the next tier.
            w = rng.pareto(1.2, psize) + 1
            parent[start:start + size] = p0 + rng.choice(psize, size=size, p=w / w.sum())
        prev = (start, size)
        start += size
    return parent, tier


def _quanmin_parents(rng: np.random.Generator, n: int) -> np.ndarray:
    idx = np.arange(n)
    # Node i attaches to an earlier node, biased towards early (big) recruiters: floor(i * u^2).
    parent = np.floor(idx * rng.random(n) ** 2.0).astype(np.int64)
    parent[0] = -1
    # A few extra independent roots (several 总代 who joined the platform separately).
    extra = rng.choice(np.arange(1, n), size=min(3, max(0, n - 1)), replace=False)
    parent[extra] = -1
    return parent


def _id_numbers(person: np.ndarray, birth_days: np.ndarray) -> np.ndarray:
    region = _REGIONS[(person // 12_000_000) % len(_REGIONS)]
    birth = np.datetime_as_string(np.datetime64("1970-01-01") + birth_days.astype("timedelta64[D]"))
    birth = np.char.replace(birth, "-", "")
    seq = np.char.zfill((person % 1000).astype(str), 3)
    body = np.char.add(np.char.add(region, birth), seq)
    raw = np.frombuffer(np.char.encode(body, "ascii").astype("S17").tobytes(), dtype=np.uint8)
    digits = raw.reshape(-1, 17).astype(np.int64) - 48
    check = np.array(list(_CHECK))[(digits * _WEIGHTS).sum(axis=1) % 11]
    return np.char.add(body, check)


def generate_platform(kind: str = "pyramid", n_members: int = 2000, n_bets: int = 40000, *,
                      seed: int = 7, name: str | None = None, edge_cases: bool = True,
                      id_offset: int | None = None) -> SynthPlatform:
    """Generate a platform of ``kind`` (``pyramid`` | ``quanmin``) with ground truth.

    ``id_offset`` shifts the personal identifiers (ID numbers, phones, cards, devices) so that two
    generated platforms share no person unless asked to; by default it depends on kind and seed.
    """
    if kind not in DIALECTS:
        raise ValueError(f"kind must be one of {list(DIALECTS)}")
    rng = np.random.default_rng(seed)
    base_n = max(50, n_members)
    if kind == "pyramid":
        parent, tier = _pyramid_parents(rng, base_n)
    else:
        parent = _quanmin_parents(rng, base_n)
        tier = np.zeros(base_n, dtype=np.int8)
    n = len(parent)
    upline_kind = np.zeros(n, dtype=np.int8)  # 0 normal, 1 self, 2 orphan, 3 cycle
    # Anomalies on leaf-ish members of the main tree.
    candidates = rng.choice(np.arange(n // 2, n), size=6, replace=False)
    self_idx, orphan_idx = candidates[:2], candidates[2:5]
    upline_kind[self_idx] = 1
    upline_kind[orphan_idx] = 2
    parent[self_idx] = -1
    parent[orphan_idx] = -1

    parts_parent = [parent]
    parts_tier = [tier]
    # A cycle A->B->C->A with two members hanging under B.
    c0 = n
    cyc_parent = np.array([c0 + 2, c0, c0 + 1, c0 + 1, c0 + 1], dtype=np.int64)  # A's upline is C
    parts_parent.append(cyc_parent)
    parts_tier.append(np.array([5, 5, 5, 6, 6] if kind == "pyramid" else [0] * 5, dtype=np.int8))
    upline_kind = np.concatenate([upline_kind, np.array([3, 3, 3, 0, 0], dtype=np.int8)])
    edge_info: dict[str, tuple[int, int]] = {}
    if edge_cases:
        # Edge branch: root R, six agents under it, each with its own members.
        e0 = c0 + 5
        sizes = {"persons_120": 120, "persons_119": 119, "accounts_121_persons_120": 121,
                 "stake_300k": 10, "stake_300k_minus_1fen": 10, "recruits_minors": 5}
        ep = [-1]
        pos = e0 + 1 + len(sizes)
        for i, (key, size) in enumerate(sizes.items()):
            ep.append(e0)
            edge_info[key] = (e0 + 1 + i, size)
        for i, (_key, size) in enumerate(sizes.items()):
            ep.extend([e0 + 1 + i] * size)
            pos += size
        parts_parent.append(np.array(ep, dtype=np.int64))
        parts_tier.append(np.array(([1] + [5] * len(sizes) + [6] * (len(ep) - 1 - len(sizes)))
                                   if kind == "pyramid" else [0] * len(ep), dtype=np.int8))
        upline_kind = np.concatenate([upline_kind, np.zeros(len(ep), dtype=np.int8)])
    parent = np.concatenate(parts_parent)
    tier = np.concatenate(parts_tier)
    n = len(parent)
    prefix = 10_000_000 if kind == "pyramid" else 20_000_000
    member_id = (prefix + np.arange(n)).astype(str).astype(object)
    upline_id = np.empty(n, dtype=object)
    has = parent >= 0
    upline_id[has] = member_id[parent[has]]
    upline_id[~has] = None
    upline_id[upline_kind == 1] = member_id[upline_kind == 1]
    orphan_ids = (99_000_000 + np.arange((upline_kind == 2).sum())).astype(str)
    upline_id[upline_kind == 2] = orphan_ids
    parent_eff = parent.copy()
    parent_eff[c0] = -1  # the cycle is cut at its smallest member id (A)

    # ------------------------------------------------------------ persons
    person = np.arange(n, dtype=np.int64)
    n_shared = max(2, n // 40)
    # Shared accounts only inside the main tree (the planted branches stay exact).
    shuffled = rng.permutation(np.arange(1, c0))
    victims, owners_pool = shuffled[:n_shared], shuffled[n_shared:]
    person[victims] = owners_pool[rng.integers(0, len(owners_pool), size=len(victims))]
    if edge_cases:
        a121, _ = edge_info["accounts_121_persons_120"]
        kids = np.nonzero(parent == a121)[0]
        person[kids[1]] = person[kids[0]]
    # Account-level attributes: shared accounts copy one attribute from the owner's account
    # (primary = lowest account index of the person), the rest are unique to the account.
    owner = person.copy()
    acct = np.arange(n, dtype=np.int64)
    if id_offset is None:
        id_offset = (0 if kind == "pyramid" else 40_000_000) + (seed % 10) * 3_000_000
    owner = owner + id_offset
    acct = acct + id_offset
    shared_mask = owner != acct
    which = rng.integers(0, 4, size=n)
    birth_days = -13000 + (acct // 1000) % 12000  # adults, born 1934..1967, unique with region+seq
    id_src = np.where(shared_mask & (which == 0), owner, acct)
    phone_src = np.where(shared_mask & (which == 1), owner, acct)
    card_src = np.where(shared_mask & (which == 2), owner, acct)
    dev_src = np.where(shared_mask & (which == 3), owner, acct)
    bd = np.where(id_src == acct, birth_days, birth_days[id_src - id_offset])
    register_ts = T0 - rng.integers(0, 200 * 86400, size=n)
    if edge_cases:
        m_agent, _ = edge_info["recruits_minors"]
        minors = np.nonzero(parent == m_agent)[0][:2]
        # Born 15 years before registering.
        bd[minors] = (register_ts[minors] // 86400) - 15 * 365
    id_number = _id_numbers(id_src, bd).astype(object)
    phone = (13_000_000_000 + (phone_src * 7_919 + 12_345) % 6_000_000_000 + 0).astype(str).astype(object)
    bank_card = np.char.add("622202", np.char.zfill(((card_src * 104_729) % 10**13).astype(str), 13)).astype(object)
    device = np.char.add("DEV-", np.char.zfill(dev_src.astype(str), 9)).astype(object)
    # Some accounts leave fields empty (nulls never link people).
    multi = np.isin(person, person[shared_mask])
    for arr in (phone, device):
        arr[(rng.random(n) < 0.05) & ~multi] = None
    if edge_cases:
        kids = np.nonzero(parent == edge_info["accounts_121_persons_120"][0])[0]
        phone[kids[1]] = phone[kids[0]]
    names = np.char.add(np.array(_SURNAMES)[person % len(_SURNAMES)],
                        np.char.add(np.array(_GIVEN)[(person // 7) % len(_GIVEN)],
                                    np.array(_GIVEN)[(person // 3) % len(_GIVEN)])).astype(object)
    acct = acct - id_offset
    ip = np.char.add("10.", np.char.add(((acct // 65536) % 256).astype(str), np.char.add(".", np.char.add(
        ((acct // 256) % 256).astype(str), np.char.add(".", (acct % 256).astype(str)))))).astype(object)
    attrs = {"id_number": id_number, "phone": phone, "bank_card": bank_card, "device": device,
             "real_name": names, "register_ip": ip}

    # --------------------------------------------------------------- bets
    plain = np.ones(n, dtype=bool)
    edge_members = np.zeros(n, dtype=bool)
    if edge_cases:
        edge_members[c0 + 5:] = True
        plain = ~edge_members
    activity = rng.lognormal(0.0, 1.3, size=n) * (rng.random(n) < 0.7)
    activity[~plain] = 0
    idx_plain = np.nonzero(activity > 0)[0]
    w = activity[idx_plain] / activity[idx_plain].sum()
    bet_member = idx_plain[rng.choice(len(idx_plain), size=n_bets, p=w)] if n_bets else np.zeros(0, np.int64)
    stake = (np.round(rng.lognormal(np.log(80), 1.1, size=n_bets)).astype(np.int64) + 1) * 100
    stake += (rng.random(n_bets) < 0.1) * 50  # some stakes carry cents
    win = rng.random(n_bets) < 0.47
    payout = np.where(win, stake * 195 // 100, 0)
    bet_ts = T0 + rng.integers(0, SPAN, size=n_bets)
    extra_bets: list[tuple[np.ndarray, np.ndarray]] = []
    if edge_cases:
        for key in ("persons_120", "persons_119", "accounts_121_persons_120", "recruits_minors"):
            kids = np.nonzero(parent == edge_info[key][0])[0]
            extra_bets.append((kids, np.full(len(kids), 10_000, dtype=np.int64)))
        for key, total in (("stake_300k", 30_000_000), ("stake_300k_minus_1fen", 29_999_999)):
            kids = np.nonzero(parent == edge_info[key][0])[0]
            amounts = np.full(len(kids), total // len(kids), dtype=np.int64)
            amounts[0] += total - amounts.sum()
            extra_bets.append((kids, amounts))
    for kids, amounts in extra_bets:
        bet_member = np.concatenate([bet_member, kids])
        stake = np.concatenate([stake, amounts])
        payout = np.concatenate([payout, np.zeros(len(kids), dtype=np.int64)])
        bet_ts = np.concatenate([bet_ts, T0 + rng.integers(0, SPAN, size=len(kids))])
    nb = len(bet_member)
    bets = {"member": bet_member.astype(np.int64), "stake_fen": stake, "payout_fen": payout, "ts": bet_ts,
            "game": rng.integers(0, len(GAMES), size=nb).astype(np.int8),
            "period": rng.integers(0, 99999, size=nb).astype(np.int32)}

    # ----------------------------------------------------------- deposits
    n_dep = max(10, nb // 8)
    dep_member = idx_plain[rng.choice(len(idx_plain), size=n_dep, p=w)] if len(idx_plain) else np.zeros(0, np.int64)
    n_dep = len(dep_member)
    dep_amount = rng.integers(1, 100, size=n_dep).astype(np.int64) * 10_000
    dep_ok = rng.random(n_dep) >= 0.05
    n_payees = max(5, n // 2000)
    payees = np.char.add("621700", np.char.zfill((np.arange(n_payees) * 7_368_787 % 10**13).astype(str), 13))
    payee_idx = rng.integers(0, n_payees, size=n_dep)
    channels = np.array(["银行卡转账", "支付宝扫码", "微信扫码", "USDT"], dtype=object)
    deposits = {"member": dep_member.astype(np.int64), "amount_fen": dep_amount, "ok": dep_ok,
                "ts": T0 + rng.integers(0, SPAN, size=n_dep), "payee": payees[payee_idx].astype(object),
                "channel": channels[rng.integers(0, len(channels), size=n_dep)]}
    # -------------------------------------------------------- withdrawals
    n_wd = max(5, n_dep // 3)
    wd_member = dep_member[rng.integers(0, n_dep, size=n_wd)] if n_dep else np.zeros(0, np.int64)
    withdrawals = {"member": wd_member.astype(np.int64),
                   "amount_fen": rng.integers(1, 200, size=len(wd_member)).astype(np.int64) * 5_000,
                   "ok": rng.random(len(wd_member)) >= 0.1, "ts": T0 + rng.integers(0, SPAN, size=len(wd_member)),
                   "card": bank_card[wd_member]}
    # ---------------------------------------------------- rebates/commission
    has_kids = np.zeros(n, dtype=bool)
    has_kids[parent[parent >= 0]] = True
    agents = np.nonzero(has_kids & ~edge_members)[0]
    reps = rng.integers(1, 5, size=len(agents))
    reb_member = np.repeat(agents, reps)
    reb_kind = np.where(rng.random(len(reb_member)) < 0.8, "佣金", "分红").astype(object)
    gamblers = idx_plain[: max(1, len(idx_plain) // 10)]
    reb_member = np.concatenate([reb_member, gamblers])
    reb_kind = np.concatenate([reb_kind, np.full(len(gamblers), "返水", dtype=object)])
    reb_amount = rng.integers(100, 2_000_000, size=len(reb_member)).astype(np.int64)
    if len(reb_member):
        # A big commission for the top agent so 抽头渔利 thresholds fire somewhere.
        reb_amount[0] = 3_500_000
    rebates = {"member": reb_member.astype(np.int64), "amount_fen": reb_amount, "kind": reb_kind,
               "ts": T0 + rng.integers(0, SPAN, size=len(reb_member))}

    edge = EdgeAgents(**{k: str(member_id[v[0]]) for k, v in edge_info.items()})
    roots = [str(m) for m in member_id[(parent_eff < 0)]]
    return SynthPlatform(
        name=name or kind, kind=kind, member_id=member_id, upline_id=upline_id, parent_eff=parent_eff,
        person=person, attrs=attrs, tier=tier, register_ts=register_ts, bets=bets, deposits=deposits,
        withdrawals=withdrawals, rebates=rebates,
        self_refs=[str(m) for m in member_id[upline_kind == 1]],
        orphans=[str(m) for m in member_id[upline_kind == 2]],
        cycle=[str(m) for m in member_id[upline_kind == 3]], roots=roots, edge=edge,
        payees=[str(p) for p in payees],
    )


# ------------------------------------------------------------------ truth
def _fen_to_decimal(values: np.ndarray) -> pa.Array:
    return pa.array([Decimal(int(v)).scaleb(-2) for v in values], type=pa.decimal128(18, 2))


def agent_metrics_truth(p: SynthPlatform) -> pa.Table:
    """Ground truth of ``agent_metrics`` computed from the generator's structure (numpy only)."""
    n = p.n_members
    parent = p.parent_eff
    # Closure pairs (descendant, ancestor) and levels, one vectorised hop per level.
    level = np.ones(n, dtype=np.int64)
    desc_parts, anc_parts = [], []
    cur = parent.copy()
    node = np.arange(n)
    while True:
        live = cur >= 0
        if not live.any():
            break
        level[node[live]] += 1
        desc_parts.append(node[live])
        anc_parts.append(cur[live])
        node, cur = node[live], parent[cur[live]]
    desc = np.concatenate(desc_parts) if desc_parts else np.zeros(0, np.int64)
    anc = np.concatenate(anc_parts) if anc_parts else np.zeros(0, np.int64)

    b, d = p.bets, p.deposits
    stake = np.zeros(n, dtype=np.int64)
    np.add.at(stake, b["member"], b["stake_fen"])
    payout = np.zeros(n, dtype=np.int64)
    np.add.at(payout, b["member"], b["payout_fen"])
    dep = np.zeros(n, dtype=np.int64)
    np.add.at(dep, d["member"][d["ok"]], d["amount_fen"][d["ok"]])
    active = np.zeros(n, dtype=bool)
    active[b["member"]] = True
    active[d["member"][d["ok"]]] = True
    big = np.iinfo(np.int64).max
    first = np.full(n, big, dtype=np.int64)
    last = np.full(n, -1, dtype=np.int64)
    for members, ts in ((b["member"], b["ts"]), (d["member"][d["ok"]], d["ts"][d["ok"]])):
        np.minimum.at(first, members, ts)
        np.maximum.at(last, members, ts)
    r = p.rebates
    comm = np.zeros(n, dtype=np.int64)
    keep = r["kind"] != "返水"
    np.add.at(comm, r["member"][keep], r["amount_fen"][keep])

    direct = np.bincount(parent[parent >= 0], minlength=n)
    accounts = np.bincount(anc, minlength=n)
    act = np.bincount(anc, weights=active[desc], minlength=n).astype(np.int64)
    d_stake = np.zeros(n, dtype=np.int64)
    np.add.at(d_stake, anc, stake[desc])
    d_payout = np.zeros(n, dtype=np.int64)
    np.add.at(d_payout, anc, payout[desc])
    d_dep = np.zeros(n, dtype=np.int64)
    np.add.at(d_dep, anc, dep[desc])
    pairs = np.unique(anc * np.int64(n) + p.person[desc])
    persons = np.bincount(pairs // n, minlength=n)
    sub = np.bincount(parent[(parent >= 0) & (direct > 0)], minlength=n)
    f_all, l_all = first.copy(), last.copy()
    np.minimum.at(f_all, anc, first[desc])
    np.maximum.at(l_all, anc, last[desc])

    agents = np.nonzero(direct > 0)[0]
    # Upline paths (root first, direct upline last), a Python join per agent only.
    paths = []
    for a in agents:
        chain = []
        x = parent[a]
        while x >= 0:
            chain.append(p.member_id[x])
            x = parent[x]
        paths.append(">".join(reversed(chain)))

    def ts_array(v: np.ndarray) -> pa.Array:
        vals = [None if (x == big or x < 0) else dt.datetime.fromtimestamp(int(x), dt.UTC) for x in v]
        return pa.array(vals, type=pa.timestamp("us", tz="UTC"))

    return pa.table({
        "platform": pa.array([p.name] * len(agents)),
        "member_id": pa.array([str(x) for x in p.member_id[agents]]),
        "level": pa.array(level[agents], pa.int64()),
        "upline_path": pa.array(paths),
        "direct_downline": pa.array(direct[agents], pa.int64()),
        "downline_accounts": pa.array(accounts[agents], pa.int64()),
        "downline_persons": pa.array(persons[agents], pa.int64()),
        "downline_active": pa.array(act[agents], pa.int64()),
        "downline_stake": _fen_to_decimal(d_stake[agents]),
        "downline_payout": _fen_to_decimal(d_payout[agents]),
        "downline_deposit": _fen_to_decimal(d_dep[agents]),
        "own_commission": _fen_to_decimal(comm[agents]),
        "sub_agents_with_downline": pa.array(sub[agents], pa.int64()),
        "first_activity": ts_array(f_all[agents]),
        "last_activity": ts_array(l_all[agents]),
    })


# ----------------------------------------------------------------- exports
def _local(ts: np.ndarray) -> np.ndarray:
    """Epoch seconds → 'YYYY-MM-DD HH:MM:SS' in Asia/Shanghai (UTC+8, no DST)."""
    s = np.datetime_as_string((ts + 8 * 3600).astype("datetime64[s]"))
    return np.char.replace(s, "T", " ")


def raw_tables(p: SynthPlatform, with_bets: bool = True) -> dict[str, pa.Table]:
    """The platform's tables with its own column names, every value a string (as exported)."""
    d = DIALECTS[p.kind]
    mid = p.member_id
    a = p.attrs
    tier_names = np.array([""] + TIER_NAMES, dtype=object)
    level = tier_names[p.tier] if p.kind == "pyramid" else np.where(p.parent_eff >= 0, "会员", "总代").astype(object)
    members = {
        "member_id": mid, "username": np.char.add("u", mid.astype(str)).astype(object), "upline_id": p.upline_id,
        "level": level, "real_name": a["real_name"], "id_number": a["id_number"], "phone": a["phone"],
        "bank_card": a["bank_card"], "register_ip": a["register_ip"], "register_time": _local(p.register_ts),
        "last_login_ip": a["register_ip"], "last_login_time": _local(p.register_ts + 86400), "device": a["device"],
    }
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    prefix = 10_000_000 if p.kind == "pyramid" else 20_000_000

    def money(col: str) -> str:
        return f"printf('%d.%02d', {col} // 100, {col} % 100)"

    def local(col: str) -> str:
        return f"strftime(make_timestamp(({col} + 28800) * 1000000), '%Y-%m-%d %H:%M:%S')"

    dp, w, r = p.deposits, p.withdrawals, p.rebates
    dd, dw, dr = DIALECTS[p.kind]["deposits"], DIALECTS[p.kind]["withdrawals"], DIALECTS[p.kind]["rebates"]
    con.register("_d", pa.table({"m": dp["member"], "a": dp["amount_fen"], "t": dp["ts"], "ok": dp["ok"],
                                 "payee": pa.array(dp["payee"], pa.string()), "ch": pa.array(dp["channel"], pa.string())}))
    con.register("_w", pa.table({"m": w["member"], "a": w["amount_fen"], "t": w["ts"], "ok": w["ok"],
                                 "card": pa.array(w["card"], pa.string())}))
    con.register("_r", pa.table({"m": r["member"], "a": r["amount_fen"], "t": r["ts"],
                                 "kind": pa.array(r["kind"], pa.string())}))
    formatted = {
        "deposits": con.sql(f"""SELECT 'D' || (row_number() OVER ())::VARCHAR AS "{dd['order_id']}",
            ({prefix} + m)::VARCHAR AS "{dd['member_id']}", {money('a')} AS "{dd['amount']}", ch AS "{dd['channel']}",
            payee AS "{dd['payee_account']}", CASE WHEN ok THEN '成功' ELSE '失败' END AS "{dd['status']}",
            {local('t')} AS "{dd['ts']}" FROM _d""").to_arrow_table(),
        "withdrawals": con.sql(f"""SELECT 'W' || (row_number() OVER ())::VARCHAR AS "{dw['order_id']}",
            ({prefix} + m)::VARCHAR AS "{dw['member_id']}", {money('a')} AS "{dw['amount']}", card AS "{dw['bank_card']}",
            CASE WHEN ok THEN '已打款' ELSE '已拒绝' END AS "{dw['status']}", {local('t')} AS "{dw['ts']}"
            FROM _w""").to_arrow_table(),
        "rebates": con.sql(f"""SELECT ({prefix} + m)::VARCHAR AS "{dr['member_id']}", {money('a')} AS "{dr['amount']}",
            kind AS "{dr['kind']}", {local('t')} AS "{dr['ts']}" FROM _r""").to_arrow_table(),
    }
    out = dict(formatted)
    out["members"] = pa.table({d["members"][k]: pa.array(np.asarray(v, dtype=object), pa.string())
                               for k, v in members.items()})
    if with_bets:
        out["bets"] = bets_relation(con, p).to_arrow_table()
    return {k: out[k] for k in ("members", "bets", "deposits", "withdrawals", "rebates") if k in out}


def bets_relation(con: duckdb.DuckDBPyConnection, p: SynthPlatform) -> duckdb.DuckDBPyRelation:
    """The bets table as exported strings, formatted by DuckDB (50M rows without Python loops)."""
    b = p.bets
    prefix = 10_000_000 if p.kind == "pyramid" else 20_000_000
    con.execute("SET TimeZone = 'UTC'")
    con.register("_bets_num", pa.table({"m": b["member"], "s": b["stake_fen"], "w": b["payout_fen"], "t": b["ts"],
                                        "g": b["game"].astype(np.int16), "p": b["period"]}))
    d = DIALECTS[p.kind]["bets"]
    games = "[" + ", ".join(f"'{g}'" for g in GAMES) + "]"

    def money(col: str) -> str:
        return f"printf('%d.%02d', {col} // 100, {col} % 100)"

    return con.sql(f"""
        SELECT 'B' || (row_number() OVER ())::VARCHAR AS "{d['order_id']}", ({prefix} + m)::VARCHAR AS "{d['member_id']}",
               {games}[g + 1] AS "{d['game']}", (20250000000 + p)::VARCHAR AS "{d['period']}",
               {money('s')} AS "{d['stake']}", {money('w')} AS "{d['payout']}", {money('s')} AS "{d['valid_bet']}",
               {money('(s * 8 // 1000)')} AS "{d['rebate']}",
               strftime(make_timestamp((t + 28800) * 1000000), '%Y-%m-%d %H:%M:%S') AS "{d['ts']}"
        FROM _bets_num""")


def write_csv(p: SynthPlatform, folder: Path) -> list[Path]:
    """One UTF-8 CSV per table, named after the platform's own table names."""
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    paths = []
    for kind, table in raw_tables(p, with_bets=False).items():
        path = folder / f"{TABLE_NAMES[p.kind][kind]}.csv"
        con.register("_t", table)
        con.execute("COPY _t TO ? (HEADER, DELIMITER ',')", [str(path)])
        con.unregister("_t")
        paths.append(path)
    path = folder / f"{TABLE_NAMES[p.kind]['bets']}.csv"
    bets_relation(con, p).write_csv(str(path), header=True)
    paths.append(path)
    return sorted(paths)


def write_xlsx(p: SynthPlatform, folder: Path) -> list[Path]:
    import xlsxwriter

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, table in raw_tables(p).items():
        path = folder / f"{TABLE_NAMES[p.kind][kind]}.xlsx"
        wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
        ws = wb.add_worksheet(TABLE_NAMES[p.kind][kind][:31])
        ws.write_row(0, 0, table.column_names)
        for i, row in enumerate(zip(*[c.to_pylist() for c in table.columns], strict=True), start=1):
            for j, v in enumerate(row):
                if v is not None:
                    ws.write_string(i, j, v)
        wb.close()
        paths.append(path)
    return paths


def mysql_escape(value: str) -> str:
    return ("'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r")
            .replace("\x00", "\\0") + "'")


def write_mysql_dump(p: SynthPlatform, path: Path, rows_per_insert: int = 200) -> Path:
    """A mysqldump-style file: CREATE TABLE + multi-row INSERT statements."""
    path.parent.mkdir(parents=True, exist_ok=True)
    numeric = {"stake", "payout", "valid_bet", "rebate", "amount"}
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("-- MySQL dump 10.13  Distrib 5.7.40, for Linux (x86_64)\n/*!40101 SET NAMES utf8mb4 */;\n\n")
        for kind, table in raw_tables(p).items():
            tname = TABLE_NAMES[p.kind][kind]
            canon = {v: k for k, v in DIALECTS[p.kind][kind].items()}
            cols = table.column_names
            fh.write(f"DROP TABLE IF EXISTS `{tname}`;\nCREATE TABLE `{tname}` (\n")
            defs = [f"  `{c}` {'decimal(18,2)' if canon[c] in numeric else 'varchar(64)'} DEFAULT NULL" for c in cols]
            fh.write(",\n".join(defs) + f",\n  KEY `idx_{cols[0]}` (`{cols[0]}`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;\n\n")
            data = [c.to_pylist() for c in table.columns]
            rows = list(zip(*data, strict=True))
            for s in range(0, len(rows), rows_per_insert):
                chunk = rows[s:s + rows_per_insert]
                vals = []
                for row in chunk:
                    parts = []
                    for c, v in zip(cols, row, strict=True):
                        if v is None:
                            parts.append("NULL")
                        elif canon[c] in numeric:
                            parts.append(v)
                        else:
                            parts.append(mysql_escape(v))
                    vals.append("(" + ",".join(parts) + ")")
                fh.write(f"INSERT INTO `{tname}` VALUES " + ",\n".join(vals) + ";\n")
            fh.write("\n")
    return path


def write_sqlite(p: SynthPlatform, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    try:
        for kind, table in raw_tables(p).items():
            tname = TABLE_NAMES[p.kind][kind]
            cols = table.column_names
            con.execute(f'CREATE TABLE "{tname}" (' + ", ".join(f'"{c}" TEXT' for c in cols) + ")")
            rows = list(zip(*[c.to_pylist() for c in table.columns], strict=True))
            con.executemany(f'INSERT INTO "{tname}" VALUES ({",".join("?" * len(cols))})', rows)
        con.commit()
    finally:
        con.close()
    return path


def export_platform(p: SynthPlatform, out_dir: Path, formats: tuple[str, ...] = ("csv", "xlsx", "mysql", "sqlite"),
                    ) -> dict[str, Path]:
    """Write the platform in the requested formats under ``out_dir`` and its truth as CSV."""
    out: dict[str, Path] = {}
    if "csv" in formats:
        write_csv(p, out_dir / "csv")
        out["csv"] = out_dir / "csv"
    if "xlsx" in formats:
        write_xlsx(p, out_dir / "xlsx")
        out["xlsx"] = out_dir / "xlsx"
    if "mysql" in formats:
        out["mysql"] = write_mysql_dump(p, out_dir / f"{p.name}.sql")
    if "sqlite" in formats:
        out["sqlite"] = write_sqlite(p, out_dir / f"{p.name}.sqlite")
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    import pyarrow.csv as pacsv

    pacsv.write_csv(agent_metrics_truth(p), truth_dir / "agent_metrics.csv")
    out["truth"] = truth_dir
    return out
