"""The website scan (网站扫描) service: fetch under personas, render, decode, detect, classify, store.

``scan(ws, targets, render=False, depth=0, ...)`` fetches every target under every persona
(politely, contacting only the target hosts), optionally renders pages in headless Chromium,
analyses each capture, runs the detectors and writes, in one workspace transaction:

* the captured bodies, rendered DOMs and screenshots to the evidence store;
* lake tables ``tech_captures`` (one row per persona fetch), ``tech_pages`` (analysis of each
  capture), ``tech_indicators`` (payment/contact/infrastructure indicators per capture);
* findings of chain ``tech`` (this scan's subjects replace earlier findings on the same subjects);
* nothing outside this chain: ``chainbreaker intel link`` turns the bank cards and crypto addresses
  found on pages into ``accounts`` rows (origin ``web_indicator``).

Each host has a total time budget (``FetchLimits.host_budget``, setting ``tech_host_budget``);
hosts that spent it are listed in the result and the run counts, their skipped fetches in
``tech_captures`` with ``error="host_budget"``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pyarrow as pa

from chainbreaker.chains.tech.crawl import landing_urls, run_crawl
from chainbreaker.chains.tech.detectors import (
    RULES,
    Draft,
    PageView,
    analyze_page,
    analyze_script,
    detect_host,
    detect_page,
)
from chainbreaker.chains.tech.fetch import Capture, FetchLimits, host_of
from chainbreaker.chains.tech.personas import Persona, default_personas
from chainbreaker.core.errors import InputError
from chainbreaker.core.model.finding import Finding, Scope, publish

TS = pa.timestamp("us", tz="UTC")
TECH_CAPTURES = pa.schema([
    ("run_id", pa.string()), ("scanned_at", TS), ("host", pa.string()), ("url", pa.string()),
    ("persona", pa.string()), ("rendered", pa.bool_()), ("status", pa.int32()), ("final_url", pa.string()),
    ("redirects", pa.string()), ("offsite_redirect", pa.string()), ("headers", pa.string()),
    ("capture_sha256", pa.string()), ("screenshot_sha256", pa.string()), ("bytes", pa.int64()),
    ("truncated", pa.bool_()), ("bad_bytes", pa.bool_()), ("error", pa.string()), ("elapsed_s", pa.float64()),
])
TECH_PAGES = pa.schema([
    ("run_id", pa.string()), ("host", pa.string()), ("url", pa.string()), ("persona", pa.string()),
    ("rendered", pa.bool_()), ("capture_sha256", pa.string()), ("title", pa.string()), ("keywords", pa.string()),
    ("description", pa.string()), ("meta_refresh", pa.string()), ("text_chars", pa.int64()),
    ("score", pa.float64()), ("is_gambling", pa.bool_()), ("reasons", pa.string()),
    ("script_srcs", pa.string()), ("iframes", pa.string()), ("scripts", pa.string()),
    ("hidden_blocks", pa.string()), ("offsite_hosts", pa.string()), ("error_signatures", pa.string()),
])
TECH_INDICATORS = pa.schema([
    ("host", pa.string()), ("url", pa.string()), ("persona", pa.string()), ("kind", pa.string()),
    ("value", pa.string()), ("context", pa.string()), ("capture_sha256", pa.string()),
])
MAX_PAGES_PER_HOST = 50


@dataclass
class ScanResult:
    run_id: str
    targets: list[str]
    urls: list[str]
    captures: int
    findings: list[Finding]
    errors: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    indicators: int = 0
    seconds: float = 0.0
    over_budget: dict[str, int] = field(default_factory=dict)  # host -> fetches not made (time budget spent)

    def rules_by_host(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for f in self.findings:
            host = f.subject_key if f.subject_type == "site" else urlsplit(f.subject_key).netloc
            out.setdefault(host, set()).add(f.rule_id)
        return out


# ------------------------------------------------------------------------------- targets
def normalize_target(text: str) -> str | None:
    text = text.strip()
    if not text or text.startswith("#"):
        return None
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path or "/", parts.query, ""))


def read_targets(targets: list[str], from_file: Path | None = None) -> list[str]:
    raw = list(targets)
    if from_file is not None:
        try:
            raw += Path(from_file).read_text("utf-8-sig", errors="replace").splitlines()
        except OSError as exc:
            raise InputError(f"无法读取目标列表文件 {from_file}：{exc}", f"Cannot read target list {from_file}: {exc}") from exc
    urls: list[str] = []
    bad: list[str] = []
    for item in raw:
        url = normalize_target(item)
        if url is None:
            if item.strip() and not item.strip().startswith("#"):
                bad.append(item.strip())
        elif url not in urls:
            urls.append(url)
    if not urls:
        raise InputError("没有可扫描的网址" + (f"（无效：{', '.join(bad[:5])}）" if bad else "") + "。",
                         "No URL to scan" + (f" (invalid: {', '.join(bad[:5])})" if bad else "") + ".",
                         hint="例如：chainbreaker tech scan www.example.com")
    return urls


# ------------------------------------------------------------------------------- analyse
class _Analyser:
    """Stores evidence and analyses captures; identical bodies are parsed, classified and searched
    for indicators once."""

    def __init__(self, ws: Any, classify: Any) -> None:
        self.ws = ws
        self.classify = classify
        self._cache: dict[tuple[str, str, int | None], PageView] = {}
        self._indicators: dict[str, list[Any]] = {}
        self.problems: list[dict[str, Any]] = []

    def view(self, cap: Capture, persona: Persona) -> tuple[PageView, bool]:
        sha = self.ws.store_evidence_bytes(cap.body) if cap.body else ""
        text, bad = cap.text() if cap.body else ("", False)
        key = (sha, cap.final_url, cap.status)
        base = self._cache.get(key)
        if base is None:
            base = analyze_page(text, cap.url, persona, status=cap.status, final_url=cap.final_url,
                                classify=self.classify, capture_sha256=sha, error=cap.error)
            self._cache[key] = base
            if sha and cap.status is not None and cap.status < 400 and sha not in self._indicators:
                from chainbreaker.chains.tech.indicators import extract_indicators

                try:
                    self._indicators[sha] = list(extract_indicators(text, base.text, base.final_url))
                except Exception as exc:  # noqa: BLE001 - a hostile page must not stop the scan
                    self._indicators[sha] = []
                    self.problems.append({"url": cap.url, "persona": cap.persona,
                                          "error": f"indicators:{type(exc).__name__}"})
        view = dataclasses.replace(base, url=cap.url, persona=persona.name, agent=persona.agent,
                                   is_spider=persona.is_spider, has_referer=persona.has_referer, error=cap.error,
                                   redirects=cap.redirects, offsite_redirect=cap.offsite_redirect)
        return view, bad

    def indicator_rows(self, url: str, view: PageView) -> list[dict[str, Any]]:
        return [{"host": view.host, "url": url, "persona": view.persona, "kind": ind.kind, "value": ind.value,
                 "context": ind.context, "capture_sha256": view.capture_sha256}
                for ind in self._indicators.get(view.capture_sha256, [])
                if view.status is not None and view.status < 400]


def _classifier() -> Any:
    from chainbreaker.chains.tech.classify import classify_page

    return classify_page


# ---------------------------------------------------------------------------------- scan
def scan(ws: Any, targets: list[str], render: bool = False, depth: int = 0, *, own_sites: bool = False,
         from_file: Path | None = None, personas: list[Persona] | None = None, limits: FetchLimits | None = None,
         follow_hosts: list[str] | None = None, render_personas: list[str] | None = None,
         render_timeout: float = 15.0, max_pages_per_host: int = MAX_PAGES_PER_HOST,
         on_page: Callable[[str], None] | None = None) -> ScanResult:
    """Scan ``targets`` (URLs or host names) and store captures, pages, indicators and findings."""
    started = time.perf_counter()
    urls = read_targets(targets, from_file)
    if depth < 0 or depth > 5:
        raise InputError("--depth 必须在 0 到 5 之间。", "--depth must be between 0 and 5.")
    personas = personas or default_personas()
    if limits is None:
        from chainbreaker.core.settings import get_settings

        limits = FetchLimits(host_budget=get_settings().tech_host_budget)
    if own_sites and limits.delay > 0.05:
        limits = dataclasses.replace(limits, delay=0.05)
    allowed = {host_of(u) for u in urls}
    settings = {"render": render, "depth": depth, "own_sites": own_sites, "personas": [p.name for p in personas],
                "limits": dataclasses.asdict(limits), "follow_hosts": sorted(follow_hosts or []),
                "render_timeout": render_timeout, "max_pages_per_host": max_pages_per_host}
    classify = _classifier()
    with ws.transaction("tech.scan", inputs=urls, settings=settings) as tx:
        analyser = _Analyser(ws, classify)
        now = dt.datetime.now(dt.UTC)
        views: dict[str, list[PageView]] = {}
        capture_rows: list[dict[str, Any]] = []
        indicator_rows: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        by_name = {p.name: p for p in personas}
        external_seen: set[str] = set()

        def on_captures(url: str, caps: list[Capture], scripts: dict[str, Capture]) -> list[str]:
            with tx.timed("analyse"):
                infos = {}
                for src, cap in scripts.items():  # only hosts the analyst allowlisted
                    if cap.ok and cap.body:
                        infos[src] = analyze_script(cap.text()[0][:500_000], src, url)
                        if src not in external_seen:
                            external_seen.add(src)
                            sha = ws.store_evidence_bytes(cap.body)
                            capture_rows.append(_capture_row(tx.run_id, now, cap, sha, False))
                for cap in caps:
                    view, bad = analyser.view(cap, by_name[cap.persona])
                    extra = [infos[s] for s in view.script_srcs if s in infos]
                    if extra:
                        view.scripts = view.scripts + extra
                    views.setdefault(url, []).append(view)
                    capture_rows.append(_capture_row(tx.run_id, now, cap, view.capture_sha256, bad))
                    indicator_rows.extend(analyser.indicator_rows(url, view))
                    if cap.error:
                        errors.append({"url": url, "persona": cap.persona, "error": cap.error})
            if on_page:
                on_page(url)
            return landing_urls(url, views.get(url, []))

        with tx.timed("crawl"):
            visited, skipped, over_budget = asyncio.run(run_crawl(urls, personas, allowed, limits, own_sites,
                                                                   set(follow_hosts or []), depth, max_pages_per_host,
                                                                   on_captures))
        errors.extend(analyser.problems)
        if render:
            from chainbreaker.chains.tech.render import render_views

            with tx.timed("render"):
                rendered = render_views(ws, visited, by_name, allowed | set(follow_hosts or []), render_personas=render_personas,
                                        timeout=render_timeout, classify=classify)
            for url, rviews, rcaps in rendered:
                views.setdefault(url, []).extend(rviews)
                for row in rcaps:
                    capture_rows.append({**row, "run_id": tx.run_id, "scanned_at": now})
                    if row["error"]:
                        errors.append({"url": url, "persona": row["persona"], "error": row["error"]})
        with tx.timed("detect"):
            page_drafts = {url: detect_page(vs, classify, landing=lambda u: views.get(u, []))
                           for url, vs in views.items() if vs}
            drafts = [d for ds in page_drafts.values() for d in ds] + detect_host(views, page_drafts)
        findings = [Finding(run_id=tx.run_id, chain="tech", rule_id=d.rule_id, subject_type=d.subject_type,
                            subject_key=d.subject_key, score=d.score, explanation_zh=d.explanation_zh,
                            explanation_en=d.explanation_en, facts=d.facts, evidence=d.evidence) for d in drafts]
        tx.write("tech_captures", pa.Table.from_pylist(capture_rows, schema=TECH_CAPTURES), mode="append")
        tx.write("tech_pages", pa.Table.from_pylist([_page_row(tx.run_id, v) for vs in views.values() for v in vs],
                                                    schema=TECH_PAGES), mode="append")
        tx.write("tech_indicators", pa.Table.from_pylist(indicator_rows, schema=TECH_INDICATORS), mode="append")
        subjects = sorted(set(views) | {host_of(u) for u in views})
        # earlier scan findings on the same subjects are replaced; other findings are kept
        publish(tx, "tech", findings, Scope(rule_ids=sorted(RULES), subjects=subjects))
        tx.counts.update({"targets": len(urls), "urls": len(views), "captures": len(capture_rows),
                          "findings": len(findings), "errors": len(errors), "skipped": len(skipped),
                          "indicators": len(indicator_rows),
                          "hosts_over_budget": len(over_budget),
                          "fetches_skipped_budget": sum(over_budget.values())})
        run_id = tx.run_id
    return ScanResult(run_id=run_id, targets=urls, urls=list(views), captures=len(capture_rows), findings=findings,
                      errors=errors, skipped=skipped, indicators=len(indicator_rows),
                      seconds=round(time.perf_counter() - started, 3), over_budget=over_budget)


def _capture_row(run_id: str, now: dt.datetime, cap: Capture, sha: str, bad: bool) -> dict[str, Any]:
    return {"run_id": run_id, "scanned_at": now, "host": host_of(cap.url), "url": cap.url, "persona": cap.persona,
            "rendered": False, "status": cap.status, "final_url": cap.final_url,
            "redirects": json.dumps(cap.redirects, ensure_ascii=False), "offsite_redirect": cap.offsite_redirect,
            "headers": json.dumps(cap.headers, ensure_ascii=False), "capture_sha256": sha, "screenshot_sha256": None,
            "bytes": len(cap.body), "truncated": cap.truncated, "bad_bytes": bad, "error": cap.error,
            "elapsed_s": cap.elapsed}


def _page_row(run_id: str, v: PageView) -> dict[str, Any]:
    offsite = sorted({h for h in (host_of(u) for u in v.script_srcs + v.iframes + [u for u, _ in v.links])
                      if h and h != v.host})
    scripts = [{"layers": s.layers, "obfuscated": s.obfuscated, "remote_urls": s.remote_urls[:5],
                "redirects": s.redirect_targets[:3], "title_set": s.title_set} for s in v.scripts if s.layers or s.remote_urls]
    dumps = lambda x: json.dumps(x, ensure_ascii=False, default=str)  # noqa: E731
    return {"run_id": run_id, "host": v.host, "url": v.url, "persona": v.persona, "rendered": v.rendered,
            "capture_sha256": v.capture_sha256, "title": v.title, "keywords": v.keywords,
            "description": v.description, "meta_refresh": v.meta_refresh, "text_chars": len(v.text),
            "score": v.score, "is_gambling": v.is_gambling, "reasons": dumps(v.reasons[:10]),
            "script_srcs": dumps(v.script_srcs[:50]), "iframes": dumps(v.iframes[:50]), "scripts": dumps(scripts[:20]),
            "hidden_blocks": dumps([{k: b[k] for k in ("technique", "offsite", "hosts")} for b in v.hidden_blocks]),
            "offsite_hosts": dumps(offsite[:100]), "error_signatures": dumps(v.error_signatures)}


def draft_rules(drafts: list[Draft]) -> set[str]:
    return {d.rule_id for d in drafts}
