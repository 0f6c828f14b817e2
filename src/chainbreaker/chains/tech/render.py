"""Rendering (浏览器渲染) of pages in headless Chromium to see what their scripts do.

Debian's ``/usr/bin/chromium`` driven by Playwright. Every request to a host that is not a scan
target is blocked by routing (and, as a second fence, host names other than the targets do not
resolve), but recorded: those blocked URLs are the loader hosts and redirect targets the
detectors report. ``document.write`` is wrapped to record what scripts write. Each page has a
hard time limit: a page whose script never terminates is abandoned, its browser context (or, if
that hangs too, the whole browser) is killed, and the scan goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit

from chainbreaker.chains.tech.detectors import Classify, PageView, analyze_page
from chainbreaker.chains.tech.personas import Persona
from chainbreaker.core.errors import EngineError

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-dev-shm-usage", "--no-first-run", "--disable-sync", "--mute-audio"]
DEFAULT_RENDER_PERSONAS = ("desktop", "desktop+ref", "baiduspider-render")
SETTLE_MS = 400  # time given to timers (setTimeout redirects) after the load event

# Links to other hosts that the browser lays out invisibly (whatever stylesheet or script did it).
_INVISIBLE_LINKS = """
() => {
  const out = [];
  const W = Math.max(document.documentElement.scrollWidth, innerWidth);
  const H = Math.max(document.documentElement.scrollHeight, innerHeight);
  const colour = (c) => c.replace(/\\s+/g, '');
  const bg = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const b = getComputedStyle(e).backgroundColor;
      if (b && b !== 'rgba(0,0,0,0)' && b !== 'rgba(0, 0, 0, 0)' && b !== 'transparent') return colour(b);
    }
    return 'rgb(255,255,255)';
  };
  for (const a of Array.from(document.querySelectorAll('a[href]')).slice(0, 3000)) {
    if (a.host === location.host || !/^https?:/.test(a.href)) continue;
    const st = getComputedStyle(a);
    const r = a.getBoundingClientRect();
    let why = null, op = 1;
    for (let e = a; e; e = e.parentElement) { op *= parseFloat(getComputedStyle(e).opacity || '1'); }
    let clip = false;
    for (let e = a.parentElement; e && !clip; e = e.parentElement) {
      const cs = getComputedStyle(e), er = e.getBoundingClientRect();
      if (cs.overflow === 'hidden' && (er.width <= 1 || er.height <= 1)) clip = true;
    }
    if (a.offsetParent === null && st.position !== 'fixed') why = 'not_displayed';
    else if (st.visibility === 'hidden') why = 'visibility_hidden';
    else if (op === 0) why = 'opacity_0';
    else if (parseFloat(st.fontSize) === 0) why = 'font_size_0';
    else if (r.right + scrollX < 0 || r.bottom + scrollY < 0 || r.left + scrollX > W + 100 || r.top + scrollY > H + 100) why = 'offscreen';
    else if (clip || r.width === 0 || r.height === 0) why = 'zero_size';
    else if (colour(st.color) === bg(a)) why = 'same_color';
    if (why) out.push({href: a.href, text: (a.innerText || a.textContent || '').trim().slice(0, 80), why});
  }
  return out;
}
"""

_INIT_SCRIPT = """
(() => {
  window.__cb_written = [];
  const rec = (args) => { try { window.__cb_written.push(Array.from(args).join('').slice(0, 20000)); } catch (e) {} };
  const w = Document.prototype.write, wl = Document.prototype.writeln;
  Document.prototype.write = function() { rec(arguments); return w.apply(this, arguments); };
  Document.prototype.writeln = function() { rec(arguments); return wl.apply(this, arguments); };
})();
"""


class _Browser:
    """One Chromium for the scan; relaunched when a page hangs it."""

    def __init__(self, allowed_hosts: set[str]) -> None:
        hosts = {h.lower() for h in allowed_hosts}
        # the www. twin of a target is the same site (as in fetch.Fetcher.may_contact)
        self.allowed = hosts | {h[4:] if h.startswith("www.") else "www." + h for h in hosts}
        self.pw: Any = None
        self.browser: Any = None
        self.tabs: dict[str, tuple[Any, Any, dict[str, Any]]] = {}

    async def start(self) -> None:
        try:
            from playwright.async_api import async_playwright
        except ImportError as exc:  # pragma: no cover - playwright is a dependency
            raise EngineError("未安装 Playwright，无法渲染。", "Playwright is not installed; cannot render.") from exc
        if self.pw is None:
            self.pw = await async_playwright().start()
        names = sorted({h.split(":")[0] for h in self.allowed})
        resolver = "MAP * ~NOTFOUND" + "".join(f", EXCLUDE {n}" for n in names)
        try:
            self.browser = await self.pw.chromium.launch(
                executable_path=CHROMIUM, headless=True,
                args=[*CHROMIUM_ARGS, f"--host-resolver-rules={resolver}"])
        except Exception as exc:
            raise EngineError(f"无法启动 Chromium（{CHROMIUM}）：{exc}",
                              f"Cannot start Chromium ({CHROMIUM}): {exc}",
                              hint="apt-get install chromium") from exc

    async def kill(self) -> None:
        self.tabs = {}
        if self.browser is not None:
            proc = getattr(getattr(self.browser, "_impl_obj", None), "_process", None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.browser.close(), 5)
            if proc is not None:
                with contextlib.suppress(Exception):
                    proc.kill()
            self.browser = None

    async def stop(self) -> None:
        await self.kill()
        if self.pw is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.pw.stop(), 10)
            self.pw = None


async def _tab(br: _Browser, persona: Persona) -> tuple[Any, Any, dict[str, Any]]:
    """One context and page per persona, reused from URL to URL (a new renderer costs ~1 s)."""
    if persona.name in br.tabs:
        return br.tabs[persona.name]
    state: dict[str, Any] = {"blocked": []}
    ctx = await br.browser.new_context(user_agent=persona.user_agent, locale="zh-CN",
                                       viewport={"width": 1280, "height": 900}, java_script_enabled=True,
                                       ignore_https_errors=True, service_workers="block")

    async def route(route: Any) -> None:
        req = route.request
        host = urlsplit(req.url).netloc.lower()
        if req.url.startswith(("data:", "blob:", "about:")) or host in br.allowed:
            await route.continue_()
            return
        kind = req.resource_type
        if kind == "document":
            kind = "document" if req.frame.parent_frame is None else "sub_frame"
        state["blocked"].append({"url": req.url, "type": kind})
        await route.abort("blockedbyclient")

    await ctx.route("**/*", route)
    await ctx.add_init_script(_INIT_SCRIPT)
    page = await ctx.new_page()
    br.tabs[persona.name] = (ctx, page, state)
    return br.tabs[persona.name]


async def _render_one(br: _Browser, url: str, persona: Persona, timeout: float) -> dict[str, Any]:
    """Load ``url`` as ``persona``; returns DOM, title, final URL, writes, blocked requests, screenshot."""
    ctx, page, state = await _tab(br, persona)
    blocked: list[dict[str, str]] = []
    state["blocked"] = blocked
    out: dict[str, Any] = {"blocked": blocked}
    resp = None
    try:
        resp = await page.goto(url, referer=persona.referer, wait_until="load", timeout=timeout * 1000)
    except Exception as exc:  # navigation errors are facts, not crashes
        out["nav_error"] = type(exc).__name__
    with contextlib.suppress(Exception):
        await page.wait_for_timeout(SETTLE_MS)
    out["status"] = resp.status if resp is not None else None
    out["final_url"] = page.url
    out["title"] = await page.title()
    out["dom"] = await page.content()
    out["written"] = await page.evaluate("window.__cb_written || []")
    out["invisible"] = await page.evaluate(_INVISIBLE_LINKS)
    out["screenshot"] = await page.screenshot(type="png", timeout=5000)
    for other in ctx.pages:  # popups (window.open) were recorded as blocked navigations
        if other is not page:
            await other.close()
    return out


async def _render_all(urls: list[str], personas: list[Persona], allowed: set[str], timeout: float) -> list[tuple[str, Persona, dict[str, Any]]]:
    br = _Browser(allowed)
    await br.start()
    results: list[tuple[str, Persona, dict[str, Any]]] = []
    try:
        for url in urls:
            hung = False
            for persona in personas:
                holder: dict[str, Any] = {}
                if hung:  # the page hung the browser once: do not feed it another one
                    results.append((url, persona, {"error": "render_skipped_after_timeout"}))
                    continue
                task = asyncio.ensure_future(_render_one(br, url, persona, timeout))
                task.add_done_callback(lambda t: t.cancelled() or t.exception())
                try:
                    holder = await asyncio.wait_for(asyncio.shield(task), timeout + 3)
                except TimeoutError:
                    holder = {"error": "render_timeout"}
                    hung = True
                    task.cancel()
                    await br.kill()  # a renderer stuck in a script can hang the whole browser
                    await br.start()
                except Exception as exc:  # noqa: BLE001 - one bad page must not stop the scan
                    holder = {"error": f"render:{type(exc).__name__}"}
                    if br.browser is None or not br.browser.is_connected():
                        await br.kill()
                        await br.start()
                    else:  # start this persona afresh next time
                        tab = br.tabs.pop(persona.name, None)
                        if tab is not None:
                            with contextlib.suppress(Exception):
                                await asyncio.wait_for(tab[0].close(), 5)
                results.append((url, persona, holder))
    finally:
        await br.stop()
    return results


def _layout_blocks(invisible: list[dict[str, str]], url: str) -> list[dict[str, Any]]:
    """Invisible off-site links as laid out by the browser, grouped by reason like static blocks."""
    host = urlsplit(url).netloc.lower()
    groups: dict[str, list[dict[str, str]]] = {}
    for item in invisible[:500]:
        link_host = urlsplit(item.get("href", "")).netloc.lower()
        if link_host and link_host != host:
            groups.setdefault(str(item.get("why")), []).append(
                {"href": item["href"], "text": item.get("text", ""), "host": link_host})
    # not_displayed (display:none somewhere up the tree) is how honest hover menus wait: weak
    return [{"technique": "display_none" if why == "not_displayed" else why, "source": "layout", "links": links,
             "offsite": len(links), "hosts": sorted({ln["host"] for ln in links})} for why, links in groups.items()]


def render_views(ws: Any, urls: list[str], personas_by_name: dict[str, Persona], allowed: set[str], *,
                 render_personas: list[str] | None = None, timeout: float = 15.0,
                 classify: Classify | None = None) -> list[tuple[str, list[PageView], list[dict[str, Any]]]]:
    """Render each URL under the render personas; returns (url, rendered views, capture rows)."""
    from chainbreaker.chains.tech.personas import default_personas

    pool = {**{p.name: p for p in default_personas()}, **personas_by_name}
    chosen = [pool[n] for n in (render_personas or DEFAULT_RENDER_PERSONAS) if n in pool]
    raw = asyncio.run(_render_all(urls, chosen, allowed, timeout))
    out: dict[str, tuple[list[PageView], list[dict[str, Any]]]] = {u: ([], []) for u in urls}
    for url, persona, res in raw:
        dom = res.get("dom") or ""
        sha = ws.store_evidence_bytes(dom.encode("utf-8")) if dom else ""
        shot = ws.store_evidence_bytes(res["screenshot"]) if res.get("screenshot") else ""
        error = res.get("error") or (res.get("nav_error") if not dom else None)
        view = analyze_page(dom, url, persona, status=res.get("status") or (200 if dom else None),
                            final_url=res.get("final_url") or url, classify=classify, capture_sha256=sha,
                            error=error, rendered=True)
        view.hidden_blocks = view.hidden_blocks + _layout_blocks(res.get("invisible") or [], url)
        view.blocked = res.get("blocked", [])
        view.written = res.get("written", [])
        view.screenshot_sha256 = shot
        if res.get("title"):
            view.title = res["title"]
        final = res.get("final_url") or url
        out[url][0].append(view)
        out[url][1].append({
            "host": urlsplit(url).netloc.lower(), "url": url, "persona": view.persona, "rendered": True,
            "status": res.get("status"), "final_url": final,
            "redirects": json.dumps({"blocked": view.blocked[:50], "written": [w[:500] for w in view.written[:10]]},
                                    ensure_ascii=False),
            "offsite_redirect": None, "headers": "{}", "capture_sha256": sha, "screenshot_sha256": shot or None,
            "bytes": len(dom.encode("utf-8")), "truncated": False, "bad_bytes": False, "error": error,
            "elapsed_s": None})
    return [(u, vs, rows) for u, (vs, rows) in out.items()]
