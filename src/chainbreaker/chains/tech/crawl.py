"""Crawling (抓取调度) for the scan: targets, their home pages, links, sitemaps and landing pages.

Every URL is fetched as every persona, one request at a time per host (see
:mod:`chainbreaker.chains.tech.fetch`); each URL's captures go to the analyser at once so bodies are not
held for the whole scan. With ``depth`` the crawl follows same-host links and the host's sitemaps
(read as a browser and as a spider: doorway kits list theirs for crawlers only). A redirect that
sends search visitors to another page of the same site has that landing page fetched too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

from chainbreaker.chains.tech.fetch import Capture, Fetcher, FetchLimits, host_of, safe_join
from chainbreaker.chains.tech.pageview import PageView
from chainbreaker.chains.tech.personas import Persona, default_personas


def _root(url: str) -> str:
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}/"


OnCaptures = Callable[[str, list[Capture], dict[str, Capture]], list[str]]


async def crawl(targets: list[str], personas: list[Persona], fetcher: Fetcher, depth: int, max_pages: int,
                 on_captures: OnCaptures) -> tuple[list[str], list[dict[str, Any]]]:
    """Fetch targets (and, with depth, their same-host links and sitemap); each URL's captures go
    to ``on_captures`` at once so bodies are not held in memory for the whole scan. Scripts on
    hosts of the explicit follow allowlist are fetched once each and passed along.
    ``on_captures`` returns the same-site landing pages of redirects, which are fetched too."""
    visited: list[str] = []
    externals: dict[str, Capture] = {}
    skipped: list[dict[str, Any]] = []
    seen: set[str] = set()
    per_host: dict[str, int] = {}
    queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue()

    def enqueue(url: str, d: int, explicit: bool = False) -> None:
        host = host_of(url)
        if url in seen or not fetcher.may_contact(url):
            return
        if per_host.get(host, 0) >= max_pages and not explicit:  # the cap limits discovery, not targets
            return
        seen.add(url)
        per_host[host] = per_host.get(host, 0) + 1
        queue.put_nowait((url, d))

    for t in targets:
        enqueue(t, 0, explicit=True)
        enqueue(_root(t), depth, explicit=True)  # the host's home page is the context for doorway pages

    async def visit(url: str, d: int) -> None:
        if not await fetcher.robots_allows(url):
            skipped.append({"url": url, "reason": "robots.txt"})
            return
        caps = [await fetcher.fetch(url, p) for p in personas]
        visited.append(url)
        if d < depth and not fetcher.exhausted(host_of(url)):
            for link in _same_host_links(caps, url):
                enqueue(link, d + 1)
            if urlsplit(url).path == "/":
                for link in await _sitemap_links(fetcher, url, personas):
                    enqueue(link, d + 1)
        scripts: dict[str, Capture] = {}
        if fetcher.follow:
            for src in _script_srcs(caps, url, fetcher.follow)[:20]:
                if src not in externals:
                    externals[src] = await fetcher.fetch(src, personas[0], max_bytes=2_000_000)
                scripts[src] = externals[src]
        for landing in on_captures(url, caps, scripts):
            enqueue(landing, d, explicit=True)  # a redirect's landing page on the same site: classify it

    async def worker() -> None:
        while True:
            url, d = await queue.get()
            try:
                await visit(url, d)
            finally:
                queue.task_done()

    workers = [asyncio.create_task(worker()) for _ in range(max(1, fetcher.limits.concurrency))]
    await queue.join()
    for w in workers:
        w.cancel()
    await asyncio.gather(*workers, return_exceptions=True)
    return visited, skipped


def _script_srcs(caps: list[Capture], base: str, hosts: set[str]) -> list[str]:
    """External script URLs on the allowlisted hosts (only those may be fetched)."""
    from selectolax.lexbor import LexborHTMLParser

    out: list[str] = []
    for body in {c.body for c in caps if c.ok and c.body}:
        tree = LexborHTMLParser(body[:2_000_000].decode("utf-8", "replace"))
        for node in tree.css("script[src]")[:100]:
            u = safe_join(base, (node.attributes.get("src") or "").strip())
            if host_of(u) in hosts and u not in out:
                out.append(u)
    return out


def _same_host_links(caps: list[Capture], base: str) -> list[str]:
    from selectolax.lexbor import LexborHTMLParser

    host = host_of(base)
    out: list[str] = []
    for body in {c.body for c in caps if c.ok and c.body}:
        tree = LexborHTMLParser(body[:2_000_000].decode("utf-8", "replace"))
        for a in tree.css("a[href]")[:500]:
            u = safe_join(base, (a.attributes.get("href") or "").strip()).split("#", 1)[0]
            if host_of(u) == host and u.startswith("http") and u not in out:
                out.append(u)
    return out


def _spider(personas: list[Persona]) -> Persona:
    from chainbreaker.chains.tech.personas import persona_by_name

    return next((p for p in personas if p.is_spider and not p.has_referer), persona_by_name("baiduspider"))


async def _sitemap_links(fetcher: Fetcher, root: str, personas: list[Persona]) -> list[str]:
    """Page URLs of the host's sitemaps, read as a browser and as a spider: doorway kits serve
    their robots.txt ``Sitemap:`` lines and sitemaps to crawlers only. One level of sitemap index."""
    import re

    host = host_of(root)
    browser, spider = default_personas()[0], _spider(personas)
    maps = list(fetcher.sitemaps.get(host) or [])
    robots = await fetcher.fetch(urljoin(root, "/robots.txt"), spider, max_bytes=500_000)
    if robots.ok and robots.status == 200:
        maps += [safe_join(root, ln.split(":", 1)[1].strip()) for ln in robots.text()[0].splitlines()
                 if ln.lower().startswith("sitemap:")]
    maps = list(dict.fromkeys(maps + [urljoin(root, "/sitemap.xml")]))
    out: list[str] = []
    done: set[str] = set()
    while maps and len(done) < 6:
        sm = maps.pop(0)
        if host_of(sm) != host or sm in done:
            continue
        done.add(sm)
        for persona in (browser, spider):
            cap = await fetcher.fetch(sm, persona, max_bytes=2_000_000)
            if not (cap.ok and cap.status == 200):
                continue
            text = cap.text()[0]
            locs = [u for loc in re.findall(r"<loc>\s*([^<\s]+)\s*</loc>", text)[:500]
                    if (u := safe_join(root, loc.replace("&amp;", "&")))]
            if "<sitemapindex" in text:
                maps += [u for u in locs if u not in done]
            else:
                out += [u for u in locs if u not in out]
    return out


async def run_crawl(urls: list[str], personas: list[Persona], allowed: set[str], limits: FetchLimits,
                     own_sites: bool, follow: set[str], depth: int, max_pages: int, on_captures: OnCaptures
                     ) -> tuple[list[str], list[dict[str, Any]], dict[str, int]]:
    fetcher = Fetcher(allowed, limits, own_sites=own_sites, follow_hosts=follow)
    try:
        visited, skipped = await crawl(urls, personas, fetcher, depth, max_pages, on_captures)
        return visited, skipped, dict(fetcher.over_budget)
    finally:
        await fetcher.close()


def landing_urls(url: str, views: list[PageView]) -> list[str]:
    """Same-site pages that search-referred visitors are sent to (HTTP, meta refresh, script)."""
    host = host_of(url)
    plain = {v.agent: v for v in views if not v.has_referer}
    out: list[str] = []
    for v in views:
        if not v.has_referer:
            continue
        other = plain.get(v.agent)
        if v.redirects and (other is None or other.final_url != v.final_url):
            out.append(v.final_url)
        if v.meta_refresh and (other is None or other.meta_refresh != v.meta_refresh):
            out.append(v.meta_refresh)
        out += [t for sc in v.scripts if sc.referrer_check for t in sc.redirect_targets]
    return [u.split("#", 1)[0] for u in dict.fromkeys(out) if host_of(u) == host and u.split("#", 1)[0] != url][:5]


__all__ = ["OnCaptures", "crawl", "landing_urls", "run_crawl"]
