"""Time-respecting, amount-attributed multi-hop tracing of money (资金穿透).

Downstream (``direction="down"``): from the seed's outgoing transfers, each next hop is a transfer
*out of* the account just reached, made *after* the money arrived and within ``window_hours``.
Upstream (``"up"``) mirrors it: transfers *into* the account reached, made *before* the money left
it and within the window.

The recursion is keyed by transaction, not by account: an account reached twice at different
times continues from both arrivals (keying by account loses most reachable paths). Each transfer
is used at most once, and time strictly increases (down) or decreases (up) along a path, so loops
terminate; a transfer that returns to an account already reached is marked ``loop``.

Amount attribution (how much of the seed's money plausibly reached each account), the rule:
money ``a`` arriving at account B by transfer e may be in any transfer leaving B within the
window after e; it is spread over those outflows in proportion to their amounts, never more than
``a`` in total (capped by the inflow) and never more than a transfer's own amount. A transfer fed
by several earlier arrivals gets the sum, capped by its amount. Hop 1 carries the full amount of
the seed's own transfers. This is an upper-bound style estimate ("up to X of the seed's money"),
the usual reading of 资金穿透; upstream uses the same rule backwards in time.

The loop over the frontier runs on DuckDB against the lake's Parquet files (fastest exact method
measured; see STACK.md).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import duckdb
import pyarrow as pa

from chainbreaker.core.errors import InputError
from chainbreaker.core.model.identifiers import AccountNumber
from chainbreaker.core.model.masking import hidden_kinds, mask_table_report, mask_text
from chainbreaker.core.timefmt import iso_local, zone_name
from chainbreaker.core.workspace import Workspace

DIRECTIONS = ("down", "up")


@dataclass
class TraceResult:
    seed: str
    direction: str
    hops: int
    window_hours: float
    min_amount: Decimal | None
    edges: pa.Table  # hop, txn_id, from_account, to_account, amount, ts, attributed, loop, src_sha256, src_row
    nodes: pa.Table  # account, hop, attributed, n_edges, amount_total, is_seed, loop
    seconds: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self, tz: str | None = None) -> str:
        """Graph as JSON: {"seed", "direction", "params", "timezone", "nodes": [...], "edges": [...]};
        times ISO 8601 in the configured zone with its offset (``2024-03-01T08:00:00+08:00``)."""
        zone = tz or zone_name()
        return json.dumps({
            "seed": self.seed, "direction": self.direction, "params": self.params, "timezone": zone,
            "attribution_rule": "proportional to outflow amounts within the window, capped by inflow and amount",
            "nodes": self.nodes.to_pylist(), "edges": self.edges.to_pylist(),
        }, ensure_ascii=False, default=lambda v: _json_default(v, zone), indent=1)

    def masked(self, role: str | None) -> tuple[TraceResult, dict[str, str]]:
        """The trace as ``role`` may see it, and ``{column: kind}`` of what was masked.

        Accounts are masked as cards (head and tail kept); two accounts that mask alike get ``#2``,
        ``#3``... so that the graph keeps its shape. Other columns are masked by what they hold."""
        if not hidden_kinds(role):
            return self, {}
        accounts = set(self.nodes.column("account").to_pylist()) | set(self.edges.column("from_account").to_pylist()) \
            | set(self.edges.column("to_account").to_pylist()) | {self.seed}
        label: dict[str, str] = {}
        seen: dict[str, int] = {}
        for a in sorted(a for a in accounts if a is not None):
            m = mask_text(a, role, "card")
            seen[m] = seen.get(m, 0) + 1
            label[a] = m if seen[m] == 1 else f"{m}#{seen[m]}"
        report: dict[str, str] = {}

        def relabel(table: pa.Table, cols: tuple[str, ...], prefix: str) -> pa.Table:
            rest, masked_rest = mask_table_report(table.drop_columns(list(cols)), role)
            report.update({f"{prefix}.{k}": v for k, v in masked_rest.items()})
            for c in cols:
                values = [None if v is None else label[v] for v in table.column(c).to_pylist()]
                if values != table.column(c).to_pylist():
                    report[f"{prefix}.{c}"] = "card"
            out = table
            for c in rest.column_names:
                out = out.set_column(out.column_names.index(c), rest.schema.field(c), rest.column(c))
            for c in cols:
                values = [None if v is None else label[v] for v in table.column(c).to_pylist()]
                out = out.set_column(out.column_names.index(c), pa.field(c, pa.string()), pa.array(values, pa.string()))
            return out

        nodes = relabel(self.nodes, ("account",), "nodes")
        edges = relabel(self.edges, ("from_account", "to_account"), "edges")
        if label[self.seed] != self.seed:
            report["seed"] = "card"
        return TraceResult(seed=label[self.seed], direction=self.direction, hops=self.hops,
                           window_hours=self.window_hours, min_amount=self.min_amount, edges=edges, nodes=nodes,
                           seconds=self.seconds, params=self.params), report

    def to_graphml(self, path: Path | str) -> Path:
        """Write a GraphML file (opens in Gephi, yEd, Cytoscape, i2-style tools)."""
        path = Path(path)
        keys = [("n_hop", "node", "hop", "int"), ("n_attr", "node", "attributed", "double"),
                ("n_seed", "node", "is_seed", "boolean"), ("n_loop", "node", "loop", "boolean"),
                ("e_txn", "edge", "txn_id", "string"), ("e_hop", "edge", "hop", "int"),
                ("e_amt", "edge", "amount", "double"), ("e_attr", "edge", "attributed", "double"),
                ("e_ts", "edge", "ts", "string"), ("e_loop", "edge", "loop", "boolean"),
                ("e_sha", "edge", "src_sha256", "string"), ("e_row", "edge", "src_row", "long")]
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">']
        for kid, kind, name, typ in keys:
            lines.append(f'  <key id="{kid}" for="{kind}" attr.name="{name}" attr.type="{typ}"/>')
        lines.append(f'  <graph id={quoteattr("trace-" + self.seed)} edgedefault="directed">')
        for n in self.nodes.to_pylist():
            lines.append(f'    <node id={quoteattr(n["account"])}>'
                         f'<data key="n_hop">{n["hop"]}</data><data key="n_attr">{float(n["attributed"] or 0)}</data>'
                         f'<data key="n_seed">{str(bool(n["is_seed"])).lower()}</data>'
                         f'<data key="n_loop">{str(bool(n["loop"])).lower()}</data></node>')
        for i, e in enumerate(self.edges.to_pylist()):
            lines.append(f'    <edge id="e{i}" source={quoteattr(e["from_account"])} target={quoteattr(e["to_account"])}>'
                         f'<data key="e_txn">{escape(str(e["txn_id"]))}</data><data key="e_hop">{e["hop"]}</data>'
                         f'<data key="e_amt">{float(e["amount"])}</data><data key="e_attr">{float(e["attributed"])}</data>'
                         f'<data key="e_ts">{iso_local(e["ts"]) if e["ts"] else ""}</data>'
                         f'<data key="e_loop">{str(bool(e["loop"])).lower()}</data>'
                         f'<data key="e_sha">{escape(str(e["src_sha256"] or ""))}</data>'
                         f'<data key="e_row">{e["src_row"] if e["src_row"] is not None else -1}</data></edge>')
        lines += ["  </graph>", "</graphml>"]
        path.write_text("\n".join(lines) + "\n", "utf-8")
        return path


