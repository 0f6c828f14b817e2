"""Evaluation: do ``intel operations`` concentrate laundering accounts? On public AMLSim 10K.

    python bench/eval_intel_amlsim.py [--resolution 1.0] [--workdir /tmp/cb-eval-intel]

Loads AMLSim (``../shared/data/aml/amlsim_10k_stock``) with ``bench/public_aml.py``, runs ``funds
screen``, ``intel resolve`` and ``intel operations``, and prints, for the top 5/10/20 ranked
operations, how many of their accounts are SAR accounts against the base rate.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
DATA = HERE.parents[2] / "shared" / "data" / "aml" / "amlsim_10k_stock"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--resolution", type=float, default=1.0)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/cb-eval-intel"))
    args = ap.parse_args()
    sys.path.insert(0, str(HERE.parent))
    from public_aml import load_amlsim  # bench/public_aml.py (this folder)

    from chainbreaker.chains.funds.screen import screen
    from chainbreaker.core.workspace import Workspace
    from chainbreaker.intel.entities import resolve
    from chainbreaker.intel.operations import operations

    ws = Workspace(args.workdir / "amlsim")
    if not ws.has_table("transactions"):
        load_amlsim(ws, args.data)
    if not ws.has_table("findings"):
        screen(ws)
    t0 = time.perf_counter()
    res = resolve(ws)
    t1 = time.perf_counter()
    ops = operations(ws, resolution=args.resolution)
    t2 = time.perf_counter()
    print(f"resolve {t1 - t0:.1f} s ({sum(res.links.values()):,} links); operations {t2 - t1:.1f} s: "
          f"{ops.communities} communities, {ops.operations} anchored, modularity {ops.modularity:.3f}")
    with open(args.data / "sar_accounts.csv", newline="") as fh:
        reader = csv.DictReader(fh)
        col = next(c for c in (reader.fieldnames or []) if "ACCOUNT" in c.upper())
        sar = {row[col] for row in reader}
    con = ws.duck()
    accounts = {r[0] for r in con.sql("SELECT key FROM entities WHERE entity_type = 'account'").fetchall()}
    sar &= accounts
    members = con.sql("SELECT o.rank, m.entity_id FROM operation_members m JOIN operations o USING (operation_id) "
                      "WHERE m.entity_type = 'account'").fetchall()
    print(f"accounts {len(accounts):,}, SAR {len(sar):,} (base rate {len(sar) / max(len(accounts), 1):.1%})")
    for top in (5, 10, 20):
        inside = {e.split(":", 1)[1] for rank, e in members if rank <= top}
        hit = len(inside & sar)
        print(f"top {top} operations: {len(inside):,} accounts, {hit:,} SAR ({hit / max(len(inside), 1):.1%} of them, "
              f"{hit / max(len(sar), 1):.1%} of all SAR)")


if __name__ == "__main__":
    main()
