"""Every value a CLI module hands to rich goes through ``safe()`` (or a masking helper built on it).

Rich reads every printed string as markup: a file name, header or page title holding ``[/bold]`` ends
the command with a MarkupError, ``[red]`` restyles it, and ESC reaches the terminal. This test reads
the source of every module that prints through rich and fails on any interpolated value, table cell,
title or progress description that is not wrapped, so that a new command cannot forget it.
Numbers formatted with a format spec (``{n:,}``) are fine. A line may opt out with ``# rich-safe``
and a reason (for values that are never data).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "chainbreaker"
# Wrappers that return text ready for rich; ``t`` picks a language and its arguments are checked.
SAFE_CALLS = {"safe", "shown", "mask", "len", "int", "round", "float", "abs", "sum", "min", "max"}
CONSOLE_METHODS = {"print", "log", "status", "rule"}


def _modules() -> list[Path]:
    """Every module that takes a rich console from ``cli.context`` (or builds a rich Table/Progress)."""
    out = []
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text("utf-8")
        if path.parent.name == "cli" or re.search(r"cli\.context import [^\n]*console|from rich\.(table|progress)", text):
            out.append(path)
    return out


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        f = node.func
        return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
    return None


def _assignments(func: ast.AST) -> dict[str, list[ast.AST]]:
    """Every value assigned to each plain name in a function (``a = ...``, ``a, b = x, y``)."""
    out: dict[str, list[ast.AST]] = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out.setdefault(target.id, []).append(node.value)
                elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    for tn, tv in zip(target.elts, node.value.elts, strict=False):
                        if isinstance(tn, ast.Name):
                            out.setdefault(tn.id, []).append(tv)
                elif isinstance(target, ast.Tuple):
                    for tn in target.elts:
                        if isinstance(tn, ast.Name):
                            out.setdefault(tn.id, []).append(target)  # unpacked from data: not known safe
        elif isinstance(node, ast.For | ast.comprehension):
            for tn in ast.walk(node.target):
                if isinstance(tn, ast.Name):
                    out.setdefault(tn.id, []).append(node.target)
    return out


def _problems(node: ast.AST, names: dict[str, list[ast.AST]] | None = None) -> list[ast.AST]:
    """Sub-expressions of a value handed to rich that may carry unescaped data. A name is fine when
    every value assigned to it in the function is (``x = safe(...)``)."""
    names = names or {}
    if isinstance(node, ast.Constant):
        return []
    if isinstance(node, ast.Name) and names.get(node.id):
        values = names[node.id]
        if all(not isinstance(v, ast.Tuple | ast.Name) or v is not node for v in values) and \
                all(not _problems(v, {k: w for k, w in names.items() if k != node.id}) for v in values):
            return []
        return [node]
    if isinstance(node, ast.JoinedStr):
        bad: list[ast.AST] = []
        for part in node.values:
            if isinstance(part, ast.FormattedValue) and part.format_spec is None:
                bad += _problems(part.value, names)
        return bad
    if isinstance(node, ast.BinOp):
        return _problems(node.left, names) + _problems(node.right, names)
    if isinstance(node, ast.IfExp):
        return _problems(node.body, names) + _problems(node.orelse, names)
    name = _call_name(node)
    if name in SAFE_CALLS:
        return []
    if name == "t":
        assert isinstance(node, ast.Call)
        return [p for a in node.args for p in _problems(a, names)]
    return [node]


def _sinks(tree: ast.AST) -> list[ast.AST]:  # noqa: C901
    """Values passed to console.print/status/log, Table(title=...), add_row, add_column, progress descriptions."""
    values: list[ast.AST] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        attr = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
        owner = ast.unparse(f.value) if isinstance(f, ast.Attribute) else ""
        if attr in CONSOLE_METHODS and "console" in owner:
            values += [a for a in node.args if not isinstance(a, ast.Name)]  # a Name is a renderable (Table)
        elif attr in ("add_row", "add_column", "add_task"):
            values += list(node.args[:1] if attr != "add_row" else node.args)
        elif attr == "Table":
            values += [k.value for k in node.keywords if k.arg in ("title", "caption")]
        if attr in ("add_task", "update", "add_row"):
            values += [k.value for k in node.keywords if k.arg == "description"]
    return values


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_data_printed_through_rich_is_escaped(path):
    source = path.read_text("utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    bad = []
    funcs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]
    for func in funcs:
        names = _assignments(func)
        for value in _sinks(func):
            for node in _problems(value, names):
                line = lines[node.lineno - 1]
                if "# rich-safe" not in line:
                    bad.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    bad = sorted(set(bad))
    assert not bad, "wrap these in safe() (chainbreaker.faces.cli.context):\n" + "\n".join(bad)


def test_the_checker_sees_the_modules_that_print():
    names = {p.name for p in _modules()}
    assert {"main.py", "context.py", "funds.py", "tech.py", "people.py", "promotion.py",
            "progress.py", "demo.py"} <= names


def test_the_checker_flags_what_it_should():
    source = (
        "def f(console, table, name, n):\n"
        "    console.print(f'{name}')\n"  # data: flagged
        "    console.print(f'{safe(name)} {n:,}')\n"  # fine
        "    table.add_row(name, safe(name))\n"  # first cell flagged
        "    label = safe(name)\n"
        "    console.print(t(f'{label}', f'{label}'))\n"  # fine: assigned from safe()
        "    other = name.upper()\n"
        "    console.print(f'{other}')\n"  # flagged
    )
    func = ast.parse(source).body[0]
    names = _assignments(func)
    flagged = sorted({node.lineno for value in _sinks(func) for node in _problems(value, names)})
    assert flagged == [2, 4, 8]
