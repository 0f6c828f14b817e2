"""Packages for partner agencies (信息共享): what each needs about one case and nothing more.

- ``freeze`` for a bank: accounts named by funds findings linked to the case, with the rule, score,
  number of evidence references and the explanation (other personal data in it masked); CSV + XLSX.
- ``exit`` for border police (边检): persons under coercive measures in the case — resident ID, name,
  measure and date, nothing else; CSV + XLSX.
- ``blocklist`` for telecom and internet regulators: hosts and domains from tech findings and tips
  linked to the case, in the tech chain's formats (hosts, domains, dnsmasq, rpz, adguard).
- ``indicators``: the same names as a STIX 2.1 bundle or a MISP event.

Every file is written whole or not at all and audited; every package is recorded in ``ops_share``
(kind, recipient, case, rows, files with SHA-256, who, when).
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from chainbreaker.chains.tech.blocklist import FORMATS, Builder, render
from chainbreaker.core.errors import InputError
from chainbreaker.core.exports import neutralise, output_file, resolve_output_dir
from chainbreaker.core.exports_xlsx import CellFormats, safe_workbook, write_cell
from chainbreaker.core.model.finding import query
from chainbreaker.core.model.masking import mask_text
from chainbreaker.core.workspace import Workspace
from chainbreaker.ops.casework_models import Case, CaseLink, Measure, Suspect
from chainbreaker.ops.db import engine_for, session_scope
from chainbreaker.ops.sharing_models import SharePackage
from chainbreaker.ops.tips_models import Tip, TipIndicator

KINDS = {"freeze": "冻结账户清单", "exit": "出境管控人员名单", "blocklist": "封堵清单", "indicators": "情报指标包"}
EXPLANATION_ROLE = "analyst"  # banks keep the account numbers; IDs and phones inside explanations are masked


@dataclass
class SharedPackage:
    kind: str
    recipient: str
    rows: int
    files: list[Path]


def _case(s: Any, number: str) -> Case:
    case = s.scalars(select(Case).where(Case.number == number)).first()
    if case is None:
        raise InputError(f"找不到案件“{number}”。", f"No case '{number}'.")
    return case


def _linked_findings(ws: Workspace, ids: list[str]) -> list[dict[str, Any]]:
    if not ids or not ws.has_table("findings"):
        return []
    found = query(ws, id=ids, columns=["id", "chain", "rule_id", "subject_type", "subject_key", "score",
                                       "explanation_zh", "evidence"]).to_pylist()
    return sorted(found, key=lambda r: (r["subject_key"] or ""))


def _freeze_rows(ws: Workspace, s: Any, case: Case) -> tuple[list[str], list[list[Any]]]:
    ids = list(s.scalars(select(CaseLink.ref).where(CaseLink.case_id == case.id, CaseLink.kind == "finding")))
    rows = []
    for f in _linked_findings(ws, ids):
        if f["chain"] != "funds" or f["subject_type"] != "account":
            continue
        evidence = json.loads(f["evidence"] or "[]")
        rows.append([f["subject_key"], f["rule_id"], round(float(f["score"]), 3), len(evidence),
                     mask_text(f["explanation_zh"], EXPLANATION_ROLE), case.number])
    return ["账号/卡号", "线索规则", "评分", "证据条数", "证据摘要", "案件编号"], rows


def _exit_rows(s: Any, case: Case) -> tuple[list[str], list[list[Any]]]:
    q = (select(Suspect.id_number, Suspect.name, Measure.measure, Measure.taken_on).join(Measure, Measure.suspect_id == Suspect.id)
         .where(Measure.case_id == case.id).order_by(Suspect.id_number, Measure.taken_on))
    rows = [[pid, name, case.number, measure, day] for pid, name, measure, day in s.execute(q)]
    return ["身份证号", "姓名", "案件编号", "强制措施", "措施日期"], rows


def _names(ws: Workspace, s: Any, case: Case) -> Builder:
    b = Builder(set())
    ids = list(s.scalars(select(CaseLink.ref).where(CaseLink.case_id == case.id, CaseLink.kind == "finding")))
    for f in _linked_findings(ws, ids):
        if f["chain"] == "tech":
            b.add(str(f["subject_key"]), f"{f['rule_id']} finding / 案件 {case.number}", domain_level=True)
    q = (select(TipIndicator.kind, TipIndicator.value, Tip.receipt_code).join(Tip, Tip.id == TipIndicator.tip_id)
         .where(Tip.case_id == case.id, TipIndicator.kind.in_(["url", "domain"])))
    for kind, value, code in s.execute(q):
        b.add(value, f"tip {code} / 举报 {case.number}", domain_level=kind == "domain")
    return b


def _write_table(ws: Workspace, folder: Path, stem: str, headers: list[str], rows: list[list[Any]], *,
                 user: str, role: str, detail: dict[str, Any]) -> list[Path]:
    out = []
    with (output_file(ws, folder / f"{stem}.csv", "ops.share", user=user, role=role, **detail) as f,
          open(f.path, "w", encoding="utf-8-sig", newline="") as fh):
        w = csv.writer(fh)
        w.writerow(headers)
        for r in rows:
            w.writerow([neutralise(str(v)) if isinstance(v, str) else ("" if v is None else v) for v in r])
    out.append(folder / f"{stem}.csv")
    with output_file(ws, folder / f"{stem}.xlsx", "ops.share", user=user, role=role, **detail) as f:
        wb = safe_workbook(f.path)
        fmts = CellFormats.add(wb)
        sheet = wb.add_worksheet(stem[:31])
        for j, h in enumerate(headers):
            sheet.write_string(0, j, h, fmts.bold)
        for i, r in enumerate(rows, start=1):
            for j, v in enumerate(r):
                write_cell(sheet, i, j, str(v) if j == 0 else v, fmts)  # identifiers stay text
        wb.close()
    out.append(folder / f"{stem}.xlsx")
    return out


def share(ws: Workspace, case_number: str, kind: str, recipient: str, out: Path, *, fmt: str | None = None,
          user: str = "local", role: str = "analyst") -> SharedPackage:
    """Write one package for ``recipient`` about a case and record it."""
    if kind not in KINDS:
        raise InputError(f"共享类型“{kind}”无效，可选：{'、'.join(KINDS)}。", f"Unknown package '{kind}'; choose {', '.join(KINDS)}.")
    if not recipient.strip():
        raise InputError("请写明接收单位（--to）。", "Name the receiving agency (--to).")
    folder = resolve_output_dir(out)
    detail = {"kind": kind, "recipient": recipient, "case": case_number}
    with session_scope(engine_for(ws)) as s:
        case = _case(s, case_number)
        stem = f"{case.number}-{KINDS[kind]}"
        if kind in ("freeze", "exit"):
            headers, rows = _freeze_rows(ws, s, case) if kind == "freeze" else _exit_rows(s, case)
            files = _write_table(ws, folder, stem, headers, rows, user=user, role=role, detail=detail)
            count = len(rows)
        else:
            fmt = fmt or ("domains" if kind == "blocklist" else "stix")
            allowed = ("stix", "misp") if kind == "indicators" else tuple(f for f in FORMATS if f not in ("stix", "misp"))
            if fmt not in allowed:
                raise InputError(f"格式“{fmt}”不适用于{KINDS[kind]}，可选：{'、'.join(allowed)}。",
                                 f"Format '{fmt}' does not fit {kind}; choose {', '.join(allowed)}.")
            entries = _names(ws, s, case).result()
            name = f"{stem}.{'json' if fmt in ('stix', 'misp') else 'txt'}"
            with output_file(ws, folder / name, "ops.share", user=user, role=role, format=fmt, **detail) as f:
                f.path.write_text(render(entries, fmt), "utf-8")
            files, count = [folder / name], len(entries)
        s.add(SharePackage(kind=kind, recipient=recipient.strip(), case_id=case.id, rows=count, shared_by=user,
                           files=json.dumps([{"name": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
                                             for p in files], ensure_ascii=False)))
    return SharedPackage(kind, recipient, count, files)
