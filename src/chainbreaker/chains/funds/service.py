"""Services of the funds chain (资金链服务): what every face (CLI, report, web) calls.

Each function runs one analysis or query and returns its result as the caller's role may see it:
account numbers and names masked by what they are (core/model/masking.py), every read of personal
data recorded in the workspace's audit log with the user and role the caller gives. Faces parse
their arguments, call one of these and render the result; they hold no queries, masking or audit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from chainbreaker.core.model.finding import count_by_rule
from chainbreaker.core.model.masking import mask_table, mask_text
from chainbreaker.core.workspace import Workspace


def _shown(value: Any, role: str, kind: str | None = None) -> str | None:
    return None if value is None else mask_text(value, role, kind)


@dataclass
class ScreenView:
    """A screening run: its figures (``result``) and the top accounts as the role may see them."""

    result: Any  # chainbreaker.chains.funds.screen.ScreenResult
    top: list[dict[str, Any]] = field(default_factory=list)
    coverage: list[dict[str, Any]] = field(default_factory=list)


def screen_accounts(ws: Workspace, *, engine: str = "duckdb", rules_path: Path | None = None, top: int = 20,
                    role: str = "analyst", user: str = "local", incremental: bool | None = None) -> ScreenView:
    """资金筛查: score every account, write ``account_risk`` and findings; the ``top`` accounts, masked.

    ``incremental``: see :func:`chainbreaker.chains.funds.screen.screen` (None: incremental when the
    lake holds a screen state).
    """
    from chainbreaker.chains.funds.screen import screen

    result = screen(ws, engine=engine, rules_path=rules_path, incremental=incremental)
    rows = []
    for row in result.top[:top]:
        rows.append({**row, "account": _shown(row["account"], role, "card"),
                     "summary_zh": _shown(row.get("summary_zh"), role), "summary_en": _shown(row.get("summary_en"), role)})
    ws.audit("funds.screen.top", user=user, role=role, rows=len(rows), run_id=result.run_id)
    coverage = result.coverage.to_pylist() if result.coverage is not None else []
    return ScreenView(result=result, top=rows, coverage=coverage)


@dataclass
class TraceView:
    """A money trace (资金穿透): the result (for writing the graph) and its accounts as the role may see them."""

    result: Any  # chainbreaker.chains.funds.trace.TraceResult
    seed: str
    nodes: list[dict[str, Any]]


def trace_money(ws: Workspace, account: str, *, direction: str = "down", hops: int = 5,
                min_amount: float | None = None, window_hours: float = 72, top: int = 30,
                role: str = "analyst", user: str = "local") -> TraceView:
    """资金穿透: follow money down- or upstream from ``account``; the first ``top`` accounts, masked."""
    from chainbreaker.chains.funds.trace import trace

    result = trace(ws, account, direction=direction, hops=hops, min_amount=min_amount, window_hours=window_hours)
    nodes = [{**row, "account": _shown(row["account"], role, "card")} for row in result.nodes.slice(0, top).to_pylist()]
    ws.audit("funds.trace", user=user, role=role, account=result.seed, direction=direction, rows=len(nodes))
    return TraceView(result=result, seed=_shown(result.seed, role, "card") or "", nodes=nodes)


def write_trace(ws: Workspace, view: TraceView, out: Path, *, role: str = "analyst", user: str = "local") -> Path:
    """Write the traced graph to ``out`` (.graphml or .json), masked for ``role`` and audited."""
    from chainbreaker.chains.funds.trace import export_trace

    export_trace(ws, view.result, out, role=role, user=user)
    return out


def suggest_requests(ws: Workspace, *, limit: int = 50, role: str = "analyst", user: str = "local") -> pa.Table:
    """建议调单: accounts to request next, as the role may see them (writes ``funds_suggestions``)."""
    from chainbreaker.chains.funds.suggest import suggest

    table = mask_table(suggest(ws, limit=limit), role)
    ws.audit("funds.suggest", user=user, role=role, rows=table.num_rows)
    return table


@dataclass
class LearnView:
    """A model learnt from confirmed cases (以案学习) and the best-scored unlabelled accounts, masked."""

    report: Any  # chainbreaker.chains.funds.learn.LearnReport
    candidates: list[dict[str, Any]]


def learn_from_cases(ws: Workspace, labels: Path, *, engine: str = "duckdb", seed: int = 0, test_size: float = 0.3,
                     split: str = "stratified", threshold: float = 0.5, trees: int = 200, top: int = 20,
                     role: str = "analyst", user: str = "local") -> LearnView:
    """Train the graph-feature model on ``labels``, score every account; the ``top`` unlabelled ones, masked."""
    from chainbreaker.chains.funds.learn import learn

    report = learn(ws, labels, engine=engine, seed=seed, test_size=test_size, split=split,
                   threshold=threshold, n_estimators=trees)
    con = ws.duck()
    try:
        rows = con.execute("SELECT rank, account, score, reasons_zh, reasons_en FROM account_model_scores "
                           "WHERE label IS NULL ORDER BY rank LIMIT ?", [int(top)]).fetchall()
    finally:
        con.close()
    candidates = [{"rank": rank, "account": _shown(account, role, "card"), "score": score,
                   "reasons_zh": _shown(why_zh or "", role), "reasons_en": _shown(why_en or "", role)}
                  for rank, account, score, why_zh, why_en in rows]
    ws.audit("funds.learn.candidates", user=user, role=role, rows=len(candidates), model=report.model_version)
    return LearnView(report=report, candidates=candidates)


# ------------------------------------------------------------------ figures for reports
def funds_figures(ws: Workspace) -> dict[str, Any]:
    """What the funds part of a report counts (no personal data): ingest figures, coverage, findings per rule."""
    findings = dict(sorted(count_by_rule(ws, "funds").items()))
    return {"ingest": _ingest_figures(ws), "coverage": _coverage(ws), "findings": findings}


def saved_suggestions(ws: Workspace, *, limit: int = 15, role: str = "analyst") -> list[dict[str, Any]]:
    """The last saved 建议调单 (``funds_suggestions``), best first, as ``role`` may see them."""
    if not ws.has_table("funds_suggestions"):
        return []
    return mask_table(ws.read_arrow("funds_suggestions").sort_by("rank").slice(0, limit), role).to_pylist()


def _ingest_figures(ws: Workspace) -> dict[str, Any]:
    """Bank files and rows ingested, and quarantined rows by reason (from the lake, all runs)."""
    out: dict[str, Any] = {"files": 0, "rows_read": 0, "rows_kept": 0, "rows_quarantined": 0, "by_reason": {}}
    con = ws.duck()
    if ws.has_table("ingested_files"):
        files, read, kept, quarantined = con.sql(
            "SELECT count(*), sum(rows_read), sum(rows_kept), sum(rows_quarantined) FROM ingested_files "
            "WHERE source_kind = 'bank'").fetchall()[0]
        out.update(files=int(files or 0), rows_read=int(read or 0), rows_kept=int(kept or 0),
                   rows_quarantined=int(quarantined or 0))
    if ws.has_table("quarantine"):
        out["by_reason"] = dict(con.sql("SELECT reason_code, count(*) FROM quarantine WHERE source_kind = 'bank' "
                                        "GROUP BY 1 ORDER BY 1").fetchall())
    con.close()
    return out


def _coverage(ws: Workspace) -> dict[str, Any] | None:
    if not ws.has_table("funds_coverage"):
        return None
    cov = ws.read_arrow("funds_coverage").to_pydict()
    by = {item: (present, screened) for item, present, screened in
          zip(cov["item"], cov["present"], cov["screened"], strict=True)}
    acc, txn = by.get("accounts", (0, 0)), by.get("transactions", (0, 0))
    return {"accounts_present": acc[0] or 0, "accounts_screened": acc[1] or 0,
            "transactions_present": txn[0] or 0, "transactions_screened": txn[1] or 0}


# ------------------------------------------------------------------ views for the web face
def risk_account(ws: Workspace, rank: int) -> str:
    """The account at ``rank`` of the last screening (``account_risk``): lets a face link an account it
    shows masked without putting the number in the page (the service resolves it, never the browser)."""
    from chainbreaker.core.errors import InputError

    if not ws.has_table("account_risk"):
        raise InputError("尚未进行资金筛查（chainbreaker funds screen）。", "No screening yet (chainbreaker funds screen).")
    con = ws.duck()
    try:
        hit = con.execute("SELECT account FROM account_risk WHERE rank = ? LIMIT 1", [int(rank)]).fetchall()
    finally:
        con.close()
    if not hit:
        raise InputError(f"筛查结果中没有第 {rank} 名。", f"No account at rank {rank} in the screening results.")
    return str(hit[0][0])


def screening_results(ws: Workspace, *, limit: int = 100, role: str = "analyst", user: str = "local") -> list[dict[str, Any]]:
    """筛查结果: the best-ranked accounts of the last screening, masked for ``role`` (audited)."""
    if not ws.has_table("account_risk"):
        return []
    con = ws.duck()
    try:
        table = con.sql(f"SELECT * FROM account_risk ORDER BY rank LIMIT {int(limit)}").to_arrow_table()
    finally:
        con.close()
    ws.audit("funds.screening.list", user=user, role=role, rows=table.num_rows)
    return mask_table(table, role).to_pylist()


def account_statement(ws: Workspace, account: str, *, limit: int = 200, offset: int = 0, role: str = "analyst",
                      user: str = "local") -> dict[str, Any]:
    """账户详情: the account's own row(s), its screening row and its statement rows (流水, newest first,
    ``limit`` from ``offset``), all masked for ``role``; the read is audited."""
    from chainbreaker.core.errors import InputError
    from chainbreaker.core.model.identifiers import AccountNumber

    key = AccountNumber.split(account)[0] or account.strip()
    if not ws.has_table("transactions"):
        raise InputError("工作区中还没有交易数据，请先导入银行调单。", "No transactions in the workspace; ingest first.")
    con = ws.duck()
    try:
        info = con.sql("SELECT * FROM accounts WHERE account = ?", params=[key]).to_arrow_table() \
            if ws.has_table("accounts") else pa.table({})
        risk = con.sql("SELECT * FROM account_risk WHERE account = ?", params=[key]).to_arrow_table() \
            if ws.has_table("account_risk") else pa.table({})
        total, inflow, outflow = con.execute(
            "SELECT count(*), coalesce(sum(amount) FILTER (WHERE to_account = $1), 0), "
            "coalesce(sum(amount) FILTER (WHERE from_account = $1), 0) FROM transactions "
            "WHERE from_account = $1 OR to_account = $1", [key]).fetchall()[0]
        rows = con.sql("SELECT ts, CASE WHEN from_account = $1 THEN '出' ELSE '进' END AS direction, amount, "
                       "CASE WHEN from_account = $1 THEN to_account ELSE from_account END AS counterparty, "
                       "from_name, channel, summary, src_file, src_row, txn_id FROM transactions "
                       "WHERE from_account = $1 OR to_account = $1 ORDER BY ts DESC, txn_id LIMIT $2 OFFSET $3",
                       params=[key, int(limit), int(offset)]).to_arrow_table()
    finally:
        con.close()
    if not total and not info.num_rows:
        raise InputError(f"账户 {_shown(key, role, 'card')} 不在交易数据中。",
                         f"Account {_shown(key, role, 'card')} is not in the transactions.")
    ws.audit("funds.account.detail", user=user, role=role, account=_shown(key, role, "card"), rows=rows.num_rows)
    return {"account": _shown(key, role, "card"), "info": mask_table(info, role).to_pylist() if info.num_rows else [],
            "risk": mask_table(risk, role).to_pylist() if risk.num_rows else [], "total": int(total),
            "inflow": inflow, "outflow": outflow, "offset": int(offset), "limit": int(limit),
            "rows": mask_table(rows, role).to_pylist()}


def trace_graph(ws: Workspace, account: str, *, direction: str = "down", hops: int = 5, min_amount: float | None = None,
                window_hours: float = 72, max_nodes: int = 2000, role: str = "analyst", user: str = "local") -> dict[str, Any]:
    """资金穿透图 for a browser: every reached account (masked as the role may see it, two alike kept
    apart with ``#2``) by hop, with the attributed amounts, and the edges with their evidence row
    (file hash and row), and the accounts and attributed amount per hop of the whole trace. At most
    ``max_nodes`` accounts are sent (hop by hop, the best attributed first); the read is audited."""
    from chainbreaker.chains.funds.trace import trace

    result = trace(ws, account, direction=direction, hops=hops, min_amount=min_amount, window_hours=window_hours)
    per_hop = [{"hop": int(r["hop"]), "accounts": int(r["account_count"]), "attributed": float(r["attributed_sum"] or 0)}
               for r in result.nodes.group_by("hop").aggregate([("account", "count"), ("attributed", "sum")])
               .sort_by("hop").to_pylist()]  # of the whole trace, also when the picture is trimmed
    cut = result.nodes.num_rows > max_nodes
    if cut:  # trimmed before masking: masking costs per account (nodes come by hop, then attributed amount)
        import dataclasses

        import pyarrow.compute as pc

        nodes_kept = result.nodes.slice(0, max_nodes)
        kept_accounts = nodes_kept.column("account")
        edges_kept = result.edges.filter(pc.and_(pc.is_in(result.edges.column("from_account"), kept_accounts),
                                                 pc.is_in(result.edges.column("to_account"), kept_accounts)))
        result = dataclasses.replace(result, nodes=nodes_kept, edges=edges_kept)
    shown, masked = result.masked(role)
    nodes = shown.nodes.to_pylist()
    edges = shown.edges.to_pylist()
    ws.audit("funds.trace.view", user=user, role=role, account=shown.seed, direction=direction, nodes=len(nodes),
             edges=len(edges), masked_kinds=masked)
    return {"seed": shown.seed, "direction": direction, "params": result.params, "seconds": result.seconds,
            "truncated": cut, "nodes": [_plain(n) for n in nodes], "edges": [_plain(e) for e in edges],
            "hops": sorted({int(n["hop"]) for n in nodes}), "per_hop": per_hop}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A row a browser can take as JSON: amounts as numbers, times in the configured zone."""
    import datetime as dt
    from decimal import Decimal

    from chainbreaker.core.timefmt import show_time

    return {k: float(v) if isinstance(v, Decimal) else show_time(v) if isinstance(v, dt.datetime) else v
            for k, v in row.items()}
