"""Arrow schemas of the canonical travel records (出入境、民航、铁路、旅店、亲属关系), read by the people chain.

Canonical schemas live in core (like ``transactions``) so that the people chain, ``synth`` and
benchmarks share them without ``synth`` importing a chain.

Every travel row keeps ``person_key`` (see :mod:`chainbreaker.chains.people.persons`), the validated or
flagged ID number, and where it came from (file SHA-256 and row). ``record_id`` is a hash of the
de-duplication key, so the same crossing delivered by two feeds is stored once with ``n_sources``
telling how many source rows it merged (all of them listed in ``travel_record_sources``).
"""

from __future__ import annotations

import pyarrow as pa

from chainbreaker.core.model.schemas import TS

_PERSON = [
    ("person_key", pa.string()),
    ("id_number", pa.string()),
    ("id_valid", pa.bool_()),
    ("id_issue", pa.string()),
    ("name", pa.string()),
]
_SRC = [
    ("n_sources", pa.int64()),
    ("src_sha256", pa.string()),
    ("src_file", pa.string()),
    ("src_row", pa.int64()),
]

CROSSINGS = pa.schema([
    ("record_id", pa.string()), *_PERSON,
    ("nationality", pa.string()), ("gender", pa.string()), ("doc_type", pa.string()), ("doc_no", pa.string()),
    ("birth_date", pa.date32()), ("ts", TS), ("port", pa.string()), ("visa_type", pa.string()),
    ("country_raw", pa.string()), ("direction", pa.string()), ("direction_raw", pa.string()),
    ("transport", pa.string()), ("vehicle", pa.string()), ("tour_no", pa.string()), ("hukou", pa.string()),
    ("key_source", pa.string()),  # id | doc | doc_link (bad ID linked by document number + name) | bad_id
    *_SRC,
])

FLIGHTS = pa.schema([
    ("record_id", pa.string()), *_PERSON,
    ("flight_no", pa.string()), ("flight_date", pa.date32()), ("seat", pa.string()), ("group_flag", pa.bool_()),
    ("cobook_id", pa.string()), ("dep_country_raw", pa.string()), ("arr_country_raw", pa.string()),
    *_SRC,
])

TRAINS = pa.schema([
    ("record_id", pa.string()), *_PERSON,
    ("train_no", pa.string()), ("dep_date", pa.date32()), ("car_no", pa.string()), ("seat_no", pa.string()),
    ("from_station", pa.string()), ("to_station", pa.string()),
    *_SRC,
])

HOTELS = pa.schema([
    ("record_id", pa.string()), *_PERSON,
    ("hotel_name", pa.string()), ("room_no", pa.string()), ("checkin", TS), ("checkout", TS),
    *_SRC,
])

KIN = pa.schema([
    ("record_id", pa.string()),
    ("person_key", pa.string()), ("id_number", pa.string()), ("id_valid", pa.bool_()), ("name", pa.string()),
    ("kin_key", pa.string()), ("kin_id_number", pa.string()), ("kin_id_valid", pa.bool_()), ("kin_name", pa.string()),
    ("relation", pa.string()),
    *_SRC,
])

RECORD_SOURCES = pa.schema([
    ("record_id", pa.string()), ("kind", pa.string()), ("src_sha256", pa.string()), ("src_file", pa.string()),
    ("src_row", pa.int64()), ("run_id", pa.string()),
])

# kind -> (lake table, schema)
TABLES: dict[str, tuple[str, pa.Schema]] = {
    "crossings": ("travel_crossings", CROSSINGS),
    "flights": ("travel_flights", FLIGHTS),
    "trains": ("travel_trains", TRAINS),
    "hotels": ("travel_hotels", HOTELS),
    "kin": ("travel_kin", KIN),
}
