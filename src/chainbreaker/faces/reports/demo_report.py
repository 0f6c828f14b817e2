"""The demo's HTML report: evaluation against the synthetic truth, the trace picture, the sections
of the other chains, and rendering through the Jinja2 template ``templates/demo.html.j2``.

The page is self-contained: inline CSS and SVG, no scripts, no external resources.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from chainbreaker.faces.reports.trace_svg import TraceEdge, TraceNode, render_trace_svg

FLAG_THRESHOLD = 0.5
MAX_TRACE_NODES = 40
LOOKALIKE_ZH = {"payroll": "代发工资企业", "shop": "商户（日间小额收款、每日结算）", "family": "家庭内部往来",
                "utility": "公用事业收费"}
LOOKALIKE_EN = {"payroll": "company paying salaries", "shop": "shop (small daytime takings, daily settlement)",
                "family": "family moving money", "utility": "utility collecting bills"}
FACT_ZH = {
    "n_payers": "付款方数", "n_payees": "收款方数", "max_daily_in": "单日最大转入", "fast_in_share": "快进快出占比",
    "retention": "资金留存率", "fast_gap_min": "转出间隔（分钟）", "max_gap_days": "最长静默天数", "wake_rn": "激活后交易笔数", "wake_date": "激活日期",
    "n_before": "静默前笔数", "night_share": "夜间占比", "pop_night": "同类夜间占比", "round_share": "整数金额占比",
    "pop_round": "同类整数占比", "n_flagged_payers": "可疑付款方数", "flagged_in_share": "来自可疑账户占比",
    "flagged_feed_share": "可疑付款方资金流向本账户占比",
    "flow_class": "资金类型", "net_flow": "净流量比", "pool_holders": "共用设备持卡人数", "pool_device": "共用设备",
    "small_in_share": "小额转入占比", "amt_in": "转入金额", "amt_out": "转出金额", "n_in": "转入笔数", "n_out": "转出笔数",
    "top_payee_share": "最大收款方占比", "top_payer_share": "最大付款方占比", "fast_out_share": "快速转出占比",
    "loop_partner": "回路对手", "loop_partners": "回路对手数", "n_all": "交易笔数",
}
ROLE_ZH = {"collection": "跑分收款卡", "mule": "中转卡（快进快出）", "payout": "出款卡", "settlement": "结算账户（集中）",
           "gambler": "参赌人员", "cashout_merchant": "变现商户（金店/OTC）", "resident": "普通居民", "company": "企业",
           "client_company": "外省企业", "shop": "商户", "utility": "公用事业"}


def _requested_accounts(ws: Any) -> set[str]:
    if not ws.has_table("accounts"):
        return set()
    acc = ws.read_arrow("accounts", columns=["account", "requested"]).to_pydict()
    return {a for a, r in zip(acc["account"], acc["requested"], strict=True) if r}


def evaluate(risk: pa.Table, truth: pa.Table, ws: Any | None = None, threshold: float = FLAG_THRESHOLD) -> dict[str, Any]:
    """Recall/precision of screening against the ground truth, and how the look-alikes scored."""
    r = risk.select(["account", "score", "rank"]).to_pydict()
    score = dict(zip(r["account"], r["score"], strict=True))
    rank = dict(zip(r["account"], r["rank"], strict=True))
    tr = truth.to_pydict()
    all_ops = {a for a, op in zip(tr["account"], tr["is_gambling_op"], strict=True) if op == 1}
    # Recall is measured on the operation accounts whose statements were requested (screenable
    # on their full behaviour); those seen only as counterparties are reported separately.
    if "requested" in tr:
        ops = {a for a, op, req in zip(tr["account"], tr["is_gambling_op"], tr["requested"], strict=True)
               if op == 1 and req}
    else:
        ops = all_ops
    ops_screened = {a for a in ops if a in score}
    flagged = {a for a, s in score.items() if s is not None and s >= threshold}
    tp = flagged & ops
    tp_all = flagged & all_ops  # a flagged counterparty-only operation account is still a hit
    k = len(ops_screened)
    top_k = {a for a, rk in rank.items() if rk is not None and rk <= k}
    top_2k = {a for a, rk in rank.items() if rk is not None and rk <= 2 * k}
    looks: dict[str, dict[str, Any]] = {}
    for a, kind in zip(tr["account"], tr["lookalike"], strict=True):
        if not kind or a not in score:
            continue
        d = looks.setdefault(kind, {"kind": kind, "zh": LOOKALIKE_ZH.get(kind, kind), "en": LOOKALIKE_EN.get(kind, kind),
                                    "n": 0, "max_score": 0.0, "n_flagged": 0})
        d["n"] += 1
        d["max_score"] = max(d["max_score"], float(score[a] or 0.0))
        d["n_flagged"] += int(a in flagged)
    unrequested_ops = sorted(all_ops - ops)
    missed = sorted((a for a in ops_screened if a not in flagged), key=lambda a: rank.get(a) or 0)
    role = dict(zip(tr["account"], tr["role"], strict=True))
    return {
        "threshold": threshold,
        "ops_total": len(all_ops), "ops_requested": len(ops), "ops_screened": k,
        "unrequested_flagged": len((all_ops - ops) & flagged), "flagged": len(flagged), "true_positives": len(tp),
        "precision": len(tp_all) / len(flagged) if flagged else 0.0,
        "recall_flagged": len(tp) / k if k else 0.0,
        "recall_top_k": len(top_k & ops) / k if k else 0.0,
        "recall_top_2k": len(top_2k & ops) / k if k else 0.0,
        "k": k,
        "lookalikes": sorted(looks.values(), key=lambda d: d["kind"]),
        "unrequested_ops": unrequested_ops,
        "missed": [{"account": a, "role": role.get(a, ""), "score": score.get(a), "rank": rank.get(a)} for a in missed],
        "false_positives": sorted(
            ({"account": a, "role": role.get(a, "?"), "score": score[a], "rank": rank.get(a)} for a in flagged - all_ops),
            key=lambda d: d["rank"] or 0)[:10],
    }


def _f(v: Any) -> float:
    if v is None:
        return 0.0
    return float(v) if not isinstance(v, Decimal) else float(v)


def _mask_name(name: str | None) -> str:
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1) if len(name) <= 4 else name[:2] + "**" + name[-4:]


def trace_picture(tr: Any, risk: pa.Table, truth: pa.Table | None, ws: Any, lang: str = "zh",
                  show: Callable[[str], str] | None = None) -> dict[str, Any]:
    """SVG and node table for a :class:`chainbreaker.chains.funds.trace.TraceResult`.

    ``show`` turns an account number into what the reader may see (masking by role); by default
    accounts are shown as they are.
    """
    show = show or (lambda a: a)
    nodes = tr.nodes.to_pylist()
    edges = tr.edges.to_pylist()
    r = risk.select(["account", "score"]).to_pydict()
    score = dict(zip(r["account"], r["score"], strict=True))
    requested = _requested_accounts(ws)
    role: dict[str, str] = {}
    names: dict[str, str] = {}
    if truth is not None:
        td = truth.select(["account", "role", "holder_name"]).to_pydict()
        role = dict(zip(td["account"], td["role"], strict=True))
        names = dict(zip(td["account"], td["holder_name"], strict=True))
    nodes.sort(key=lambda n: (not n.get("is_seed"), -_f(n.get("attributed"))))
    kept = nodes[:MAX_TRACE_NODES]
    keep = {n["account"] for n in kept}
    t_nodes = []
    for n in kept:
        a = n["account"]
        if n.get("is_seed"):
            kind = "seed"
        elif (score.get(a) or 0) >= FLAG_THRESHOLD:
            kind = "flagged"
        elif requested and a not in requested:
            kind = "unrequested"
        else:
            kind = "clean"
        tip = f"{show(a)} {_mask_name(names.get(a))}\nhop {n.get('hop')}  attributed {_f(n.get('attributed')):,.2f}"
        if a in role:
            tip += f"\n真值/truth: {role[a]}"
        t_nodes.append(TraceNode(a, int(n.get("hop") or 0), _f(n.get("attributed")), "…" + a[-4:], kind, tip, show(a)))
    agg: dict[tuple[str, str], TraceEdge] = {}
    for e in edges:
        s, d = e["from_account"], e["to_account"]
        if s not in keep or d not in keep:
            continue
        key = (s, d)
        amount = _f(e.get("attributed")) or _f(e.get("amount"))
        if key in agg:
            agg[key].amount += amount
            agg[key].loop = agg[key].loop or bool(e.get("loop"))
        else:
            agg[key] = TraceEdge(s, d, amount, bool(e.get("loop")))
    title = ("资金穿透图（下游 5 层）" if lang == "zh" else "Money trace (downstream, 5 hops)")
    svg = render_trace_svg(t_nodes, list(agg.values()), title=title)
    table = [{"account": show(n["account"]), "hop": n.get("hop"), "attributed": _f(n.get("attributed")),
              "score": score.get(n["account"]), "requested": (n["account"] in requested) if requested else None,
              "role": role.get(n["account"], "")} for n in kept[:TOP_TRACE_ROWS]]
    return {"svg": svg, "nodes": table, "n_nodes": len(nodes), "n_edges": len(edges),
            "seconds": getattr(tr, "seconds", None), "loops": sum(1 for e in edges if e.get("loop"))}


TOP_TRACE_ROWS = 15


def demo_sections() -> dict[str, str]:
    """chain -> reference of its demo section (``module:run_demo``), from the chain registry."""
    from chainbreaker.chains.registry import CHAINS

    return {spec.name: spec.demo_section for spec in CHAINS if spec.demo_section}


def collect_sections(ws: Any, workdir: Path, lang: str = "zh",
                     sections: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Run every chain's demo section (``sections``: chain -> ``module:function``, default the registry).

    A section that fails, or whose module cannot be loaded, becomes an error entry shown in the report.
    """
    from chainbreaker.core.chain import resolve

    out = []
    for chain, ref in (sections if sections is not None else demo_sections()).items():
        started = time.perf_counter()
        entry: dict[str, Any] = {"chain": chain, "title_zh": chain, "title_en": chain, "html": "", "error": None}
        try:
            run = resolve(ref, chain)
            section_dir = Path(workdir) / "sections" / chain
            section_dir.mkdir(parents=True, exist_ok=True)
            result = run(ws, section_dir, lang=lang)
            entry.update({k: result.get(k, entry[k]) for k in ("title_zh", "title_en", "html")})
        except Exception as exc:  # noqa: BLE001 - one chain's failure must not kill the demo
            entry["error"] = f"{type(exc).__name__}: {exc}"
            entry["traceback"] = "".join(traceback.format_exception(exc)[-4:])
        entry["seconds"] = round(time.perf_counter() - started, 2)
        out.append(entry)
    return out


