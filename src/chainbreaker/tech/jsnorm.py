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

import re

from chainbreaker.tech.strarray import js_string_value, quote

MAX_TEXT = 2_000_000
MAX_CONSTANTS = 50
_ID = r"[A-Za-z_$][\w$]*"
_REGEX_BEFORE = set("(,=:[!&|?{};+-*%<>~^")
_KEYWORD_BEFORE = re.compile(r"(?<![\w$])(?:return|typeof|case|in|of|else|void|delete|new|throw)\s*$")


def literal_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every string literal (quotes included) outside comments and regex literals."""
    return scan_literals(text)[0]


def scan_literals(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Spans of string literals and of regex literals (delimiters and flags included).

    Template literals count only when they hold no ``${`` substitution. Heuristic like every
    tokenizer without a parser: a ``/`` after an operator or an opening bracket starts a regex.
    """
    spans: list[tuple[int, int]] = []
    regexes: list[tuple[int, int]] = []
    i = 0
    n = min(len(text), MAX_TEXT)
    prev = ""  # last significant character outside strings and comments
    while i < n:
        ch = text[i]
        if ch in "'\"`":
            j = i + 1
            while j < n and text[j] != ch:
                if text[j] == "\\":
                    j += 1
                elif text[j] == "\n" and ch != "`":
                    break
                j += 1
            if j < n and text[j] == ch:
                if ch != "`" or "${" not in text[i:j]:
                    spans.append((i, j + 1))
                i = j + 1
                prev = ch
                continue
            i = j
            continue
        if ch == "/" and i + 1 < n:
            nxt = text[i + 1]
            if nxt == "/":
                end = text.find("\n", i)
                i = n if end < 0 else end
                continue
            if nxt == "*":
                end = text.find("*/", i + 2)
                i = n if end < 0 else end + 2
                continue
            if prev == "" or prev in _REGEX_BEFORE or _KEYWORD_BEFORE.search(text[max(0, i - 9):i]):
                j = i + 1
                in_class = False
                while j < n and text[j] != "\n":
                    c = text[j]
                    if c == "\\":
                        j += 2
                        continue
                    if c == "[":
                        in_class = True
                    elif c == "]":
                        in_class = False
                    elif c == "/" and not in_class:
                        break
                    j += 1
                end = j + 1
                while end < n and text[end] in "gimsuyd":
                    end += 1
                if j < n and text[j] == "/":
                    regexes.append((i, end))
                i = end
                prev = "/"
                continue
        if not ch.isspace():
            prev = ch
        i += 1
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


def inline_constants(text: str) -> str:
    """Replace reads of a variable assigned one string literal exactly once by that literal."""
    decls = list(_CONST.finditer(text))[:MAX_CONSTANTS]
    if not decls:
        return text
    inside = literal_spans(text)
    starts = [s for s, _ in inside]

    def in_literal(pos: int) -> bool:
        import bisect

        k = bisect.bisect_right(starts, pos) - 1
        return k >= 0 and inside[k][0] < pos < inside[k][1]

    edits: list[tuple[int, int, str]] = []
    for m in decls:
        name = m.group(1)
        assigned = re.findall(r"(?<![\w$.])" + re.escape(name) + r"\s*(?:[-+*/|&]?=(?![=>])|\+\+|--)", text)
        if len(assigned) != 1:
            continue
        literal = quote(js_string_value(m.group(2)[1:-1]))
        use = re.compile(r"(?<![\w$.])" + re.escape(name) + r"(?![\w$])(?!\s*(?:[-+*/|&]?=(?![=>])|:|\(|\+\+|--))")
        for u in use.finditer(text):
            if u.start() == m.start(1) or in_literal(u.start()):
                continue
            if re.search(r"(?:var|let|const|function|\.)\s*$", text[max(0, u.start() - 10):u.start()]):
                continue
            edits.append((u.start(), u.end(), literal))
    if not edits:
        return text
    edits.sort()
    out: list[str] = []
    pos = 0
    for start, end, literal in edits:
        if start < pos:
            continue
        out.append(text[pos:start])
        out.append(literal)
        pos = end
    out.append(text[pos:])
    return "".join(out)


_MEMBER = re.compile(r"(?<=[\w$)\]])\s*\[\s*(?:'(" + _ID + r")'|\"(" + _ID + r")\")\s*\]")


def dot_member_access(text: str) -> str:
    """``window["document"]['write']`` -> ``window.document.write``."""
    return _MEMBER.sub(lambda m: "." + (m.group(1) or m.group(2)), text)


def normalise_js(text: str) -> str:
    """Fold literals, inline single-assignment string constants, then dot member access."""
    if len(text) > MAX_TEXT:
        return text
    return dot_member_access(fold_literals(inline_constants(fold_literals(text))))


__all__ = ["dot_member_access", "fold_literals", "inline_constants", "literal_spans", "normalise_js", "scan_literals"]
