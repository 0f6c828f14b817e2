"""建议调单: counterparties of flagged accounts that were not requested, ranked with reasons."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from chainbreaker.chains.funds.screen import screen
from chainbreaker.chains.funds.suggest import suggest
from chainbreaker.core.errors import InputError

from .scenario import Book, accounts_table, transactions_table


@pytest.fixture(scope="module")
def partial(tmp_path_factory: pytest.TempPathFactory, book: Book):
    """Only some statements came back: cards, mules and staff; the rest are counterparties only."""
    from chainbreaker.core.workspace import Workspace

    requested = {a for a in book.roles if a.startswith(("CARD", "MULE", "EMP", "COMPANY", "SHOP"))}
    table = transactions_table(book, requested)
    accounts = accounts_table(book, requested)
    accounts = accounts.filter(pa.compute.is_in(accounts["account"], pa.array(sorted(requested))))
    ws = Workspace(tmp_path_factory.mktemp("suggest") / "ws")
    with ws.transaction("test") as tx:
        tx.write("transactions", table)
        tx.write("accounts", accounts)
    screen(ws)
    return ws, requested


def test_suggestions_are_unrequested_counterparties_of_flagged_accounts(partial) -> None:
    ws, requested = partial
    table = suggest(ws, limit=500)
    rows = table.to_pylist()
    assert rows, "expected suggestions"
    flagged = {r["account"] for r in ws.read_arrow("account_risk").to_pylist() if r["flagged"]}
    accounts = [r["account"] for r in rows]
    assert not set(accounts) & requested
    assert not set(accounts) & flagged
    assert "SETTLE" in flagged or "SETTLE" in accounts[:5]  # seen only through the mules' statements
    # Gamblers fed several collection cards: they are linked to many flagged accounts.
    gamblers = [r for r in rows if r["account"].startswith("G")]
    assert gamblers and max(g["n_flagged_linked"] for g in gamblers) >= 3
    keys = [(-r["n_flagged_linked"], -r["amount_total"]) for r in rows]
    assert keys == sorted(keys)
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    top = rows[0]
    assert "建议调单" in top["reason_zh"] and "not yet requested" in top["reason_en"]
    assert ws.read_arrow("funds_suggestions").num_rows == len(rows)


def test_limit_and_errors(partial, tmp_path: Path) -> None:
    from chainbreaker.core.workspace import Workspace

    ws, _ = partial
    assert suggest(ws, limit=3, write=False).num_rows == 3
    with pytest.raises(InputError):
        suggest(ws, limit=0)
    with pytest.raises(InputError):
        suggest(Workspace(tmp_path / "empty"))
