"""One travel row into one canonical record (or a quarantine reason): the parser behind ``ingest travel``.

Values are parsed with the shared ``ingest/values.py``; every person is keyed by ``persons.py``.
A row that cannot be used becomes a quarantine entry with the reason and its raw values (long values
clipped: the file itself is in the evidence store).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

from chainbreaker.chains.people.persons import resolve_person
from chainbreaker.core.ingest.quarantine import Quarantine
from chainbreaker.core.ingest.readers import BAD_BYTES
from chainbreaker.core.ingest.values import parse_date, parse_time

EXIT_WORDS = {"出境", "出", "e", "exit", "out", "departure", "离境", "1"}
ENTRY_WORDS = {"入境", "入", "i", "entry", "in", "arrival", "2"}
TRUE_WORDS = {"是", "y", "yes", "1", "true", "团体", "团队", "t"}
FUTURE_SLACK = dt.timedelta(days=1)


def _direction(raw: str | None, values: dict[str, str]) -> str | None:
    """``exit`` or ``entry`` from the 出入境 column (codes mapped by the profile's ``values``); None
    when the code says neither or both (``出入境``, ``3``, ``过境``)."""
    if raw is None:
        return None
    mapped = values.get(raw, raw).strip().lower()
    if mapped in EXIT_WORDS or (mapped.startswith("出") and "入" not in mapped):
        return "exit"
    if mapped in ENTRY_WORDS or (mapped.startswith("入") and "出" not in mapped):
        return "entry"
    return None


RAW_MAX_CHARS = 2000  # a quarantined value longer than this is kept clipped (a 10 MB line stays in evidence)


def _clip(value: str) -> str:
    if len(value) <= RAW_MAX_CHARS:
        return value
    return f"{value[:RAW_MAX_CHARS]}…（截断，共 {len(value):,} 字符）"


def _rid(kind: str, *parts: object) -> str:
    text = kind + "|" + "|".join("" if p is None else str(p) for p in parts)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


class FileParser:
    """Turns the rows of one file into canonical records or quarantine entries."""

    def __init__(self, kind: str, columns: dict[str, str], header: list[str], values: dict[str, dict[str, str]],
                 now: dt.datetime, q: Quarantine, file_name: str, sha: str,
                 nationality: Callable[[str | None], str | None] = lambda x: x) -> None:
        self.kind = kind
        self.nationality = nationality
        self.idx = {f: header.index(c) for f, c in columns.items()}
        self.header = header
        self.values = values
        self.now = now
        self.q = q
        self.file_name = file_name
        self.sha = sha
        self.parse: Callable[[dict[str, str | None]], dict[str, Any] | str] = getattr(self, f"_{kind}")

    def get(self, row: list[str | None], fld: str) -> str | None:
        i = self.idx.get(fld)
        return row[i] if i is not None and i < len(row) else None

    def row(self, rownum: int, row: list[str | None], had_bad: bool) -> dict[str, Any] | None:
        vals = {f: (row[i] if i < len(row) else None) for f, i in self.idx.items()}
        reason: str | None = None
        if had_bad and any(v and BAD_BYTES in v for v in vals.values()):
            reason = "bad_bytes"
        elif len(row) > len(self.header) and any(v is not None for v in row[len(self.header):]):
            reason = "too_many_fields"
        elif any(i >= len(row) for i in self.idx.values()):
            reason = "too_few_fields"  # a row cut short: its missing cells are not empty values
        out = self.parse(vals) if reason is None else reason
        if isinstance(out, str):
            raw = {self.header[i] if i < len(self.header) else f"extra_{i}": _clip(v)
                   for i, v in enumerate(row) if v is not None}
            detail = None
            if out == "travel_direction_unknown":
                detail = f"“{_clip(vals.get('direction') or '')}”"
            self.q.add(self.file_name, self.sha, rownum, out, raw, detail=detail)
            return None
        out.update(n_sources=1, src_sha256=self.sha, src_file=self.file_name, src_row=rownum)
        return out

    def _time(self, text: str | None) -> tuple[dt.datetime | None, str | None]:
        value, err = parse_time(text)
        if value is not None and value > self.now + FUTURE_SLACK:
            return None, "travel_time_future"
        return value, err

    def _date(self, text: str | None) -> tuple[dt.date | None, str | None]:
        value, err = parse_date(text)
        if value is not None and value > (self.now + FUTURE_SLACK).date():
            return None, "travel_time_future"
        return value, err

    def _person(self, v: dict[str, str | None], doc: bool = False) -> dict[str, Any] | None:
        ref = resolve_person(v.get("id_number"), v.get("doc_no") if doc else None,
                             self.nationality(v.get("nationality")), v.get("name"))
        if ref is None:
            return None
        source = "id" if ref.id_valid else ("doc" if ref.key.startswith("DOC:") else "bad_id")
        return {"person_key": ref.key, "id_number": ref.id_number, "id_valid": ref.id_valid,
                "id_issue": ref.id_issue, "name": v.get("name"), "key_source": source}

    def _crossings(self, v: dict[str, str | None]) -> dict[str, Any] | str:
        ts, err = self._time(v.get("ts"))
        if ts is None:
            return err or "time_missing"
        if v.get("direction") is None:
            return "travel_direction_missing"
        direction = _direction(v.get("direction"), self.values.get("direction", {}))
        if direction is None:
            return "travel_direction_unknown"
        p = self._person(v, doc=True)
        if p is None:
            return "key_missing"
        birth, _ = parse_date(v.get("birth_date"))
        p.update(
            nationality=v.get("nationality"), gender=v.get("gender"), doc_type=v.get("doc_type"),
            doc_no=v.get("doc_no"), birth_date=birth, ts=ts, port=v.get("port"), visa_type=v.get("visa_type"),
            country_raw=v.get("country"), direction=direction, direction_raw=v.get("direction"),
            transport=v.get("transport"), vehicle=v.get("vehicle"), tour_no=v.get("tour_no"), hukou=v.get("hukou"),
        )
        p["record_id"] = _rid("crossings", p["person_key"], ts.isoformat(), direction, p["port"])
        return p

    def _flights(self, v: dict[str, str | None]) -> dict[str, Any] | str:
        day, err = self._date(v.get("flight_date"))
        if err == "travel_time_future":
            return err
        if day is None or not v.get("flight_no"):
            return "travel_flight_missing"
        p = self._person(v)
        if p is None:
            return "key_missing"
        flight = (v.get("flight_no") or "").replace(" ", "").upper()
        flag = (v.get("group_flag") or "").strip().lower()
        p.update(flight_no=flight, flight_date=day, seat=(v.get("seat") or None) and v["seat"].upper(),  # type: ignore[union-attr]
                 group_flag=flag in TRUE_WORDS, cobook_id=v.get("cobook_id"),
                 dep_country_raw=v.get("dep_country"), arr_country_raw=v.get("arr_country"))
        p["record_id"] = _rid("flights", p["person_key"], flight, day.isoformat())
        return p

    def _trains(self, v: dict[str, str | None]) -> dict[str, Any] | str:
        day, err = self._date(v.get("dep_date"))
        if err == "travel_time_future":
            return err
        if day is None or not v.get("train_no"):
            return "travel_train_missing"
        p = self._person(v)
        if p is None:
            return "key_missing"
        train = (v.get("train_no") or "").upper()
        p.update(train_no=train, dep_date=day, car_no=v.get("car_no"), seat_no=v.get("seat_no"),
                 from_station=v.get("from_station"), to_station=v.get("to_station"))
        p["record_id"] = _rid("trains", p["person_key"], train, day.isoformat(), p["car_no"], p["seat_no"])
        return p

    def _hotels(self, v: dict[str, str | None]) -> dict[str, Any] | str:
        checkin, err = self._time(v.get("checkin"))
        if err == "travel_time_future":
            return err
        if checkin is None or not v.get("hotel_name"):
            return "travel_hotel_missing"
        checkout, _ = self._time(v.get("checkout"))
        p = self._person(v)
        if p is None:
            return "key_missing"
        p.update(hotel_name=v.get("hotel_name"), room_no=v.get("room_no"), checkin=checkin, checkout=checkout)
        p["record_id"] = _rid("hotels", p["person_key"], p["hotel_name"], p["room_no"], checkin.isoformat())
        return p

    def _kin(self, v: dict[str, str | None]) -> dict[str, Any] | str:
        a = resolve_person(v.get("id_number"), None, None, v.get("name"))
        b = resolve_person(v.get("kin_id_number"), None, None, v.get("kin_name"))
        if a is None or b is None:
            return "travel_kin_missing"
        out: dict[str, Any] = {"person_key": a.key, "id_number": a.id_number, "id_valid": a.id_valid, "name": v.get("name"),
               "kin_key": b.key, "kin_id_number": b.id_number, "kin_id_valid": b.id_valid,
               "kin_name": v.get("kin_name"), "relation": v.get("relation")}
        out["record_id"] = _rid("kin", *sorted([a.key, b.key]), v.get("relation"))
        return out
