"""String-array obfuscators (字符串数组混淆) resolved statically, rotation included.

Obfuscators of the javascript-obfuscator family move every string literal of a script into one
array and replace each use by a lookup. Three shapes are resolved here, with no code executed:

* a plain table: ``var _0x5a1c=['write',...]; document[_0x5a1c[0x0]](...)``;
* a table rotated at start-up by a counted loop,
  ``(function(a,n){var f=function(n){while(--n){a['push'](a['shift']());}};f(++n);}(_0x5a1c,0x1b3))``,
  read through an accessor with an index offset, ``var _0x2c=function(i,k){i=i-0x0;...return _0x5a1c[i]}``;
* a table returned by a self-replacing function and rotated until a checksum of ``parseInt`` over
  some of its strings equals a target (``while(!![]){try{var s=parseInt(f(0x1b5))/0x1+...;
  if(s===0x5a3c1)break;else a['push'](a['shift']());}catch(e){...}}``); the checksum is evaluated
  with a whitelisted arithmetic evaluator for every rotation until it matches.

Accessors may base64-encode the strings (the obfuscator's alphabet, lower case first) and may be
aliased (``var _0x7f=_0x2c;``). RC4-encoded tables are not resolved (``--render`` still sees what
they load).
"""

from __future__ import annotations

import ast
import base64
import binascii
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

_LIT = r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\""
_ID = r"[A-Za-z_$][\w$]*"
_NUM = r"0x[0-9a-fA-F]+|\d+"
_ITEMS = r"\[(?P<items>\s*(?:(?:" + _LIT + r")\s*,?\s*)+)\]"
_ITEM = re.compile(_LIT)
_ARRAY_VAR = re.compile(r"(?:var|let|const)\s+(?P<name>" + _ID + r")\s*=\s*" + _ITEMS)
_ARRAY_FN = re.compile(r"function\s+(?P<name>" + _ID + r")\s*\(\s*\)\s*\{\s*(?:var|let|const)\s+(?P<inner>" + _ID
                       + r")\s*=\s*" + _ITEMS)
_FUNC_HEAD = re.compile(r"(?:function\s+(?P<a>" + _ID + r")|(?:var|let|const)\s+(?P<b>" + _ID
                        + r")\s*=\s*function)\s*\(\s*" + _ID + r"\s*(?:,\s*" + _ID + r"\s*)?\)\s*\{")
_OFFSET = re.compile(r"(" + _ID + r")\s*=\s*\1\s*-\s*(" + _NUM + r")\s*[;,]")
_CHECKSUM = re.compile(r"=\s*(?P<expr>[^;{}]*?parseInt[^;{}]*?)\s*;\s*if\s*\(\s*" + _ID + r"\s*===\s*" + _ID + r"\s*\)")
_B64_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/="
_OBF_NAME = re.compile(r"_0x[0-9a-fA-F]{3,}$")
MAX_ITEMS = 5000
MAX_ROTATIONS = 2000


_JS_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


_ESCAPE = re.compile(r"\\(?:u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})|x([0-9a-fA-F]{2})|"
                     r"u([0-9a-fA-F]{4})|u\{([0-9a-fA-F]{1,6})\}|(\n)|(.))", re.S)


def _unescape(m: re.Match[str]) -> str:
    high, low, hx, u4, ubrace, newline, other = m.groups()
    if high:  # a UTF-16 surrogate pair
        return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00))
    if hx or u4:
        return chr(int(hx or u4, 16))
    if ubrace:
        code = int(ubrace, 16)
        return chr(code) if code <= 0x10FFFF else m.group(0)
    if newline:  # line continuation
        return ""
    return _JS_SIMPLE.get(other, other)


def js_string_value(body: str) -> str:
    """Value of the body of a JavaScript string literal (without its quotes)."""
    if "\\" not in body:
        return body
    return _ESCAPE.sub(_unescape, body)


def js_int(text: str) -> int:
    """A JavaScript integer literal (``0x1b3``, ``12``, ``012`` read as decimal) from a lookup."""
    text = text.strip().strip("'\"")
    return int(text, 16) if text[:2].lower() == "0x" else int(text, 10)


