"""Screen every account for gambling typologies (资金筛查) and write results to the lake.

``screen(ws)`` computes behaviour facts and typology signals with Ibis (DuckDB by default, PySpark
with ``engine="spark"``), ranks the accounts, and writes in one workspace transaction:

* ``funds_features``: every fact and signal per account (for analysts and for model learning);
* ``account_risk``: account, score 0–1, rank, rules fired, key facts, bilingual summary;
* ``findings`` (chain ``funds``): one per flagged account and rule, with source-row evidence;
* ``funds_coverage``: accounts and transactions screened vs present.

Incremental screening (``incremental=True``, or automatic when the lake holds a screen state):
each such run also writes the state it needs next time (``funds_screen_state*`` tables: the
transaction files screened, stable account codes, per-account facts, pair flows, device rows; see
:mod:`~chainbreaker.chains.funds.screen_state`). The next run reads only the transaction files added
since, updates the facts of the accounts they touch (the others' facts depend only on their own
transfers, which did not change), merges the pair flows and device rows, and computes everything
downstream (breadth, loops, card pools, population baselines, network passes, ranking, evidence)
globally, exactly as a full run does: the results are identical. If files were removed or
rewritten (an ingest that updated stored transfers) or the rules changed, it screens in full.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from chainbreaker.chains.funds import events, scoring, screen_state, typologies
from chainbreaker.chains.funds.rules import Rules, load_rules
from chainbreaker.core.engine import Engine, Staging
from chainbreaker.core.errors import InputError
from chainbreaker.core.model.finding import Scope, publish
from chainbreaker.core.workspace import Workspace

COVERAGE = pa.schema([("item", pa.string()), ("item_zh", pa.string()), ("present", pa.int64()),
                      ("screened", pa.int64()), ("share", pa.float64()), ("run_id", pa.string())])


@dataclass
class ScreenResult:
    run_id: str
    engine: str
    rules_version: str
    accounts_screened: int
    accounts_present: int
    transactions_screened: int
    transactions_present: int
    flagged: int
    findings: int
    seconds: float
    top: list[dict[str, Any]] = field(default_factory=list)  # top account_risk rows
    coverage: pa.Table | None = None
    mode: str = "full"  # "full" or "incremental"
    mode_reason: str = ""  # why a requested incremental run screened in full
    new_transactions: int | None = None  # incremental: valid transfers in the files added since the state


def _coverage(eng: Engine, ws: Workspace, tx: ibis.Table, codes: ibis.Table, pairs: ibis.Table,
              unusable: ibis.Table | None = None) -> dict[str, int]:
    """Transactions and accounts screened vs present.

    Screened figures come from the staged ``codes`` and ``pairs`` (their transfer counts add up to
    the valid transfers, in a full and an incremental run alike); only the (few)
    accounts that appear in unusable rows or only in the ``accounts`` table are looked up as
    text, so the 2xN account strings are not hashed a second time. ``unusable``: those rows when
    already staged (:func:`_touching`); otherwise the lake is read for them.
    """
    if unusable is None:
        unusable = tx.filter(~typologies.is_valid(tx))
    extra = ibis.union(unusable.select(account=unusable.from_account), unusable.select(account=unusable.to_account))
    if ws.has_table("accounts"):
        acc = eng.table("accounts")
        extra = ibis.union(extra, acc.select(account=acc.account))
    extra = extra.filter(extra.account.notnull() & (extra.account != ""))
    extra = extra.anti_join(codes, extra.account == codes.account)
    # one statement: four scalar subqueries (codes' count named: its default name holds the run's staging
    # tag, and the statement would miss the compiled-SQL cache in every run)
    counts = ibis.memtable({"one": [1]}).select(
        tx_present=tx.count().as_scalar(), tx_screened=pairs.n.sum().fill_null(0).as_scalar(),
        acc_screened=codes.count().name("n").as_scalar(), acc_extra=extra.account.nunique().as_scalar())
    out = {name: int(value) for name, value in eng.to_arrow(counts).to_pylist()[0].items()}
    return {"tx_present": out["tx_present"], "tx_screened": out["tx_screened"],
            "acc_present": out["acc_screened"] + out["acc_extra"], "acc_screened": out["acc_screened"]}


def _flagged_memtable(ranked: list[dict[str, Any]], p: dict[str, Any]) -> pa.Table:
    rows = []
    for row in ranked:
        if row["score"] < p["flag_threshold"]:
            break
        rules = scoring.fired_rules(row, p["finding_min_signal"])
        rows.append({"account": row["account"], "rules": "," + ",".join(rules) + ",",
                     "wake_day": row.get("wake_day"), "pool_device": row.get("pool_device"),
                     "loop_partner": row.get("loop_partner")})
    schema = pa.schema([("account", pa.string()), ("rules", pa.string()), ("wake_day", pa.int64()),
                        ("pool_device", pa.string()), ("loop_partner", pa.string())])
    return pa.Table.from_pylist(rows, schema=schema)


@dataclass
class _Touching:
    """The flagged accounts (staged) and their valid transfers, for the evidence.

    With ``keyed`` (the flagged accounts with their codes) and ``lake`` (the transactions with row ids),
    the transfers are :func:`~chainbreaker.chains.funds.typologies.coded_touching` (account codes);
    otherwise they are :func:`~chainbreaker.chains.funds.typologies.touching` of the lake (account
    numbers), read together with the rows the screening cannot use (``unusable``, for the coverage).
    """
    flagged: ibis.Table
    transfers: ibis.Table
    keyed: ibis.Table | None = None
    lake: ibis.Table | None = None
    unusable: ibis.Table | None = None


def _touching(tx: ibis.Table, flagged: pa.Table, stage: Staging,
              coded: tuple[ibis.Table, ibis.Table, ibis.Table] | None = None) -> _Touching | None:
    """The flagged accounts with their valid transfers, staged; None when no account is flagged.

    ``coded``: the run's coded transfers with their lake rows, the transactions with row ids, and
    the account codes (``lake_row``: see ``Engine.table_with_row_ids``). The transfers are then
    taken from the coded ones and only their text columns read from the lake; otherwise one scan of
    the lake reads them and the unusable rows.
    """
    if flagged.num_rows == 0:
        return None
    flagged_t = stage.arrow(flagged, "flagged")
    if coded is not None:
        transfers, lake, codes = coded
        keyed = stage.recipe("flagged_keys", typologies.flagged_keys, flagged_t, codes)
        return _Touching(flagged_t, stage.recipe("touching", typologies.coded_touching, transfers, keyed, lake),
                         keyed=keyed, lake=lake)
    rows = stage(typologies.touching(tx, flagged_t, unusable=True), "touching")
    return _Touching(flagged_t, rows.filter(rows.usable).drop("usable"), unusable=rows.filter(~rows.usable))


def _evidence(eng: Engine, tx: ibis.Table, flagged: pa.Table, touching: _Touching | None, p: dict[str, Any],
              stage: Staging) -> tuple[dict[tuple[str, str], tuple[list[dict[str, Any]], int]], ibis.Table | None]:
    """The source rows per (flagged account, rule), with their count; and the unusable rows when
    :func:`_touching` read them (else None: the coverage reads them)."""
    if touching is None:
        return {}, None
    table = None
    if touching.keyed is not None and touching.lake is not None:
        table = typologies.coded_evidence_rows(touching.transfers, touching.keyed, touching.lake, p,
                                               stage.recipe_arrow, from_arrow=lambda t: stage.arrow(t, "listed"))
        if table is None:  # times the numpy key cannot hold: the engine's statement, on the lake's account numbers
            touching = _touching(tx, flagged, stage)
            assert touching is not None
    if table is None:
        table = typologies.evidence_rows(
            touching.transfers, touching.flagged, p, eng.supports("asof_join"), eng.to_arrow,
            events_of=lambda tr, keep, accounts: events.events_for(eng, tr, keep, accounts),
            from_arrow=lambda t: stage.arrow(t, "listed"))
    rows = table.to_pylist()
    rows.sort(key=lambda r: (r["account"], r["rule"], r["rn"]))
    out: dict[tuple[str, str], tuple[list[dict[str, Any]], int]] = {}
    for r in rows:
        refs, _ = out.get((r["account"], r["rule"]), ([], 0))
        refs.append({"table": "transactions", "txn_id": r["txn_id"], "file_sha256": r["src_sha256"], "row": r["src_row"]})
        out[(r["account"], r["rule"])] = (refs, int(r["total"]))
    return out, touching.unusable


def _upstream_payers(eng: Engine, ranked: list[dict[str, Any]], p: dict[str, Any], pairs: ibis.Table,
                     codes: ibis.Table, flagged_payers: ibis.Table,
                     risk: Callable[[], pa.Table]) -> dict[str, list[dict[str, Any]]]:
    """Per flagged account whose upstream signal fired: the flagged payers behind it, largest first.

    The payers are those the signal counted (the last propagation round's flagged set), each with
    the money and transfers it sent and its own final score. Only these few accounts are read.
    ``risk`` gives the ``account_risk`` table (the scores), called once the payers are known: the
    screening computes that table on a thread beside this statement.
    """
    minimum = p["finding_min_signal"]
    targets = sorted(r["account"] for r in ranked
                     if r["score"] >= p["flag_threshold"] and (r.get("s_upstream") or 0.0) >= minimum)
    if not targets:
        return {}
    want = codes.filter(codes.account.isin(targets)).select(t_aid=codes.aid, t_acc=codes.account)
    payer = codes.select(p_aid=codes.aid, p_acc=codes.account)
    hit = pairs.join(want, pairs.ta == want.t_aid).join(flagged_payers, pairs.fa == flagged_payers.flag_acc)
    hit = hit.join(payer, hit.fa == payer.p_aid).select(account=want.t_acc, payer=payer.p_acc, fen=hit.amt, n=hit.n)
    rows = eng.to_arrow(hit).to_pylist()
    names = pa.array(sorted({r["payer"] for r in rows}), pa.string())
    table = risk()
    known = table.filter(pc.is_in(table["account"], value_set=names)).select(["account", "score"]).to_pylist()
    scores = {r["account"]: r["score"] for r in known}
    out: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(rows, key=lambda r: (r["account"], -int(r["fen"]), r["payer"])):
        out.setdefault(r["account"], []).append({
            "account": r["payer"], "amount": str(Decimal(int(r["fen"])).scaleb(-2)), "transfers": int(r["n"]),
            "score": scores.get(r["payer"])})
    return out


def _engine_independent(scored: pa.Table) -> pa.Table:
    """One set of column types whichever engine computed ``scored``.

    Each ``<name>_fen`` column (integer fen) becomes ``<name>``: exact yuan as decimal(38,2).
    Other decimals of scale 0 are integer sums (DuckDB sums integers to HUGEINT, which arrives as
    decimal(38,0); Spark gives int64) and become int64, as do all integers.
    """
    cent = pa.scalar(Decimal("0.01"), pa.decimal128(3, 2))
    money = set(typologies.MONEY_FEN)
    names, cols = [], []
    for name in scored.column_names:
        col = scored[name]
        if name in money:
            col = pc.multiply(pc.cast(col, pa.decimal128(20, 0)), cent).cast(pa.decimal128(38, 2))
            name = name.removesuffix("_fen")
        elif pa.types.is_decimal(col.type):
            col = col.cast(pa.int64()) if col.type.scale == 0 else col.cast(pa.decimal128(38, 2))
        elif pa.types.is_integer(col.type):
            col = col.cast(pa.int64())
        names.append(name)
        cols.append(col)
    return pa.table(cols, names=names)


def _codes(tx: ibis.Table) -> ibis.Table:
    return events.account_codes(typologies.valid_transactions(tx))


def _unusable(tx: ibis.Table) -> ibis.Table:
    return tx.filter(~typologies.is_valid(tx)).select("from_account", "to_account")


def _devices(tx: ibis.Table) -> ibis.Table:
    return typologies.device_rows(typologies.valid_transactions(tx))


def _transfers(tx: ibis.Table, codes: ibis.Table) -> ibis.Table:
    # each transfer's lake row, when the engine numbers them: the evidence reads the flagged accounts' texts by it
    keep = ("lake_row",) if "lake_row" in tx.columns else ()
    return events.transfers(typologies.valid_transactions(tx), codes, keep=keep)


# the incremental state lives in screen_state; these names are part of this module's interface
STATE, STATE_TABLES, STATE_FORMAT = screen_state.STATE, screen_state.STATE_TABLES, screen_state.STATE_FORMAT
transaction_files = screen_state.transaction_files


def screen(ws: Workspace, engine: str = "duckdb", rules_path: Path | str | None = None,
           rules: Rules | None = None, incremental: bool | None = None) -> ScreenResult:
    """Screen all accounts in the lake; see the module docstring for what is written.

    ``incremental``: True reads and writes the screen state (a full run when there is none yet),
    False screens in full and writes no state, None (default) is incremental when the lake has a
    screen state.
    """
    started = time.perf_counter()
    rules = rules or load_rules(rules_path, ws.config_dir)
    p = rules.params
    if not ws.has_table("transactions"):
        raise InputError("工作区中还没有交易数据（transactions 表）。请先运行 chainbreaker ingest bank 导入银行调单。",
                         "No transactions in the workspace yet. Run `chainbreaker ingest bank` first.")
    eng = Engine(ws, engine)
    settings = {"engine": engine, "rules_version": rules.version, "rules_digest": rules.digest,
                "rules_sources": list(rules.sources), "rules_effective": rules.effective, "rules": p}
    # side: one thread for work beside the engine's statements (numpy facts, the account_risk table, the
    # transaction's own DuckDB connection and the findings written on it); tasks run in submission order
    with ws.transaction("funds.screen", inputs=["transactions", "accounts"], settings=settings) as wtx, \
            ws.scratch("funds-screen") as scratch, ThreadPoolExecutor(1, thread_name_prefix="cb-screen") as side:
        side.submit(lambda: wtx.con)  # opened now (a view per lake table: ~0.1 s); first used by publish, below
        # the lake is read under the transaction's lock: the transfers, their files and the state are those of
        # one commit (an ingest committing in between would be screened but missing from the state's files)
        keep_state = incremental is True or (incremental is None and ws.has_table(STATE))
        inc, reason, n_new = None, "", None
        files = transaction_files(ws) if keep_state else {}
        if keep_state:
            inc, reason = screen_state.load_state(ws, eng, rules, files)
        tx = eng.table("transactions")
        accounts = eng.table("accounts") if ws.has_table("accounts") else None
        # the rules are what the staged statements' builders read besides their tables (see Staging.recipe)
        stage = eng.staging(scratch, "funds", wtx.run_id[-8:], params=json.dumps(p, sort_keys=True, default=repr),
                            code=("chainbreaker.chains.funds",))
        try:
            # a full run's coded transfers, with their lake rows (DuckDB), for the evidence
            with_rows: tuple[ibis.Table, ibis.Table, ibis.Table] | None = None
            facts: ibis.Table | None = None
            days: ibis.Table | None = None
            screened: screen_state.Screened | None = None
            with wtx.timed("events"):
                facts_job: Future[pa.Table] | None = None
                if inc is not None:
                    screened = screen_state.incremental(eng, typologies.valid_transactions(tx), inc, p, stage)
                    codes, pairs, devices, n_new = screened.codes, screened.pairs, screened.devices, screened.new_transactions
                    facts = screened.facts.select(*typologies.FACT_COLUMNS)
                else:
                    # the device rows read only the lake: staged beside the account codes and transfers
                    devices_later = stage.beside_recipe("devices", _devices, tx, submit=side.submit)
                    codes = stage.recipe("codes", _codes, tx)
                    numbered = eng.table_with_row_ids("transactions")
                    coded = stage.recipe("transfers", _transfers, tx if numbered is None else numbered, codes)
                    if numbered is not None:
                        with_rows = (coded, numbered, codes)
                    # one sort of the events, no (account, day) table: the keys are read now, and
                    # sorted and reduced (numpy) on a thread while DuckDB groups pairs, devices and
                    # the facts that read no events (counterparties, card pools, loops)
                    later = (typologies.sorted_account_facts_later(eng.con.con, str(eng.con.compile(coded)), p)
                             if not keep_state and eng.name == "duckdb" else None)
                    facts_job = side.submit(later) if later is not None else None
                    pairs = stage.recipe("pairs", events.pair_flows, coded)
                    devices = devices_later()
                extras = stage.recipe("extras", lambda t, c, a, pr, d: typologies.account_extras(
                    typologies.valid_transactions(t), c, a, p, pr, d), tx, codes, accounts, pairs, devices)
                if facts_job is not None:
                    facts = stage.arrow(facts_job.result(), "facts")
                if inc is None and keep_state:  # per-account facts, with what the next incremental run merges on
                    screened = screen_state.Screened(codes=codes, facts=screen_state.full_facts(eng, coded, p, stage),
                                                     pairs=pairs, devices=devices)
                    facts = screened.facts.select(*typologies.FACT_COLUMNS)
                if facts is None:
                    # the 2xN events are read once, grouped by (account, day): not staged
                    evs = events.events_for(eng, coded).select(*events.EVENT_COLUMNS)
                    days = stage(typologies.daily_facts(events.event_flags(evs, p), p), "days")
            with wtx.timed("features"):
                # staged before the signals: the population baselines read the features a second time
                if facts is None:
                    assert days is not None
                    facts = typologies.account_facts(days, p)
                features = stage.recipe("features", typologies.joined_features, facts, extras)
                signals = stage.recipe("signals", lambda f: typologies.core_signals(f, p), features)
            with wtx.timed("score"):
                net, flagged_payers = typologies.network_passes(signals, p, pairs, stage.recipe)
                scored = _engine_independent(stage.recipe_arrow(
                    "score", lambda s, n, c: typologies.final_scores(s, n, c, p), signals, net, codes))
            # From here on the engine reads little; the Parquet writes and the account_risk table
            # (DuckDB on a connection of its own) run on threads beside the evidence: pyarrow's
            # writer and DuckDB release the GIL, and most evidence statements are small.
            wtx.write_in_background("funds_features", scored.sort_by("account"))
            # the ranking runs on cursors of the engine's DuckDB database (made on this thread, handed over)
            with wtx.timed("rank"):
                ranked = scoring.flagged_rows(scored, p, eng.duck_cursor())
            with wtx.timed("evidence"):
                flagged_rows = _flagged_memtable(ranked, p)
                touching = _touching(tx, flagged_rows, stage, with_rows)
                # on the side thread, after the evidence's lake read (which takes DuckDB's two threads) and
                # beside its small statements and Python: the coverage's unusable rows (unless that read
                # included them), then the account_risk table (needed last, by the upstream payers)
                unusable_later = (stage.beside_recipe("unusable", _unusable, tx, submit=side.submit)
                                  if touching is not None and touching.unusable is None else None)
                risk_job = side.submit(scoring.risk_table, scored, p, wtx.run_id, rules.version, eng.duck_cursor())
                evidence, unusable = _evidence(eng, tx, flagged_rows, touching, p, stage)
                payers = _upstream_payers(eng, ranked, p, pairs, codes, flagged_payers, risk_job.result)
                risk = risk_job.result()
                wtx.write_in_background("account_risk", risk)
                findings = scoring.build_findings(ranked, p, wtx.run_id, rules.version, evidence, payers)
            # the findings are written on the transaction's connection while the engine counts coverage
            published = side.submit(publish, wtx, "funds", findings, Scope(rule_prefix="funds."))
            with wtx.timed("coverage"):
                if unusable_later is not None:  # waited for also when the evidence read them after all (before 1970)
                    staged_unusable = unusable_later()
                    unusable = staged_unusable if unusable is None else unusable
                cov = _coverage(eng, ws, tx, codes, pairs, unusable)
            with wtx.timed("publish"):
                published.result()
            if screened is not None:
                with wtx.timed("state"):
                    screen_state.write_state(wtx, eng, rules, files, screened)
        finally:
            side.shutdown(wait=True, cancel_futures=True)  # after an error: nothing staged beside once dropped
            stage.close()
        coverage = pa.Table.from_pylist([
            {"item": "accounts", "item_zh": "账户", "present": cov["acc_present"], "screened": cov["acc_screened"],
             "share": cov["acc_screened"] / cov["acc_present"] if cov["acc_present"] else 0.0, "run_id": wtx.run_id},
            {"item": "transactions", "item_zh": "交易", "present": cov["tx_present"], "screened": cov["tx_screened"],
             "share": cov["tx_screened"] / cov["tx_present"] if cov["tx_present"] else 0.0, "run_id": wtx.run_id},
        ], schema=COVERAGE)
        wtx.write("funds_coverage", coverage)
        flagged = len(ranked)
        wtx.counts.update({"mode": "incremental" if inc is not None else "full", "mode_reason": reason,
                           "new_transactions": n_new,
                           **({"accounts_extended": screened.extended, "accounts_new": screened.new_accounts,
                               "accounts_recomputed": screened.recomputed} if inc is not None and screened else {}),
                           "accounts_screened": cov["acc_screened"], "accounts_present": cov["acc_present"],
                           "transactions_screened": cov["tx_screened"], "transactions_present": cov["tx_present"],
                           "flagged": flagged, "findings": len(findings), **eng.sql_cache_counts()})
        run_id = wtx.run_id
    return ScreenResult(
        run_id=run_id, engine=engine, rules_version=rules.version,
        accounts_screened=cov["acc_screened"], accounts_present=cov["acc_present"],
        transactions_screened=cov["tx_screened"], transactions_present=cov["tx_present"],
        flagged=flagged, findings=len(findings), seconds=round(time.perf_counter() - started, 3),
        top=risk.slice(0, 20).to_pylist(), coverage=coverage,
        mode="incremental" if inc is not None else "full", mode_reason=reason, new_transactions=n_new,
    )
