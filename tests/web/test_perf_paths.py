"""The fast paths of search and dossiers keep their promises: the search index answers like the tables,
cached dossiers are still audited and are dropped when a run changes the lake, references are
authenticated, audit lines from many threads all reach the disk whole."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path

import pyarrow as pa
import pytest

from chainbreaker.core.appendlog import append_durably
from chainbreaker.core.model.finding import FINDINGS_SCHEMA, Finding
from chainbreaker.core.workspace import Workspace
from chainbreaker.faces.web.dossier import LakeDossierSource
from chainbreaker.faces.web.refs import RefBook, RefExpired, workspace_key
from chainbreaker.faces.web.services import NotFound

from .support import HUB, OTHERS, ZHANG_ID, ZHANG_PHONE, audit_lines, build_workspace


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return build_workspace(tmp_path_factory.mktemp("perf") / "ws")


def test_search_index_finds_every_kind_of_identifier(ws: Workspace) -> None:
    source = LakeDossierSource(ws)
    find = lambda q: {h["ident"]: h for h in source.search(q, role="admin", user="t")}  # noqa: E731
    hub = find(HUB)[HUB]
    assert hub["kind"] == "account" and hub["findings"] == 1
    assert hub["sources"][0] == "findings" and "accounts" in hub["sources"]
    assert hub["label"] == "张伟"
    assert find(ZHANG_PHONE)[ZHANG_PHONE]["kind"] == "phone"
    assert find("A2")["A2"]["sources"] == ["platform_members"]  # a member id, two characters: exact only
    assert "A1" not in find("A2")
    prefix = source.search(HUB[:8], role="admin", user="t")  # a prefix: every account that starts so
    assert [h["ident"] for h in prefix][0] == HUB  # the one with findings first
    assert {h["ident"] for h in prefix} == {HUB}
    names = find("张伟")
    assert ZHANG_ID in names and names[ZHANG_ID]["label"] == "张伟"
    assert find("钱代理")["A2"]["kind"] == "member"
    assert source.search("nothing-like-this", role="admin", user="t") == []


def test_cached_dossier_is_audited_every_time_and_dropped_after_a_run(tmp_path: Path) -> None:
    ws = build_workspace(tmp_path / "ws")
    source = LakeDossierSource(ws)
    first = source.dossier(OTHERS[1], role="admin", user="a")
    again = source.dossier(OTHERS[1], role="admin", user="b")
    assert first is again and first is not None and first["findings"] == []
    reads = [line for line in audit_lines(ws) if line["action"] == "web.dossier"]
    assert [(r["user"], r["found"]) for r in reads] == [("a", True), ("b", True)]
    finding = Finding(run_id="r2", chain="funds", rule_id="fan_out", subject_type="account", subject_key=OTHERS[1],
                      score=0.7, explanation_zh="一对多转出。", explanation_en="Fan-out.").as_row()
    with ws.transaction("web.test") as tx:
        tx.write("findings", pa.Table.from_pylist([finding], schema=FINDINGS_SCHEMA), mode="append")
    after = source.dossier(OTHERS[1], role="admin", user="c")
    assert after is not None and [f["rule_id"] for f in after["findings"]] == ["fan_out"]


def test_dossier_of_a_masked_role_is_its_own(ws: Workspace) -> None:
    source = LakeDossierSource(ws)
    clear = source.dossier(HUB, role="admin", user="t")
    masked = source.dossier(HUB, role="viewer", user="t")
    assert clear is not None and masked is not None
    assert clear["display"] == HUB and masked["display"] != HUB and HUB not in json.dumps(masked)
    assert masked["ident"].startswith("r-") and source.dossier(masked["ident"], role="viewer", user="t") is masked


def test_references_are_authenticated_and_shared_through_the_workspace_key(ws: Workspace) -> None:
    one, two = RefBook.for_workspace(ws), RefBook.for_workspace(ws)
    ref = one.ref(ZHANG_ID, "viewer", "id_number")
    assert ref.startswith("r-") and ZHANG_ID not in ref and len(ref) <= 100
    assert two.resolve(ref) == ZHANG_ID  # another process with the same workspace
    assert one.ref(ZHANG_ID, "admin", "id_number") == ZHANG_ID  # a role that sees it clear gets it clear
    flipped = ref[:10] + ("A" if ref[10] != "A" else "B") + ref[11:]  # a whole character (the last may be padding)
    for bad in (flipped, "r-", "r-!!!!", "r-" + "A" * 40):
        with pytest.raises(RefExpired) as err:
            two.resolve(bad)
        assert isinstance(err.value, NotFound)
    other = Workspace(ws.root.parent / "elsewhere")
    with pytest.raises(RefExpired):
        RefBook.for_workspace(other).resolve(ref)  # another workspace's key
    key_file = ws.root / ".secrets" / "web-ref.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and workspace_key(ws) == key_file.read_bytes()


def test_audit_lines_from_many_threads_all_reach_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    threads = [threading.Thread(target=lambda i=i: [append_durably(path, json.dumps({"t": i, "n": n}) + "\n")
                                                    for n in range(150)]) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = [json.loads(line) for line in path.read_text("utf-8").split("\n") if line]
    assert len(rows) == 8 * 150
    assert {(r["t"], r["n"]) for r in rows} == {(i, n) for i in range(8) for n in range(150)}


def test_an_audit_line_that_cannot_be_written_raises_for_its_caller(tmp_path: Path) -> None:
    target = tmp_path / "a-folder"
    target.mkdir()  # appending to a directory fails for everyone, root included
    with pytest.raises(OSError):
        append_durably(target, "{}\n")


def test_a_url_subject_opens_through_the_api(tmp_path: Path) -> None:
    from urllib.parse import quote

    from fastapi.testclient import TestClient

    from chainbreaker.faces.web.app import create_app

    from .conftest import login

    ws = build_workspace(tmp_path / "ws")
    url = "http://bet-example.com/search.php?kw=baijiale#top"
    finding = Finding(run_id="r3", chain="tech", rule_id="doorway", subject_type="url", subject_key=url, score=0.8,
                      explanation_zh="寄生页面。", explanation_en="Doorway page.").as_row()
    with ws.transaction("web.test") as tx:
        tx.write("findings", pa.Table.from_pylist([finding], schema=FINDINGS_SCHEMA), mode="append")
    client = login(TestClient(create_app(ws)), "analyst")
    hits = client.get("/api/search", params={"q": "http://bet-example.com/sea"}).json()
    assert [h["ident"] for h in hits] == [url]
    dossier = client.get(f"/api/entities/{quote(url, safe='')}")
    assert dossier.status_code == 200, dossier.text
    assert dossier.json()["findings"][0]["rule_id"] == "doorway"