def quote(value: str) -> str:
    """A single-quoted JavaScript literal (quotes, backslashes and newlines escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def js_parse_int(text: str) -> float:
    """JavaScript ``parseInt(text)`` (no radix): leading integer of the text, NaN when none."""
    m = re.match(r"\s*([+-]?)(0[xX][0-9a-fA-F]+|\d+)", text)
    if m is None:
        return math.nan
    digits = m.group(2)
    value = int(digits, 16) if digits[:2].lower() == "0x" else int(digits)
    return float(-value if m.group(1) == "-" else value)


def closing_index(text: str, start: int, opening: str = "{", closing: str = "}", limit: int | None = 20_000) -> int:
    """Index just past the ``closing`` that balances the first ``opening`` at or after ``start``
    (string-aware: brackets inside quoted strings do not count; bounded by ``limit`` characters, or
    the whole text for ``None``); -1 if there is none."""
    depth = 0
    quote_ch: str | None = None
    i = start
    end = len(text) if limit is None else min(len(text), start + limit)
    while i < end:
        ch = text[i]
        if quote_ch:
            if ch == "\\":
                i += 2
                continue
            if ch == quote_ch:
                quote_ch = None
        elif ch in "'\"":
            quote_ch = ch
        elif ch == opening:
            depth += 1
        elif ch == closing:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def block_end(text: str, open_brace: int, limit: int = 20_000) -> int:
    """Index just past the ``}`` matching the ``{`` at ``open_brace`` (string-aware, bounded); -1 if none."""
    return closing_index(text, open_brace, "{", "}", limit)


# ------------------------------------------------------------------ checksum arithmetic
_OPS: dict[type, Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: (a / b) if b else (math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1, b)),
    ast.Mod: lambda a, b: math.fmod(a, b) if b and not math.isinf(a) else math.nan,
}


def eval_arithmetic(expr: str, names: dict[str, float]) -> float | None:
    """Value of an arithmetic expression of numbers and ``names`` (+ - * / %, unary minus,
    parentheses) with JavaScript number semantics; None for anything else."""
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except (SyntaxError, ValueError):
        return None

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id in names:
            return names[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            value = ev(node.operand)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        raise ValueError(type(node).__name__)

    try:
        return ev(tree)
    except (ValueError, OverflowError, RecursionError):
        return None


# ------------------------------------------------------------------ tables
@dataclass
class _Accessor:
    name: str
    offset: int
    encoding: str  # "" | "base64" | "rc4"


def _decode_item(value: str, encoding: str) -> str | None:
    if not encoding:
        return value
    if encoding != "base64":
        return None
    try:
        raw = base64.b64decode(value.swapcase() + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _accessors(text: str, refs: tuple[str, ...], heads: list[tuple[int, re.Match[str]]]) -> list[_Accessor]:
    """Functions that read the table (by name or through its getter) with an index offset.

    ``heads`` are the function heads of the text by end position; a function counts when it uses
    the table within its first 400 characters (accessors read the table first)."""
    import bisect

    out: list[_Accessor] = []
    ends = [e for e, _ in heads]
    seen: set[int] = set()
    uses = re.compile(r"(?<![\w$])(?:" + "|".join(map(re.escape, refs)) + r")\s*[\[(]")
    for use in uses.finditer(text):
        k = bisect.bisect_right(ends, use.start()) - 1
        if k < 0 or k in seen or use.start() - ends[k] > 400:
            continue
        seen.add(k)
        m = heads[k][1]
        name = m.group("a") or m.group("b")
        if name in refs:
            continue
        end = block_end(text, m.end() - 1, limit=4000)
        if end < 0:
            continue
        body = text[m.end():end]
        off = _OFFSET.search(body)
        if off is None and not re.search(r"\[\s*" + _ID + r"\s*\]", body):
            continue
        encoding = ""
        if _B64_ALPHABET in body or _B64_ALPHABET in js_string_value(body):
            encoding = "rc4" if re.search(r"0x100|256", body) else "base64"
        out.append(_Accessor(name, js_int(off.group(2)) if off else 0, encoding))
        if len(out) >= 10:
            break
    return out


def _aliases(text: str, name: str) -> set[str]:
    """``name`` and the variables it is copied into (``var _0x7f=_0x2c;``), two levels deep."""
    names = {name}
    for _ in range(3):
        copied = re.compile(r"=\s*(?:" + "|".join(map(re.escape, sorted(names))) + r")\s*(?=[,;)])")
        more: set[str] = set()
        for m in copied.finditer(text):
            left = re.search(r"(?<![\w$.])(" + _ID + r")\s*$", text[max(0, m.start() - 80):m.start()])
            if left:
                more.add(left.group(1))
        more -= names
        if not more:
            break
        names |= more
    return names


def _rotation_call(text: str, name: str) -> tuple[str, int] | None:
    """(body, argument) of the rotating IIFE ``(function(a,b){...}(NAME, N))`` if there is one."""
    tail = re.compile(r"\}\s*\)?\s*\(\s*" + re.escape(name) + r"\s*,\s*(" + _NUM + r")\s*\)")
    for t in tail.finditer(text):
        start = text.rfind("(function", max(0, t.start() - 6000), t.start())
        if start < 0:
            continue
        body = text[start:t.start() + 1]
        if "push" in body and "shift" in body:
            return body, js_int(t.group(1))
    return None


def _counted_rotation(body: str, n: int) -> int:
    """Rotations done by ``while(--n){...}`` loops: ``f(++n)`` rotates n times, ``f(n)`` n-1 times."""
    if re.search(r"while\s*\(\s*" + _ID + r"\s*--\s*\)", body):
        return n
    return n if re.search(r"\(\s*\+\+\s*" + _ID + r"\s*\)", body) else max(n - 1, 0)


def _checksum_rotation(body: str, target: int, items: list[str], accessors: list[_Accessor],
                       alias_of: dict[str, _Accessor]) -> int | None:
    m = _CHECKSUM.search(body)
    if m is None:
        return None
    expr = m.group("expr")
    call = re.compile(r"parseInt\s*\(\s*(" + _ID + r")\s*\(\s*(" + _NUM + r"|'(?:0x[0-9a-fA-F]+|\d+)')\s*(?:,\s*(?:"
                      + _LIT + r"))?\s*\)\s*\)")
    slots: list[tuple[_Accessor, int]] = []

    def repl(mm: re.Match[str]) -> str:
        acc = alias_of.get(mm.group(1))
        if acc is None:
            raise KeyError(mm.group(1))
        slots.append((acc, js_int(mm.group(2)) - acc.offset))
        return f" _v{len(slots) - 1} "

    try:
        arith = call.sub(repl, expr)
    except KeyError:
        return None
    if not slots or not re.fullmatch(r"[\s\w+\-*/%().]*", arith):
        return None
    n = len(items)
    for k in range(min(n, MAX_ROTATIONS)):
        names: dict[str, float] = {}
        for i, (acc, idx) in enumerate(slots):
            if not 0 <= idx < n:
                return None
            value = _decode_item(items[(idx + k) % n], acc.encoding)
            names[f"_v{i}"] = math.nan if value is None else js_parse_int(value)
        if eval_arithmetic(arith, names) == target:
            return k
    return None


def resolve_string_arrays(text: str) -> str | None:
    """Replace lookups into literal string tables by the strings (rotations undone); None if none."""
    changed = False
    tables: list[tuple[str, tuple[str, ...], str]] = []
    for m in list(_ARRAY_VAR.finditer(text))[:20]:
        tables.append((m.group("name"), (m.group("name"),), m.group("items")))
    for m in list(_ARRAY_FN.finditer(text))[:20]:
        tables.append((m.group("name"), (m.group("name"), m.group("inner")), m.group("items")))
    heads: list[tuple[int, re.Match[str]]] | None = None
    for name, refs, raw_items in tables:
        items = [js_string_value(s[1:-1]) for s in _ITEM.findall(raw_items)][:MAX_ITEMS]
        if len(items) < 2:
            continue
        rotation = _rotation_call(text, name)
        obfuscator_like = rotation is not None or bool(_OBF_NAME.match(name))
        if not obfuscator_like and len(name) < 3:
            continue  # minified code reuses one-letter names in every scope: e[0] is not one table
        accessors: list[_Accessor] = []
        if obfuscator_like:  # an honest helper that indexes a literal array is not an accessor
            if heads is None:
                heads = [(m.end(), m) for m in _FUNC_HEAD.finditer(text)]
            accessors = _accessors(text, refs, heads)
        alias_of = {a: acc for acc in accessors for a in _aliases(text, acc.name)}
        shift = 0
        if rotation is not None:
            body, n = rotation
            if "parseInt" in body:
                found = _checksum_rotation(body, n, items, accessors, alias_of)
                if found is None:
                    continue  # a checksum we cannot evaluate: leave the table alone
                shift = found
            else:
                shift = _counted_rotation(body, n) % len(items)
        rotated = items[shift:] + items[:shift]
        new = _substitute(text, name, rotated, alias_of)
        if new != text:
            text = new
            changed = True
    return text if changed else None


def _substitute(text: str, name: str, items: list[str], alias_of: dict[str, _Accessor]) -> str:
    direct = re.compile(r"(?<![\w$.])" + re.escape(name) + r"\s*\[\s*(" + _NUM + r")\s*\]")

    def by_index(m: re.Match[str]) -> str:
        idx = js_int(m.group(1))
        return quote(items[idx]) if idx < len(items) else m.group(0)

    if re.search(re.escape(name) + r"\s*\[\s*\d", text):
        text = direct.sub(by_index, text)
    if not alias_of:
        return text
    calls = re.compile(r"(?<![\w$.])(" + "|".join(map(re.escape, sorted(alias_of, key=len, reverse=True)))
                       + r")\s*\(\s*(" + _NUM + r"|'(?:0x[0-9a-fA-F]+|\d+)'|\"(?:0x[0-9a-fA-F]+|\d+)\")\s*(?:,\s*(?:"
                       + _LIT + r")\s*)?\)")

    def by_call(m: re.Match[str]) -> str:
        acc = alias_of[m.group(1)]
        idx = js_int(m.group(2)) - acc.offset
        if not 0 <= idx < len(items):
            return m.group(0)
        value = _decode_item(items[idx], acc.encoding)
        return m.group(0) if value is None else quote(value)

    return calls.sub(by_call, text)


__all__ = ["block_end", "eval_arithmetic", "js_int", "js_parse_int", "js_string_value", "quote", "resolve_string_arrays"]
