"""intel resolve on hand-made tables: person_clusters merge, company holders, bad values, empty workspace."""

from __future__ import annotations

import json

import pyarrow as pa

from chainbreaker.core.model.schemas import ACCOUNTS
from chainbreaker.core.workspace import Workspace
from chainbreaker.intel.entities import resolve

ID_A = "110105198001010016"  # on the bank's account file
ID_B = "110105198001010024"  # the same man on the platform, one digit mistyped (valid by chance)
SHA = "a" * 64


def _tables(ws: Workspace, clusters: bool) -> None:
    with ws.transaction("test.tables") as tx:
        tx.write("accounts", pa.Table.from_pylist([
            {"account": "6222021001112220001", "holder_name": "王老板", "holder_id": ID_A, "origin": "bank",
             "requested": True, "src_sha256": SHA, "src_row": 2},
            {"account": "6222021001112220002", "holder_name": "某某科技有限公司", "holder_id": "91440300MA5DXXXX1Y",
             "origin": "bank", "requested": True, "src_sha256": SHA, "src_row": 3},
            {"account": "6222021001112220003", "holder_name": "坏号", "holder_id": "12345", "origin": "bank",
             "requested": True, "src_sha256": SHA, "src_row": 4}], schema=ACCOUNTS))
        tx.write("platform_members", pa.Table.from_pylist([
            {"platform": "金沙", "member_id": "A001", "upline_id": None, "real_name": "王老板", "id_number": ID_B,
             "phone": "+86 138-0013-8000", "bank_card": "6222 0210 0111 2220 001", "src_sha256": "b" * 64,
             "src_file": "members.csv", "src_row": 2}]))
        if clusters:
            tx.write("person_records", pa.Table.from_pylist([
                {"record_id": "r1", "source_table": "accounts", "source_key": "6222021001112220001",
                 "src_sha256": SHA, "src_row": 2},
                {"record_id": "r2", "source_table": "platform_members", "source_key": "金沙:A001",
                 "src_sha256": "b" * 64, "src_row": 2}]))
            tx.write("person_clusters", pa.Table.from_pylist([
                {"record_id": "r1", "cluster_id": "Pr1", "cluster_size": 2},
                {"record_id": "r2", "cluster_id": "Pr1", "cluster_size": 2}]))


def test_person_clusters_merge_person_entities(tmp_path) -> None:
    plain, merged = Workspace(tmp_path / "plain"), Workspace(tmp_path / "merged")
    _tables(plain, clusters=False)
    _tables(merged, clusters=True)
    assert resolve(plain).entities["person"] == 2
    res = resolve(merged)
    assert res.entities["person"] == 1 and res.merged_by_er == 1
    person = next(r for r in merged.read_arrow("entities").to_pylist() if r["entity_type"] == "person")
    assert person["entity_id"] == f"person:ID:{ID_A}"
    assert set(json.loads(person["identifiers"])) == {f"ID:{ID_A}", f"ID:{ID_B}"}
    holds = {(r["src_id"], r["dst_id"]) for r in merged.read_arrow("entity_links").to_pylist() if r["kind"] == "holds"}
    assert (f"person:ID:{ID_A}", "account:6222021001112220001") in holds
    assert (f"person:ID:{ID_A}", "member:金沙:A001") in holds


def test_company_holders_bad_ids_and_normalised_pivots(tmp_path) -> None:
    ws = Workspace(tmp_path / "ws")
    _tables(ws, clusters=False)
    resolve(ws)
    ents = {r["entity_id"]: r for r in ws.read_arrow("entities").to_pylist()}
    assert "org:91440300MA5DXXXX1Y" in ents  # a company holder is an organisation, not a person
    assert not any("12345" in e for e in ents if e.startswith(("person:", "org:")))  # a broken ID is no pivot
    assert "phone:+8613800138000" in ents
    links = ws.read_arrow("entity_links").to_pylist()
    # the platform's bound card, written with spaces, meets the bank's account
    assert any(r["kind"] == "binds_card" and r["dst_id"] == "account:6222021001112220001" for r in links)


def test_resolve_on_an_empty_workspace_writes_nothing(tmp_path) -> None:
    ws = Workspace(tmp_path / "empty")
    res = resolve(ws)
    assert res.entities == {} and not ws.has_table("entities")


def test_path_dossier_operations_say_what_to_do_on_bad_input(tmp_path) -> None:
    import pytest

    from chainbreaker.core.errors import InputError
    from chainbreaker.intel.dossier import write_dossier
    from chainbreaker.intel.operations import operations
    from chainbreaker.intel.path import find_path

    ws = Workspace(tmp_path / "ws")
    with pytest.raises(InputError, match="intel resolve"):
        find_path(ws, ID_A, "金沙:A001")
    with pytest.raises(InputError, match="intel resolve"):
        operations(ws)
    _tables(ws, clusters=False)
    resolve(ws)
    with pytest.raises(InputError, match="--max-hops"):
        find_path(ws, ID_A, "金沙:A001", max_hops=0)
    with pytest.raises(InputError, match="money"):
        find_path(ws, ID_A, "金沙:A001", direction="sideways")
    with pytest.raises(InputError, match="docx"):
        write_dossier(ws, ID_A, tmp_path / "d.pdf", "pdf", "investigator")
    # the same person through a bound card: 王老板's bank account is bound on his platform account
    doc = find_path(ws, ID_A, "金沙:A001")
    assert [e["kind"] for e in doc["edges"]] == ["holds", "binds_card"]
    nothing = find_path(ws, ID_A, "6217000000000000000")
    assert nothing["to_entities"] == [] and nothing["nodes"] == []


