"""Screening on the hand-made scenario: each rule, the look-alikes, findings, evidence, coverage."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pyarrow as pa
import pytest

from chainbreaker.chains.funds.screen import screen
from chainbreaker.core.errors import InputError
from chainbreaker.core.model.finding import Finding, findings_table

from .scenario import Book, build, screened_features, transactions_table, write_lake


def fired(risk: dict, account: str) -> set[str]:
    return set(filter(None, risk[account]["rules_fired"].split(",")))


def test_operation_accounts_score_high(risk: dict, book: Book) -> None:
    ops = [a for a, r in book.roles.items() if r == "op"]
    assert len(ops) == 13
    for account in ops:
        assert risk[account]["score"] >= 0.5, account
        assert risk[account]["flagged"]


def test_lookalikes_and_ordinary_accounts_stay_below_half(risk: dict, book: Book) -> None:
    for account, role in book.roles.items():
        if role != "op" and account in risk:
            assert risk[account]["score"] < 0.5, (account, book.kind[account], risk[account]["rules_fired"])
    # The look-alikes really look alike: they do show the raw pattern, just not enough of it.
    assert "fan_in" in fired(risk, "SHOP")
    assert "loop" in fired(risk, "FAM1")
    assert risk["COMPANY"]["score"] < 0.2


@pytest.mark.parametrize("account, rule", [
    ("CARD1", "paofen"), ("CARD1", "fast_in_out"), ("CARD1", "fan_in"), ("CARD1", "card_pool"),
    ("CARD7", "dormant"), ("PAYOUT", "fan_out"), ("SETTLE", "network"), ("SETTLE", "night"),
    ("SETTLE", "loop"), ("MULE0", "loop"), ("CARD1", "round_amount"), ("PAYOUT", "transit"),
])
def test_each_rule_fires_where_expected(risk: dict, account: str, rule: str) -> None:
    assert rule in fired(risk, account)


@pytest.mark.parametrize("account, rule", [
    ("CARD1", "dormant"), ("SHOP", "paofen"), ("SHOP", "fast_in_out"), ("COMPANY", "fan_out"),
    ("FAM0", "card_pool"), ("G001", "network"), ("SHOPOWNER", "network"),
])
def test_rules_do_not_fire_on_the_wrong_accounts(risk: dict, account: str, rule: str) -> None:
    assert rule not in fired(risk, account)


def test_ranks_are_dense_and_ordered(risk: dict) -> None:
    rows = sorted(risk.values(), key=lambda r: r["rank"])
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert all(a["score"] >= b["score"] for a, b in zip(rows, rows[1:], strict=False))
    facts = json.loads(risk["CARD1"]["key_facts"])
    assert facts["n_payers"] > 30 and facts["flow_class"] == "transit"


def test_findings_have_facts_explanations_and_source_rows(screened, book: Book) -> None:
    ws, result = screened
    findings = ws.read_arrow("findings").to_pylist()
    assert len(findings) == result.findings > 0
    assert {f["chain"] for f in findings} == {"funds"}
    rows = {r["txn_id"]: r for r in book.rows}
    for f in findings:
        assert f["rule_id"].startswith("funds.")
        assert f["subject_type"] == "account" and f["score"] >= 0.5
        assert "账户" in f["explanation_zh"] and "account" in f["explanation_en"]
        facts = json.loads(f["facts"])
        evidence = json.loads(f["evidence"])
        assert 0 < len(evidence) <= 20
        assert facts["evidence_rows_total"] >= len(evidence)
        for ref in evidence:
            row = rows[ref["txn_id"]]
            assert ref["file_sha256"] == row["src_sha256"] and ref["row"] == row["src_row"]
            assert f["subject_key"] in (row["from_account"], row["to_account"])
    by_key = {(f["subject_key"], f["rule_id"]): f for f in findings}
    pool = json.loads(by_key[("CARD2", "funds.card_pool")]["evidence"])
    assert all(rows[r["txn_id"]]["mac"] == "AA:BB:CC:00:11:22" for r in pool)
    loop = json.loads(by_key[("MULE0", "funds.loop")]["evidence"])
    assert {rows[r["txn_id"]]["to_account"] for r in loop} <= {"SETTLE", "MULE0"}
    network = json.loads(by_key[("SETTLE", "funds.network")]["evidence"])
    assert {rows[r["txn_id"]]["from_account"] for r in network} <= {"MULE0", "MULE1", "MULE2"}
    paofen = by_key[("CARD1", "funds.paofen")]
    assert "跑分" in paofen["explanation_zh"] and paofen["period_start"] is not None


def test_coverage_counts_unusable_rows(tmp_path) -> None:
    from chainbreaker.core.workspace import Workspace

    b = build(seed=3)
    ws = Workspace(tmp_path / "ws")
    table = transactions_table(b)
    bad = table.slice(0, 4).to_pylist()
    bad[0]["to_account"] = None  # counterparty unknown (cash)
    bad[1]["amount"] = Decimal("0.00")
    bad[2]["ts"] = None
    bad[3]["from_account"], bad[3]["amount"] = "ONLY-IN-A-BAD-ROW", None  # present, never screened
    for i, row in enumerate(bad):
        row["txn_id"] = f"BAD{i}"
    with ws.transaction("test") as tx:
        tx.write("transactions", pa.concat_tables([table, pa.Table.from_pylist(bad, schema=table.schema)]))
    result = screen(ws)
    assert result.transactions_present == table.num_rows + 4
    assert result.transactions_screened == table.num_rows
    cov = {r["item"]: r for r in ws.read_arrow("funds_coverage").to_pylist()}
    assert cov["transactions"]["share"] < 1.0
    seen = {r["from_account"] for r in b.rows} | {r["to_account"] for r in b.rows}
    assert cov["accounts"]["screened"] == result.accounts_screened == len(seen)
    assert result.accounts_present == len(seen) + 1


def test_coverage_counts_unusable_rows_when_nothing_is_flagged(tmp_path) -> None:
    """No flagged account, no evidence scan: the coverage reads the lake for the unusable rows itself."""
    from chainbreaker.core.workspace import Workspace

    table = transactions_table(build(seed=3)).slice(0, 3)
    bad = table.slice(0, 1).to_pylist()
    bad[0]["from_account"], bad[0]["amount"], bad[0]["txn_id"] = "ONLY-IN-A-BAD-ROW", None, "BAD0"
    ws = Workspace(tmp_path / "ws")
    with ws.transaction("test") as tx:
        tx.write("transactions", pa.concat_tables([table, pa.Table.from_pylist(bad, schema=table.schema)]))
    result = screen(ws)
    assert result.flagged == 0
    seen = {r["from_account"] for r in table.to_pylist()} | {r["to_account"] for r in table.to_pylist()}
    assert (result.transactions_present, result.transactions_screened) == (4, 3)
    assert (result.accounts_present, result.accounts_screened) == (len(seen) + 1, len(seen))


def test_rescreen_replaces_own_findings_and_keeps_other_chains(tmp_path, book: Book) -> None:
    from chainbreaker.core.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    write_lake(ws, book)
    other = Finding(run_id="r", chain="tech", rule_id="tech.x", subject_type="site", subject_key="a.example",
                    score=0.9, explanation_zh="测试", explanation_en="test")
    with ws.transaction("test") as tx:
        tx.write("findings", findings_table([other]))
    first = screen(ws)
    second = screen(ws)
    findings = ws.read_arrow("findings").to_pylist()
    assert sum(f["chain"] == "tech" for f in findings) == 1
    assert sum(f["chain"] == "funds" for f in findings) == second.findings == first.findings
    assert {f["run_id"] for f in findings if f["chain"] == "funds"} == {second.run_id}
    run = [r for r in ws.runs() if r["run_id"] == second.run_id][0]
    assert run["settings"]["rules_version"] == second.rules_version
    assert run["counts"]["flagged"] == second.flagged


def test_rules_override_changes_the_result(tmp_path, book: Book) -> None:
    from chainbreaker.core.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    write_lake(ws, book)
    (ws.config_dir / "funds_rules.yaml").write_text("flag_threshold: 0.99\n", "utf-8")
    result = screen(ws)
    assert 0 < result.flagged < 13


def test_screen_without_transactions_is_a_clear_error(tmp_path) -> None:
    from chainbreaker.core.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    with pytest.raises(InputError) as exc:
        screen(ws)
    assert "ingest" in exc.value.en
    assert not ws.has_table("account_risk")


def test_night_share_uses_local_time(tmp_path) -> None:
    """02:00 in Shanghai is 18:00 UTC the day before: it must count as night."""

    b = Book(1)
    for name in ("A", "B", "C"):
        b.account(name, "normal")
    night = dt.datetime(2026, 9, 1, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    day = dt.datetime(2026, 9, 1, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    for i in range(12):
        b.pay("A", "B", 100 + i, night + dt.timedelta(days=i))
        b.pay("C", "B", 100 + i, day + dt.timedelta(days=i))
    feats = screened_features(tmp_path, b)
    assert feats["A"]["night_share"] == 1.0
    assert feats["C"]["night_share"] == 0.0
    assert feats["B"]["night_share"] == 0.5


def test_flagged_rows_carry_their_rank_in_account_risk(screened) -> None:
    """The flagged rows (findings) are ranked apart from the account_risk table: the same ranks."""
    from chainbreaker.chains.funds import scoring
    from chainbreaker.chains.funds.rules import load_rules

    ws, result = screened
    p = load_rules(None, ws.config_dir).params
    scored = ws.read_arrow("funds_features")  # the scored table, as written
    ranked = scoring.flagged_rows(scored, p)
    risk = scoring.risk_table(scored, p, "r", "v").to_pylist()
    assert [(r["account"], r["rank"], r["score"]) for r in ranked] == [
        (r["account"], r["rank"], r["score"]) for r in risk if r["flagged"]]
    assert len(ranked) == result.flagged > 0


@pytest.mark.parametrize("target", ["scoring.risk_table", "typologies._facts_of_keys", "screen.publish"])
def test_an_error_on_a_side_thread_fails_the_run_and_writes_nothing(tmp_path, book: Book, monkeypatch,
                                                                      target: str) -> None:
    """Work done beside the engine (account_risk, the sorted facts, the findings) fails the run as inline work would."""
    import importlib

    from chainbreaker.core.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    write_lake(ws, book)
    module, name = target.split(".")

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("side thread failed")

    monkeypatch.setattr(importlib.import_module(f"chainbreaker.chains.funds.{module}"), name, boom)
    runs = len(ws.runs())
    with pytest.raises(RuntimeError, match="side thread failed"):
        screen(ws, incremental=False)
    assert len(ws.runs()) == runs
    for table in ("funds_features", "account_risk", "findings", "funds_coverage"):
        assert not ws.has_table(table)
        assert not list((ws.lake / table).glob("v-*"))


def test_an_error_in_a_statement_staged_beside_fails_the_run(tmp_path, book: Book, monkeypatch) -> None:
    """Device rows and the flagged accounts' transfers are staged on a second connection: its errors fail the run."""
    from chainbreaker.core.engine import Engine
    from chainbreaker.core.workspace import Workspace

    ws = Workspace(tmp_path / "ws")
    write_lake(ws, book)

    def failing_job(self: Engine, expr: object, name: str, arrows: object = None):  # type: ignore[no-untyped-def]
        def run() -> None:
            raise RuntimeError(f"staging {name} failed")
        return run

    monkeypatch.setattr(Engine, "materialise_job", failing_job)
    runs = len(ws.runs())
    with pytest.raises(RuntimeError, match="staging funds_devices_.* failed"):
        screen(ws, incremental=False)
    assert not ws.has_table("account_risk") and len(ws.runs()) == runs


