"""The registry of people, devices and accounts of one synthetic province shard, and the ledger.

Accounts and people are appended in blocks (numpy-friendly); transactions are appended as blocks
of parallel arrays to a :class:`Ledger`. Times are microseconds since the Unix epoch, UTC; the
province lives in Asia/Shanghai (UTC+8, no daylight saving), so local clock arithmetic is exact.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from chainbreaker.synth import bank_entities as E

# The statement period every 调单 covers: six months.
PERIOD_START_LOCAL = dt.datetime(2026, 3, 1)
PERIOD_DAYS = 184
_UTC_START = dt.datetime(2026, 2, 28, 16, 0, tzinfo=dt.UTC)  # 2026-03-01 00:00 Asia/Shanghai
START_US = int(_UTC_START.timestamp() * 1_000_000)
DAY_US = 86_400_000_000
MIN_US = 60_000_000
HOUR_US = 3_600_000_000


def local_ts(day: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """UTC microseconds of local (Asia/Shanghai) ``day`` since the period start + ``seconds``."""
    return START_US + day.astype(np.int64) * DAY_US + (seconds.astype(np.float64) * 1e6).astype(np.int64)


# Transaction kinds: code -> (channel 交易类型, summaries 摘要, carries the initiator's IP/MAC).
KINDS: dict[str, tuple[int, str, tuple[str, ...], bool]] = {
    "salary": (0, "代发工资", ("工资", "代发工资", "绩效工资"), False),
    "client_payment": (1, "网银转账", ("货款", "工程款", "服务费"), True),
    "supplier_payment": (2, "网银转账", ("货款", "采购款", "运费"), True),
    "shopping": (3, "快捷支付", ("消费", "扫码支付", "商户消费"), True),
    "pos": (4, "POS消费", ("消费", "刷卡消费"), False),
    "shop_settle": (5, "商户结算", ("结算款", "商户清算"), False),
    "rent": (6, "手机银行转账", ("房租", "租金", "转账"), True),
    "utility": (7, "代扣代缴", ("电费", "水费", "话费", "燃气费"), False),
    "family": (8, "手机银行转账", ("转账", "生活费", "给妈的", "家用"), True),
    "p2p": (9, "手机银行转账", ("转账", "还款", "红包", "借款", "AA"), True),
    "cash": (10, "ATM取款", ("取款", "ATM取现"), False),
    "gamble_in": (11, "手机银行转账", ("转账", "还款", "货款", "借款"), True),
    "op_forward": (12, "手机银行转账", ("转账", "还款", "往来款"), True),
    "settle_out": (13, "网银转账", ("货款", "购金款", "往来款"), True),
    "payout": (14, "手机银行转账", ("转账", "还款", "退款"), True),
    "test": (15, "手机银行转账", ("转账",), True),
    "dormant_early": (16, "柜面转账", ("存款", "转账"), False),
}
KIND_CODE = {k: v[0] for k, v in KINDS.items()}
KIND_BY_CODE = {v[0]: k for k, v in KINDS.items()}
CHANNELS = [KINDS[KIND_BY_CODE[i]][1] for i in range(len(KINDS))]
KIND_HAS_IP = np.array([KINDS[KIND_BY_CODE[i]][3] for i in range(len(KINDS))])
SUMMARIES = [KINDS[KIND_BY_CODE[i]][2] for i in range(len(KINDS))]

ROLES_OP = ("collection", "mule", "payout", "settlement")


@dataclass
class People:
    name: list[str] = field(default_factory=list)
    id_number: list[str] = field(default_factory=list)
    phone: list[str] = field(default_factory=list)
    address: list[str] = field(default_factory=list)
    workplace: list[str] = field(default_factory=list)

    def add(self, name: list[str], id_number: list[str], phone: list[str], address: list[str],
            workplace: list[str] | None = None) -> np.ndarray:
        start = len(self.name)
        self.name += name
        self.id_number += id_number
        self.phone += phone
        self.address += address
        self.workplace += workplace if workplace is not None else [""] * len(name)
        return np.arange(start, len(self.name))

    def __len__(self) -> int:
        return len(self.name)


@dataclass
class Devices:
    ip: list[str] = field(default_factory=list)
    mac: list[str] = field(default_factory=list)

    def add(self, rng: np.random.Generator, n: int, studio: bool = False) -> np.ndarray:
        start = len(self.ip)
        self.ip += E.ip_addresses(rng, n, studio=studio)
        self.mac += E.mac_addresses(rng, n)
        return np.arange(start, len(self.ip))


_ACCOUNT_FIELDS = ("bank", "holder", "is_corp", "group", "requested", "device", "open_day", "buffer", "region")


@dataclass
class Accounts:
    """Parallel per-account columns; ``holder`` indexes People (−1 for a company account)."""

    number: list[str] = field(default_factory=list)
    holder_name: list[str] = field(default_factory=list)
    holder_id: list[str] = field(default_factory=list)
    role: list[str] = field(default_factory=list)
    lookalike: list[str] = field(default_factory=list)
    group_id: list[str] = field(default_factory=list)
    shop_name: list[str] = field(default_factory=list)
    cols: dict[str, list[np.ndarray]] = field(default_factory=lambda: {k: [] for k in _ACCOUNT_FIELDS})
    _frozen: dict[str, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.number)

    def add(self, *, number: list[str], holder_name: list[str], holder_id: list[str], role: str | list[str],
            bank: np.ndarray, holder: np.ndarray, is_corp: bool, requested: np.ndarray | bool,
            device: np.ndarray, open_day: np.ndarray, buffer: np.ndarray, region: np.ndarray,
            lookalike: str | list[str] = "", group_id: str | list[str] = "",
            shop_name: list[str] | None = None) -> np.ndarray:
        n = len(number)
        start = len(self.number)
        self.number += number
        self.holder_name += holder_name
        self.holder_id += holder_id
        self.role += [role] * n if isinstance(role, str) else role
        self.lookalike += [lookalike] * n if isinstance(lookalike, str) else lookalike
        self.group_id += [group_id] * n if isinstance(group_id, str) else group_id
        self.shop_name += shop_name if shop_name is not None else [""] * n
        c = self.cols
        c["bank"].append(np.asarray(bank, dtype=np.int16))
        c["holder"].append(np.asarray(holder, dtype=np.int64))
        c["is_corp"].append(np.full(n, is_corp))
        c["group"].append(np.full(n, -1, dtype=np.int32))
        c["requested"].append(np.broadcast_to(np.asarray(requested, dtype=bool), (n,)).copy())
        c["device"].append(np.asarray(device, dtype=np.int64))
        c["open_day"].append(np.asarray(open_day, dtype=np.int32))
        c["buffer"].append(np.asarray(buffer, dtype=np.int64))
        c["region"].append(np.asarray(region, dtype=np.int16))
        self._frozen = None
        return np.arange(start, start + n)

    def col(self, name: str) -> np.ndarray:
        if self._frozen is None:
            self._frozen = {k: np.concatenate(v) if v else np.empty(0) for k, v in self.cols.items()}
        return self._frozen[name]


@dataclass
class Ledger:
    """Transfers as parallel arrays; ``to`` is −1 for cash withdrawals."""

    parts: list[dict[str, np.ndarray]] = field(default_factory=list)

    def add(self, kind: str, frm: np.ndarray, to: np.ndarray, cents: np.ndarray, ts: np.ndarray) -> None:
        n = len(frm)
        if n == 0:
            return
        self.parts.append({
            "from": np.asarray(frm, dtype=np.int64),
            "to": np.asarray(to, dtype=np.int64),
            "cents": np.asarray(cents, dtype=np.int64),
            "ts": np.asarray(ts, dtype=np.int64),
            "kind": np.full(n, KIND_CODE[kind], dtype=np.int8),
        })

    def count(self) -> int:
        return sum(len(p["from"]) for p in self.parts)

    def arrays(self) -> dict[str, np.ndarray]:
        keys = ("from", "to", "cents", "ts", "kind")
        return {k: np.concatenate([p[k] for p in self.parts]) for k in keys}


@dataclass
class World:
    rng: np.random.Generator
    shard: int
    people: People = field(default_factory=People)
    devices: Devices = field(default_factory=Devices)
    accounts: Accounts = field(default_factory=Accounts)
    ledger: Ledger = field(default_factory=Ledger)
    _serial: int = 0

    def unique_bodies(self, n: int, width: int) -> np.ndarray:
        """``n`` distinct pseudo-random ``width``-digit numbers (unique within the shard)."""
        mod = 10**width
        start = self._serial
        self._serial += n
        return (np.arange(start, start + n, dtype=np.uint64) * np.uint64(7_919_000_003 % mod or 7)
                + np.uint64(12_345_678 % mod)) % np.uint64(mod)

    def new_cards(self, bank_idx: np.ndarray) -> list[str]:
        """19-digit debit card numbers: real BIN + shard + unique body + Luhn digit."""
        n = len(bank_idx)
        if n == 0:
            return []
        bins = [E.ALL_BANKS[b].card_bins[int(i) % len(E.ALL_BANKS[b].card_bins)]
                for b, i in zip(bank_idx, self.rng.integers(0, 3, size=n), strict=True)]
        bin_d = np.array([[int(c) for c in b] for b in bins], dtype=np.int64)
        shard_d = E.digit_matrix(np.full(n, self.shard % 100), 2).astype(np.int64) - 48
        body = E.digit_matrix(self.unique_bodies(n, 10), 10).astype(np.int64) - 48
        full = E.luhn_complete(np.hstack([bin_d, shard_d, body]))
        return ["".join(map(str, r)) for r in full.tolist()]

    def new_corporate(self, bank_idx: np.ndarray) -> list[str]:
        out = []
        bodies = self.unique_bodies(len(bank_idx), 9)
        for b, body in zip(bank_idx, bodies, strict=True):
            bank = E.ALL_BANKS[b]
            fill = bank.corp_len - len(bank.corp_prefix) - 2 - 9
            rest = "".join(map(str, self.rng.integers(0, 10, size=max(fill, 0))))
            out.append(f"{bank.corp_prefix}{self.shard % 100:02d}{rest}{int(body):09d}"[: max(bank.corp_len, 15)])
        return out

    def province_banks(self, n: int) -> np.ndarray:
        shares = np.array([b.share for b in E.BANKS])
        return self.rng.choice(len(E.BANKS), size=n, p=shares / shares.sum()).astype(np.int16)

    def external_banks(self, n: int) -> np.ndarray:
        shares = np.array([b.share for b in E.EXTERNAL_BANKS])
        return (E.N_PROVINCE_BANKS + self.rng.choice(len(E.EXTERNAL_BANKS), size=n, p=shares / shares.sum())).astype(np.int16)


def uscc(rng: np.random.Generator, n: int, region: str = "530100") -> list[str]:
    """统一社会信用代码-shaped identifiers for companies (91 + region + 10 chars)."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    idx = rng.integers(0, len(alphabet), size=(n, 10))
    return ["91" + region + "".join(alphabet[i] for i in row) for row in idx.tolist()]


def lognormal_cents(rng: np.random.Generator, n: int, median_yuan: float, sigma: float,
                    lo: float = 0.01, hi: float = 1e7) -> np.ndarray:
    yuan = np.clip(rng.lognormal(np.log(median_yuan), sigma, size=n), lo, hi)
    return np.round(yuan * 100).astype(np.int64)


def hours_to_seconds(rng: np.random.Generator, hours: np.ndarray) -> np.ndarray:
    """Local clock seconds within the day from (possibly fractional) hours, plus random seconds."""
    return (np.asarray(hours, dtype=np.float64) * 3600 + rng.integers(0, 3600, size=len(hours))).clip(0, 86399)
