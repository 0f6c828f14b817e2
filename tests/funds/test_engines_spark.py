"""The same typologies on DuckDB and on local PySpark give the same findings (DESIGN principle 2)."""

from __future__ import annotations

import json

import pytest

from chainbreaker.chains.funds.screen import screen

from .scenario import Book, write_lake

pytestmark = pytest.mark.spark


def _comparable(ws) -> tuple[list, list]:
    risk = sorted((r["account"], r["rank"], r["score"], r["rules_fired"], r["flow_class"], r["key_facts"])
                  for r in ws.read_arrow("account_risk").to_pylist())
    findings = sorted((f["rule_id"], f["subject_key"], f["score"], f["severity"], f["explanation_zh"],
                       f["explanation_en"], json.loads(f["facts"]), json.loads(f["evidence"]),
                       f["period_start"], f["period_end"])
                      for f in ws.read_arrow("findings").to_pylist())
    return risk, findings


def test_duckdb_and_spark_give_identical_findings(tmp_path, book: Book) -> None:
    pytest.importorskip("pyspark")
    from chainbreaker.core.workspace import Workspace

    results = {}
    for engine in ("duckdb", "spark"):
        ws = Workspace(tmp_path / engine)
        write_lake(ws, book, requested={a for a in book.roles if not a.startswith("G")})
        res = screen(ws, engine=engine)
        results[engine] = (res, _comparable(ws))
    duck, spark = results["duckdb"], results["spark"]
    assert duck[0].flagged == spark[0].flagged == 13
    assert duck[0].transactions_screened == spark[0].transactions_screened
    assert duck[0].accounts_present == spark[0].accounts_present
    assert duck[1][1] == spark[1][1]  # findings: rule, account, score, facts, evidence, explanations
    assert duck[1][0] == spark[1][0]  # every account's score, rank, rules and key facts


def _late(tx, split: str):
    """Which transfers arrive later: 4 % from every day (accounts recomputed) or the last two days (extended)."""
    import datetime as dt

    import pyarrow as pa
    import pyarrow.compute as pc

    if split == "scattered":
        return pa.array([i % 25 == 3 for i in range(tx.num_rows)])
    return pc.greater_equal(tx["ts"], pc.subtract(pc.max(tx["ts"]), pa.scalar(dt.timedelta(days=2))))


def _reference(root, tx, accounts) -> tuple[list, list]:
    """What a full run on DuckDB finds in a lake of the transfers ``tx``."""
    from chainbreaker.core.workspace import Workspace

    ref = Workspace(root)
    with ref.transaction("test.lake") as wtx:
        wtx.write("transactions", tx)
        wtx.write("accounts", accounts)
    screen(ref, engine="duckdb")
    return _comparable(ref)


@pytest.mark.parametrize("split", ["scattered", "last_days"])
def test_incremental_on_spark_equals_full_on_duckdb(tmp_path, book: Book, split: str) -> None:
    """The incremental path (state read back, new files only) on Spark gives DuckDB's full results:
    late transfers inside the history (accounts recomputed) and new last days (accounts extended)."""
    pytest.importorskip("pyspark")
    import pyarrow.compute as pc

    from chainbreaker.core.workspace import Workspace

    from .scenario import accounts_table, transactions_table

    requested = {a for a in book.roles if not a.startswith("G")}
    tx = transactions_table(book, requested)
    late = _late(tx, split)
    ws = Workspace(tmp_path / "spark")
    with ws.transaction("test.lake") as wtx:
        wtx.write("transactions", tx.filter(pc.invert(late)))
        wtx.write("accounts", accounts_table(book, requested))
    assert screen(ws, engine="spark", incremental=True).mode == "full"
    with ws.transaction("test.append") as wtx:
        wtx.write("transactions", tx.filter(late), mode="append")
    res = screen(ws, engine="spark")
    assert res.mode == "incremental" and res.new_transactions and res.flagged == 13
    counts = ws.runs()[-1]["counts"]
    assert counts["accounts_extended" if split == "last_days" else "accounts_recomputed"] > 0, counts
    assert _comparable(ws) == _reference(tmp_path / "duckdb", tx, accounts_table(book, requested))


@pytest.mark.parametrize("split", ["scattered", "last_days"])
@pytest.mark.parametrize("first", ["spark", "duckdb"])
def test_state_written_by_one_engine_is_read_by_the_other(tmp_path, book: Book, first: str, split: str,
                                                        monkeypatch) -> None:
    """A state written on one engine, appended to on the other, then read by the first again: each
    incremental run gives a full run's results, and the state says which engine wrote it. With the
    last days, the second incremental run folds the pair rows the other engine appended."""
    pytest.importorskip("pyspark")
    import pyarrow as pa
    import pyarrow.compute as pc

    from chainbreaker.chains.funds import screen_state
    from chainbreaker.chains.funds.screen import STATE
    from chainbreaker.core.workspace import Workspace

    from .scenario import accounts_table, transactions_table

    if split == "last_days":
        monkeypatch.setattr(screen_state, "FOLD_SHARE", 0.0)
    other = "duckdb" if first == "spark" else "spark"
    requested = {a for a in book.roles if not a.startswith("G")}
    tx = transactions_table(book, requested)
    late = _late(tx, split)
    later = tx.filter(late)
    halves = [later.slice(0, later.num_rows // 2), later.slice(later.num_rows // 2)]
    accounts = accounts_table(book, requested)
    lake = tx.filter(pc.invert(late))
    ws = Workspace(tmp_path / "ws")
    with ws.transaction("test.lake") as wtx:
        wtx.write("transactions", lake)
        wtx.write("accounts", accounts)
    assert screen(ws, engine=first, incremental=True).mode == "full"
    for i, (engine, part) in enumerate(((other, halves[0]), (first, halves[1]))):
        assert json.loads(ws.read_arrow(STATE)["state"][0].as_py())["engine"] != engine
        with ws.transaction("test.append") as wtx:
            wtx.write("transactions", part, mode="append")
        lake = pa.concat_tables([lake, part])
        res = screen(ws, engine=engine)
        assert res.mode == "incremental" and res.new_transactions, res.mode_reason
        assert json.loads(ws.read_arrow(STATE)["state"][0].as_py())["engine"] == engine
        assert _comparable(ws) == _reference(tmp_path / f"duckdb-{i}", lake, accounts), engine
    assert res.flagged == 13
    pairs_added = ws.tables()[screen_state.STATE_TABLES["pairs_added"]]["rows"]
    assert (pairs_added == 0) == (split == "last_days"), pairs_added
