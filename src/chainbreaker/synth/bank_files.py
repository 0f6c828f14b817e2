"""Write a generated province as 调单 folders in the real layouts, with dirty rows and truth.

Layout per request folder (任务流水号)::

    statements/<任务流水号>/<银行全称>交易明细信息.csv|.xlsx
                          /<银行全称>账户信息.csv
                          /人员信息.csv
    truth/accounts.csv, dirty_rows.csv, formatted_amounts.csv, files.csv, transactions.parquet

Only requested accounts have statements; a transfer between two requested accounts appears in both
statements (same 交易流水号 when both accounts are at the same bank, a different one otherwise).
This writer runs per statement line in Python: meant for demo/test sizes (up to a few hundred
thousand transfers), not for the 10M fast path.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from chainbreaker.synth import bank_entities as E
from chainbreaker.synth.bank_layouts import (
    ACCOUNT_COLUMNS,
    LAYOUTS,
    PERSON_COLUMNS,
    Layout,
    format_row,
    header_cells,
)
from chainbreaker.synth.bank_world import CHANNELS, KIND_CODE, KIND_HAS_IP, SUMMARIES

HOLDERS_PER_REQUEST = 40
BAD = "\x00BAD\x00"  # placeholder replaced by undecodable bytes after encoding
BAD_BYTES = b"\xff\xff"


@dataclass
class FileStats:
    files: list[dict[str, Any]] = field(default_factory=list)
    dirty: list[dict[str, Any]] = field(default_factory=list)
    formatted: list[dict[str, Any]] = field(default_factory=list)


def _local_strings(ts_us: np.ndarray) -> list[str]:
    local = (ts_us + 8 * 3_600_000_000).astype("datetime64[us]").astype("datetime64[s]")
    return [s.replace("T", " ") for s in local.astype(str)]


def _reformat_time(iso: str, fmt: str) -> str:
    if fmt == "%Y-%m-%d %H:%M:%S":
        return iso
    if fmt == "%Y/%m/%d %H:%M:%S":
        return iso.replace("-", "/")
    return iso.replace("-", "").replace(":", "").replace(" ", "")


def statement_lines(sh: Any) -> dict[int, list[dict[str, Any]]]:
    """Per requested account, its statement lines (one per transfer touching it), time-ordered."""
    w = sh.world
    acc = w.accounts
    requested = acc.col("requested")
    bank = acc.col("bank")
    corp = acc.col("is_corp")
    region = acc.col("region")
    device = acc.col("device")
    times = _local_strings(sh.ts)
    flat_summ = [s for group in SUMMARIES for s in group]
    rng = np.random.default_rng([sh.seed, sh.index, 99])
    log_no = rng.integers(10**9, 10**10, size=len(sh))
    cp_id_shown = rng.random(len(sh)) < 0.6
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    serial_base = (np.arange(len(sh), dtype=np.uint64) * np.uint64(6_364_136_227) + np.uint64(sh.seed % 997)) % np.uint64(10**12)
    prefix = f"{sh.seed % 1000:03d}{sh.index % 1000:03d}"
    for i in range(len(sh)):
        f, t, k = int(sh.frm[i]), int(sh.to[i]), int(sh.kind[i])
        serial = f"{prefix}{int(serial_base[i]):012d}"
        ip = w.devices.ip[device[f]] if KIND_HAS_IP[k] else None
        mac = w.devices.mac[device[f]] if KIND_HAS_IP[k] else None
        shop = acc.shop_name[t] if t >= 0 and acc.shop_name[t] else None
        common = {
            "time": times[i], "cents": int(sh.cents[i]), "summary": flat_summ[int(sh.summary[i])],
            "channel": CHANNELS[k], "ip": ip, "mac": mac, "is_cash": k == KIND_CODE["cash"],
            "shop_name": shop, "shop_no": f"8025310{t % 10**8:08d}" if shop else None,
            "log_no": str(log_no[i]), "teller": "EB0001" if ip else "T0301", "txn_index": i,
        }
        for side, own, cp in (("out", f, t), ("in", t, f)):
            if own < 0 or not requested[own]:
                continue
            b = E.ALL_BANKS[bank[own]]
            same_bank = cp >= 0 and bank[cp] == bank[own]
            own_serial = serial if (side == "out" or same_bank or not requested[f]) else f"{b.short[:2]}{serial[2:]}9"
            rec = dict(common)
            rec.update({
                "direction": side, "own_acct": acc.number[own], "own_name": acc.holder_name[own],
                "own_id": acc.holder_id[own], "own_is_corp": bool(corp[own]),
                "balance": int(sh.from_balance[i] if side == "out" else sh.to_balance[i]),
                "cp_acct": acc.number[cp] if cp >= 0 else None, "cp_name": acc.holder_name[cp] if cp >= 0 else None,
                "cp_id": acc.holder_id[cp] if cp >= 0 and cp_id_shown[i] and not corp[cp] else None,
                "cp_bank": E.ALL_BANKS[bank[cp]].name if cp >= 0 else None, "serial": own_serial,
                "branch": f"{b.name}{E.REGIONS[region[own] % len(E.REGIONS)][1]}支行" if not ip else "手机银行",
                "branch_code": f"{b.short}{region[own]:03d}" if not ip else None,
                "place": E.REGIONS[region[own] % len(E.REGIONS)][1],
                "terminal": f"ATM{own % 10000:04d}" if k == KIND_CODE["cash"] else None,
            })
            lines[own].append(rec)
    return lines


def assign_requests(sh: Any, seed: int) -> dict[int, str]:
    """Requested account -> 任务流水号 (one request per batch of holders)."""
    acc = sh.world.accounts
    req = np.flatnonzero(acc.col("requested"))
    holder = acc.col("holder")[req]
    key = np.where(holder >= 0, holder, -1 - req)
    uniq = np.unique(key)
    rng = np.random.default_rng([seed, sh.index, 7])
    rng.shuffle(uniq)
    request_of_key = {int(k): i // HOLDERS_PER_REQUEST for i, k in enumerate(uniq)}
    return {int(a): f"2026090{5 + sh.index % 4}{sh.index:02d}{request_of_key[int(k)]:06d}"
            for a, k in zip(req, key, strict=True)}


class DirtyPlan:
    """Decides which rows get damaged (at ``rate``), guaranteeing at least one of each kind."""

    KINDS = ("bad_bytes", "time_impossible", "amount_invalid", "formatted_amount")

    def __init__(self, rng: np.random.Generator, rate: float) -> None:
        self.rng = rng
        self.rate = rate
        self.done: set[str] = set()

    def pick(self, n_rows: int, encodable_bad: bool) -> dict[int, str]:
        kinds = [k for k in self.KINDS if encodable_bad or k != "bad_bytes"]
        k = int(self.rng.binomial(n_rows, self.rate)) if n_rows > 2 else 0
        missing = [x for x in kinds if x not in self.done]
        if missing and n_rows > 4:
            k = max(k, 1)
        rows = self.rng.choice(max(n_rows - 1, 1), size=min(k, max(n_rows - 1, 0)), replace=False)
        out: dict[int, str] = {}
        for j, r in enumerate(sorted(int(x) for x in rows)):
            kind = missing[j] if j < len(missing) else kinds[int(self.rng.integers(0, len(kinds)))]
            out[r] = kind
            self.done.add(kind)
        return out


def damage(lay: Layout, cells: list[str], kind: str) -> tuple[list[str], str | None, str | None]:
    """Apply one kind of damage; returns (cells, quarantine reason or None, raw amount text)."""
    cells = list(cells)
    h = lay.header
    tab = "\t" if lay.tabs else ""
    if kind == "bad_bytes":
        col = h.index("摘要说明" if "摘要说明" in h else "摘要")
        cells[col] = "转" + BAD + "账" + tab
        return cells, "bad_bytes", None
    if kind == "time_impossible":
        col = h.index("交易时间")
        raw = cells[col].rstrip("\t")
        if lay.time_format == "%Y%m%d%H%M%S":
            cells[col] = raw[:4] + "0230" + raw[8:] + tab
        else:
            sep = raw[4]
            cells[col] = f"{raw[:4]}{sep}02{sep}30{raw[10:]}" + tab
        return cells, "time_impossible", None
    if lay.kind == "split":
        out_cell = cells[h.index("支出")].strip("\t")
        amount_col = h.index("支出") if out_cell not in ("", lay.null) else h.index("存入")
    else:
        amount_col = h.index("交易金额")
    raw = cells[amount_col].rstrip("\t")
    if kind == "amount_invalid":
        cells[amount_col] = raw.replace("0", "O").replace("1", "l") + "#" + tab
        return cells, "amount_invalid", None
    # formatted_amount: thousands separator and 元 — valid, must be parsed, not quarantined.
    neg = raw.startswith("-")
    whole, frac = raw.lstrip("-").split(".")
    text = ("-" if neg else "") + f"{int(whole):,}.{frac}元"
    cells[amount_col] = text + tab
    return cells, None, text


_MONEY_TEXT = re.compile(r"-?\d{1,13}\.\d{2}")


def _as_datetime(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def _encode_csv(rows: list[list[str]], encoding: str) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    data = buf.getvalue().encode(encoding, errors="replace")
    return data.replace(BAD.encode(encoding), BAD_BYTES)


def _write_table(path: Path, lay: Layout, header: list[str], rows: list[list[str]],
                 truncate_last: bool = False) -> None:
    """Write one file in the bank's encoding; optionally cut the last line short (no newline)."""
    if lay.encoding == "xlsx":
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
        ws = wb.add_worksheet("交易明细")
        time_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        # As Excel exports do: times as date cells, amounts as numbers, account numbers as text.
        # Damaged values (impossible dates, unparseable or formatted amounts) stay text.
        time_cols = {i for i, h in enumerate(header) if h == "交易时间"}
        money_cols = {i for i, h in enumerate(header) if h in ("支出", "存入", "余额", "交易金额", "账户余额")}
        r = 0
        for title in lay.title_rows:
            ws.write_string(r, 0, title)
            r += 1
        ws.write_row(r, 0, header)
        r += 1
        for row in rows:
            for c, v in enumerate(row):
                if v == "":
                    continue
                if c in time_cols and (when := _as_datetime(v)) is not None:
                    ws.write_datetime(r, c, when, time_fmt)
                elif c in money_cols and _MONEY_TEXT.fullmatch(v):
                    ws.write_number(r, c, float(v))
                else:
                    ws.write_string(r, c, v)
            r += 1
        wb.close()
        return
    data = _encode_csv([header, *rows], lay.encoding)
    if truncate_last and rows:
        enc = lay.encoding.replace("-sig", "")  # no BOM on a fragment
        last = _encode_csv([rows[-1]], enc)
        keep = _encode_csv([rows[-1][: max(3, len(rows[-1]) // 3)]], enc).rstrip(b"\r\n")
        data = data[: len(data) - len(last)] + keep
    path.write_bytes(data)


def write_statements(sh: Any, statements_dir: Path, seed: int, dirty_rate: float = 0.002) -> FileStats:
    """Write every request folder of shard ``sh``; returns file list and dirty-row truth."""
    acc = sh.world.accounts
    people = sh.world.people
    bank = acc.col("bank")
    region = acc.col("region")
    lines = statement_lines(sh)
    request_of = assign_requests(sh, seed)
    rng = np.random.default_rng([seed, sh.index, 13])
    plan = DirtyPlan(rng, dirty_rate)
    stats = FileStats()
    by_file: dict[tuple[str, str], list[int]] = defaultdict(list)
    for a in sorted(request_of):
        by_file[(request_of[a], E.ALL_BANKS[bank[a]].name)].append(a)
    persons_of_request: dict[str, set[int]] = defaultdict(set)
    for a, req_no in request_of.items():
        h = int(acc.col("holder")[a])
        if h >= 0:
            persons_of_request[req_no].add(h)
    truncate_every = 9
    for n_file, ((req, bank_name), accounts) in enumerate(sorted(by_file.items())):
        lay = LAYOUTS[bank_name]
        folder = statements_dir / req
        folder.mkdir(parents=True, exist_ok=True)
        # 账户信息
        acc_rows = []
        for a in accounts:
            b = E.ALL_BANKS[bank[a]]
            open_date = (np.datetime64("2026-03-01") + int(acc.col("open_day")[a])).astype(str)
            acc_rows.append([lay.null if v in (None, "") else str(v) for v in (
                acc.holder_name[a], acc.holder_id[a], None if acc.col("is_corp")[a] else acc.number[a],
                acc.number[a] + lay.suffix, E.branch_names(b, E.REGIONS[region[a] % len(E.REGIONS)][1]), open_date,
                None, "正常", f"{sh.final_balance[a] / 100:.2f}", lay.currency,
                sh.world.devices.ip[acc.col("device")[a]],
                people.phone[acc.col("holder")[a]] if acc.col("holder")[a] >= 0 else None, "成功")])
        acc_lay = lay if lay.encoding != "xlsx" else Layout("std34", "gb18030", "\\N")
        acc_path = folder / f"{bank_name}账户信息.csv"
        _write_table(acc_path, acc_lay, header_cells(acc_lay, ACCOUNT_COLUMNS),
                     [[c + ("\t" if acc_lay.tabs else "") for c in r] for r in acc_rows])
        stats.files.append({"file": f"{req}/{acc_path.name}", "kind": "accounts", "bank": bank_name,
                            "layout": "accounts", "encoding": acc_lay.encoding, "rows": len(acc_rows)})
        # 交易明细
        rows: list[list[str]] = []
        serials: list[str] = []
        for a in accounts:
            for rec in lines.get(a, []):
                rec = dict(rec, time=_reformat_time(rec["time"], lay.time_format))
                empty = 0
                if lay.empty_card_share and rng.random() < lay.empty_card_share:
                    empty = 1 + int(rng.integers(0, 2))
                rows.append(format_row(lay, rec, empty))
                serials.append(rec["serial"])
        if not rows:
            continue
        text_csv = lay.encoding in ("gb18030", "gbk")
        first_line = 1 + len(lay.title_rows) + 1  # 1-based line/row of the first data row
        rel = f"{req}/{bank_name}交易明细信息{lay.extension}"
        for ri, kind in plan.pick(len(rows), text_csv).items():
            rows[ri], reason, raw = damage(lay, rows[ri], kind)
            entry = {"file": rel, "row": first_line + ri, "serial_no": serials[ri]}
            if reason:
                stats.dirty.append({**entry, "reason_code": reason})
            else:
                stats.formatted.append({**entry, "raw": raw})
        truncate = lay.extension == ".csv" and n_file % truncate_every == 4 and len(rows) > 3
        if truncate:
            stats.dirty.append({"file": rel, "row": first_line + len(rows) - 1, "reason_code": "too_few_fields",
                                "serial_no": serials[-1]})
        _write_table(folder / f"{bank_name}交易明细信息{lay.extension}", lay, header_cells(lay, lay.header), rows,
                     truncate_last=truncate)
        stats.files.append({"file": rel, "kind": "transactions", "bank": bank_name, "layout": lay.kind,
                            "encoding": lay.encoding, "rows": len(rows)})
    # 人员信息 per request
    for req, persons in sorted(persons_of_request.items()):
        rows = [[people.name[p], "居民身份证", people.id_number[p], people.phone[p], people.address[p] or "\\N",
                 people.workplace[p] or "\\N", "成功"] for p in sorted(persons)]
        lay = Layout("std34", "gb18030", "\\N")
        _write_table(statements_dir / req / "人员信息.csv", lay, list(PERSON_COLUMNS), rows)
        stats.files.append({"file": f"{req}/人员信息.csv", "kind": "persons", "bank": "", "layout": "persons",
                            "encoding": "gb18030", "rows": len(rows)})
    return stats