def _json_default(value: Any, tz: str) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return iso_local(value, tz)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def export_trace(ws: Workspace, result: TraceResult, out: Path | str, *, role: str = "analyst",
                 user: str = "local") -> dict[str, str]:
    """Write the trace as GraphML (``.graphml``) or JSON, masked for ``role`` and audited
    (intent → file → completion); returns ``{column: kind}`` of what was masked."""
    from chainbreaker.core.exports import output_file

    shown, masked_kinds = result.masked(role)
    with output_file(ws, out, "funds.trace.export", user=user, role=role, account=shown.seed,
                     direction=result.direction, masked_kinds=masked_kinds, timezone=zone_name()) as target:
        if Path(out).suffix.lower() == ".graphml":
            shown.to_graphml(target.path)
        else:
            target.path.write_text(shown.to_json(), "utf-8")
        target.result.update(nodes=shown.nodes.num_rows, edges=shown.edges.num_rows)
    return masked_kinds


def trace(ws: Workspace, account: str, direction: str = "down", hops: int = 5,
          min_amount: float | Decimal | None = None, window_hours: float = 72,
          start: dt.datetime | None = None, end: dt.datetime | None = None,
          con: duckdb.DuckDBPyConnection | None = None) -> TraceResult:
    """Trace the seed's money ``hops`` transfers down- or upstream. See the module docstring."""
    import time

    started = time.perf_counter()
    if direction not in DIRECTIONS:
        raise InputError(f"方向必须是 down（下游）或 up（上游），而不是 {direction}",
                         f"Direction must be down or up, not {direction}")
    if hops < 1 or hops > 20:
        raise InputError("层数 --hops 必须在 1 到 20 之间", "--hops must be between 1 and 20")
    if window_hours <= 0:
        raise InputError("时间窗口 --window-hours 必须大于 0", "--window-hours must be positive")
    if not ws.has_table("transactions"):
        raise InputError("工作区中还没有交易数据，请先导入银行调单。", "No transactions in the workspace; ingest first.")
    # the seed as the lake keys accounts: a pasted number may carry spaces, dashes or a zero-width space
    account = AccountNumber.split(account)[0] or account.strip()
    con = con or duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    glob = ws.table_glob("transactions")
    con.sql("""SELECT txn_id, from_account, to_account, amount, ts FROM read_parquet($1)
        WHERE from_account IS NOT NULL AND to_account IS NOT NULL AND from_account <> to_account
          AND amount > 0 AND ts IS NOT NULL""", params=[glob]).create_view("tv", replace=True)
    minimum = Decimal(str(min_amount)) if min_amount is not None else Decimal(0)
    window = f"INTERVAL {int(window_hours * 3600)} SECOND"
    own, far = ("from_account", "to_account") if direction == "down" else ("to_account", "from_account")
    time_filter = ""
    params: list[Any] = [account, minimum]
    if start is not None:
        time_filter += " AND ts >= ?"
        params.append(start)
    if end is not None:
        time_filter += " AND ts <= ?"
        params.append(end)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE edges AS
        SELECT 1 AS hop, txn_id, from_account, to_account, amount, ts,
               CAST(amount AS DECIMAL(38,2)) AS attributed, {far} = {own} AS loop
        FROM tv WHERE {own} = ? AND amount >= ? {time_filter}""", params)
    if not con.execute("SELECT count(*) FROM edges").fetchall()[0][0]:
        # only now is the (full-scan) existence check worth its cost
        exists = con.execute("SELECT count(*) FROM tv WHERE from_account = ? OR to_account = ?",
                             [account, account]).fetchall()[0][0]
        if not exists:
            raise InputError(f"账户 {account} 在交易数据中不存在（请检查账号是否完整、是否已导入其调单）。",
                             f"Account {account} does not appear in any transaction (check the number and the ingest).")
    con.execute("CREATE OR REPLACE TEMP TABLE frontier AS SELECT * FROM edges")
    if direction == "down":
        after = "n.ts > f.ts AND n.ts <= f.ts + " + window
        reach = "f.to_account"
    else:
        after = "n.ts < f.ts AND n.ts >= f.ts - " + window
        reach = "f.from_account"
    for hop in range(2, hops + 1):
        size = con.execute("SELECT count(*) FROM frontier").fetchall()[0][0]
        if size == 0:
            break
        con.execute(f"""CREATE OR REPLACE TEMP TABLE cand AS
            SELECT f.txn_id AS via, f.attributed AS a, n.txn_id, n.from_account, n.to_account, n.amount, n.ts
            FROM frontier f JOIN tv n ON n.{own} = {reach} AND {after}
            WHERE n.amount >= ? AND NOT EXISTS (SELECT 1 FROM edges e WHERE e.txn_id = n.txn_id)""", [minimum])
        con.execute(f"""CREATE OR REPLACE TEMP TABLE frontier AS
            WITH spread AS (
                SELECT *, sum(amount) OVER (PARTITION BY via) AS outflow FROM cand
            ), share AS (
                SELECT txn_id, any_value(from_account) AS from_account, any_value(to_account) AS to_account,
                       any_value(amount) AS amount, any_value(ts) AS ts,
                       sum(CAST(amount AS DOUBLE) * least(1.0, CAST(a AS DOUBLE) / CAST(outflow AS DOUBLE))) AS att
                FROM spread GROUP BY txn_id
            )
            SELECT {hop} AS hop, s.txn_id, s.from_account, s.to_account, s.amount, s.ts,
                   CAST(round(least(s.att, CAST(s.amount AS DOUBLE)), 2) AS DECIMAL(38,2)) AS attributed,
                   (s.{far} = ? OR s.{far} IN (SELECT {own} FROM edges)) AS loop
            FROM share s""", [account])
        con.execute("INSERT INTO edges SELECT * FROM frontier")
    src = con.sql("""SELECT e.*, t.src_sha256, t.src_row FROM edges e
        LEFT JOIN (SELECT txn_id, any_value(src_sha256) AS src_sha256, any_value(src_row) AS src_row
                   FROM read_parquet($1)
                   WHERE txn_id IN (SELECT txn_id FROM edges) GROUP BY txn_id) t USING (txn_id)
        ORDER BY e.hop, e.ts, e.txn_id""", params=[glob]).to_arrow_table()
    con.register("edges_full", src)
    nodes = con.sql(f"""
        WITH reached AS (
            SELECT {far} AS account, min(hop) AS hop, sum(attributed) AS attributed, count(*) AS n_edges,
                   sum(amount) AS amount_total, bool_or(loop) AS loop
            FROM edges_full GROUP BY 1
        )
        SELECT ? AS account, 0 AS hop,
               (SELECT coalesce(sum(attributed), 0) FROM edges_full WHERE hop = 1) AS attributed,
               (SELECT count(*) FROM edges_full WHERE hop = 1) AS n_edges,
               (SELECT coalesce(sum(amount), 0) FROM edges_full WHERE hop = 1) AS amount_total,
               true AS is_seed, coalesce((SELECT bool_or(loop) FROM reached WHERE account = ?), false) AS loop
        UNION ALL
        SELECT account, hop, attributed, n_edges, amount_total, false, loop FROM reached WHERE account <> ?
        ORDER BY hop, attributed DESC, account""", params=[account, account, account]).to_arrow_table()
    con.unregister("edges_full")
    return TraceResult(
        seed=account, direction=direction, hops=hops, window_hours=window_hours,
        min_amount=minimum if min_amount is not None else None, edges=src, nodes=nodes,
        seconds=round(time.perf_counter() - started, 3),
        params={"hops": hops, "window_hours": window_hours, "min_amount": str(minimum),
                "start": iso_local(start) if start else None, "end": iso_local(end) if end else None},
    )
