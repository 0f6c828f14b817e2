"""Tech scan throughput: pages per second end to end (fetch from loopback, decode, detect, classify),
and detection recall per technique on the kit corpus (tests/support/kits).

    python bench/bench_tech_scan.py [--paths 12] [--render-urls 6] [--no-kits]

The loopback test sites run in their own process. Each side runs in a fresh subprocess so its
peak memory (ru_maxrss) is its own:

* ``baseline``  what open-source 暗链 scanners do: one user agent, raw-HTML keyword match;
* ``scan``      chainbreaker's scanner without rendering: 14 personas, decoding, detectors, the
                gambling classifier, indicators, evidence store and lake tables;
* ``render``    the same with headless Chromium (3 render personas per URL).

A "page" is one fetched response (one URL as one persona). URLs are every test site (18, incl.
5 honest look-alikes) under ``--paths`` different paths each.

``kits`` (its own subprocess, with the kit servers): every kit of the regression corpus scanned with
the 14 personas; per technique the share of kits whose expected rule ids were all reported
(recall), and the honest look-alikes that got any finding (false flags). The baseline on the
same corpus flags a kit when the raw HTML a desktop browser gets matches the keyword list.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

KEYWORDS = re.compile("百家乐|澳门|赌场|博彩|娱乐城|彩金|真人视讯|老虎机|皇冠体育|新葡京")


def side_baseline(urls: list[str]) -> dict:
    import asyncio

    import httpx

    from chainbreaker.chains.tech.personas import persona_by_name

    hosts: dict[str, list[str]] = {}
    for u in urls:
        hosts.setdefault(u.split("/")[2], []).append(u)
    flagged: set[str] = set()

    async def host_worker(client: httpx.AsyncClient, items: list[str]) -> None:
        for u in items:  # one request at a time per host, like the scanner
            r = await client.get(u, headers=persona_by_name("desktop").headers())
            if KEYWORDS.search(r.text):
                flagged.add(u.split("/")[2])

    async def run() -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            sem = asyncio.Semaphore(8)

            async def guarded(items: list[str]) -> None:
                async with sem:
                    await host_worker(client, items)

            await asyncio.gather(*(guarded(v) for v in hosts.values()))

    start = time.perf_counter()
    asyncio.run(run())
    return {"seconds": time.perf_counter() - start, "pages": len(urls), "flagged_hosts": sorted(flagged)}


def side_scan(urls: list[str], render: bool) -> dict:
    from chainbreaker.chains.tech.classify import classify_page
    from chainbreaker.chains.tech.fetch import FetchLimits
    from chainbreaker.chains.tech.scan import scan
    from chainbreaker.core.workspace import Workspace

    classify_page("<title>预热</title>", "", "http://warm.up/")  # jieba's dictionary: not part of the rate
    ws = Workspace(tempfile.mkdtemp(prefix="bench-tech-"))
    start = time.perf_counter()
    result = scan(ws, urls, render=render, own_sites=True, limits=FetchLimits(delay=0, concurrency=8),
                  render_timeout=10)
    seconds = time.perf_counter() - start
    rendered = ws.duck().sql("SELECT count(*) FROM tech_captures WHERE rendered").fetchall()[0][0]
    return {"seconds": seconds, "pages": result.captures, "urls": len(result.urls), "rendered": rendered,
            "findings": sorted({f.rule_id for f in result.findings}),
            "flagged_hosts": sorted(result.rules_by_host()), "timings": ws.runs()[-1]["timings"]}


def side_kits() -> dict:
    """Recall per technique and false flags on the kit corpus, for the scanner and the baseline."""
    from pathlib import Path
    from urllib.parse import urlsplit

    import httpx

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from chainbreaker.chains.tech.classify import classify_page
    from chainbreaker.chains.tech.fetch import FetchLimits
    from chainbreaker.chains.tech.personas import persona_by_name
    from chainbreaker.chains.tech.scan import scan
    from chainbreaker.core.workspace import Workspace
    from support.kitserver import KitSites

    classify_page("<title>预热</title>", "", "http://warm.up/")
    sites = KitSites()
    try:
        ws = Workspace(tempfile.mkdtemp(prefix="bench-kits-"))
        start = time.perf_counter()
        found: dict[str, set[str]] = {}
        pages = 0
        for mode, depth in (("root", 0), ("depth1", 1), ("path", 0)):
            targets = sites.targets(mode)
            if not targets:
                continue
            result = scan(ws, targets, depth=depth, own_sites=True, limits=FetchLimits(delay=0, total_timeout=10))
            pages += result.captures
            for f in result.findings:
                host = f.subject_key if f.subject_type == "site" else urlsplit(f.subject_key).netloc
                found.setdefault(sites.name_of(host) or host, set()).add(f.rule_id)
        seconds = time.perf_counter() - start
        baseline: set[str] = set()
        with httpx.Client(timeout=10) as client:
            for name, kit in sites.kits.items():
                path = kit.path if kit.scan == "path" else "/"
                if KEYWORDS.search(client.get(sites.url(name, path), headers=persona_by_name("desktop").headers()).text):
                    baseline.add(name)
        rows: dict[str, dict] = {}
        for name, kit in sites.kits.items():
            if kit.honest:
                continue
            row = rows.setdefault(kit.technique, {"kits": 0, "found": 0, "baseline": 0, "missed": []})
            row["kits"] += 1
            if kit.expect <= found.get(name, set()) and "gambling.site" not in found.get(name, set()):
                row["found"] += 1
            else:
                row["missed"].append(name)
            row["baseline"] += name in baseline
        honest = [n for n, k in sites.kits.items() if k.honest]
        return {"seconds": seconds, "pages": pages, "techniques": rows, "honest": len(honest),
                "false_flags": sorted(n for n in honest if found.get(n)),
                "baseline_false_flags": sorted(n for n in honest if n in baseline),
                "gambling_site_on_victims": sorted(n for n, k in sites.kits.items()
                                                   if not k.honest and "gambling.site" in found.get(n, set()))}
    finally:
        sites.close()


def run_side(name: str, urls: list[str]) -> dict:
    code = (f"import json,sys,resource; sys.path.insert(0, {str(__file__.rsplit('/', 1)[0])!r}); "
            f"import bench_tech_scan as b; urls=json.load(sys.stdin); "
            f"out = b.side_baseline(urls) if {name!r} == 'baseline' else b.side_kits() if {name!r} == 'kits' "
            f"else b.side_scan(urls, {name == 'render'}); "
            "out['peak_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024; print(json.dumps(out))")
    proc = subprocess.run([sys.executable, "-c", code], input=json.dumps(urls), capture_output=True, text=True,
                          timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paths", type=int, default=12, help="paths per site (URLs = 18 x paths)")
    ap.add_argument("--render-urls", type=int, default=6, help="URLs rendered in the render side (0 = skip)")
    ap.add_argument("--no-kits", action="store_true", help="skip the kit corpus (recall per technique)")
    args = ap.parse_args()

    server = subprocess.Popen([sys.executable, "-m", "chainbreaker.synth.websites"], stdout=subprocess.PIPE, text=True)
    sites: dict[str, str] = {}
    try:
        assert server.stdout is not None
        while len(sites) < 19:
            name, url = server.stdout.readline().split()
            sites[name] = url
        names = [n for n in sites if n != "hostile"]
        urls = [sites[n] if i == 0 else f"{sites[n]}p{i}.html" for n in names for i in range(args.paths)]
        urls.append(f"{sites['parasite']}tags/baijiale.html")  # the doorway page (a scan finds it with --depth 1)
        truth = {sites[n].split("/")[2]: n for n in names}
        print(f"{len(names)} sites x {args.paths} paths = {len(urls)} URLs; scanner pages = URLs x 14 personas")
        rows = []
        base = run_side("baseline", urls)
        rows.append(("baseline (1 UA, raw keywords)", base))
        scan_out = run_side("scan", urls)
        rows.append(("chainbreaker scan, no render", scan_out))
        if args.render_urls:
            step = max(1, len(names) // args.render_urls)
            rurls = [sites[n] for n in names[::step]][: args.render_urls]
            rows.append((f"chainbreaker scan --render ({len(rurls)} URLs)", run_side("render", rurls)))
        print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
              "(other jobs on the machine slow every side alike)")
        print(f"{'side':42s} {'pages':>7s} {'seconds':>8s} {'pages/s':>8s} {'peak MB':>8s}")
        for label, r in rows:
            print(f"{label:42s} {r['pages']:7d} {r['seconds']:8.2f} {r['pages'] / r['seconds']:8.1f} {r['peak_mb']:8.0f}")
        print("scan timings (s):", json.dumps(scan_out["timings"]))
        if args.render_urls:
            r = rows[-1][1]
            print(f"render side: {r['rendered']} rendered views (+ {r['pages'] - r['rendered']} static fetches); "
                  f"timings (s): {json.dumps(r['timings'])}; "
                  f"{r['timings'].get('render', 0) / max(r['rendered'], 1):.2f} s per rendered view")
        honest = {"news_crackdown", "lottery", "marquee_notice", "entity_text", "light_bot"}
        for label, r in rows[:2]:
            got = {truth[h] for h in r["flagged_hosts"] if h in truth}
            print(f"{label}: flagged {len(got)} sites; honest look-alikes flagged: {sorted(got & honest)}; "
                  f"technique sites missed: {sorted(set(names) - honest - got)}")
        if not args.no_kits:
            print_kits(run_side("kits", []))
    finally:
        server.terminate()
        server.wait(timeout=10)


def print_kits(k: dict) -> None:
    total = sum(r["kits"] for r in k["techniques"].values())
    print(f"\nkit corpus (tests/support/kits): {total} kits, {k['honest']} honest look-alikes, 14 personas, "
          f"{k['pages']} pages in {k['seconds']:.1f} s, peak {k['peak_mb']:.0f} MB "
          f"(load {os.getloadavg()[0]:.1f})")
    print(f"{'technique':14s} {'kits':>5s} {'found':>6s} {'recall':>7s} {'baseline':>9s}  missed")
    for tech, r in sorted(k["techniques"].items()):
        print(f"{tech:14s} {r['kits']:5d} {r['found']:6d} {r['found'] / r['kits']:7.2f} {r['baseline'] / r['kits']:9.2f}"
              f"  {', '.join(r['missed']) or '-'}")
    found = sum(r["found"] for r in k["techniques"].values())
    base = sum(r["baseline"] for r in k["techniques"].values())
    print(f"{'all':14s} {total:5d} {found:6d} {found / total:7.2f} {base / total:9.2f}")
    print(f"false flags on honest look-alikes: chainbreaker {len(k['false_flags'])}/{k['honest']} {k['false_flags']}; "
          f"baseline {len(k['baseline_false_flags'])}/{k['honest']} {k['baseline_false_flags']}")
    print(f"victims reported as gambling.site: {k['gambling_site_on_victims'] or 'none'}")


if __name__ == "__main__":
    main()
