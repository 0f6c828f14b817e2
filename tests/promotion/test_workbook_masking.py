"""The evidence workbook masks personal values for a role that does not see them, and audits it."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl

from chainbreaker.core.model.personal import value_kind


def _cells(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path, read_only=True)
    return [str(c) for sh in wb.worksheets for row in sh.iter_rows(values_only=True) for c in row if c is not None]


def test_viewer_workbook_masks_names_ids_phones_and_audits_kinds(analysed, pyramid, tmp_path: Path) -> None:
    from chainbreaker.chains.promotion.workbook import write_workbook

    ws, _ = analysed
    member = pyramid.edge.accounts_121_persons_120
    con = ws.duck()
    names = {r[0] for r in con.sql("SELECT real_name FROM platform_members WHERE real_name IS NOT NULL").fetchall()}
    con.close()
    clear = tmp_path / "investigator.xlsx"
    write_workbook(ws, member, clear, platform=pyramid.name, role="investigator")
    clear_cells = _cells(clear)
    assert names & set(clear_cells), "the investigator sees names in clear"
    personal = [c for c in clear_cells if value_kind(c) in ("id_number", "phone")]
    masked = tmp_path / "viewer.xlsx"
    counts = write_workbook(ws, member, masked, platform=pyramid.name, role="viewer")
    assert counts["伞下会员"] == 121  # same rows, masked values
    cells = _cells(masked)
    assert not names & set(cells), "names of members visible to a viewer"
    assert not [c for c in cells if value_kind(c) in ("id_number", "phone", "card")]
    assert all(c not in "\n".join(cells) for c in personal)
    assert any(c.endswith("*") and len(c) >= 2 for c in cells)  # 张** style names
    audit = [json.loads(x) for x in (ws.root / "audit.jsonl").read_text("utf-8").splitlines()]
    start, done = audit[-2], audit[-1]
    assert start["phase"] == "start" and done["phase"] == "done" and start["audit_id"] == done["audit_id"]
    assert start["role"] == "viewer" and start["action"] == "promotion.workbook"
    assert start["masked_kinds"]["伞下会员.姓名"] == "name"
    assert start["masked_kinds"]["摘要.real_name"] == "name"


def test_cli_workbook_follows_the_role(analysed, pyramid, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from chainbreaker.faces.cli.main import app

    ws, _ = analysed
    out = tmp_path / "cli.xlsx"
    r = CliRunner().invoke(app, ["--role", "viewer", "promotion", "workbook", pyramid.edge.persons_120,
                                 "--platform", pyramid.name, "--out", str(out)], env={"CHAINBREAKER_WORKSPACE": str(ws.root)})
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(out, read_only=True)
    rows = list(wb["伞下会员"].iter_rows(values_only=True))
    col = rows[0].index("姓名")
    assert all(v is None or str(v)[1:] == "*" * (len(str(v)) - 1) for v in (r[col] for r in rows[1:]))
    last = json.loads((ws.root / "audit.jsonl").read_text("utf-8").splitlines()[-1])
    assert last["role"] == "viewer" and last["phase"] == "done" and "伞下会员.姓名" in last["masked_kinds"]
