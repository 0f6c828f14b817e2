"""Synthetic province bank data with ground truth (合成省级银行调单数据).

Two entry points:

- :func:`generate_transactions_table` — the canonical fast path: vectorised numpy, no per-row
  Python, returns the ``transactions`` table (TRANSACTIONS schema) and the per-account truth; the
  requested accounts (ACCOUNTS schema) ride along as ``.accounts``. Large provinces are generated in
  independent shards of ``shard_size`` transactions (bounded memory: see
  :func:`iter_transaction_shards` and :func:`write_transactions_parquet`).
- :func:`generate_province` — the same province written as 调单 folders in the real layouts
  (see :mod:`chainbreaker.synth.bank_files`) plus ``truth/``.

A shard is a self-contained slice of the province: its own residents, employers, shops, utilities
and gambling groups; account numbers embed the shard number so keys never collide across shards.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from chainbreaker.core.errors import InputError
from chainbreaker.core.model.schemas import ACCOUNTS, MONEY, PERSONS, TRANSACTIONS
from chainbreaker.synth import bank_entities as E
from chainbreaker.synth import bank_life as L
from chainbreaker.synth import bank_ops as O
from chainbreaker.synth.bank_world import (
    CHANNELS,
    KIND_CODE,
    KIND_HAS_IP,
    ROLES_OP,
    SUMMARIES,
    World,
)

MIN_TRANSACTIONS = 5_000
DEFAULT_SHARD_SIZE = 1_000_000

TRUTH_SCHEMA = pa.schema([
    ("account", pa.string()),
    ("role", pa.string()),  # resident | gambler | company | client_company | shop | utility | collection | mule | payout | settlement | cashout_merchant
    ("is_gambling_op", pa.int8()),  # 1 for the fleet's own accounts (collection, mule, payout, settlement)
    ("lookalike", pa.string()),  # payroll | shop | family | utility | "" (legitimate look-alikes)
    ("group_id", pa.string()),  # op-SS-GG for a gambling group; payroll-/shop-/family-/utility- ids
    ("requested", pa.bool_()),  # its statement is in the 调单 (else seen only as a counterparty)
    ("bank", pa.string()),
    ("holder_name", pa.string()),
])


class SynthTables(tuple):
    """``(transactions, truth)`` that also carries ``.accounts`` and ``.persons``.

    Unpacks as a pair (``tx, truth = generate_transactions_table(...)``).
    """

    accounts: pa.Table
    persons: pa.Table

    def __new__(cls, transactions: pa.Table, truth: pa.Table, accounts: pa.Table, persons: pa.Table) -> SynthTables:
        obj = super().__new__(cls, (transactions, truth))
        obj.accounts = accounts
        obj.persons = persons
        return obj

    @property
    def transactions(self) -> pa.Table:
        return self[0]  # type: ignore[no-any-return]

    @property
    def truth(self) -> pa.Table:
        return self[1]  # type: ignore[no-any-return]


@dataclass
class Shard:
    """One generated shard: the world (entities) and its visible, time-ordered transfers."""

    world: World
    seed: int
    index: int
    frm: np.ndarray
    to: np.ndarray
    cents: np.ndarray
    ts: np.ndarray
    kind: np.ndarray
    summary: np.ndarray  # index into the flat summary list
    from_balance: np.ndarray  # cents; only meaningful where the account is requested
    to_balance: np.ndarray
    final_balance: np.ndarray  # per account, cents

    def __len__(self) -> int:
        return len(self.frm)

    @property
    def src_sha256(self) -> str:
        return hashlib.sha256(f"chainbreaker-synth-bank:{self.seed}:{self.index}".encode()).hexdigest()

    @property
    def src_file(self) -> str:
        return f"synth://bank/seed={self.seed}/shard={self.index}"


def _check_n(n_transactions: int) -> None:
    if n_transactions < MIN_TRANSACTIONS:
        raise InputError(
            f"交易笔数至少为 {MIN_TRANSACTIONS:,}（收到 {n_transactions:,}）：太少则无法同时容纳日常生活与赌博团伙。",
            f"At least {MIN_TRANSACTIONS:,} transactions are needed (got {n_transactions:,}) to hold "
            "ordinary life and the gambling groups.",
        )


def build_shard(n: int, seed: int, index: int = 0) -> Shard:
    """Generate ``n`` visible transfers of one shard (exactly ``n``)."""
    _check_n(n)
    rng = np.random.default_rng([seed, index])
    w = World(rng=rng, shard=index)
    res = L.build_residents(w, max(150, n // 55))
    n_groups = max(2, round(n / 400_000))
    O.gambling(w, res, int(n * 0.07), n_groups)
    L.payroll(w, res)
    L.rent(w, res)
    L.utilities(w, res, int(n * 0.06))
    L.families(w, res, int(n * 0.06))
    L.p2p_and_cash(w, res, int(n * 0.08), int(n * 0.025))
    requested = w.accounts.col("requested")
    used = _visible_count(w, requested)
    n_shops, n_sales = L.shops_size(len(res.person), n - used)
    if n_sales < n_shops:
        raise InputError(f"交易笔数 {n:,} 太少，请至少使用 {MIN_TRANSACTIONS:,}。",
                         f"{n:,} transactions are too few; use at least {MIN_TRANSACTIONS:,}.")
    L.shops(w, res, n_shops, n_sales)
    requested = w.accounts.col("requested")
    a = w.ledger.arrays()
    vis = _visible(a["from"], a["to"], requested)
    order = np.argsort(a["ts"][vis], kind="stable")
    frm, to, cents, ts, kind = (a[k][vis][order] for k in ("from", "to", "cents", "ts", "kind"))
    assert len(frm) == n, (len(frm), n)
    fb, tb, final = _balances(frm, to, cents, requested, w.accounts.col("buffer"))
    offsets = np.cumsum([0] + [len(s) for s in SUMMARIES])
    counts = np.array([len(s) for s in SUMMARIES])
    summary = offsets[kind] + rng.integers(0, 1 << 30, size=n) % counts[kind]
    return Shard(w, seed, index, frm, to, cents, ts, kind, summary, fb, tb, final)


def _visible(frm: np.ndarray, to: np.ndarray, requested: np.ndarray) -> np.ndarray:
    to_req = np.where(to >= 0, requested[np.maximum(to, 0)], False)
    return requested[frm] | to_req


def _visible_count(w: World, requested: np.ndarray) -> int:
    a = w.ledger.arrays()
    return int(_visible(a["from"], a["to"], requested).sum())


def _balances(frm: np.ndarray, to: np.ndarray, cents: np.ndarray, requested: np.ndarray,
              buffer: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Running balances of requested accounts, never negative (opening balance covers the lowest point)."""
    n = len(frm)
    # Interleave (from, to) per row so that one sort key (account, position) keeps time order.
    acct = np.empty(2 * n, dtype=np.int64)
    acct[0::2], acct[1::2] = frm, to
    delta = np.empty(2 * n, dtype=np.int64)
    delta[0::2], delta[1::2] = -cents, cents
    pos = np.arange(2 * n, dtype=np.int64)
    keep = (acct >= 0) & requested[np.maximum(acct, 0)]
    acct, delta, pos = acct[keep], delta[keep], pos[keep]
    order = np.argsort(acct * (2 * n) + pos)
    acct, delta, pos = acct[order], delta[order], pos[order]
    row, side = pos // 2, pos % 2
    cum = np.cumsum(delta)
    starts = np.flatnonzero(np.r_[True, acct[1:] != acct[:-1]]) if len(acct) else np.empty(0, dtype=np.int64)
    base = np.zeros(len(acct), dtype=np.int64)
    if len(starts):
        before = np.r_[0, cum[starts[1:] - 1]]
        base = np.repeat(before, np.diff(np.r_[starts, len(acct)]))
    local = cum - base
    opening = np.zeros(len(requested), dtype=np.int64)
    final = np.zeros(len(requested), dtype=np.int64)
    if len(starts):
        lowest = np.minimum.reduceat(local, starts)
        first = acct[starts]
        opening[first] = np.maximum(0, -lowest) + buffer[first]
        final[first] = opening[first] + local[np.r_[starts[1:], len(acct)] - 1]
    opening[~np.isin(np.arange(len(requested)), acct)] = buffer[~np.isin(np.arange(len(requested)), acct)]
    bal = opening[acct] + local
    fb = np.full(n, -1, dtype=np.int64)
    tb = np.full(n, -1, dtype=np.int64)
    fb[row[side == 0]] = bal[side == 0]
    tb[row[side == 1]] = bal[side == 1]
    final = np.where(final == 0, opening, final)
    return fb, tb, final


