"""Gather person records from the chains' lake tables into ``person_records`` (人员记录汇集).

Each record is one appearance of a person in one source: a bank account holder (``accounts``), a
KYC row (``persons``), a platform member with a real name (``platform_members``), a traveller
(``travel_*``, one record per table, person key and name: thousands of crossings of one traveller
are one appearance) or a traveller's kin (``travel_kin``). Every record keeps the source table, the
file's SHA-256 and the row; ``record_id`` is a hash of these, so it is the same on every run and
analysts' judgements stay attached to it.

Identifiers are normalised with the shared classes of ``core.model.identifiers``: the ID number to
18 digits (15-digit first-generation numbers converted), the birth date and region read from it
(also from a number whose check digit fails: the date part is usually still right), mobiles to
E.164 (``+8613800138000``), cards to the funds key (spaces, dashes, full-width digits and
``_xxx`` suffixes removed).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from chainbreaker.core.model.identifiers import AccountNumber, Mobile, ResidentID
from chainbreaker.intel.er.names import clean_name, name_table

RECORD_COLUMNS = ("record_id", "source_table", "source_kind", "source_key", "src_sha256", "src_row", "n_rows",
                  "name_raw", "name", "name_py", "surname_py", "given_py", "given_py_sorted", "id_number",
                  "id_valid", "birth_date", "gender", "region", "phone", "address", "bank_card", "bank")

_TRAVEL = ("travel_crossings", "travel_flights", "travel_trains", "travel_hotels")


def _columns(con: Any, table: str) -> set[str]:
    return {r[0] for r in con.sql(f'DESCRIBE "{table}"').fetchall()}


def _tables(con: Any) -> set[str]:
    return {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}


def _col(cols: set[str], name: str, cast: str = "VARCHAR") -> str:
    return f'CAST("{name}" AS {cast})' if name in cols else f"NULL::{cast}"


def source_selects(con: Any) -> list[str]:
    """One SELECT per source table present (raw values, uniform columns)."""
    tables, out = _tables(con), []

    def sel(kind: str, table: str, key: str, cols: set[str], name: str, idn: str, phone: str, address: str,
            card: str, bank: str, birth: str, where: str, group: str | None = None) -> str:
        body = (f"'{table}' AS source_table, '{kind}' AS source_kind, {key} AS source_key, "
                f"{_col(cols, 'src_sha256')} AS src_sha256, {_col(cols, 'src_row', 'BIGINT')} AS src_row, "
                f"{_col(cols, name)} AS name_raw, {_col(cols, idn)} AS id_raw, {_col(cols, phone)} AS phone_raw, "
                f"{_col(cols, address)} AS address, {_col(cols, card)} AS card_raw, {_col(cols, bank)} AS bank, "
                f"{_col(cols, birth, 'DATE')} AS birth_src")
        if group is None:
            return f"SELECT {body}, 1::BIGINT AS n_rows FROM \"{table}\" WHERE {where}"
        # one appearance per (person, name): the earliest source row stands for the others
        return (f"SELECT source_table, source_kind, source_key, arg_min(src_sha256, src_row) AS src_sha256, "
                f"min(src_row) AS src_row, name_raw, id_raw, NULL AS phone_raw, any_value(address) AS address, "
                f"NULL AS card_raw, NULL AS bank, any_value(birth_src) AS birth_src, count(*)::BIGINT AS n_rows "
                f"FROM (SELECT {body} FROM \"{table}\" WHERE {where}) GROUP BY source_table, source_kind, source_key, "
                f"name_raw, id_raw")

    if "accounts" in tables:
        c = _columns(con, "accounts")
        if {"holder_name", "holder_id"} & c:
            out.append(sel("bank_holder", "accounts", _col(c, "account"), c, "holder_name", "holder_id", "phone",
                           "address", "account", "bank", "birth_date",
                           f"coalesce({_col(c, 'holder_name')}, {_col(c, 'holder_id')}) IS NOT NULL"))
    if "persons" in tables:
        c = _columns(con, "persons")
        out.append(sel("bank_kyc", "persons", _col(c, "id_number"), c, "name", "id_number", "phone", "address",
                       "card_no", "bank", "birth_date",
                       f"coalesce({_col(c, 'name')}, {_col(c, 'id_number')}, {_col(c, 'phone')}) IS NOT NULL"))
    if "platform_members" in tables:
        c = _columns(con, "platform_members")
        key = f"concat_ws(':', {_col(c, 'platform')}, {_col(c, 'member_id')})"
        out.append(sel("platform_member", "platform_members", key, c, "real_name", "id_number", "phone", "address",
                       "bank_card", "bank", "birth_date",
                       f"coalesce({_col(c, 'real_name')}, {_col(c, 'id_number')}) IS NOT NULL"))
    for table in _TRAVEL:
        if table in tables:
            c = _columns(con, table)
            out.append(sel("traveller", table, _col(c, "person_key"), c, "name", "id_number", "phone", "hukou",
                           "bank_card", "bank", "birth_date",
                           f"coalesce({_col(c, 'name')}, {_col(c, 'id_number')}) IS NOT NULL", group="person"))
    if "travel_kin" in tables:
        c = _columns(con, "travel_kin")
        out.append(sel("kin", "travel_kin", _col(c, "kin_key"), c, "kin_name", "kin_id_number", "kin_phone",
                       "kin_address", "bank_card", "bank", "kin_birth_date",
                       f"coalesce({_col(c, 'kin_name')}, {_col(c, 'kin_id_number')}) IS NOT NULL", group="person"))
    return out


def _id_table(values: list[str]) -> pa.Table:
    ids, valid, birth, gender, region = [], [], [], [], []
    for v in values:
        clean = ResidentID.clean(v)
        s = clean or ResidentID.normalise(v)
        if len(s) == 15 and s.isdigit():
            s = s[:6] + "19" + s[6:]
        ids.append(s or None)
        valid.append(clean is not None)
        b: dt.date | None = None
        if len(s) == 18 and s[:14].isdigit():
            b = ResidentID._birth(s)  # read even when the check digit fails
            if b is not None and not (1900 <= b.year <= dt.date.today().year):
                b = None
        birth.append(b)
        gender.append(("M" if int(s[16]) % 2 else "F") if len(s) == 18 and s[16].isdigit() else None)
        region.append(s[:6] if len(s) == 18 and s[:6].isdigit() else None)
    return pa.table({"id_raw": pa.array(values, pa.string()), "id_number": pa.array(ids, pa.string()),
                     "id_valid": pa.array(valid, pa.bool_()), "id_birth": pa.array(birth, pa.date32()),
                     "gender": pa.array(gender, pa.string()), "region": pa.array(region, pa.string())})


def _map_table(values: list[str], fn: Any, out: str) -> pa.Table:
    return pa.table({"raw": pa.array(values, pa.string()), out: pa.array([fn(v) for v in values], pa.string())})


def _e164(v: str) -> str | None:
    m = Mobile.clean(v)
    return f"+86{m}" if m else None


def gather(con: Any) -> pa.Table | None:
    """``person_records`` as an Arrow table, or ``None`` when no chain output holds persons."""
    selects = source_selects(con)
    if not selects:
        return None
    raw = con.sql(" UNION ALL BY NAME ".join(f"({s})" for s in selects)).to_arrow_table()
    con.register("_er_raw", raw)

    def distinct(col: str) -> list[str]:
        return [r[0] for r in con.sql(f"SELECT DISTINCT {col} FROM _er_raw WHERE {col} IS NOT NULL").fetchall()]

    con.register("_er_ids", _id_table(distinct("id_raw")))
    con.register("_er_phones", _map_table(distinct("phone_raw"), _e164, "phone"))
    con.register("_er_cards", _map_table(distinct("card_raw"), AccountNumber.clean, "bank_card"))
    raw_names = distinct("name_raw")
    cleaned = {n: clean_name(n) for n in raw_names}
    con.register("_er_clean", pa.table({"raw": pa.array(list(cleaned), pa.string()),
                                        "name": pa.array(list(cleaned.values()), pa.string())}))
    con.register("_er_names", name_table(sorted({v for v in cleaned.values() if v})))
    out = con.sql("""
        SELECT substr(md5(concat_ws('|', r.source_table, r.src_sha256, r.src_row::VARCHAR, r.source_key,
                                    r.name_raw, r.id_raw)), 1, 16) AS record_id,
               r.source_table, r.source_kind, r.source_key, r.src_sha256, r.src_row, r.n_rows,
               r.name_raw, c.name, n.name_py, n.surname_py, n.given_py, n.given_py_sorted,
               i.id_number, coalesce(i.id_valid, false) AS id_valid, coalesce(i.id_birth, r.birth_src) AS birth_date,
               i.gender, i.region, p.phone, NULLIF(trim(r.address), '') AS address, k.bank_card,
               NULLIF(trim(r.bank), '') AS bank
        FROM _er_raw r
        LEFT JOIN _er_ids i ON i.id_raw = r.id_raw
        LEFT JOIN _er_phones p ON p.raw = r.phone_raw
        LEFT JOIN _er_cards k ON k.raw = r.card_raw
        LEFT JOIN _er_clean c ON c.raw = r.name_raw
        LEFT JOIN _er_names n ON n.name = c.name
        ORDER BY record_id
    """).to_arrow_table()
    for view in ("_er_raw", "_er_ids", "_er_phones", "_er_cards", "_er_clean", "_er_names"):
        con.unregister(view)
    return out
