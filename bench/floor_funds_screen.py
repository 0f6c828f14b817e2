"""How fast could screening be on this machine? Hand-written DuckDB SQL of the same facts, beside pandas.

    python bench/floor_funds_screen.py --scale 10000000        # lake cached by bench_funds_screen.py

The 10x-pandas target of issue 2 is a ratio, so this bench asks what the ratio could be at best.
It runs, each in its own process on the same lake:

* the pandas side of ``bench_funds_screen.py``, with its time split into phases;
* "floor": the same per-account facts written directly as DuckDB SQL (2 threads), in the fewest
  passes found, with none of what the product also does: no Ibis compilation, no scoring
  passes, no ranking, no evidence rows, no findings, no lake writes, no coverage.

Both sides compute the facts the signals need (counts, money, fast in/out, night and round
counts, dormancy, counterparties and concentration, card pools, loops). The printed ratio
pandas/floor per phase and in total bounds the speed-up any implementation on this engine and
machine can show; the product's own time is ``bench_funds_screen.py``'s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent))


def child_floor(ws_path: str) -> dict:
    import duckdb

    from chainbreaker.chains.funds.rules import load_rules
    from chainbreaker.core.workspace import Workspace

    ws = Workspace(ws_path)
    p = load_rules().params
    tx_glob, acc_glob = ws.table_glob("transactions"), ws.table_glob("accounts")
    con = duckdb.connect(config={"threads": 2, "memory_limit": "12GB"})
    off = int(p["time"]["utc_offset_hours"] * 3600)
    fast = int(p["fast_in_out"]["window_minutes"] * 60)
    small, modulus = int(p["paofen"]["small_max_amount"] * 100), int(p["round_amount"]["modulus"] * 100)
    night, gap, lp = p["night"], int(p["dormant"]["gap_days"]), p["loops"]
    loop_window = int(lp["window_days"] * 86400)
    phases: dict[str, float] = {}
    start = time.perf_counter()

    def run(sql: str) -> None:
        con.execute(sql)

    def mark(name: str) -> None:
        phases[name] = time.perf_counter() - start - sum(phases.values())

    # read: valid transfers with dense integer account codes, fen and epoch seconds
    run(f"""CREATE TEMP TABLE v AS SELECT from_account AS fs, to_account AS ts_, CAST(amount * 100 AS BIGINT) AS fen,
              CAST(floor(epoch(ts)) AS BIGINT) AS ep FROM '{tx_glob}'
            WHERE from_account <> '' AND to_account <> '' AND from_account <> to_account AND amount > 0 AND ts IS NOT NULL""")
    run("""CREATE TEMP TABLE codes AS SELECT account, row_number() OVER (ORDER BY account) AS aid
             FROM (SELECT fs AS account FROM v UNION SELECT ts_ FROM v)""")
    run("""CREATE TEMP TABLE tr AS SELECT f.aid AS fa, t.aid AS ta, fen, ep
             FROM v JOIN codes f ON v.fs = f.account JOIN codes t ON v.ts_ = t.account""")
    run("DROP TABLE v")
    mark("read")
    # event facts: next outbound at/after each inbound and last inbound at/before each outbound.
    # Fastest formulation found: one DuckDB sort by (account, time, inbound first), then running
    # max/min in numpy over keys offset by account (so they never cross accounts); about 2x
    # faster than the two ASOF joins the product uses (7.2 s vs 3.6 s at 10M, measured alone).
    import numpy as np
    import pyarrow as pa

    ev = con.sql("""SELECT account, fen, ep, dir FROM (
                      SELECT ta AS account, fen, ep, 1::TINYINT AS dir FROM tr
                      UNION ALL SELECT fa, fen, ep, -1::TINYINT FROM tr) ORDER BY account, ep, dir DESC""").to_arrow_table()
    acc, ep, direction = (ev.column(c).to_numpy() for c in ("account", "ep", "dir"))
    base = acc.astype(np.int64) << 33  # epoch seconds < 2**33
    prev = np.maximum.accumulate(np.where(direction == 1, base + ep, base - 1))
    nxt = np.minimum.accumulate(np.where(direction == -1, base + ep, base + (1 << 33) - 1)[::-1])[::-1]
    ev = ev.append_column("nx", pa.array(np.where(nxt < base + (1 << 33) - 1, nxt - base, np.iinfo(np.int64).max)))
    ev = ev.append_column("pv", pa.array(np.where(prev >= base, prev - base, np.iinfo(np.int64).min // 2)))
    con.register("ev_arrow", ev)
    run("CREATE TEMP TABLE ev AS SELECT * FROM ev_arrow")
    con.unregister("ev_arrow")
    del ev, acc, ep, direction, base, prev, nxt
    hour = f"((ep + {off}) % 86400) // 3600"
    run(f"""CREATE TEMP TABLE per_account AS SELECT account, count(*) AS n_all, count(*) FILTER (dir = 1) AS n_in,
              sum(fen) FILTER (dir = 1) AS amt_in, sum(fen) FILTER (dir = -1) AS amt_out,
              sum(fen) FILTER (dir = 1 AND nx - ep <= {fast}) AS fast_in_amt,
              count(*) FILTER (dir = 1 AND nx - ep <= {fast}) AS fast_in_n,
              sum(fen) FILTER (dir = -1 AND ep - pv <= {fast}) AS fast_out_amt,
              count(*) FILTER (dir = 1 AND fen <= {small}) AS small_in_n,
              count(*) FILTER ({hour} >= {night['start_hour']} AND {hour} < {night['end_hour']}) AS night_n,
              count(*) FILTER (fen % {modulus} = 0) AS round_n
            FROM ev GROUP BY account""")
    run(f"""CREATE TEMP TABLE dormancy AS
            WITH d AS (SELECT account, (ep + {off}) // 86400 AS dy, count(*) AS dn, sum(fen) FILTER (dir = 1) AS din
                         FROM ev GROUP BY ALL),
                 g AS (SELECT *, dy - lag(dy) OVER w AS gp,
                              sum(dn) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
                         FROM d WINDOW w AS (PARTITION BY account ORDER BY dy))
            SELECT account, max(gp) AS max_gap, max(din) AS max_daily_in,
                   max(dy) FILTER (gp >= {gap}) AS wake_day, arg_max(before, dy) FILTER (gp >= {gap}) AS before_wake
              FROM g GROUP BY account""")
    run("""CREATE TEMP TABLE pairs AS SELECT fa, ta, sum(fen) AS amt, count(*) AS n, min(ep) AS f, max(ep) AS l
             FROM tr GROUP BY ALL""")
    run("""CREATE TEMP TABLE concentration AS
            SELECT coalesce(a.account, b.account) AS account, n_payers, n_payees, top_payer, top_payee
              FROM (SELECT ta AS account, count(*) AS n_payers, max(amt) AS top_payer FROM pairs GROUP BY ta) a
              FULL JOIN (SELECT fa AS account, count(*) AS n_payees, max(amt) AS top_payee FROM pairs GROUP BY fa) b
                ON a.account = b.account""")
    mark("event_facts")
    run(f"""CREATE TEMP TABLE pools AS
            WITH raw AS (SELECT from_account AS account, ip, mac, max(from_name) AS name FROM '{tx_glob}'
                          WHERE (ip IS NOT NULL OR mac IS NOT NULL) AND from_account <> '' AND to_account <> ''
                            AND from_account <> to_account AND amount > 0 AND ts IS NOT NULL GROUP BY ALL),
                 hold AS (SELECT account, max(coalesce(holder_id, holder_name)) AS holder FROM '{acc_glob}' GROUP BY account),
                 src AS (SELECT r.account, coalesce(h.holder, r.name, r.account) AS holder, r.ip, r.mac
                           FROM raw r LEFT JOIN hold h USING (account)),
                 dev AS (SELECT DISTINCT account, holder, 'ip:' || trim(ip) AS device FROM src WHERE trim(ip) <> ''
                         UNION SELECT account, holder, 'mac:' || upper(trim(mac)) FROM src WHERE trim(mac) <> ''),
                 per AS (SELECT device, count(DISTINCT holder) AS holders FROM dev GROUP BY device
                          HAVING count(DISTINCT holder) <= {p['card_pool']['max_holders']})
            SELECT account, max(holders) AS pool_holders FROM dev JOIN per USING (device) GROUP BY account""")
    mark("card_pools")
    run(f"""CREATE TEMP TABLE loops AS
            WITH hubs AS (SELECT acc FROM (SELECT fa AS acc FROM pairs UNION ALL SELECT ta FROM pairs)
                           GROUP BY acc HAVING count(*) > {lp['max_degree']}),
                 big AS (SELECT * FROM pairs WHERE amt >= {int(lp['min_amount'] * 100)}
                          AND fa NOT IN (SELECT acc FROM hubs) AND ta NOT IN (SELECT acc FROM hubs)),
                 two AS (SELECT a.fa AS acc, a.ta AS partner FROM big a JOIN big r
                          ON a.ta = r.fa AND a.fa = r.ta AND r.l > a.f AND r.f <= a.l + {loop_window}),
                 three AS (SELECT a.fa AS acc, a.ta AS partner FROM big a
                            JOIN big c ON a.ta = c.fa AND c.ta <> a.fa AND c.l > a.f AND c.f <= a.l + {loop_window}
                            JOIN big d ON c.ta = d.fa AND a.fa = d.ta AND d.l > c.f AND d.f <= c.l + {loop_window})
            SELECT acc AS account, count(DISTINCT partner) AS loop_partners
              FROM (SELECT * FROM two UNION ALL SELECT * FROM three) GROUP BY acc""")
    mark("loops")
    seconds = time.perf_counter() - start
    # checksums of the facts, compared with the product's funds_features (same facts, same data)
    check = dict(zip(CHECKS, con.execute("""
        SELECT (SELECT count(*) FROM per_account), (SELECT sum(fast_in_n) FROM per_account),
               (SELECT sum(fast_out_amt) FROM per_account), (SELECT sum(night_n) FROM per_account),
               (SELECT count(wake_day) FROM dormancy), (SELECT sum(n_payers) FROM concentration),
               (SELECT sum(pool_holders) FROM pools), (SELECT sum(loop_partners) FROM loops)""").fetchone(), strict=True))
    return {"seconds": seconds, "phases": phases, "accounts": check["accounts"],
            "check": {k: int(v or 0) for k, v in check.items()}}


CHECKS = ("accounts", "fast_in_n", "fast_out_fen", "night_n", "woke", "n_payers", "pool_holders", "loop_partners")


def product_checksums(ws_path: Path) -> dict[str, int] | None:
    """The same checksums over the product's last ``funds_features`` (None before any screening)."""
    import duckdb

    from chainbreaker.core.workspace import Workspace

    ws = Workspace(ws_path)
    if not ws.has_table("funds_features"):
        return None
    row = duckdb.sql(f"""SELECT count(*), sum(fast_in_n), sum(fast_out_amt * 100), sum(night_n), count(wake_day),
                               sum(n_payers), sum(pool_holders), sum(loop_partners)
                          FROM '{ws.table_glob("funds_features")}'""").fetchall()[0]
    return {k: int(v or 0) for k, v in zip(CHECKS, row, strict=True)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workdir", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "cb-bench-funds")
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--ws")
    ap.add_argument("--result")
    args = ap.parse_args()
    if args.child:
        res = child_floor(args.ws)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        res["peak_mb"] = usage.ru_maxrss / 1024
        res["cpu_s"] = usage.ru_utime + usage.ru_stime
        Path(args.result).write_text(json.dumps(res))
        return

    from bench_funds_screen import prepare, run_child

    ws_path = prepare(args.workdir, args.scale, args.seed)
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    pandas = run_child("pandas", ws_path)
    out = ws_path.parent / "result-floor.json"
    proc = subprocess.run([sys.executable, str(HERE), "--child", "--ws", str(ws_path), "--result", str(out)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"floor failed:\n{proc.stderr[-3000:]}")
    floor = json.loads(out.read_text())
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"\n{args.scale:,} transactions, {floor['accounts']:,} accounts (floor) / {pandas['accounts']:,} (pandas)\n")
    print("| phase | pandas s | DuckDB SQL floor s | ratio |")
    print("|---|---:|---:|---:|")
    for name in ("read", "event_facts", "card_pools", "loops", "signals"):
        pd_s, fl_s = pandas["phases"].get(name, 0.0), floor["phases"].get(name, 0.0)
        ratio = f"{pd_s / fl_s:.1f}x" if fl_s else "(not in floor)"
        print(f"| {name} | {pd_s:.1f} | {fl_s:.1f} | {ratio} |")
    print(f"| **total** | {pandas['seconds']:.1f} | {floor['seconds']:.1f} | {pandas['seconds'] / floor['seconds']:.1f}x |")
    print(f"\npeak memory: pandas {pandas['peak_mb']:,.0f} MB, floor {floor['peak_mb']:,.0f} MB")
    product = product_checksums(ws_path)
    if product is None:
        print("no funds_features in this lake yet: run bench_funds_screen.py to compare the floor's facts")
    else:
        same = product == floor["check"]
        print(f"floor facts match the product's funds_features: {same}")
        if not same:
            print(f"  floor   {floor['check']}\n  product {product}")


if __name__ == "__main__":
    main()
