"""A small, readable workspace for the web tests: two holders, four accounts, statement rows, findings,
and one web user per role (password ``PASSWORD``)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from chainbreaker.core.model.finding import FINDINGS_SCHEMA, Finding
from chainbreaker.core.model.schemas import ACCOUNTS, PERSONS, TRANSACTIONS
from chainbreaker.core.workspace import Workspace
from chainbreaker.intel.link import LINKS

PASSWORD = "correct horse battery staple"
ROLES = ("admin", "analyst", "investigator", "commander", "partner", "tip_reviewer")
ZHANG_ID = "11010519491231002X"
ZHANG_PHONE = "13812345678"
HUB = "6222021001112223334"  # the account with findings and most statement rows
OTHERS = ("6228480012345678901", "6217000010001234567", "6212260038123462780")
UTC = dt.UTC


def _row(schema: pa.Schema, **values: object) -> dict[str, object]:
    return {name: values.get(name) for name in schema.names}


def build_workspace(root: Path) -> Workspace:
    ws = Workspace(root)
    accounts = [_row(ACCOUNTS, account=HUB, card_no=HUB, holder_name="张伟", holder_id=ZHANG_ID, bank="中国工商银行",
                     requested=True, origin="bank", src_sha256="a" * 64, src_row=2)]
    accounts += [_row(ACCOUNTS, account=a, card_no=a, holder_name=n, holder_id=None, bank="中国农业银行", requested=False,
                      origin="bank", src_sha256="a" * 64, src_row=3 + i)
                 for i, (a, n) in enumerate(zip(OTHERS, ("李娜", "王芳", "刘洋"), strict=True))]
    persons = [_row(PERSONS, id_number=ZHANG_ID, name="张伟", phone=ZHANG_PHONE, address="北京市朝阳区某街道1号",
                    src_sha256="b" * 64, src_row=2)]
    start = dt.datetime(2024, 3, 1, 1, 0, tzinfo=UTC)
    txns = []
    for i in range(30):
        other = OTHERS[i % 3]
        inbound = i % 2 == 0
        txns.append(_row(TRANSACTIONS, txn_id=f"t{i:03d}", from_account=other if inbound else HUB,
                         to_account=HUB if inbound else other, from_name="张伟" if not inbound else "李娜",
                         amount=Decimal(f"{1000 + 37 * i}.50"), currency="CNY", ts=start + dt.timedelta(minutes=9 * i),
                         channel="网银转账", summary="转账", requested_side="both", src_sha256="a" * 64,
                         src_file="中国工商银行交易明细信息.csv", src_row=10 + i))
    findings = [Finding(run_id="r1", chain="funds", rule_id="fast_in_fast_out", subject_type="account", subject_key=HUB,
                        score=0.92, explanation_zh=f"账户 {HUB} 快进快出，持有人 {ZHANG_ID}。",
                        explanation_en=f"Account {HUB} passes money through quickly; holder {ZHANG_ID}.",
                        facts={"in_out_minutes": 9}, evidence=[{"table": "transactions", "file_sha256": "a" * 64, "row": 10}],
                        period_start=start, period_end=start + dt.timedelta(days=1)).as_row(),
                Finding(run_id="r1", chain="funds", rule_id="fan_in", subject_type="account", subject_key=OTHERS[0],
                        score=0.55, explanation_zh="多对一汇入。", explanation_en="Fan-in.").as_row()]
    members = [{"platform": "澳门金沙", "member_id": m, "username": f"u{m}", "real_name": n, "upline_id": up}
               for m, n, up in (("A1", "赵总代", None), ("A2", "钱代理", "A1"), ("A3", "孙代理", "A1"), ("M9", "李会员", "A2"))]
    with ws.transaction("web.test") as tx:
        tx.write("platform_members", pa.Table.from_pylist(members))
        tx.write("links", pa.Table.from_pylist([{
            "kind": "shows_card", "chain": "tech", "src_type": "site", "src_key": "bet-example.com", "dst_type": "account",
            "dst_key": HUB, "count": 2, "amount": None, "first_ts": start, "last_ts": start,
            "evidence": json.dumps([{"table": "tech_indicators", "row": 3}]), "run_id": "r1"}], schema=LINKS))
        tx.write("accounts", pa.Table.from_pylist(accounts, schema=ACCOUNTS))
        tx.write("persons", pa.Table.from_pylist(persons, schema=PERSONS))
        tx.write("transactions", pa.Table.from_pylist(txns, schema=TRANSACTIONS))
        tx.write("findings", pa.Table.from_pylist(findings, schema=FINDINGS_SCHEMA))
    from chainbreaker.ops.accounts import set_password

    for role in ROLES:
        set_password(ws, role, PASSWORD, role=role, partner="某银行" if role == "partner" else None, who="test")
    return ws


def audit_lines(ws: Workspace) -> list[dict[str, object]]:
    # split on \n only: a logged user name may hold U+2028 or U+0085, which splitlines() treats as breaks
    return [json.loads(line) for line in ws.audit_path.read_text("utf-8").split("\n") if line.strip()]