@pytest.mark.parametrize("shift_weeks", [0, 3000])
def test_evidence_with_and_without_lake_row_ids_is_the_same(tmp_path, book: Book, monkeypatch,
                                                            shift_weeks: int) -> None:
    """The evidence found on the coded transfers (lake row ids) lists what the scan of the lake lists;
    so does it before 1970 (3000 weeks back), where the numpy events give way to the lake's statement."""
    from chainbreaker.core.engine import Engine
    from chainbreaker.core.workspace import Workspace

    table = transactions_table(book)
    ts = table.column("ts")
    shifted = pa.array([None if t is None else t - dt.timedelta(weeks=shift_weeks) for t in ts.to_pylist()], ts.type)
    table = table.set_column(table.schema.get_field_index("ts"), "ts", shifted)

    def findings(name: str) -> dict[tuple[str, str], tuple[str, str]]:
        ws = Workspace(tmp_path / name)
        with ws.transaction("test") as tx:
            tx.write("transactions", table)
        screen(ws)
        return {(r["subject_key"], r["rule_id"]): (r["evidence"], r["facts"]) for r in ws.read_arrow("findings").to_pylist()}

    with_ids = findings("with")
    monkeypatch.setattr(Engine, "table_with_row_ids", lambda self, name: None)
    assert with_ids and findings("without") == with_ids