def _top_rows(risk: pa.Table, truth: pa.Table | None, ws: Any, n: int = 15) -> list[dict[str, Any]]:
    from chainbreaker.chains.funds.rules import RULE_NAMES

    rows = risk.sort_by("rank").slice(0, n).to_pylist()
    role = {}
    if truth is not None:
        td = truth.select(["account", "role", "lookalike"]).to_pydict()
        role = {a: (r, lk) for a, r, lk in zip(td["account"], td["role"], td["lookalike"], strict=True)}
    evidence = _evidence_by_account(ws, [r["account"] for r in rows])
    for r in rows:
        fired = [x for x in (r.get("rules_fired") or "").split(",") if x]
        r["rules"] = [{"id": x, "zh": RULE_NAMES.get(x, (x, x))[0], "en": RULE_NAMES.get(x, (x, x))[1]} for x in fired]
        try:
            facts = json.loads(r.get("key_facts") or "{}")
        except ValueError:
            facts = {}
        r["facts"] = _relevant_facts(facts, fired)
        r["truth_role"], r["truth_lookalike"] = role.get(r["account"], ("", ""))
        r["evidence"] = evidence.get(r["account"], {"n": 0, "refs": []})
    return rows


def _relevant_facts(facts: dict[str, Any], fired: list[str], limit: int = 8) -> dict[str, Any]:
    """The facts behind the rules that fired (screening's own list), in rule order; no empties."""
    from chainbreaker.chains.funds.scoring import RULE_FACTS
    keys: list[str] = []
    for rule in fired:
        keys += [k for k in RULE_FACTS.get(rule, ()) if k not in keys]
    if not keys:
        keys = [k for k in sorted(facts) if not k.startswith("signal.") and not k.endswith("_epoch")]
    out = {k: facts[k] for k in keys if facts.get(k) not in (None, "", "None")}
    return dict(list(out.items())[:limit])


