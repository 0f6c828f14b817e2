"""The web tests' workspace (support.build_workspace) with what the chain pages show: a small synthetic
platform ingested and analysed (agent cards, workbooks), 300 travellers ingested and analysed
(stranded persons, groups, timelines), a screening run, a fan-out of 45 accounts
from one seed with onward transfers (the trace view's folding), and one case with a task."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from chainbreaker.core.model.schemas import TRANSACTIONS
from chainbreaker.core.workspace import Workspace

from .support import _row, build_workspace

FAN_SEED = "6222020200112233445"  # pays 45 accounts, each of which passes money on
FAN_WIDTH = 45
PLATFORM = "金沙测试"
CASE = "WEB-2025-001"


def fan_account(i: int) -> str:
    return f"62170000200{i:08d}"


def onward_account(i: int) -> str:
    return f"62284800300{i:08d}"


def build_pages_workspace(root: Path, scratch: Path) -> tuple[Workspace, str]:
    """The workspace and the member id of the platform's biggest agent (by downline)."""
    from chainbreaker.chains.funds.service import screen_accounts
    from chainbreaker.chains.promotion.analyze import analyze
    from chainbreaker.chains.promotion.ingest import ingest_platform
    from chainbreaker.ops.casework import add_case_task
    from chainbreaker.ops.casework_edit import create_case
    from chainbreaker.synth.platform import export_platform, generate_platform

    ws = build_workspace(root)
    start = dt.datetime(2024, 4, 1, 2, 0, tzinfo=dt.UTC)
    rows = []
    for i in range(FAN_WIDTH):
        rows.append(_row(TRANSACTIONS, txn_id=f"fan{i:03d}", from_account=FAN_SEED, to_account=fan_account(i),
                         from_name="周强", amount=Decimal(f"{5000 + 100 * i}.00"), currency="CNY",
                         ts=start + dt.timedelta(minutes=i), channel="网银转账", summary="转账", requested_side="both",
                         src_sha256="c" * 64, src_file="中国银行交易明细.csv", src_row=100 + i))
        for j in range(1 + i % 2):
            rows.append(_row(TRANSACTIONS, txn_id=f"on{i:03d}{j}", from_account=fan_account(i),
                             to_account=onward_account(2 * i + j), amount=Decimal(f"{2000 + 10 * i}.00"), currency="CNY",
                             ts=start + dt.timedelta(hours=2, minutes=i + j), channel="网银转账", summary="转账",
                             requested_side="both", src_sha256="c" * 64, src_file="中国银行交易明细.csv",
                             src_row=300 + 2 * i + j))
    with ws.transaction("web.pages.test") as tx:
        tx.write("transactions", pa.Table.from_pylist(rows, schema=TRANSACTIONS), mode="append")
    screen_accounts(ws)
    synth = generate_platform("pyramid", 300, 2000, seed=11, name=PLATFORM)
    files = export_platform(synth, scratch / "platform", formats=("csv",))
    # ingested beside (the base workspace's four-row member table has too few columns to append to),
    # then the platform tables replace it
    side = Workspace(scratch / "platform-ws")
    ingest_platform(side, files["csv"], PLATFORM)
    with ws.transaction("web.pages.platform") as tx:
        for name in side.tables():
            if name.startswith("platform_"):
                tx.write(name, side.read_arrow(name))
    analyze(ws, PLATFORM)
    con = ws.duck()
    try:
        agent = con.execute("SELECT member_id FROM agent_metrics WHERE platform = ? "
                            "ORDER BY downline_accounts DESC, member_id LIMIT 1", [PLATFORM]).fetchall()[0][0]
    finally:
        con.close()
    from chainbreaker.chains.people.analyze import analyze as analyze_travel
    from chainbreaker.chains.people.ingest import ingest_travel
    from chainbreaker.synth.travel import write_travel_files

    travel = write_travel_files(scratch / "province", 300, seed=11)
    ingest_travel(ws, [scratch / "province" / "travel"])
    analyze_travel(ws, travel.as_of)
    create_case(ws, CASE, "网络赌博平台案", supervision="省督", status="立案侦查", opened_on=dt.date(2025, 10, 2),
                unit="昆明市公安局", who="test")
    add_case_task(ws, CASE, "调取银行流水", who="test")
    return ws, str(agent)
