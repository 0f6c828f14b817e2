"""Packages for partner agencies (成员单位信息共享): what each kind of agency needs and nothing more,
masked by the agency's profile, audited before any file is written, and recorded (who, what, to whom,
when, files and their hashes).

- ``freeze``: accounts to stop and freeze for banks (CSV and XLSX with the evidence summary).
- ``blocklist``: domains to block for telecom and internet regulators (the tech chain's formats).
- ``indicators``: the same sites as STIX 2.1 and MISP events.
- ``exit_control``: persons for border police (key-person register entries under 列控 and persons
  with people-chain findings), with the reasons.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import yaml
from pydantic import BaseModel, ValidationError

from chainbreaker.core.errors import ConfigError, InputError
from chainbreaker.core.exports import output_file, resolve_output_dir, write_csv
from chainbreaker.core.model.masking import mask_table_except
from chainbreaker.core.model.personal import KINDS
from chainbreaker.core.timefmt import zone_name
from chainbreaker.core.workspace import Workspace
from chainbreaker.ops.db import engine_for, session_scope
from chainbreaker.ops.sharing_models import SharePackage

PACKAGES = ("freeze", "blocklist", "indicators", "exit_control")


class AgencyProfile(BaseModel):
    zh: str
    en: str
    packages: list[str]
    clear: list[str]


class Profiles(BaseModel):
    version: str
    effective: str
    source: str
    agencies: dict[str, AgencyProfile]


def load_profiles(ws: Workspace | None = None) -> Profiles:
    override = ws.root / "config" / "share_profiles.yaml" if ws is not None else None
    if override is not None and override.exists():
        text, where = override.read_text(encoding="utf-8"), str(override)
    else:
        text = resources.files("chainbreaker.ops").joinpath("config/share_profiles.yaml").read_text(encoding="utf-8")
        where = "chainbreaker/ops/config/share_profiles.yaml"
    try:
        profiles = Profiles.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"共享配置无效：{where}（{exc}）", f"Invalid sharing profiles {where}: {exc}") from exc
    for name, p in profiles.agencies.items():
        bad = [k for k in p.clear if k not in KINDS] + [k for k in p.packages if k not in PACKAGES]
        if bad:
            raise ConfigError(f"共享配置 {where} 中 {name} 含未知项：{bad}", f"Unknown entries for {name} in {where}: {bad}")
    return profiles


@dataclass
class Shared:
    package_id: str
    folder: Path
    rows: int
    files: dict[str, str]  # name → sha256
    masked_kinds: list[str]


# ------------------------------------------------------------------ contents
def freeze_table(ws: Workspace, min_score: float = 0.5) -> pa.Table:
    if not ws.has_table("account_risk"):
        raise InputError("尚无资金筛查结果：请先运行 chainbreaker funds screen。",
                         "No screening results yet: run chainbreaker funds screen first.")
    con = ws.duck()
    accounts = ("LEFT JOIN (SELECT account, max(bank) AS bank, max(holder_name) AS holder_name, "
                "max(holder_id) AS holder_id FROM accounts GROUP BY account) a USING (account)"
                if ws.has_table("accounts") else
                "LEFT JOIN (SELECT NULL::VARCHAR AS account, NULL::VARCHAR AS bank, NULL::VARCHAR AS holder_name, "
                "NULL::VARCHAR AS holder_id) a USING (account)")
    findings = ("LEFT JOIN (SELECT subject_key AS account, list(id ORDER BY id) AS finding_ids FROM findings "
                "WHERE chain = 'funds' GROUP BY 1) f USING (account)" if ws.has_table("findings") else
                "LEFT JOIN (SELECT NULL::VARCHAR AS account, NULL::VARCHAR[] AS finding_ids) f USING (account)")
    return con.sql(f"""
        SELECT r.account, a.bank, a.holder_name, a.holder_id, round(r.score, 3) AS score, r.rank,
               replace(r.rules_fired, ',', '、') AS rules_fired, r.summary_zh AS reason_zh,
               r.summary_en AS reason_en, array_to_string(f.finding_ids, ' ') AS finding_ids
        FROM account_risk r {accounts} {findings}
        WHERE r.score >= {float(min_score)}
        ORDER BY r.rank
    """).to_arrow_table()


def exit_control_table(ws: Workspace) -> pa.Table:
    """Persons for exit control: the register's 列控 disposals first, then people-chain findings."""
    from sqlalchemy import select

    from chainbreaker.ops.register_models import KeyPerson

    rows: dict[str, dict[str, Any]] = {}
    with session_scope(engine_for(ws)) as s:
        for p in s.scalars(select(KeyPerson).where(KeyPerson.disposal == "列控")):
            rows[p.person_key] = {"person_key": p.person_key, "id_number": p.id_number, "name": p.name,
                                  "basis": "重点人员库：处置（列控）", "rules": "register.exit_control", "score": None}
    if ws.has_table("findings"):
        con = ws.duck()
        for key, rules, score, why in con.sql("""
                SELECT subject_key, string_agg(DISTINCT rule_id, '、'), max(score), first(explanation_zh ORDER BY score DESC)
                FROM findings WHERE chain = 'people' AND subject_type = 'person' AND score >= 0.5
                GROUP BY 1 ORDER BY 3 DESC, 1""").fetchall():
            row = rows.setdefault(key, {"person_key": key, "id_number": None, "name": None, "basis": why,
                                        "rules": rules, "score": round(score, 3)})
            if row["score"] is None:
                row["basis"] = f"{row['basis']}；{why}"
                row["rules"], row["score"] = f"{row['rules']}、{rules}", round(score, 3)
    for row in rows.values():  # person keys are ID:<number> or DOC:<passport>
        key = row["person_key"]
        if row["id_number"] is None and key.startswith("ID:"):
            row["id_number"] = key[3:]
        row["passport"] = key[4:] if key.startswith("DOC:") else None
    names = ["person_key", "name", "id_number", "passport", "score", "rules", "basis"]
    return pa.Table.from_pylist([{n: r.get(n) for n in names} for r in rows.values()],
                                schema=pa.schema([(n, pa.float64() if n == "score" else pa.string()) for n in names]))