# ---------------------------------------------------------------- Arrow assembly
def money_array(cents: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Exact DECIMAL(18,2) from integer fen, built from buffers (no per-row Python)."""
    c = np.ascontiguousarray(cents, dtype=np.int64)
    words = np.empty((len(c), 2), dtype=np.int64)
    words[:, 0] = c
    words[:, 1] = np.where(c < 0, -1, 0)
    validity = None
    null_count = 0
    if valid is not None and not valid.all():
        validity = pa.py_buffer(np.packbits(valid.astype(np.uint8), bitorder="little"))
        null_count = int((~valid).sum())
    return pa.Array.from_buffers(MONEY, len(c), [validity, pa.py_buffer(words.tobytes())], null_count=null_count)


def _take(values: pa.Array, idx: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    if valid is None:
        return values.take(pa.array(idx))
    return values.take(pa.array(np.where(valid, idx, 0), mask=~valid))


def transactions_table(sh: Shard) -> pa.Table:
    w, n = sh.world, len(sh)
    acc = w.accounts
    numbers = pa.array(acc.number, pa.string())
    names = pa.array(acc.holder_name, pa.string())
    bank_idx = acc.col("bank")
    bank_names = pa.array([b.name for b in E.ALL_BANKS], pa.string())
    requested = acc.col("requested")
    has_to = sh.to >= 0
    to_i = np.maximum(sh.to, 0)
    serial_body = (np.arange(n, dtype=np.uint64) * np.uint64(6_364_136_227) + np.uint64(sh.seed % 997)) % np.uint64(10**12)
    prefix = f"{sh.seed % 1000:03d}{sh.index % 1000:03d}"
    serial = E.digit_strings(serial_body, 12, prefix)
    txn_id = E.digit_strings(serial_body, 12, "SYN" + prefix)
    from_req = requested[sh.frm]
    to_req = has_to & requested[to_i]
    side = np.where(from_req & to_req, 2, np.where(from_req, 0, 1))
    has_ip = KIND_HAS_IP[sh.kind]
    dev = acc.col("device")[sh.frm]
    is_cash = sh.kind == KIND_CODE["cash"]
    flat_summ = pa.array([s for group in SUMMARIES for s in group], pa.string())
    cols = {
        "txn_id": txn_id,
        "serial_no": serial,
        "from_account": _take(numbers, sh.frm),
        "to_account": _take(numbers, to_i, has_to),
        "from_name": _take(names, sh.frm),
        "to_name": _take(names, to_i, has_to),
        "from_bank": _take(bank_names, bank_idx[sh.frm]),
        "to_bank": _take(bank_names, bank_idx[to_i], has_to),
        "amount": money_array(sh.cents),
        "currency": _take(pa.array(["CNY"]), np.zeros(n, dtype=np.int64)),
        "ts": pa.array(sh.ts, pa.int64()).cast(pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC")),
        "channel": _take(pa.array(CHANNELS, pa.string()), sh.kind.astype(np.int64)),
        "summary": _take(flat_summ, sh.summary),
        "ip": _take(pa.array(w.devices.ip, pa.string()), dev, has_ip),
        "mac": _take(pa.array(w.devices.mac, pa.string()), dev, has_ip),
        "is_cash": pa.array(is_cash),
        "direction_raw": _take(pa.array(["出", "进"]), np.where(from_req, 0, 1)),
        "from_balance": money_array(sh.from_balance, from_req),
        "to_balance": money_array(sh.to_balance, to_req),
        "requested_side": _take(pa.array(["from", "to", "both"]), side),
        "src_sha256": _take(pa.array([sh.src_sha256]), np.zeros(n, dtype=np.int64)),
        "src_file": _take(pa.array([sh.src_file]), np.zeros(n, dtype=np.int64)),
        "src_row": pa.array(np.arange(1, n + 1, dtype=np.int64)),
    }
    return pa.Table.from_pydict(cols, schema=TRANSACTIONS)


def truth_table(sh: Shard) -> pa.Table:
    acc = sh.world.accounts
    is_op = np.array([r in ROLES_OP for r in acc.role], dtype=np.int8)
    return pa.Table.from_pydict({
        "account": acc.number,
        "role": acc.role,
        "is_gambling_op": is_op,
        "lookalike": acc.lookalike,
        "group_id": acc.group_id,
        "requested": acc.col("requested"),
        "bank": [E.ALL_BANKS[b].name for b in acc.col("bank")],
        "holder_name": acc.holder_name,
    }, schema=TRUTH_SCHEMA)


def accounts_table(sh: Shard) -> pa.Table:
    """Requested accounts as the 账户信息 files describe them (ACCOUNTS schema, origin=bank)."""
    w = sh.world
    acc = w.accounts
    req = np.flatnonzero(acc.col("requested"))
    bank = acc.col("bank")[req]
    region = acc.col("region")[req]
    corp = acc.col("is_corp")[req]
    numbers = [acc.number[i] for i in req]
    open_days = acc.col("open_day")[req].astype(np.int64)
    base = (np.datetime64("2026-03-01") - np.datetime64("1970-01-01")).astype(np.int64)
    return pa.Table.from_pydict({
        "account": numbers,
        "account_raw": numbers,
        "card_no": [None if c else a for a, c in zip(numbers, corp, strict=True)],
        "holder_name": [acc.holder_name[i] for i in req],
        "holder_id": [acc.holder_id[i] for i in req],
        "bank": [E.ALL_BANKS[b].name for b in bank],
        "branch": [E.branch_names(E.ALL_BANKS[b], E.REGIONS[r % len(E.REGIONS)][1]) for b, r in zip(bank, region, strict=True)],
        "open_date": pa.array(base + open_days, pa.int32()).cast(pa.date32()),
        "close_date": pa.nulls(len(req), pa.date32()),
        "status": ["正常"] * len(req),
        "balance": money_array(sh.final_balance[req]),
        "last_login_ip": [w.devices.ip[d] for d in acc.col("device")[req]],
        "requested": [True] * len(req),
        "origin": ["bank"] * len(req),
        "src_sha256": [sh.src_sha256] * len(req),
        "src_row": pa.array(np.arange(1, len(req) + 1, dtype=np.int64)),
    }, schema=ACCOUNTS)


def persons_table(sh: Shard) -> pa.Table:
    w = sh.world
    acc = w.accounts
    holders = np.unique(acc.col("holder")[acc.col("requested") & (acc.col("holder") >= 0)])
    p = w.people
    return pa.Table.from_pydict({
        "id_number": [p.id_number[i] for i in holders],
        "name": [p.name[i] for i in holders],
        "phone": [p.phone[i] for i in holders],
        "address": [p.address[i] or None for i in holders],
        "workplace": [p.workplace[i] or None for i in holders],
        "src_sha256": [sh.src_sha256] * len(holders),
        "src_row": pa.array(np.arange(1, len(holders) + 1, dtype=np.int64)),
    }, schema=PERSONS)


# ---------------------------------------------------------------- public API
def shard_sizes(n_transactions: int, shard_size: int = DEFAULT_SHARD_SIZE) -> list[int]:
    _check_n(n_transactions)
    k = max(1, -(-n_transactions // shard_size))
    base = n_transactions // k
    sizes = [base] * k
    sizes[-1] += n_transactions - base * k
    return sizes


def iter_transaction_shards(n_transactions: int, seed: int = 7,
                            shard_size: int = DEFAULT_SHARD_SIZE) -> Iterator[SynthTables]:
    """Yield the province shard by shard; memory stays bounded by one shard."""
    for i, n in enumerate(shard_sizes(n_transactions, shard_size)):
        sh = build_shard(n, seed, i)
        yield SynthTables(transactions_table(sh), truth_table(sh), accounts_table(sh), persons_table(sh))


def generate_transactions_table(n_transactions: int, seed: int = 7,
                                shard_size: int = DEFAULT_SHARD_SIZE) -> SynthTables:
    """The canonical fast path: ``(transactions, truth)`` plus ``.accounts`` / ``.persons``.

    ``transactions`` has exactly ``n_transactions`` rows in the TRANSACTIONS schema, as if every
    requested account's statement had been ingested; ``truth`` has one row per account (requested
    or counterparty-only) with its role and labels.
    """
    parts = list(iter_transaction_shards(n_transactions, seed, shard_size))
    if len(parts) == 1:
        return parts[0]
    return SynthTables(*(pa.concat_tables([p[i] if i < 2 else (p.accounts if i == 2 else p.persons) for p in parts])
                         for i in range(4)))


def write_transactions_parquet(out_dir: Path, n_transactions: int, seed: int = 7,
                               shard_size: int = DEFAULT_SHARD_SIZE) -> dict[str, int]:
    """Stream the fast path to ``out_dir/{transactions,truth,accounts,persons}/part-*.parquet``."""
    import pyarrow.parquet as pq

    out_dir = Path(out_dir)
    counts = {"transactions": 0, "truth": 0, "accounts": 0, "persons": 0}
    for i, part in enumerate(iter_transaction_shards(n_transactions, seed, shard_size)):
        for name, table in (("transactions", part.transactions), ("truth", part.truth),
                            ("accounts", part.accounts), ("persons", part.persons)):
            (out_dir / name).mkdir(parents=True, exist_ok=True)
            pq.write_table(table, out_dir / name / f"part-{i:04d}.parquet")
            counts[name] += table.num_rows
    return counts


# ---------------------------------------------------------------- 调单 folders
@dataclass
class ProvinceTruth:
    """What :func:`generate_province` wrote and the ground truth it knows."""

    out_dir: Path
    statements_dir: Path
    truth_dir: Path
    n_transactions: int
    seed: int
    requests: int
    files: list[dict[str, object]]
    dirty_rows: list[dict[str, object]]
    formatted_amounts: list[dict[str, object]]
    tables: SynthTables

    @property
    def accounts(self) -> pa.Table:
        return self.tables.truth

    @property
    def gambling_accounts(self) -> set[str]:
        t = self.tables.truth.to_pydict()
        return {a for a, op in zip(t["account"], t["is_gambling_op"], strict=True) if op == 1}


def generate_province(out_dir: Path, n_transactions: int = 20000, seed: int = 7,
                      dirty_rate: float = 0.002, shard_size: int = DEFAULT_SHARD_SIZE) -> ProvinceTruth:
    """Generate a province and write it as 调单 folders under ``out_dir/statements/`` plus ``truth/``.

    ``truth/accounts.csv`` (account, role, is_gambling_op, lookalike, group_id, requested, bank,
    holder_name), ``truth/dirty_rows.csv`` (file, row, reason_code, serial_no: rows ingest must
    quarantine), ``truth/formatted_amounts.csv`` (valid amounts such as ``1,234.50元``),
    ``truth/files.csv`` (every file with its layout and encoding) and
    ``truth/transactions.parquet`` (the canonical transfers, for comparing with ingest).
    """
    import csv as _csv

    import pyarrow.parquet as pq

    from chainbreaker.synth.bank_files import write_statements

    out_dir = Path(out_dir)
    statements = out_dir / "statements"
    truth_dir = out_dir / "truth"
    if statements.exists() and any(statements.iterdir()):
        raise InputError(f"{statements} 已存在且非空；请换一个输出目录。",
                         f"{statements} exists and is not empty; choose another output folder.")
    statements.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    files: list[dict[str, object]] = []
    dirty: list[dict[str, object]] = []
    formatted: list[dict[str, object]] = []
    parts = []
    for i, n in enumerate(shard_sizes(n_transactions, shard_size)):
        sh = build_shard(n, seed, i)
        stats = write_statements(sh, statements, seed)
        files += stats.files
        dirty += stats.dirty
        formatted += stats.formatted
        parts.append(SynthTables(transactions_table(sh), truth_table(sh), accounts_table(sh), persons_table(sh)))
    tables = parts[0] if len(parts) == 1 else SynthTables(
        *(pa.concat_tables([p[0] for p in parts]), pa.concat_tables([p[1] for p in parts]),
          pa.concat_tables([p.accounts for p in parts]), pa.concat_tables([p.persons for p in parts])))
    tables.truth.to_pandas().assign(requested=lambda d: d["requested"].astype(int)).to_csv(
        truth_dir / "accounts.csv", index=False)
    for name, rows, cols in (("dirty_rows.csv", dirty, ["file", "row", "reason_code", "serial_no"]),
                             ("formatted_amounts.csv", formatted, ["file", "row", "raw", "serial_no"]),
                             ("files.csv", files, ["file", "kind", "bank", "layout", "encoding", "rows"])):
        with open(truth_dir / name, "w", newline="", encoding="utf-8") as fh:
            writer = _csv.DictWriter(fh, fieldnames=cols)
            writer.writeheader()
            writer.writerows(rows)
    pq.write_table(tables.transactions, truth_dir / "transactions.parquet")
    requests = len({str(f["file"]).split("/")[0] for f in files})
    return ProvinceTruth(out_dir, statements, truth_dir, n_transactions, seed, requests, files, dirty, formatted, tables)