def _evidence_by_account(ws: Any, accounts: list[str]) -> dict[str, dict[str, Any]]:
    if not ws.has_table("findings") or not accounts:
        return {}
    from chainbreaker.core.model.finding import query

    f = query(ws, chain="funds", subject=accounts, columns=["chain", "subject_key", "evidence"]).to_pydict()
    wanted = set(accounts)
    out: dict[str, dict[str, Any]] = {}
    names = _file_names(ws)
    for chain, key, ev in zip(f["chain"], f["subject_key"], f["evidence"], strict=True):
        if chain != "funds" or key not in wanted:
            continue
        try:
            refs = json.loads(ev or "[]")
        except ValueError:
            refs = []
        d = out.setdefault(key, {"n": 0, "refs": []})
        d["n"] += len(refs)
        for ref in refs[: max(0, 3 - len(d["refs"]))]:
            sha = ref.get("file_sha256") or ref.get("src_sha256") or ""
            d["refs"].append(f"{names.get(sha, sha[:10])} 第{ref.get('row')}行")
    return out


def _file_names(ws: Any) -> dict[str, str]:
    if not ws.has_table("ingested_files"):
        return {}
    t = ws.read_arrow("ingested_files", columns=["file_sha256", "path"]).to_pydict()
    return {s: "/".join(Path(p).parts[-2:]) for s, p in zip(t["file_sha256"], t["path"], strict=True)}


