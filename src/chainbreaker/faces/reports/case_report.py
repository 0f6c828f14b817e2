"""``chainbreaker report --out DIR`` (研判报告): the demo's HTML design for the *current* workspace.

Unlike the demo there is no ground truth: no recall or precision, no truth column. Each chain
appears when the workspace holds its data (funds: bank statements; people: travel records;
promotion: platform data; tech: scans); a chain without data is listed as "no data", a chain
with data but no analysis says which command to run. Personal data are shown as the role may see
them (every table that feeds the page goes through ``exports.masked``). Times are shown in the
configured zone. The page is one self-contained file, written through ``exports.output_file``
(audit first, temporary file, completion, rename).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from chainbreaker.core.exports import masked, output_file, resolve_output_dir
from chainbreaker.core.timefmt import now_local, show_time, zone_label, zone_name

TOP_N = 15
def report_sections() -> dict[str, str]:
    """chain -> reference of its report section (``module:report_section``), from the chain registry."""
    from chainbreaker.chains.registry import CHAINS

    return {spec.name: spec.report_section for spec in CHAINS if spec.report_section}


def _titles(chain: str) -> tuple[str, str]:
    from chainbreaker.chains.registry import CHAINS

    for spec in CHAINS:
        if spec.name == chain:
            return spec.title_zh, spec.title_en
    return chain, chain


def _shown(role: str, column: str, values: list[Any]) -> list[Any]:
    """Values of canonical column ``column`` as ``role`` may see them (through ``masked``)."""
    if not values:
        return values
    table = masked(pa.table({column: pa.array([None if v is None else str(v) for v in values], pa.string())}), role)
    return table.column(column).to_pylist()


def _trace_top(ws: Any, risk: pa.Table, lang: str, show: Callable[[str], str]) -> dict[str, Any]:
    from chainbreaker.faces.reports.demo_report import trace_picture

    top = risk.sort_by("rank")["account"][0].as_py() if risk.num_rows else None
    info: dict[str, Any] = {"account": show(top) if top else None, "error": None}
    if not top:
        return info
    try:
        from chainbreaker.chains.funds.trace import trace

        tr = trace(ws, top, direction="down", hops=5)
        info.update(trace_picture(tr, risk, None, ws, lang, show=show))
    except Exception as exc:  # noqa: BLE001 - the report shows what went wrong
        info["error"] = f"{type(exc).__name__}: {exc}"
    return info


def funds_context(ws: Any, lang: str, role: str) -> dict[str, Any] | None:
    """Everything the funds part shows; None when no bank statements were ingested."""
    if not ws.has_table("transactions"):
        return None
    from chainbreaker.faces.reports.demo_report import _top_rows

    def show(account: str) -> str:
        return str(_shown(role, "account", [account])[0])

    from chainbreaker.chains.funds.service import funds_figures, saved_suggestions

    figures = funds_figures(ws)
    ctx: dict[str, Any] = {"ingest": figures["ingest"], "coverage": figures["coverage"], "screened": False,
                           "top": [], "trace": {}, "suggestions": [], "findings": figures["findings"]}
    ctx["transactions"] = ws.tables()["transactions"]["rows"]
    if ws.has_table("account_risk"):
        risk = ws.read_arrow("account_risk")
        ctx["screened"] = True
        ctx["flagged"] = sum(1 for s in risk["score"].to_pylist() if s is not None and s >= 0.5)
        top = _top_rows(risk, None, ws, TOP_N)
        for r, shown in zip(top, _shown(role, "account", [r["account"] for r in top]), strict=True):
            r["account"] = shown
        ctx["top"] = top
        ctx["trace"] = _trace_top(ws, risk, lang, show)
    ctx["suggestions"] = saved_suggestions(ws, limit=TOP_N, role=role)
    return ctx


def chain_sections(ws: Any, lang: str, role: str, sections: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Each chain's ``report_section`` (``sections``: chain -> ``module:function``, default the registry;
    None → "no data"); a failing one, or one whose module cannot be loaded, becomes an error entry."""
    from chainbreaker.core.chain import resolve

    out = []
    for chain, ref in (sections if sections is not None else report_sections()).items():
        zh, en = _titles(chain)
        entry: dict[str, Any] = {"chain": chain, "title_zh": zh, "title_en": en, "html": "", "error": None,
                                 "empty": False}
        started = time.perf_counter()
        try:
            result = resolve(ref, chain)(ws, lang, role)
            if result is None:
                entry.update(empty=True, empty_zh="本工作区没有该链的数据。", empty_en="No data for this chain in the workspace.")
            else:
                entry.update({k: result.get(k, entry[k]) for k in ("title_zh", "title_en", "html")})
        except Exception as exc:  # noqa: BLE001 - one chain's failure must not kill the report
            entry["error"] = f"{type(exc).__name__}: {exc}"
            entry["traceback"] = "".join(traceback.format_exception(exc)[-4:])
        entry["seconds"] = round(time.perf_counter() - started, 2)
        out.append(entry)
    return out


def _overview(ws: Any, tz: str) -> dict[str, Any]:
    tables = [{"name": n, "rows": e["rows"], "updated": show_time(e.get("updated"), tz)} for n, e in ws.tables().items()]
    runs = [{"kind": r.get("kind", ""), "finished": show_time(r.get("finished"), tz), "seconds": r.get("seconds"),
             "run_id": r.get("run_id", "")} for r in ws.runs()[-12:]]
    return {"tables": tables, "runs": list(reversed(runs))}


def render_case_report(ctx: dict[str, Any]) -> str:
    from chainbreaker.faces.reports.demo_report import FACT_ZH, ROLE_ZH, jinja_env

    env = jinja_env(ctx["lang"])
    return env.get_template("report.html.j2").render(**ctx, fact_zh=FACT_ZH, role_zh=ROLE_ZH)


def write_report(ws: Any, out: Path | str, *, lang: str = "zh", role: str = "analyst", user: str = "local",
                 sections: dict[str, str] | None = None) -> dict[str, Any]:
    """Write ``out/index.html`` for the workspace; returns the path and which chains had data."""
    started = time.perf_counter()
    out_dir = resolve_output_dir(out)
    tz = zone_name()
    funds = funds_context(ws, lang, role)
    parts = chain_sections(ws, lang, role, sections)
    with_data = (["funds"] if funds else []) + [s["chain"] for s in parts if not s["empty"]]
    ctx: dict[str, Any] = {"lang": lang, "role": role, "workspace": str(ws.root), "funds": funds, "sections": parts,
           "overview": _overview(ws, tz), "generated_at": now_local(tz).strftime("%Y-%m-%d %H:%M:%S"),
           "zone": zone_label(tz, lang), "tz": tz, "chains_with_data": with_data}
    ctx["seconds"] = round(time.perf_counter() - started, 1)
    page = render_case_report(ctx)
    with output_file(ws, out_dir / "index.html", "report", user=user, role=role, chains=with_data,
                     timezone=tz) as target:
        target.path.write_text(page, encoding="utf-8")
    return {"report": out_dir / "index.html", "chains": with_data, "sections": parts, "funds": funds,
            "seconds": time.perf_counter() - started}

