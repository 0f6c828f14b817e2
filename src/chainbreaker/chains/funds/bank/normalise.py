"""Turn one opened file into canonical rows, batch by batch, in DuckDB.

A transfer-layout file (statement or edge list) becomes *legs*: one row per source row with the
transfer normalised to ``from_account → to_account`` and ``side`` saying whose record it is
(``from``: the payer's statement, ``to``: the payee's, ``both``: a ledger that shows both parties).
Legs are de-duplicated into transfers later (``dedup.py``). Rejected rows come back with a reason.

Identifier columns become keys with Arrow kernels (accounts) or once per distinct value (ID
numbers, IP, MAC), see ``keys.py``; direction codes are mapped once per distinct code; amounts and
times are parsed by DuckDB macros.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chainbreaker.chains.funds.bank.cellbytes import repeat_text
from chainbreaker.chains.funds.bank.directions import map_codes
from chainbreaker.chains.funds.bank.keys import account_keys, id_keys, ip_keys, mac_keys, phone_keys
from chainbreaker.chains.funds.bank.sqlparse import NEGATIVE_MARKS
from chainbreaker.core.ingest.longlines import MAX_LINE_BYTES, LongLine
from chainbreaker.core.ingest.mapping import Mapping
from chainbreaker.core.model.schemas import MONEY, TS
from chainbreaker.core.sql import ident, lit

LEGS = pa.schema([
    ("serial_no", pa.string()),
    ("from_account", pa.string()),
    ("to_account", pa.string()),
    ("from_raw", pa.string()),
    ("to_raw", pa.string()),
    ("from_name", pa.string()),
    ("to_name", pa.string()),
    ("from_id", pa.string()),
    ("to_id", pa.string()),
    ("from_bank", pa.string()),
    ("to_bank", pa.string()),
    ("amount", MONEY),
    ("currency", pa.string()),
    ("ts", TS),
    ("channel", pa.string()),
    ("summary", pa.string()),
    ("ip", pa.string()),
    ("mac", pa.string()),
    ("is_cash", pa.bool_()),
    ("direction_raw", pa.string()),
    ("from_balance", MONEY),
    ("to_balance", MONEY),
    ("side", pa.string()),
    ("own_card", pa.string()),  # statement subject: card number and account number, when both known
    ("own_acct", pa.string()),
    ("src_sha256", pa.string()),
    ("src_file", pa.string()),
    ("src_row", pa.int64()),
])

ACCOUNT_ROWS = pa.schema([
    ("account", pa.string()), ("account_raw", pa.string()), ("card_no", pa.string()),
    ("acct_no", pa.string()), ("holder_name", pa.string()), ("holder_id", pa.string()),
    ("bank", pa.string()), ("branch", pa.string()), ("open_date", pa.date32()),
    ("close_date", pa.date32()), ("status", pa.string()), ("balance", MONEY),
    ("last_login_ip", pa.string()), ("src_sha256", pa.string()), ("src_row", pa.int64()),
])

PERSON_ROWS = pa.schema([
    ("id_number", pa.string()), ("name", pa.string()), ("phone", pa.string()), ("address", pa.string()),
    ("workplace", pa.string()), ("src_sha256", pa.string()), ("src_row", pa.int64()),
])

FAILED_TOKENS = ("失败", "否", "N", "NO", "FALSE", "F", "FAIL", "FAILED", "不成功", "撤销", "冲正失败")
CASH_TOKENS = ("现金", "现", "是", "Y", "YES", "TRUE", "CASH", "1")
CURRENCY = {"人民币": "CNY", "RMB": "CNY", "CNY": "CNY", "156": "CNY", "01": "CNY", "本币": "CNY", "元": "CNY",
            "美元": "USD", "USD": "USD", "840": "USD", "14": "USD", "港币": "HKD", "港元": "HKD", "HKD": "HKD",
            "344": "HKD", "欧元": "EUR", "EUR": "EUR", "978": "EUR", "日元": "JPY", "JPY": "JPY",
            "澳门元": "MOP", "MOP": "MOP", "泰铢": "THB", "THB": "THB", "USDT": "USDT"}
_META = ("_row", "_bad", "_extra", "_short")
# the fields whose columns the statement query reads (``Normaliser.col`` in ``_statement``)
_STATEMENT_SQL_FIELDS = ("direction", "ts", "ts_date", "amount", "out_amount", "in_amount", "cash", "balance",
                         "cp_balance", "success")
_NEGATIVE = "[" + re.escape(NEGATIVE_MARKS) + "]"  # a character that may make an amount negative


@dataclass
class FileContext:
    file_name: str
    sha256: str
    bank: str | None
    direction_map: dict[str, str]
    default_currency: str | None = "CNY"


@dataclass
class Rejected:
    row: int
    reason: str
    raw: dict[str, Any]
    detail: str | None = None


@dataclass
class FileResult:
    legs: list[pa.Table] = field(default_factory=list)
    accounts: list[pa.Table] = field(default_factory=list)
    persons: list[pa.Table] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    unknown_codes: dict[str, int] = field(default_factory=dict)
    rows_read: int = 0
    rows_kept: int = 0

    def reject_long_lines(self, lines: list[LongLine]) -> None:
        """Quarantine the lines the reader set aside as too long (``line_too_long``), in line order."""
        for long in lines:
            self.rows_read += 1
            self.rejected.append(Rejected(long.line, "line_too_long", {"_preview": long.preview, "_bytes": long.size},
                                          f"该行 {long.size / 2**20:.1f} MiB，超过 {MAX_LINE_BYTES // 2**20} MiB 上限"))
        self.rejected.sort(key=lambda r: r.row)


def _in_list(tokens: tuple[str, ...]) -> str:
    return "(" + ", ".join(lit(t) for t in tokens) + ")"


class Normaliser:
    """Normalises the batches of one file of a known layout."""

    def __init__(self, con: duckdb.DuckDBPyConnection, layout: str, mapping: Mapping, ctx: FileContext, *,
                 leg_sink: Callable[[pa.Table], None] | None = None) -> None:
        self.con = con
        self.layout = layout
        self.mapping = mapping
        self.ctx = ctx
        self.result = FileResult()
        self.leg_sink = leg_sink  # receives kept legs batch by batch instead of keeping them in memory

    # ------------------------------------------------------------------ helpers
    def col(self, fld: str) -> str:
        name = self.mapping.get(fld)
        return f"b.{ident(name)}" if name else "NULL::VARCHAR"

    def has(self, fld: str) -> bool:
        return self.mapping.get(fld) is not None

    def _clean_col(self, batch: pa.RecordBatch, fld: str, keys: Callable[[pa.Array], pa.Array] = account_keys) -> pa.Array:
        """The canonical keys of a field's column (account numbers unless ``keys`` says otherwise)."""
        name = self.mapping.get(fld)
        if name is None:
            return pa.nulls(batch.num_rows, pa.string())
        return keys(batch.column(name))

    def _id_keys(self, batch: pa.RecordBatch, fld: str, type_fld: str) -> pa.Array:
        """证件号码 keys of ``fld``, read with the 证件类型 column ``type_fld`` when the file has one."""
        name, type_name = self.mapping.get(fld), self.mapping.get(type_fld)
        if name is None:
            return pa.nulls(batch.num_rows, pa.string())
        return id_keys(batch.column(name), batch.column(type_name) if type_name else None)

    def _ident_aux(self, batch: pa.RecordBatch, **fields: str) -> dict[str, pa.Array]:
        """Aux columns ``__<alias>`` of identifier keys; kinds: id, ip, mac (accounts use _clean_col)."""
        kinds = {"id": id_keys, "ip": ip_keys, "mac": mac_keys, "phone": phone_keys}
        return {f"__{alias}": self._clean_col(batch, fld, kinds[alias.split("_")[-1]]) for alias, fld in fields.items()}

    def _currency_sql(self, fld: str = "currency", column: str | None = None) -> str:
        """The currency code of the field ``fld`` (or of the SQL ``column``)."""
        value = column or self.col(fld)
        cases = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in CURRENCY.items())
        default = lit(self.ctx.default_currency)
        return f"coalesce(CASE upper(trim({value})) {cases} ELSE upper(trim({value})) END, {default})"

    def _currencies(self, batch: pa.RecordBatch) -> pa.Array:
        """:meth:`_currency_sql` of every row, evaluated once per distinct value (a statement has a
        few; per row the CASE cost ~15% of the statement query)."""
        name = self.mapping.get("currency")
        if name is None:
            return repeat_text(self.ctx.default_currency, batch.num_rows)
        enc = pc.dictionary_encode(batch.column(name))
        self.con.register("cb_currency", pa.table({"i": pa.array(np.arange(len(enc.dictionary), dtype=np.int64)),
                                                   "c": enc.dictionary}))
        try:
            codes = self.con.sql(f"SELECT {self._currency_sql(column='c')} FROM cb_currency ORDER BY i"
                                 ).to_arrow_table().column(0).combine_chunks()
        finally:
            self.con.unregister("cb_currency")
        out = pc.take(codes, enc.indices)
        if out.null_count and self.ctx.default_currency is not None:  # a null cell: coalesce(NULL, default)
            out = pc.fill_null(out, pa.scalar(self.ctx.default_currency, pa.string()))
        return out

    def _summary(self, batch: pa.RecordBatch) -> pa.Array:
        """``nullif(concat_ws(' | ', 摘要, 备注, 商户), '')``: nulls skipped, an empty result null.

        Statements usually fill one of the three columns: that column is the summary, made in
        Arrow. (pyarrow's ``binary_join_element_wise`` with ``null_handling="skip"`` drops the
        rows where every part is null, so two or more filled columns are joined by DuckDB.)"""
        parts = [batch.column(name) for fld in ("summary", "remark", "merchant")
                 if (name := self.mapping.get(fld)) is not None]
        filled = [p for p in parts if p.null_count < len(p)]
        if not filled:
            return pa.nulls(batch.num_rows, pa.string())
        if len(filled) == 1:
            return pc.if_else(pc.equal(filled[0], ""), pa.scalar(None, pa.string()), filled[0])
        names = [f"p{i}" for i in range(len(filled))]
        self.con.register("cb_summary", pa.table([*filled, pa.array(np.arange(batch.num_rows, dtype=np.int64))],
                                                 names=[*names, "i"]))
        try:
            return self.con.sql(f"SELECT nullif(concat_ws(' | ', {', '.join(names)}), '') FROM cb_summary ORDER BY i"
                                ).to_arrow_table().column(0).combine_chunks()
        finally:
            self.con.unregister("cb_summary")

    def _direction_table(self, batch: pa.RecordBatch) -> pa.Table:
        name = self.mapping.get("direction")
        if name is None:
            return pa.table({"code": pa.array([], pa.string()), "dir": pa.array([], pa.string())})
        codes = [c for c in pc.unique(batch.column(name)).to_pylist() if c is not None]
        extra = self.mapping.values.get("direction") or {}
        mapping = dict(self.ctx.direction_map)
        for k, v in extra.items():
            if str(v).lower() in ("out", "in"):
                mapping[str(k).strip().upper()] = str(v).lower()
        return pa.table({"code": pa.array(codes, pa.string()), "dir": pa.array(map_codes(codes, mapping), pa.string())})

    # -------------------------------------------------------------------- driver
    def feed(self, batches: Iterator[pa.RecordBatch]) -> FileResult:
        last_row = 0
        pending_short: list[Rejected] = []
        for batch in batches:
            if batch.num_rows == 0:
                continue
            self.result.rows_read += batch.num_rows
            last_row = max(last_row, int(pc.max(batch.column("_row")).as_py()))
            if self.layout == "statement":
                out = self._statement(batch)
            elif self.layout == "edges":
                out = self._edges(batch)
            elif self.layout == "accounts":
                out = self._accounts(batch)
            else:
                out = self._persons(batch)
            self._split(batch, out, pending_short)
        for rej in pending_short:
            if rej.row == last_row:
                rej.detail = "文件最后一行不完整，文件可能被截断"
        return self.result

    def _split(self, batch: pa.RecordBatch, out: pa.Table, pending_short: list[Rejected]) -> None:
        reasons = out.column("_reason")
        bad_mask = pc.is_valid(reasons)
        kept = out.drop_columns(["_reason", "_detail"])
        if reasons.null_count < len(reasons):  # a filter copies every column: only when a row goes
            kept = kept.filter(pc.invert(bad_mask))
        self.result.rows_kept += kept.num_rows
        if kept.num_rows and self.leg_sink is not None and self.layout in ("statement", "edges"):
            self.leg_sink(kept)
        elif kept.num_rows:
            target = {"statement": self.result.legs, "edges": self.result.legs,
                      "accounts": self.result.accounts, "persons": self.result.persons}[self.layout]
            target.append(kept)
        if pc.any(bad_mask).as_py():
            idx = pc.indices_nonzero(bad_mask)
            originals = batch.select([n for n in batch.schema.names if n not in _META]).take(idx).to_pylist()
            rows = batch.column("_row").take(idx).to_pylist()
            extras = batch.column("_extra").take(idx).to_pylist()
            why = reasons.take(idx).to_pylist()
            details = out.column("_detail").take(idx).to_pylist()
            for raw, row, extra, reason, detail in zip(originals, rows, extras, why, details, strict=True):
                raw = {k: v for k, v in raw.items() if v is not None}
                if extra:
                    raw["_extra"] = extra
                rej = Rejected(int(row), str(reason), raw, detail)
                if reason == "direction_unknown" and detail:
                    self.result.unknown_codes[detail] = self.result.unknown_codes.get(detail, 0) + 1
                if reason == "too_few_fields":
                    pending_short.append(rej)
                self.result.rejected.append(rej)

    # ------------------------------------------------------------ common reasons
    def _row_reason(self) -> str:
        return """CASE WHEN b._bad THEN 'bad_bytes'
                       WHEN b._extra IS NOT NULL THEN 'too_many_fields'
                       WHEN b._short THEN 'too_few_fields' END"""

    def _ts_text(self) -> str:
        ts = self.col("ts")
        if self.has("ts_date"):
            d = self.col("ts_date")
            return (f"CASE WHEN {ts} IS NULL THEN {d} "
                    f"WHEN regexp_matches({ts}, '^\\d{{1,2}}:?\\d{{2}}:?\\d{{2}}$') THEN {d} || ' ' || {ts} "
                    f"ELSE {ts} END")
        return ts

    def _meta_sql(self) -> str:
        return (f"{lit(self.ctx.sha256)} AS src_sha256, {lit(self.ctx.file_name)} AS src_file, "
                "b._row AS src_row")

    # ----------------------------------------------------------------- statement
    def _statement(self, batch: pa.RecordBatch) -> pa.Table:
        card = self._clean_col(batch, "own_card")
        acct = self._clean_col(batch, "own_acct")
        cp = self._clean_col(batch, "cp_account")
        b = _with_columns(batch, {"__card": card, "__acct": acct, "__cp": cp,
                                  **self._ident_aux(batch, own_id="own_id", cp_id="cp_id", ip="ip", mac="mac")})
        dm = self._direction_table(batch)
        # only the columns the query reads: binding ``b.*`` of a 34-column statement through two CTEs
        # cost ~6 ms per query (its planning is ~20 ms of ~80 for 50k rows)
        used = {self.mapping.get(f) for f in _STATEMENT_SQL_FIELDS} | {*_META, "__card", "__acct", "__i"}
        self.con.register("b_raw", b.select([n for n in b.column_names if n in used]))
        self.con.register("dm", dm)
        try:
            amount_col = self.col("amount")
            out_c, in_c = self.col("out_amount"), self.col("in_amount")
            out_name = lit(self.mapping.get("out_amount"))
            in_name = lit(self.mapping.get("in_amount"))
            sql = f"""
            WITH s AS (
              SELECT b.*, dm.dir AS __dir,
                     {self.col('direction')} AS __dir_raw,
                     {self._ts_text()} AS __ts_text, cb_ts({self._ts_text()}) AS __ts,
                     cb_amt({amount_col}) AS __amt, cb_amt({out_c}) AS __out, cb_amt({in_c}) AS __in,
                     -- amounts are signed when any amount of the batch is negative
                     {self._signed_sql(batch)} AS __signed
              FROM b_raw b
              LEFT JOIN dm ON dm.code = {self.col('direction')}
            ), v AS (
              SELECT s.*,
                coalesce(s.__card, s.__acct) AS __own,
                CASE WHEN s.__amt IS NOT NULL THEN s.__amt
                     WHEN s.__out IS NOT NULL AND s.__out <> 0 THEN s.__out
                     WHEN s.__in IS NOT NULL AND s.__in <> 0 THEN s.__in
                     ELSE coalesce(s.__out, s.__in) END AS __value,
                CASE WHEN s.__dir IS NOT NULL THEN s.__dir
                     WHEN s.__dir_raw IS NOT NULL THEN NULL
                     WHEN s.__amt IS NULL AND s.__out IS NOT NULL AND s.__out <> 0 THEN 'out'
                     WHEN s.__amt IS NULL AND s.__in IS NOT NULL AND s.__in <> 0 THEN 'in'
                     WHEN s.__amt < 0 THEN 'out'
                     WHEN s.__amt > 0 AND s.__signed THEN 'in' END AS __direction,
                coalesce(s.__dir_raw,
                  CASE WHEN s.__amt IS NULL AND s.__out IS NOT NULL AND s.__out <> 0 THEN {out_name}
                       WHEN s.__amt IS NULL AND s.__in IS NOT NULL AND s.__in <> 0 THEN {in_name}
                       WHEN s.__amt < 0 THEN '-' END) AS __direction_raw
              FROM s
            )
            SELECT
              coalesce(__direction = 'out', false) AS __is_out,
              CAST(abs(__value) AS DECIMAL(18, 2)) AS amount,
              __ts AS ts,
              CASE WHEN {self.col('cash')} IS NULL THEN NULL
                   ELSE upper(trim({self.col('cash')})) IN {_in_list(CASH_TOKENS)} END AS is_cash,
              __direction_raw AS direction_raw,
              CASE WHEN __direction = 'out' THEN cb_amt({self.col('balance')}) ELSE cb_amt({self.col('cp_balance')}) END AS from_balance,
              CASE WHEN __direction = 'out' THEN cb_amt({self.col('cp_balance')}) ELSE cb_amt({self.col('balance')}) END AS to_balance,
              b._row AS src_row,
              coalesce({self._row_reason()},
                CASE WHEN __own IS NULL THEN 'account_missing' END,
                cb_ts_why(__ts_text, __ts),
                CASE WHEN __value IS NULL THEN
                     CASE WHEN {amount_col} IS NULL AND {out_c} IS NULL AND {in_c} IS NULL THEN 'amount_missing'
                          ELSE 'amount_invalid' END END,
                CASE WHEN __value = 0 THEN 'amount_zero' END,
                CASE WHEN __direction IS NULL THEN 'direction_unknown' END,
                CASE WHEN upper(trim({self.col('success')})) IN {_in_list(FAILED_TOKENS)} THEN 'txn_failed' END
              ) AS _reason,
              CASE WHEN __direction IS NULL AND __dir_raw IS NOT NULL
                   THEN {lit(self.ctx.bank or '（未知银行）')} || '：' || __dir_raw END AS _detail,
              b.__i
            FROM v b
            """
            out = _in_input_order(self.con.sql(sql).to_arrow_table())
        finally:
            for name in ("b_raw", "dm"):
                self.con.unregister(name)
        return self._oriented(batch, out, card, acct, cp, b)

    def _signed_sql(self, batch: pa.RecordBatch) -> str:
        """Whether any amount of the batch is negative: ``false`` without a window over the batch
        when no amount text holds a character that ``cb_amt`` reads as a minus (``-``, ``－``, or
        the ``(`` of ``(12.50)``: ``sqlparse.NEGATIVE_MARKS``), as in statements with a direction column."""
        name = self.mapping.get("amount")
        if name is None or not pc.any(pc.match_substring_regex(batch.column(name), _NEGATIVE)).as_py():
            return "false"
        return f"coalesce(bool_or(cb_amt({self.col('amount')}) < 0) OVER (), false)"

    def _oriented(self, batch: pa.RecordBatch, out: pa.Table, card: pa.Array, acct: pa.Array, cp: pa.Array,
                  b: pa.Table) -> pa.Table:
        """The statement's legs: ``out`` (what DuckDB computed, in batch order) with the columns that
        are only the own or the counterparty's side swapped by direction in Arrow (from = own when the
        row is out, else the counterparty), the columns taken as they are from the batch, and the
        currency and summary, made in Arrow.

        Sending these ten string columns through DuckDB and back cost about 40% of the query."""
        n = batch.num_rows
        is_out = out.column("__is_out")
        own = pc.coalesce(card, acct)

        def raw(fld: str) -> pa.Array:
            name = self.mapping.get(fld)
            return batch.column(name) if name else pa.nulls(n, pa.string())

        def const(value: str | None) -> pa.Array:
            return repeat_text(value, n)

        own_raw = pc.coalesce(raw("own_card"), raw("own_acct"))
        pairs = {"account": (own, cp), "raw": (own_raw, raw("cp_account")), "name": (raw("own_name"), raw("cp_name")),
                 "id": (b.column("__own_id"), b.column("__cp_id")), "bank": (const(self.ctx.bank), raw("cp_bank"))}
        cols: dict[str, Any] = {"serial_no": raw("serial")}
        for what, (mine, theirs) in pairs.items():
            cols[f"from_{what}"] = pc.if_else(is_out, mine, theirs)
            cols[f"to_{what}"] = pc.if_else(is_out, theirs, mine)
        cols.update(channel=raw("channel"), ip=b.column("__ip"), mac=b.column("__mac"),
                    currency=self._currencies(batch), summary=self._summary(batch),
                    side=pc.if_else(is_out, pa.scalar("from"), pa.scalar("to")), own_card=own, own_acct=pc.coalesce(acct, card),
                    src_sha256=const(self.ctx.sha256), src_file=const(self.ctx.file_name))
        names = _with_reason(LEGS).names
        arrays = [cols[c] if c in cols else out.column(c) for c in names]
        return pa.Table.from_arrays(arrays, names=names).cast(_with_reason(LEGS))

    # --------------------------------------------------------------------- edges
    def _edges(self, batch: pa.RecordBatch) -> pa.Table:
        frm = self._clean_col(batch, "from_account")
        to = self._clean_col(batch, "to_account")
        fcard = self._clean_col(batch, "from_card")
        tcard = self._clean_col(batch, "to_card")
        query = self._clean_col(batch, "query_account")
        b = _with_columns(batch, {"__from": pc.coalesce(frm, fcard), "__to": pc.coalesce(to, tcard), "__q": query,
                                  **self._ident_aux(batch, ip="ip", mac="mac")})
        self.con.register("b_raw", b)
        try:
            from_raw = f"coalesce({self.col('from_account')}, {self.col('from_card')})"
            to_raw = f"coalesce({self.col('to_account')}, {self.col('to_card')})"
            sql = f"""
            WITH s AS (
              SELECT b.*, cb_amt({self.col('amount')}) AS __value,
                     {self._ts_text()} AS __ts_text, cb_ts({self._ts_text()}) AS __ts
              FROM b_raw b
            )
            SELECT
              {self.col('serial')} AS serial_no,
              __from AS from_account, __to AS to_account,
              {from_raw} AS from_raw, {to_raw} AS to_raw,
              {self.col('from_name')} AS from_name, {self.col('to_name')} AS to_name,
              NULL::VARCHAR AS from_id, NULL::VARCHAR AS to_id,
              NULL::VARCHAR AS from_bank, NULL::VARCHAR AS to_bank,
              CAST(abs(__value) AS DECIMAL(18, 2)) AS amount,
              {self._currency_sql()} AS currency,
              __ts AS ts,
              {self.col('channel')} AS channel,
              {self.col('summary')} AS summary,
              __ip AS ip,
              __mac AS mac,
              NULL::BOOLEAN AS is_cash,
              {self.col('direction')} AS direction_raw,
              CASE WHEN __q IS NOT NULL AND __q = __from THEN cb_amt({self.col('balance')}) END AS from_balance,
              CASE WHEN __q IS NOT NULL AND __q = __to THEN cb_amt({self.col('balance')}) END AS to_balance,
              CASE WHEN __q IS NULL THEN 'both' WHEN __q = __from THEN 'from' WHEN __q = __to THEN 'to'
                   ELSE 'both' END AS side,
              NULL::VARCHAR AS own_card, NULL::VARCHAR AS own_acct,
              {self._meta_sql()},
              coalesce({self._row_reason()},
                CASE WHEN __from IS NULL OR __to IS NULL THEN 'account_missing' END,
                cb_ts_why(__ts_text, __ts),
                cb_amt_why({self.col('amount')}, __value),
                CASE WHEN __value = 0 THEN 'amount_zero' END
              ) AS _reason,
              NULL::VARCHAR AS _detail,
              b.__i
            FROM s b
            """
            return _in_input_order(self.con.sql(sql).to_arrow_table()).cast(_with_reason(LEGS))
        finally:
            self.con.unregister("b_raw")

    # ------------------------------------------------------------------ accounts
    def _accounts(self, batch: pa.RecordBatch) -> pa.Table:
        card = self._clean_col(batch, "own_card")
        acct = self._clean_col(batch, "own_acct")
        idx = pa.array(range(batch.num_rows), pa.int64())
        aux = pa.table({"__card": card, "__acct": acct, "__i": idx,
                        "__holder_id": self._id_keys(batch, "holder_id", "holder_id_type")})
        self.con.register("b_raw", pa.Table.from_batches([batch]).append_column("__i", idx))
        self.con.register("b_aux", aux)
        try:
            sql = f"""
            SELECT coalesce(a.__card, a.__acct) AS account,
                   coalesce({self.col('own_card')}, {self.col('own_acct')}) AS account_raw,
                   coalesce(a.__card, a.__acct) AS card_no,
                   coalesce(a.__acct, a.__card) AS acct_no,
                   {self.col('holder_name')} AS holder_name, a.__holder_id AS holder_id,
                   coalesce({self.col('bank')}, {lit(self.ctx.bank)}) AS bank,
                   {self.col('branch')} AS branch,
                   cb_date({self.col('open_date')}) AS open_date, cb_date({self.col('close_date')}) AS close_date,
                   {self.col('status')} AS status, cb_amt({self.col('balance')}) AS balance,
                   {self.col('last_login_ip')} AS last_login_ip,
                   {lit(self.ctx.sha256)} AS src_sha256, b._row AS src_row,
                   coalesce({self._row_reason()},
                            CASE WHEN coalesce(a.__card, a.__acct) IS NULL THEN 'account_missing' END) AS _reason,
                   NULL::VARCHAR AS _detail
            FROM b_raw b JOIN b_aux a USING (__i) ORDER BY b.__i
            """
            return self.con.sql(sql).to_arrow_table().cast(_with_reason(ACCOUNT_ROWS))
        finally:
            for name in ("b_raw", "b_aux"):
                self.con.unregister(name)

    # ------------------------------------------------------------------- persons
    def _persons(self, batch: pa.RecordBatch) -> pa.Table:
        ids = self._id_keys(batch, "id_number", "id_type")
        phones = self._ident_aux(batch, phone="phone")["__phone"]
        self.con.register("b", pa.Table.from_batches([batch]).append_column("__id", ids).append_column("__phone", phones))
        try:
            sql = f"""
            SELECT b.__id AS id_number, {self.col('name')} AS name,
                   b.__phone AS phone, {self.col('address')} AS address,
                   {self.col('workplace')} AS workplace,
                   {lit(self.ctx.sha256)} AS src_sha256, b._row AS src_row,
                   coalesce({self._row_reason()},
                            CASE WHEN b.__id IS NULL THEN 'key_missing' END) AS _reason,
                   NULL::VARCHAR AS _detail
            FROM b ORDER BY b._row
            """
            return self.con.sql(sql).to_arrow_table().cast(_with_reason(PERSON_ROWS))
        finally:
            self.con.unregister("b")


def _with_columns(batch: pa.RecordBatch, aux: dict[str, pa.Array]) -> pa.Table:
    """The batch with the ``aux`` columns and ``__i`` (row position) appended: one relation, no join."""
    b = pa.Table.from_batches([batch])
    for name, column in aux.items():
        b = b.append_column(name, column)
    return b.append_column("__i", pa.array(np.arange(batch.num_rows, dtype=np.int64)))


def _in_input_order(out: pa.Table) -> pa.Table:
    """``out`` in the order of its ``__i`` (the batch's row positions), without it.

    DuckDB keeps the input order here (one thread, no operator that reorders), so the sort that an
    ORDER BY would always pay (~25% of the query) is only done when the order is not kept."""
    i = out.column("__i").to_numpy()
    if len(i) > 1 and not bool(np.all(i[1:] > i[:-1])):
        out = out.take(pa.array(np.argsort(i, kind="stable")))
    return out.drop_columns(["__i"])


def _with_reason(schema: pa.Schema) -> pa.Schema:
    return schema.append(pa.field("_reason", pa.string())).append(pa.field("_detail", pa.string()))


def raw_json(raw: dict[str, Any]) -> str:
    return json.dumps(raw, ensure_ascii=False, default=str)