def jinja_env(lang: str) -> Any:
    """The templates' environment (autoescaped; ``T(zh, en)`` picks the language)."""
    import jinja2
    from markupsafe import Markup

    from chainbreaker.core.ingest.values import reason_zh

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True,
    )
    env.globals["T"] = lambda zh, en: zh if lang == "zh" else en
    env.globals["reason_zh"] = reason_zh
    env.filters["money"] = lambda v: "" if v is None else f"{_f(v):,.2f}"
    env.filters["pct"] = lambda v: "" if v is None else f"{100 * float(v):.1f}%"
    env.filters["num"] = lambda v: "" if v is None else f"{v:,}" if isinstance(v, int) else f"{v:,.3f}"
    env.filters["markup"] = Markup
    return env


def render_demo_report(ctx: dict[str, Any], ws: Any) -> str:
    from chainbreaker.core.timefmt import now_local

    env = jinja_env(ctx["lang"])
    province = ctx["province"]
    truth = province.tables.truth
    ctx = dict(ctx)
    ctx["top"] = _top_rows(ctx["risk"], truth, ws)
    ctx["role_zh"] = ROLE_ZH
    ctx["fact_zh"] = FACT_ZH
    roles = dict(zip(truth["account"].to_pylist(), truth["role"].to_pylist(), strict=True))
    ctx["suggestions"] = [dict(s, truth_role=roles.get(s["account"], "")) for s in ctx["suggestions"]]
    ctx["suggested_ops"] = sum(1 for s in ctx["suggestions"] if s["account"] in set(ctx["metrics"]["unrequested_ops"]))
    ctx["dirty_expected"] = len(province.dirty_rows)
    ctx["generated_at"] = now_local().strftime("%Y-%m-%d %H:%M:%S")
    return env.get_template("demo.html.j2").render(**ctx)