def test_companions_of_the_people_chain_become_travelled_with_links(tmp_path) -> None:
    import datetime as dt

    from chainbreaker.chains.people.analyze import analyze
    from chainbreaker.chains.people.ingest import ingest_travel
    from chainbreaker.synth.travel import CROSSING_HEADER

    from .scenario import _fix_id, _write

    a, b = _fix_id("32010219900101011"), _fix_id("32010219900101012")

    def row(name: str, idn: str, doc: str, when: str, direction: str, tour: str) -> list[str]:
        return [name, "中国", "男", idn, "普通护照", doc, "", when, "昆明长水机场", "", "柬埔寨", direction, "航空", "",
                tour, "云南省昆明市"]

    rows = [row(n, idn, doc, day + " 08:00:00", direction, f"T{i}")
            for i, (out, back) in enumerate([("2025-05-01", "2025-05-08"), ("2025-07-01", "2025-07-09")])
            for n, idn, doc in (("甲", a, "E1"), ("乙", b, "E2"))
            for day, direction in ((out, "出境"), (back, "入境"))]
    _write(tmp_path / "crossings.csv", CROSSING_HEADER, rows)
    ws = Workspace(tmp_path / "ws")
    ingest_travel(ws, [tmp_path / "crossings.csv"])
    analyze(ws, dt.date(2026, 1, 1))
    res = resolve(ws)
    assert res.entities == {"person": 2} and res.links == {"travelled_with": 1}
    link = ws.read_arrow("entity_links").to_pylist()[0]
    assert {link["src_id"], link["dst_id"]} == {f"person:ID:{a}", f"person:ID:{b}"} and link["count"] == 2
    assert link["chain"] == "people" and json.loads(link["evidence"])[0]["kinds"] == ["tour"]


def test_money_paths_respect_direction_and_time_order(tmp_path) -> None:
    import datetime as dt
    from decimal import Decimal

    from chainbreaker.intel.entities import ENTITIES, ENTITY_LINKS
    from chainbreaker.intel.path import find_path

    def at(day: int) -> dt.datetime:
        return dt.datetime(2026, 3, day, tzinfo=dt.UTC)

    def money(src: str, dst: str, first: int, last: int) -> dict:
        return {"kind": "transferred_to", "chain": "funds", "src_id": f"account:{src}", "dst_id": f"account:{dst}",
                "count": 1, "amount": Decimal("100.00"), "first_ts": at(first), "last_ts": at(last), "evidence": "[]"}

    ws = Workspace(tmp_path / "ws")
    names = ["6222000000000001", "6222000000000002", "6222000000000003", "6222000000000004"]
    a, b, c, d = names
    with ws.transaction("test.graph") as tx:
        tx.write("entities", pa.Table.from_pylist([
            {"entity_id": f"account:{n}", "entity_type": "account", "key": n, "identifiers": json.dumps([n]),
             "subject_keys": json.dumps([n]), "chains": '["funds"]', "tables": '["transactions"]', "n_sources": 1}
            for n in names], schema=ENTITIES))
        # a → b on the 10th; b → c only on the 5th (before the money arrived); b → d on the 12th
        tx.write("entity_links", pa.Table.from_pylist([money(a, b, 10, 10), money(b, c, 5, 5), money(b, d, 12, 12)],
                                                      schema=ENTITY_LINKS))
    assert len(find_path(ws, a, c)["nodes"]) == 3  # any direction: linked
    assert find_path(ws, a, c, direction="money")["nodes"] == []  # the money cannot have gone back in time
    assert [n["id"] for n in find_path(ws, a, d, direction="money")["nodes"]] == [f"account:{x}" for x in (a, b, d)]
    assert find_path(ws, d, a, direction="money")["nodes"] == []  # against the money's direction


def test_a_registrable_domain_names_every_site_on_it(tmp_path) -> None:
    from chainbreaker.intel.path import find_path

    ws = Workspace(tmp_path / "ws")
    sha = "c" * 64
    with ws.transaction("test.tech") as tx:
        tx.write("tech_captures", pa.Table.from_pylist([
            {"host": "pay.jinsha-pay.com", "url": "https://pay.jinsha-pay.com/", "capture_sha256": sha},
            {"host": "www.jinsha-pay.com", "url": "https://www.jinsha-pay.com/", "capture_sha256": "d" * 64}]))
        tx.write("tech_indicators", pa.Table.from_pylist([
            {"host": "pay.jinsha-pay.com", "url": "https://pay.jinsha-pay.com/", "persona": "desktop",
             "kind": "bank_card", "value": "6222021001112220001", "context": "收款卡号", "capture_sha256": sha}]))
    res = resolve(ws)
    assert res.entities == {"account": 1, "domain": 1, "site": 2}
    doc = find_path(ws, "https://JINSHA-PAY.com/index.html", "6222 0210 0111 2220 001")
    assert {"site:pay.jinsha-pay.com", "site:www.jinsha-pay.com", "domain:jinsha-pay.com"} <= set(doc["from_entities"])
    assert [e["kind"] for e in doc["edges"]] == ["shows_card"]
    assert doc["edges"][0]["evidence"][0]["capture"] == sha


def test_entity_tables_of_an_older_shape_ask_for_a_new_resolve(tmp_path) -> None:
    import pytest

    from chainbreaker.core.errors import InputError
    from chainbreaker.intel.path import find_path

    ws = Workspace(tmp_path / "ws")
    _tables(ws, clusters=False)
    resolve(ws)
    with ws.transaction("test.old") as tx:
        tx.write("entities", ws.read_arrow("entities").drop_columns(["name"]))
    with pytest.raises(InputError, match="intel resolve again"):
        find_path(ws, ID_A, "金沙:A001")
