"""Normalisation of decoded JavaScript (脚本规范化) so one pattern reads every spelling.

After the decoding layers have turned hidden strings into literals, kits still reach the same
sinks in many spellings: ``document['write']``, ``window["document"]["write"]``, ``'<scr'+"ipt"``,
``var u='http://x/'; location.href=u``. Rather than one regular expression per spelling, the
decoded text is rewritten into one canonical form:

* adjacent string literals joined by ``+`` are folded into one (single-quoted) literal;
* a variable assigned a string literal exactly once is replaced by the literal where it is read;
* member access with a literal identifier key becomes dot access (``a["b"]`` -> ``a.b``).

Plain string rewriting, bounded in size; no code is executed.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from functools import lru_cache

from chainbreaker.chains.tech.strarray import js_string_value, quote

MAX_TEXT = 2_000_000
MAX_CONSTANTS = 50
MAX_INLINE_TEXT = 200_000  # constant inlining is for kit-sized scripts, not bundled libraries
_ID = r"[A-Za-z_$][\w$]*"
_REGEX_BEFORE = set("(,=:[!&|?{};+-*%<>~^")
_KEYWORD_BEFORE = re.compile(r"(?<![\w$])(?:return|typeof|case|in|of|else|void|delete|new|throw)\s*$")


def literal_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every string literal (quotes included) outside comments and regex literals.
    The list is shared with a cache: do not modify it."""
    return scan_literals(text)[0]


_TOKEN = re.compile(r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`|//[^\n]*|/\*.*?(?:\*/|\Z)|[^'"`/]+|/""",
                    re.S)
_REGEX_LIT = re.compile(r"/(?![*/])(?:[^/\\\n\[]|\\.|\[(?:[^\]\\\n]|\\.)*\])+/[gimsuyd]*")
_LAST_SIGNIFICANT = re.compile(r"(\S)\s*\Z")


@lru_cache(maxsize=8)
def scan_literals(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Spans of string literals and of regex literals (delimiters and flags included).

    Template literals count only when they hold no ``${`` substitution. Heuristic like every
    tokenizer without a parser: a ``/`` after an operator, an opening bracket or a keyword such as
    ``return`` starts a regex; after a name, a number or a closing bracket it divides.
    """
    spans: list[tuple[int, int]] = []
    regexes: list[tuple[int, int]] = []
    n = min(len(text), MAX_TEXT)
    pos = 0
    prev = ""  # last significant character before ``pos`` outside strings and comments
    while pos < n:
        m = _TOKEN.match(text, pos, n)
        if m is None:  # an unterminated quote: skip the quote character
            pos += 1
            continue
        tok = m.group(0)
        first = tok[0]
        if first in "'\"`":
            if first != "`" or "${" not in tok:
                spans.append((m.start(), m.end()))
            prev = first
        elif tok.startswith(("//", "/*")):
            pass
        elif tok == "/":
            rx = None
            if prev == "" or prev in _REGEX_BEFORE or _KEYWORD_BEFORE.search(text[max(0, pos - 9):pos]):
                rx = _REGEX_LIT.match(text, pos, n)
            if rx is not None:
                regexes.append((rx.start(), rx.end()))
                prev = "/"
                pos = rx.end()
                continue
            prev = "/"
        else:
            last = _LAST_SIGNIFICANT.search(tok)
            if last:
                prev = last.group(1)
        pos = m.end()
    return spans, regexes


def _value(text: str, span: tuple[int, int]) -> str:
    return js_string_value(text[span[0] + 1:span[1] - 1])


def fold_literals(text: str) -> str:
    """``'<scr' + "ipt src=" + '...'`` -> one literal (not when a member access follows the last)."""
    spans = literal_spans(text)
    if len(spans) < 2:
        return text
    out: list[str] = []
    pos = 0
    i = 0
    while i < len(spans):
        j = i
        while j + 1 < len(spans) and re.fullmatch(r"\s*\+\s*", text[spans[j][1]:spans[j + 1][0]]) \
                and not re.match(r"\s*[.\[]", text[spans[j + 1][1]:spans[j + 1][1] + 20]):
            j += 1
        if j > i:
            out.append(text[pos:spans[i][0]])
            out.append(quote("".join(_value(text, spans[k]) for k in range(i, j + 1))))
            pos = spans[j][1]
        i = j + 1
    out.append(text[pos:])
    return "".join(out)


_CONST = re.compile(r"(?:var|let|const)\s+(" + _ID + r")\s*=\s*('(?:[^'\\\n]|\\.){0,500}'|\"(?:[^\"\\\n]|\\.){0,500}\")"
                    r"\s*(?=[;,\n])")


_ASSIGNED = re.compile(r"(?<![\w$.])([A-Za-z_$][\w$]*)\s*(?:[-+*/|&]?=(?![=>])|\+\+|--)")


def inline_constants(text: str) -> str:
    """Replace reads of a variable assigned one string literal exactly once by that literal."""
    if len(text) > MAX_INLINE_TEXT:
        return text
    decls = list(_CONST.finditer(text))[:MAX_CONSTANTS]
    if not decls:
        return text
    assigned = Counter(m.group(1) for m in _ASSIGNED.finditer(text))
    values = {m.group(1): (m.start(1), quote(js_string_value(m.group(2)[1:-1]))) for m in decls
              if assigned[m.group(1)] == 1}
    if not values:
        return text
    inside = literal_spans(text)
    starts = [s for s, _ in inside]
    use = re.compile(r"(?<![\w$.])(" + "|".join(map(re.escape, sorted(values, key=len, reverse=True)))
                     + r")(?![\w$])(?!\s*(?:[-+*/|&]?=(?![=>])|:|\(|\+\+|--))")
    out: list[str] = []
    pos = 0
    for u in use.finditer(text):
        decl_at, literal = values[u.group(1)]
        if u.start() == decl_at:
            continue
        k = bisect.bisect_right(starts, u.start()) - 1
        if k >= 0 and inside[k][0] < u.start() < inside[k][1]:
            continue
        if re.search(r"(?:var|let|const|function|\.)\s*$", text[max(0, u.start() - 10):u.start()]):
            continue
        out.append(text[pos:u.start()])
        out.append(literal)
        pos = u.end()
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


_MEMBER = re.compile(r"(\s*)\[\s*(?:'(" + _ID + r")'|\"(" + _ID + r")\")\s*\]")
_OBJECT_END = re.compile(r"[\w$)\]]")


def dot_member_access(text: str) -> str:
    """``window["document"]['write']`` -> ``window.document.write`` (array literals stay)."""
    if "[" not in text:
        return text

    def repl(m: re.Match[str]) -> str:
        if m.start() and _OBJECT_END.match(text, m.start() - 1):
            return "." + (m.group(2) or m.group(3))
        return m.group(0)

    return _MEMBER.sub(repl, text)


def normalise_js(text: str) -> str:
    """Fold literals, inline single-assignment string constants, then dot member access."""
    if len(text) > MAX_TEXT:
        return text
    folded = fold_literals(text)
    inlined = inline_constants(folded)
    return dot_member_access(fold_literals(inlined) if inlined is not folded else folded)


__all__ = ["dot_member_access", "fold_literals", "inline_constants", "literal_spans", "normalise_js", "scan_literals"]
