"""Account numbers come from data: one that looks like rich markup is printed as text, not parsed
(an unmatched ``[/bold]`` used to end screen, trace and suggest in a traceback)."""

from __future__ import annotations

from typer.testing import CliRunner

from chainbreaker.core.workspace import Workspace
from chainbreaker.faces.cli.main import app

from .scenario import Book, build, write_lake

ODD = "[/bold]SETTLE[red]"


def _renamed(book: Book) -> Book:
    for row in book.rows:
        for side in ("from_account", "to_account"):
            if row[side] == "SETTLE":
                row[side] = ODD
    book.roles[ODD] = book.roles.pop("SETTLE")
    book.holder[ODD] = book.holder.pop("SETTLE")
    book.kind[ODD] = book.kind.pop("SETTLE")
    return book


def test_markup_like_account_numbers_are_printed_as_text(tmp_path) -> None:
    book = _renamed(build(seed=7))
    ws = Workspace(tmp_path / "ws")
    write_lake(ws, book, requested={a for a in book.roles if a.startswith(("CARD", "MULE"))})
    runner = CliRunner()
    base = ["--workspace", str(ws.root), "funds"]
    screen = runner.invoke(app, [*base, "screen", "--top", "40"])
    assert screen.exit_code == 0, screen.output
    assert ODD in screen.output
    trace = runner.invoke(app, [*base, "trace", ODD, "--hops", "2"])
    assert trace.exit_code == 0, trace.output
    assert ODD in trace.output
    suggest = runner.invoke(app, [*base, "suggest", "--limit", "200"])
    assert suggest.exit_code == 0, suggest.output
