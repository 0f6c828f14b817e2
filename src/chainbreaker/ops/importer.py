"""``chainbreaker ops import``: a filled return workbook into the casework tables (see :mod:`returns`)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from chainbreaker.core.workspace import Workspace
from chainbreaker.ops.casework_models import (
    Case,
    Gang,
    GangMember,
    History,
    ImportQuarantine,
    Measure,
    Platform,
    Seizure,
    Suspect,
    Unit,
)
from chainbreaker.ops.db import engine_for, session_scope
from chainbreaker.ops.returns import ImportSummary, SheetCounts, parse_row, read_workbook, reason_text
from chainbreaker.ops.returns_spec import cell_text

ENTITY_ORDER = ("case", "gang", "measure", "platform", "seizure")
SHEET_OF = {"case": "案件", "gang": "团伙", "measure": "强制措施", "platform": "涉案平台", "seizure": "扣押冻结"}


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, dt.date | Decimal) else value


class _Importer:
    def __init__(self, s: Session, summary: ImportSummary, file_name: str, who: str) -> None:
        self.s, self.summary, self.file_name, self.who = s, summary, file_name, who
        self.units = {u.name: u for u in s.scalars(select(Unit))}
        self.cases = {c.number: c for c in s.scalars(select(Case))}

    # ----------------------------------------------------------------------------- shared steps
    def quarantine(self, entity: str, row: int, code: str, raw: dict[str, Any]) -> None:
        sheet = SHEET_OF[entity]
        self.summary.sheets[sheet].quarantined += 1
        self.summary.quarantine.append((sheet, row, code))
        detail = {"reason_zh": reason_text(code, "zh"), "reason_en": reason_text(code, "en"),
                  "cells": {k: cell_text(v) for k, v in raw.items()}}
        self.s.add(ImportQuarantine(file_sha256=self.summary.file_sha256, file_name=self.file_name, sheet=sheet,
                                    row=row, reason=code, detail=json.dumps(detail, ensure_ascii=False)))

    def source(self, entity: str, row: int) -> str:
        return f"{self.summary.file_sha256}#{SHEET_OF[entity]}:{row}"

    def upsert(self, entity: str, key: str, obj: Any, values: dict[str, Any], make: type, init: dict[str, Any],
               source: str) -> Any:
        """Create ``make(**init)`` when ``obj`` is None, else update the fields that differ; history either way."""
        counts = self.summary.sheets[SHEET_OF[entity]]
        if obj is None:
            obj = make(**init, source=source)
            for f, v in values.items():
                setattr(obj, f, v)
            self.s.add(obj)
            counts.created += 1
            self.s.add(History(entity=entity, key=key, action="created", who=self.who, source=source,
                               changes=json.dumps({f: [None, _plain(v)] for f, v in values.items()}, ensure_ascii=False)))
            return obj
        changes = {f: [_plain(getattr(obj, f)), _plain(v)] for f, v in values.items() if getattr(obj, f) != v}
        if not changes:
            counts.unchanged += 1
            return obj
        for f in changes:
            setattr(obj, f, values[f])
        counts.updated += 1
        self.s.add(History(entity=entity, key=key, action="updated", who=self.who, source=source,
                           changes=json.dumps(changes, ensure_ascii=False)))
        return obj

    def rows(self, entity: str, records: list[tuple[int, dict[str, Any]]], key_of: Callable[[dict[str, Any]], Any],
             needs_case: bool = True) -> list[tuple[int, dict[str, Any]]]:
        """Parsed rows, quarantining unusable ones, unknown cases and contradicting duplicates."""
        seen: dict[Any, dict[str, Any]] = {}
        good = []
        for row, raw in records:
            self.summary.sheets[SHEET_OF[entity]].rows += 1
            values, err = parse_row(entity, raw)
            if err is None and values is not None and needs_case and values["case_number"] not in self.cases:
                err = "case_unknown"
            if err or values is None:
                self.quarantine(entity, row, err or "required_missing", raw)
                continue
            key = key_of(values)
            if key in seen:
                if seen[key] != values:
                    self.quarantine(entity, row, "duplicate_conflict", raw)
                else:
                    self.summary.sheets[SHEET_OF[entity]].unchanged += 1
                continue
            seen[key] = values
            good.append((row, values))
        return good

    # ------------------------------------------------------------------------------ per sheet
    def cases_sheet(self, records: list[tuple[int, dict[str, Any]]]) -> None:
        for row, v in self.rows("case", records, lambda v: v["case_number"], needs_case=False):
            unit = self.units.get(v["unit"])
            if unit is None:
                unit = self.units[v["unit"]] = Unit(name=v["unit"])
                self.s.add(unit)
                self.s.flush()
            values = {"name": v["name"], "supervision": v["supervision"] or "无", "opened_on": v["opened_on"],
                      "unit_id": unit.id}
            number = v["case_number"]
            self.cases[number] = self.upsert("case", number, self.cases.get(number), values,
                                             Case, {"number": number},
                                             self.source("case", row))
        self.s.flush()

    def gangs_sheet(self, records: list[tuple[int, dict[str, Any]]]) -> None:
        gangs = {g.number: g for g in self.s.scalars(select(Gang))}
        for row, v in self.rows("gang", records, lambda v: v["gang_number"]):
            values = {"case_id": self.cases[v["case_number"]].id, "name": v["name"], "broken_on": v["broken_on"]}
            number = v["gang_number"]
            self.upsert("gang", number, gangs.get(number), values,
                        Gang, {"number": number}, self.source("gang", row))

    def measures_sheet(self, records: list[tuple[int, dict[str, Any]]]) -> None:
        gangs = {g.number: g for g in self.s.scalars(select(Gang))}
        good = []
        for row, v in self.rows("measure", records, lambda v: (v["id_number"], v["case_number"], v["measure"], v["taken_on"])):
            if v.get("gang_number") and v["gang_number"] not in gangs:
                self.quarantine("measure", row, "gang_unknown", {k: x for k, x in v.items() if x is not None})
                continue
            good.append((row, v))
        suspects = {p.id_number: p for p in self.s.scalars(select(Suspect))}
        for _, v in good:
            person = suspects.get(v["id_number"])
            if person is None:
                person = suspects[v["id_number"]] = Suspect(id_number=v["id_number"], name=v["name"])
                self.s.add(person)
            elif v["name"] and person.name != v["name"]:
                self.s.add(History(entity="suspect", key=person.id_number, action="updated", who=self.who,
                                   changes=json.dumps({"name": [person.name, v["name"]]}, ensure_ascii=False)))
                person.name = v["name"]
        self.s.flush()
        existing = {(m.suspect_id, m.case_id, m.measure, m.taken_on): m for m in self.s.scalars(select(Measure))}
        for row, v in good:
            sid, cid = suspects[v["id_number"]].id, self.cases[v["case_number"]].id
            key = (sid, cid, v["measure"], v["taken_on"])
            self.upsert("measure", f"{v['id_number']}|{v['case_number']}|{v['measure']}|{v['taken_on']}",
                        existing.get(key), {},
                        Measure, {"suspect_id": sid, "case_id": cid, "measure": v["measure"], "taken_on": v["taken_on"]},
                        self.source("measure", row))
        members = {(m.gang_id, m.suspect_id) for m in self.s.scalars(select(GangMember))}
        for row, v in good:  # 团伙成员: a person under a measure named with the gang
            if v.get("gang_number"):
                pair = (gangs[v["gang_number"]].id, suspects[v["id_number"]].id)
                if pair not in members:
                    members.add(pair)
                    self.s.add(GangMember(gang_id=pair[0], suspect_id=pair[1]))
                    self.s.add(History(entity="gang", key=v["gang_number"], action="updated", who=self.who,
                                       changes=json.dumps({"members": [None, "+1"]}), source=self.source("measure", row)))

    def platforms_sheet(self, records: list[tuple[int, dict[str, Any]]]) -> None:
        existing = {(p.case_id, p.name): p for p in self.s.scalars(select(Platform))}
        for row, v in self.rows("platform", records, lambda v: (v["case_number"], v["name"])):
            cid = self.cases[v["case_number"]].id
            self.upsert("platform", f"{v['case_number']}|{v['name']}", existing.get((cid, v["name"])),
                        {"taken_down_on": v["taken_down_on"]},
                        Platform, {"case_id": cid, "name": v["name"]},
                        self.source("platform", row))

    def seizures_sheet(self, records: list[tuple[int, dict[str, Any]]]) -> None:
        """Rows carry no number of their own: each is keyed by its occurrence among the usable rows with
        the same case, type and date (see :class:`Seizure`), so every row is its own record."""
        existing = {(z.case_id, z.kind, z.on_date, z.seq): z for z in self.s.scalars(select(Seizure))}
        seq: dict[tuple[str, str, dt.date], int] = {}
        for row, v in self.rows("seizure", records, lambda v: object()):
            day_key = (v["case_number"], v["kind"], v["on_date"])
            n = seq[day_key] = seq.get(day_key, 0) + 1
            cid = self.cases[v["case_number"]].id
            key = (cid, v["kind"], v["on_date"], n)
            self.upsert("seizure", f"{v['case_number']}|{v['kind']}|{v['on_date']}|{n}", existing.get(key),
                        {"amount": v["amount"]},
                        Seizure, {"case_id": cid, "kind": v["kind"], "on_date": v["on_date"], "seq": n},
                        self.source("seizure", row))


def import_returns(ws: Workspace, path: Path, *, user: str = "local", role: str = "analyst") -> ImportSummary:
    """Import one return workbook (idempotent); see the module doc of :mod:`chainbreaker.ops.returns`."""
    records, ignored = read_workbook(path)
    sha = ws.store_evidence(path)
    summary = ImportSummary(file_sha256=sha, ignored_sheets=ignored)
    for entity in ENTITY_ORDER:
        if entity in records:
            summary.sheets[SHEET_OF[entity]] = SheetCounts()
    ws.audit("ops.import", user=user, role=role, file=path.name, sha256=sha)
    with session_scope(engine_for(ws)) as s:
        s.execute(delete(ImportQuarantine).where(ImportQuarantine.file_sha256 == sha))
        imp = _Importer(s, summary, path.name, user)
        steps = {"case": imp.cases_sheet, "gang": imp.gangs_sheet, "measure": imp.measures_sheet,
                 "platform": imp.platforms_sheet, "seizure": imp.seizures_sheet}
        for entity in ENTITY_ORDER:
            if entity in records:
                steps[entity](records[entity])
    return summary


def quarantined_rows(ws: Workspace, *, role: str = "analyst", user: str = "local", limit: int = 200) -> list[dict[str, Any]]:
    """Quarantined return rows, newest first, with their cells masked for ``role`` (the read is audited)."""
    from chainbreaker.core.model.masking import mask_text
    from chainbreaker.ops.returns_spec import SHEETS

    ws.audit("ops.quarantine.read", user=user, role=role)
    with session_scope(engine_for(ws)) as s:
        rows = s.scalars(select(ImportQuarantine).order_by(ImportQuarantine.id.desc()).limit(limit)).all()
        out = []
        for q in rows:
            detail = json.loads(q.detail)
            spec = next((x for x in SHEETS if x.name == q.sheet), None)
            headers = {c.field: c.header for c in spec.columns} if spec else {}
            person = q.sheet == "强制措施"  # there 姓名 is a person's name; elsewhere a case or gang name
            cells = {headers.get(k, k): mask_text(v, role, "id_number" if k == "id_number" else
                                                  ("name" if person and k == "name" else None))
                     for k, v in detail.get("cells", {}).items()}
            out.append({"file": q.file_name, "sha256": q.file_sha256, "sheet": q.sheet, "row": q.row, "reason": q.reason,
                        "reason_zh": detail.get("reason_zh"), "reason_en": detail.get("reason_en"), "cells": cells,
                        "at": q.at})
        return out
