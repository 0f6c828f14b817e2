"""建议调单 names each suggested account's bank and holder where anything says them: 账户信息 first,
人员信息 (by ID number) for the name, then the flagged accounts' statements (对手户名, 对手开户行)."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from chainbreaker.chains.funds.screen import screen
from chainbreaker.chains.funds.suggest import suggest
from chainbreaker.core.model.schemas import ACCOUNTS, PERSONS

from .scenario import Book, accounts_table, transactions_table


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory, book: Book):
    from chainbreaker.core.workspace import Workspace

    requested = {a for a in book.roles if a.startswith(("CARD", "MULE", "EMP", "COMPANY", "SHOP"))}
    accounts = accounts_table(book, requested)
    accounts = accounts.filter(pa.compute.is_in(accounts["account"], pa.array(sorted(requested))))
    # OTC (where the settlement card cashes out) was not requested, but a 账户信息 row came back for it: bank and ID number, no name
    extra = pa.Table.from_pylist([{
        "account": "OTC", "account_raw": "OTC", "card_no": None, "holder_name": None,
        "holder_id": "11010519491231002X", "bank": "中国民生银行", "branch": None, "open_date": None,
        "close_date": None, "status": "正常", "balance": None, "last_login_ip": None, "requested": False,
        "origin": "bank", "src_sha256": "a" * 64, "src_row": 2}], schema=ACCOUNTS)
    persons = pa.Table.from_pylist([{"id_number": "11010519491231002X", "name": "赵结算", "phone": None,
                                     "address": None, "workplace": None, "src_sha256": "b" * 64, "src_row": 2}],
                                   schema=PERSONS)
    w = Workspace(tmp_path_factory.mktemp("holders") / "ws")
    with w.transaction("test") as tx:
        tx.write("transactions", transactions_table(book, requested))
        tx.write("accounts", pa.concat_tables([accounts, extra]))
        tx.write("persons", persons)
    screen(w)
    return w


def test_each_suggestion_has_its_bank_and_holder(ws) -> None:
    rows = {r["account"]: r for r in suggest(ws, limit=500).to_pylist()}
    otc = rows["OTC"]
    assert (otc["bank"], otc["holder_name"], otc["holder_id"]) == ("中国民生银行", "赵结算", "11010519491231002X")
    assert "建议调单（开户行：中国民生银行，户名：赵结算）" in otc["reason_zh"]
    # a gambler is known only from the collection cards' statements: 对手户名 and 对手开户行
    gambler = next(r for a, r in rows.items() if a.startswith("G"))
    assert gambler["holder_name"] == f"H-{gambler['account']}" and gambler["bank"] in ("工商银行", "建设银行")
    assert gambler["holder_id"] is None
    assert all(r["bank"] for r in rows.values())
    stored = {r["account"]: r for r in ws.read_arrow("funds_suggestions").to_pylist()}
    assert stored["OTC"]["holder_name"] == "赵结算"


def test_the_cli_shows_bank_and_holder(ws) -> None:
    from typer.testing import CliRunner

    from chainbreaker.faces.cli.main import app

    out = CliRunner().invoke(app, ["--workspace", str(ws.root), "funds", "suggest", "--json", "--limit", "200"])
    assert out.exit_code == 0, out.output
    rows = {r["account"]: r for r in json.loads(out.output)}
    assert rows["OTC"]["bank"] == "中国民生银行" and rows["OTC"]["holder_name"] == "赵结算"
    table = CliRunner().invoke(app, ["--workspace", str(ws.root), "funds", "suggest", "--limit", "3"])
    assert table.exit_code == 0 and "开户行" in table.output and "户名" in table.output
