"""Packages for partner agencies: what each needs and nothing more, masked by the agency's profile,
audited before the files exist, recorded in the ops database; STIX validated by the stix2 library."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from chainbreaker.core.errors import InputError
from chainbreaker.core.workspace import Workspace
from chainbreaker.ops import register, sharing

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from funds.scenario import build, write_lake  # noqa: E402

ID = "11010519491231002X"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    import os

    os.environ.pop("CHAINBREAKER_DATABASE_URL", None)
    from chainbreaker.chains.funds.screen import screen

    ws = Workspace(tmp_path_factory.mktemp("share") / "ws")
    book = build(seed=7)
    write_lake(ws, book)
    # holders with names and IDs (as KYC files give them) for the accounts
    accounts = ws.read_arrow("accounts").to_pylist()
    for i, row in enumerate(accounts):
        row["holder_name"], row["holder_id"] = f"持卡人{i}", ID
        row["bank"] = row.get("bank") or "中国工商银行"
    with ws.transaction("test.accounts") as tx:
        tx.write("accounts", pa.Table.from_pylist(accounts, schema=ws.read_arrow("accounts").schema))
    screen(ws)
    # a tech finding for the blocklist, a people finding for exit control (appended to the findings)
    findings = ws.read_arrow("findings")
    extra = []
    for rule, chain, stype, key, why in [
            ("gambling.site", "tech", "site", "https://www.xpj888.com/", "赌博网站：=HYPERLINK(\"http://evil\")"),
            ("people.stranded", "people", "person", f"ID:{ID}", "出境赴柬埔寨后滞留未归 120 天。")]:
        row = {name: None for name in findings.column_names}
        row.update(id=f"x-{rule}", run_id="t", chain=chain, rule_id=rule, rule_version="1", subject_type=stype,
                   subject_key=key, score=0.9, severity="high", facts="{}", explanation_zh=why,
                   explanation_en="", evidence="[]")
        extra.append(row)
    with ws.transaction("test.findings") as tx:
        tx.write("findings", pa.concat_tables([findings, pa.Table.from_pylist(extra, schema=findings.schema)]))
    register.add_person(ws, f"ID:{ID}", "出境参赌人员", "li", "滞留柬埔寨")
    for status in ("核查", "认定"):
        register.set_status(ws, f"ID:{ID}", status, "li", "核实")
    register.set_status(ws, f"ID:{ID}", "处置", "li", "报请边控", disposal="列控")
    return ws


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _audit(ws: Workspace) -> list[dict]:
    return [json.loads(line) for line in (ws.root / "audit.jsonl").read_text().splitlines()]


def test_freeze_list_for_a_bank(ws: Workspace, tmp_path: Path) -> None:
    shared = sharing.make_package(ws, "freeze", "工行某分行", "bank", tmp_path, user="li", role="analyst")
    assert shared.rows > 0 and set(shared.files) == {"止付冻结名单.csv", "止付冻结名单.xlsx", "manifest.json"}
    rows = _csv(shared.folder / "止付冻结名单.csv")
    assert len(rows) == shared.rows
    text = json.dumps(rows, ensure_ascii=False)
    assert ID not in text and "110105********002X" in text  # the bank needs cards and names, not IDs
    assert any(r.get("持卡人") or r.get("holder_name") for r in rows) and "持卡人0" in text or "持卡人" in text
    flagged = {r["account"] for r in ws.read_arrow("account_risk").to_pylist() if r["score"] >= 0.5}
    assert flagged and all(a in text for a in flagged)  # card numbers in clear for the bank
    manifest = json.loads((shared.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["agency"] == "工行某分行" and "+08:00" in manifest["made_at"]
    assert manifest["masked_kinds"] == ["address", "id_number", "passport", "phone"]
    starts = [a for a in _audit(ws) if a["action"] == "share" and a.get("package") == shared.package_id]
    assert [a["phase"] for a in starts].count("start") == 3 and [a["phase"] for a in starts].count("done") == 3
    assert sharing.packages(ws)[-1]["package_id"] == shared.package_id


def test_exit_control_for_border_police(ws: Workspace, tmp_path: Path) -> None:
    shared = sharing.make_package(ws, "exit_control", "某边检站", "border", tmp_path, user="li", role="investigator")
    rows = _csv(shared.folder / "边控人员名单.csv")
    assert len(rows) == 1
    text = json.dumps(rows, ensure_ascii=False)
    assert ID in text and "列控" in text and "滞留" in text


def test_blocklist_and_indicators_for_regulators(ws: Workspace, tmp_path: Path) -> None:
    shared = sharing.make_package(ws, "blocklist", "省通信管理局", "telecom", tmp_path, user="li", role="analyst")
    domains = (shared.folder / "blocklist-domains.txt").read_text()
    assert "xpj888.com" in domains
    ind = sharing.make_package(ws, "indicators", "省通信管理局", "telecom", tmp_path, user="li", role="analyst")
    import stix2

    stix_file = next(p for p in ind.folder.iterdir() if "stix" in p.name)
    bundle = stix2.parse(stix_file.read_text(), allow_custom=True)
    assert any("xpj888.com" in getattr(o, "pattern", "") for o in bundle.objects)


def test_an_agency_gets_only_its_packages(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        sharing.make_package(ws, "exit_control", "工行某分行", "bank", tmp_path, user="li", role="analyst")
    assert "不接收" in info.value.zh
    with pytest.raises(InputError):
        sharing.make_package(ws, "freeze", "x", "martians", tmp_path, user="li", role="analyst")
    with pytest.raises(InputError):
        sharing.make_package(ws, "freeze", " ", "bank", tmp_path, user="li", role="analyst")


def test_no_formula_from_data_reaches_a_package(ws: Workspace, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    shared = sharing.make_package(ws, "freeze", "工行某分行", "bank", tmp_path, user="li", role="analyst")
    wb = load_workbook(shared.folder / "止付冻结名单.xlsx")
    for sheet in wb.worksheets:
        for row in sheet.iter_rows(values_only=True):
            for v in row:
                assert not (isinstance(v, str) and v.startswith("=")), v


def test_cli_share_make_and_list(ws: Workspace, tmp_path: Path) -> None:
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "CHAINBREAKER_DATABASE_URL"} | {"COLUMNS": "200"}

    def cb(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "chainbreaker.faces.cli.main", "--workspace", str(ws.root), *args],
                              capture_output=True, text=True, env=env, timeout=300)

    done = cb("share", "make", "freeze", "--to", "建行某支行", "--agency-type", "bank", "--out", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "数据包" in done.stdout and "id_number" in done.stdout
    listed = cb("share", "list")
    assert listed.returncode == 0 and "建行某支行" in listed.stdout
    refused = cb("share", "make", "exit_control", "--to", "建行某支行", "--agency-type", "bank", "--out", str(tmp_path))
    assert refused.returncode != 0 and "Traceback" not in refused.stderr and "不接收" in refused.stdout + refused.stderr
