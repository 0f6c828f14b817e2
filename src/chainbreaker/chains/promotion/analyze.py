"""``chainbreaker promotion analyze``: agent tree, downline metrics, person de-duplication and the
legal threshold rules, written in one workspace transaction.

Tables written: ``agent_metrics`` (exactly the columns of issue 3), ``promotion_member_totals``
(every member's own activity, person and effective upline), ``promotion_person_merges`` (which
accounts were merged into one person and through which shared value) and findings of
``chain="promotion"``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import ibis

from chainbreaker.chains.promotion.findings import build_findings
from chainbreaker.chains.promotion.metrics import (
    _EMPTY,
    AGENT_METRICS_COLUMNS,
    agent_metrics,
    closure,
    downline,
    ensure_activity_views,
    member_totals,
    minors_sql,
)
from chainbreaker.chains.promotion.persons import OVERRIDE_FILE, dedupe_persons, load_overrides
from chainbreaker.chains.promotion.thresholds import BASES, load_rules, used_values
from chainbreaker.chains.promotion.tree import build_tree
from chainbreaker.core.engine import ENGINES, Engine
from chainbreaker.core.errors import InputError
from chainbreaker.core.model.finding import Scope, publish
from chainbreaker.core.settings import get_settings
from chainbreaker.core.sql import lit
from chainbreaker.core.workspace import Workspace


@dataclass
class AnalyzeResult:
    run_id: str
    platforms: list[str]
    members: int
    agents: int
    levels: int
    basis: str
    rules_version: str
    findings_by_rule: dict[str, int] = field(default_factory=dict)
    issues: dict[str, int] = field(default_factory=dict)
    persons: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def analyze(ws: Workspace, platform: str | None = None, *, basis: str | None = None,
            thresholds: Path | None = None, persons: Path | None = None, engine: str = "duckdb") -> AnalyzeResult:
    """Rebuild the agent tree and evaluate the threshold rules for one platform or all of them.

    The tree and the downline metrics run on ``engine`` (Ibis: DuckDB or Spark); person
    de-duplication (igraph components), the minors check and the findings run in DuckDB over the
    engine's results (one row per member at most)."""
    if engine not in ENGINES:
        raise InputError(f"未知引擎 {engine}，可选：{'、'.join(ENGINES)}", f"Unknown engine {engine}; use one of {ENGINES}")
    if not ws.has_table("platform_members"):
        raise InputError("工作区中没有平台会员表。请先运行 chainbreaker ingest platform PATH --platform 名称。",
                         "No platform member table in the workspace. Run 'chainbreaker ingest platform' first.")
    rules = load_rules(ws.config_dir, thresholds)
    basis = basis or rules["rules"]["AMT"].get("default_basis", "stake")
    if basis not in BASES:
        raise InputError(f"赌资认定口径“{basis}”无效，可选：{'、'.join(BASES)}", f"Unknown basis '{basis}'; use one of {BASES}")
    overrides_path = persons or (ws.config_dir / OVERRIDE_FILE)
    overrides = load_overrides(overrides_path)
    settings = {"platform": platform, "basis": basis, "engine": engine, "thresholds": used_values(rules),
                "person_overrides": str(overrides_path) if Path(overrides_path).exists() else None,
                "person_override_counts": {k: len(v) for k, v in overrides.items()}}
    with ws.transaction("promotion.analyze", inputs=["platform_members"], settings=settings) as tx, \
            ws.scratch("promotion-analyze") as spill:  # removed whatever happens
        con = tx.con
        con.execute("SET enable_progress_bar = false")
        con.execute(f"SET memory_limit = '{get_settings().duckdb_memory_limit}'")
        con.execute("SET temp_directory = ?", [str(spill)])
        known = [r[0] for r in con.sql("SELECT DISTINCT platform FROM platform_members ORDER BY 1").fetchall()]
        if platform is not None and platform not in known:
            raise InputError(f"工作区中没有平台“{platform}”。现有平台：{'、'.join(known) or '（无）'}",
                             f"No platform '{platform}' in the workspace. Platforms: {', '.join(known) or '(none)'}")
        platforms = [platform] if platform else known
        eng = Engine(ws, engine, duck=con)
        rows = eng.table("platform_members")
        if platform is not None:
            rows = rows.filter(rows.platform == platform)
        ensure_activity_views(con)
        present = {t for t in _EMPTY if tx.has_table(t)}
        with tx.timed("tree"):
            built = build_tree(eng, rows, spill)
            issues = built.issues
            eng.into_duck(built.nodes, "nodes")
            eng.into_duck(built.tree, "tree")
        with tx.timed("persons"):
            person_counts = dedupe_persons(con, overrides)
        with tx.timed("metrics"):
            person_of = eng.from_duck("person_of")
            mt = eng.materialise(member_totals(eng, built.nodes, present), "mt", spill)
            clo = eng.materialise(closure(built.tree), "closure", spill)
            sub = eng.materialise(downline(clo, mt, person_of), "sub", spill)
            am = agent_metrics(built.nodes, built.tree, mt, sub)
            if eng.name == "duckdb":
                eng.materialise(am, "am", spill)
            else:
                eng.into_duck(mt, "mt")
                eng.into_duck(am, "am")
                # the findings list merged accounts under an agent: only those persons' closure rows
                multi = person_of.group_by("person_idx").aggregate(n=person_of.count()).filter(ibis._.n > 1)
                mine = person_of.join(multi, "person_idx").select("idx")
                eng.into_duck(clo.semi_join(mine, clo.d == mine.idx), "closure")
            eng.drop_staged(built.staged)
            con.execute(minors_sql())
        keep = f"WHERE platform NOT IN ({', '.join(lit(p) for p in platforms)})"
        cols = ", ".join(f'"{c}"' for c in AGENT_METRICS_COLUMNS)

        def merged(name: str, sql: str) -> str:
            return f"SELECT * FROM {name} {keep} UNION ALL {sql}" if tx.has_table(name) else sql

        with tx.timed("write"):
            n_agents = tx.write("agent_metrics", merged("agent_metrics", f"SELECT {cols} FROM am"))
            tx.write("promotion_member_totals", merged("promotion_member_totals", """
                SELECT n.platform, n.member_id, p.person_id, t.level::BIGINT AS level, up.member_id AS upline_effective,
                       n.upline_id AS upline_raw, n.status AS tree_status, m.bets, m.stake, m.payout, m.deposit,
                       m.withdrawal, m.rake, m.dividend, m.rebate_received, m.active,
                       m.first_own AS first_activity, m.last_own AS last_activity
                FROM nodes n JOIN mt m USING (idx) JOIN person_of p USING (idx) JOIN tree t USING (idx)
                LEFT JOIN nodes up ON up.idx = n.parent ORDER BY n.platform, n.member_id"""))
            tx.write("promotion_person_merges", merged("promotion_person_merges", "SELECT * FROM person_merges"))
        with tx.timed("findings"):
            table = build_findings(con, tx.run_id, rules, basis, issues)
            # this chain's findings for the analysed platforms are replaced; everything else is kept
            publish(tx, "promotion", table, Scope(facts={"platform": platforms}))
        members = int(con.sql("SELECT count(*) FROM nodes").fetchall()[0][0])
        by_rule = dict(sorted(Counter(table.column("rule_id").to_pylist()).items()))
        issue_counts = {"self_references": len(issues.self_refs), "orphans": len(issues.orphans),
                        "cycles": len(issues.cycles), "roots": sum(issues.roots.values())}
        tx.counts.update({"members": members, "agents": n_agents, "levels": issues.levels,
                          "findings": by_rule, "tree_issues": issue_counts, "persons": person_counts})
        con.execute("RESET temp_directory")
        return AnalyzeResult(tx.run_id, platforms, members, n_agents, issues.levels, basis, rules["version"],
                             by_rule, issue_counts, person_counts, tx.timings)