# ------------------------------------------------------------------ packages
def make_package(ws: Workspace, kind: str, agency: str, agency_type: str, out: Path, *, user: str,
                 role: str, min_score: float = 0.5) -> Shared:
    profiles = load_profiles(ws)
    profile = profiles.agencies.get(agency_type)
    if profile is None:
        raise InputError(f"未知的单位类型“{agency_type}”，可选：{'、'.join(profiles.agencies)}。",
                         f"Unknown agency type '{agency_type}'; use one of {', '.join(profiles.agencies)}.")
    if kind not in profile.packages:
        raise InputError(f"{profile.zh}不接收“{kind}”数据包（可接收：{'、'.join(profile.packages)}）。",
                         f"{profile.en} does not receive '{kind}' packages (only {', '.join(profile.packages)}).")
    agency = str(agency).strip()
    if not agency or len(agency) > 100:
        raise InputError("请写明接收单位名称（--to）。", "Name the receiving agency (--to).")
    package_id = f"{dt.datetime.now(dt.UTC):%Y%m%d}-{kind}-{uuid.uuid4().hex[:8]}"
    folder = resolve_output_dir(out) / package_id
    clear = frozenset(profile.clear)
    masked_kinds = sorted(set(KINDS) - clear)
    files: dict[str, str] = {}
    detail: dict[str, Any] = {"package": package_id, "kind": kind, "agency": agency, "agency_type": agency_type,
              "masked": masked_kinds}
    zone = zone_name()

    def emit(name: str, write: Any, rows: int) -> None:
        with output_file(ws, folder / name, "share", user=user, role=role, rows=rows, **detail) as o:
            write(o.path)
        files[name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()

    if kind in ("freeze", "exit_control"):
        table = freeze_table(ws, min_score) if kind == "freeze" else exit_control_table(ws)
        table = mask_table_except(table, clear)
        rows = table.num_rows
        from chainbreaker.core.exports_xlsx import write_table_xlsx

        stem = "止付冻结名单" if kind == "freeze" else "边控人员名单"
        emit(f"{stem}.csv", lambda p: write_csv(table, p, tz=zone), rows)
        emit(f"{stem}.xlsx", lambda p: write_table_xlsx(table, p, f"share_{kind}", tz=zone,
                                                         note={"接收单位": agency, "数据包": package_id,
                                                               "脱敏类型": masked_kinds}), rows)
    else:
        from chainbreaker.chains.tech.blocklist import blocklist_file_name, collect, render

        entries = collect(ws, set(), min_score=min_score).result()
        rows = len(entries)
        formats = ("domains", "rpz", "hosts") if kind == "blocklist" else ("stix", "misp")
        for fmt in formats:
            text = render(entries, fmt)
            emit(blocklist_file_name(fmt), lambda p, text=text: Path(p).write_text(text, encoding="utf-8"), rows)
    manifest = {"package": package_id, "kind": kind, "agency": agency, "agency_type": agency_type,
                "agency_type_zh": profile.zh, "made_by": user, "role": role,
                "made_at": dt.datetime.now(dt.UTC).astimezone(_zone(zone)).isoformat(timespec="seconds"),
                "rows": rows, "files": files, "masked_kinds": masked_kinds,
                "profiles_version": profiles.version}
    emit("manifest.json", lambda p: Path(p).write_text(json.dumps(manifest, ensure_ascii=False, indent=2),
                                                       encoding="utf-8"), rows)
    with session_scope(engine_for(ws)) as s:
        s.add(SharePackage(package_id=package_id, kind=kind, agency=agency, agency_type=agency_type, made_by=user,
                           rows=rows, files=json.dumps(files, ensure_ascii=False),
                           masked_kinds=json.dumps(masked_kinds), folder=str(folder)))
    return Shared(package_id, folder, rows, files, masked_kinds)


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def packages(ws: Workspace) -> list[dict[str, Any]]:
    from sqlalchemy import select

    with session_scope(engine_for(ws)) as s:
        return [{"package_id": p.package_id, "kind": p.kind, "agency": p.agency, "agency_type": p.agency_type,
                 "made_by": p.made_by, "made_at": p.made_at, "rows": p.rows, "files": json.loads(p.files),
                 "masked_kinds": json.loads(p.masked_kinds)}
                for p in s.scalars(select(SharePackage).order_by(SharePackage.id))]
