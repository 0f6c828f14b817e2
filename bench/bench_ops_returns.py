"""Benchmark of ``chainbreaker ops import`` and ``ops bulletin`` on a monthly-return workbook.

    python bench/bench_ops_returns.py                 # the seed's figures (≈3k rows), SQLite
    python bench/bench_ops_returns.py --scale 10      # ten units' worth of returns in one workbook
    python bench/bench_ops_returns.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

It writes a workbook with ``scale`` × (336 cases, 261 gangs, ≈2,000 measures on 1,578 persons, 55
platforms, 420 seizures), then times, each in its own child process (peak memory = the child's
maximum RSS): the import into a fresh database, the re-import (a no-op), and the bulletin
(figures, monthly series, ranking, four files). The plain baseline in the same run reads the same
workbook with pandas (``read_excel``, openpyxl engine) and sums the same totals without a database,
without validation and without history — what the import costs beyond reading the file. Both must
give the same totals.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

UNITS = ("昆明市公安局", "曲靖市公安局", "玉溪市公安局", "红河州公安局", "德宏州公安局", "临沧市公安局")


def build(path: Path, scale: int) -> dict[str, str | int]:
    from openpyxl import Workbook

    from chainbreaker.core.model.identifiers import ResidentID

    rng = random.Random(13)
    wb = Workbook(write_only=True)
    cases, gangs, meas, plats, seiz = (wb.create_sheet(n) for n in ("案件", "团伙", "强制措施", "涉案平台", "扣押冻结"))
    cases.append(["案件编号", "案件名称", "督办级别", "立案日期", "主办单位"])
    gangs.append(["团伙编号", "案件编号", "团伙名称", "打掉日期"])
    meas.append(["身份证号", "姓名", "案件编号", "措施", "日期"])
    plats.append(["平台名称", "案件编号", "捣毁日期"])
    seiz.append(["案件编号", "类型", "金额（元）", "日期"])

    def day() -> dt.date:
        return dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(0, 304))

    total, persons, n_cases = Decimal("0.00"), 0, 0
    for k in range(scale):
        numbers = [f"B{k:03d}-{i:04d}" for i in range(336)]
        for i, n in enumerate(numbers):
            cases.append([n, f"案{i}", "部督" if i < 14 else "省督" if i < 43 else "无", day(), UNITS[i % len(UNITS)]])
        n_cases += len(numbers)
        for i in range(261):
            gangs.append([f"G{k:03d}-{i:04d}", numbers[i % 336], f"团伙{i}", day()])
        for i in range(1578):
            first17 = f"5301{k % 100:02d}{dt.date(1970, 1, 1) + dt.timedelta(days=i * 7):%Y%m%d}{i % 1000:03d}"
            pid = first17 + ResidentID.check_digit(first17)
            meas.append([pid, f"人{i}", numbers[i % 336], "刑事拘留", day()])
            if i % 4 == 0:
                meas.append([pid, f"人{i}", numbers[i % 336], "逮捕", dt.date(2025, 10, 31)])
        persons += 1578
        for i in range(55):
            plats.append([f"平台{k}-{i}", numbers[i], day()])
        for i in range(420):
            amount = Decimal(rng.randrange(100, 2_000_000_000)) / 100
            total += amount
            seiz.append([numbers[i % 336], "冻结" if i % 2 else "扣押", float(amount), day()])
    wb.save(path)
    return {"cases": n_cases, "persons_measures": persons, "funds_seized_frozen": str(total)}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(step: str, workbook: str, ws_dir: str) -> None:
    import os

    import pandas as pd

    from chainbreaker.core.workspace import Workspace
    from chainbreaker.ops.bulletin import write_bulletin
    from chainbreaker.ops.importer import import_returns

    ws = Workspace(ws_dir)
    t0 = time.perf_counter()  # modules are loaded: time the work only
    if step == "import":
        s = import_returns(ws, Path(workbook))
        rows = sum(c.rows for c in s.sheets.values())
        out: dict[str, object] = {"rows": rows}
    elif step == "bulletin":
        b, _ = write_bulletin(ws, "2025-01..2025-10", Path(ws_dir) / "bulletin")
        out = {k: str(v) for k, v in b.totals.items() if k in ("cases", "persons_measures", "funds_seized_frozen")}
    else:  # the plain baseline: pandas reads the workbook and sums, nothing else
        sheets = pd.read_excel(workbook, sheet_name=None, dtype=str, engine="openpyxl")
        rows = sum(len(f) for f in sheets.values())
        funds = sum((Decimal(x) for x in sheets["扣押冻结"]["金额（元）"]), Decimal("0.00"))
        out = {"rows": rows, "cases": str(sheets["案件"]["案件编号"].nunique()),
               "persons_measures": str(sheets["强制措施"]["身份证号"].nunique()), "funds_seized_frozen": str(funds)}
    out.update(seconds=round(time.perf_counter() - t0, 2), peak_mb=round(_peak_mb()), db=os.environ.get("CHAINBREAKER_DATABASE_URL", "sqlite"))
    print(json.dumps(out, ensure_ascii=False))


def run(step: str, workbook: Path, ws_dir: Path, env: dict[str, str]) -> dict[str, object]:
    r = subprocess.run([sys.executable, __file__, "--child", step, str(workbook), str(ws_dir)], capture_output=True,
                       text=True, env=env, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    import os

    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--postgres", default=None, help="PostgreSQL URL; a fresh schema is used and dropped")
    ap.add_argument("--child", nargs=3, default=None)
    a = ap.parse_args()
    if a.child:
        child(*a.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        wb = Path(tmp) / "returns.xlsx"
        t0 = time.perf_counter()
        truth = build(wb, a.scale)
        print(f"workbook: scale {a.scale}, {wb.stat().st_size / 2**20:.1f} MB, written in {time.perf_counter() - t0:.1f} s")
        env = dict(os.environ)
        schema = None
        if a.postgres:
            from sqlalchemy import create_engine, text

            schema = f"cb_bench_{uuid.uuid4().hex[:8]}"
            with create_engine(a.postgres).begin() as con:
                con.execute(text(f'CREATE SCHEMA "{schema}"'))
            env["CHAINBREAKER_DATABASE_URL"] = f"{a.postgres}?options=-csearch_path%3D{schema}"
        else:
            env.pop("CHAINBREAKER_DATABASE_URL", None)
        try:
            ws = Path(tmp) / "ws"
            first = run("import", wb, ws, env)
            again = run("import", wb, ws, env)
            bulletin = run("bulletin", wb, ws, env)
            base = run("pandas", wb, ws, env)
        finally:
            if schema:
                with create_engine(a.postgres).begin() as con:
                    con.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        rows = int(first["rows"])  # type: ignore[call-overload]
        for name, r in (("import", first), ("re-import", again), ("bulletin", bulletin), ("pandas baseline", base)):
            rate = f"{rows / float(r['seconds']):,.0f} rows/s" if name != "bulletin" and float(r["seconds"]) else ""  # type: ignore[arg-type]
            print(f"{name:16s} {r['seconds']:>7} s  peak {r['peak_mb']:>5} MB  {rate}")
        for key in ("cases", "persons_measures", "funds_seized_frozen"):
            assert str(bulletin[key]) == str(truth[key]) == str(base[key]), (key, bulletin[key], truth[key], base[key])
        print(f"totals agree (bulletin = workbook = pandas): {truth}")


if __name__ == "__main__":
    main()
