"""Decoding of hidden text (解码): entities, escapes, percent-encoding, packers, array tables.

Injection kits hide their titles and loaders behind encodings so that keyword scanners reading
raw HTML see nothing. Everything here is plain string transformation: no JavaScript is ever
executed outside the browser sandbox of :mod:`chainbreaker.chains.tech.render`. Unknown or malformed
input is left as it is; every function is bounded in rounds and size.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from dataclasses import dataclass, field

from chainbreaker.chains.tech.jsnorm import literal_spans, normalise_js
from chainbreaker.chains.tech.strarray import closing_index, js_string_value, resolve_string_arrays
from chainbreaker.chains.tech.strarray import quote as _quote

MAX_ROUNDS = 8
MAX_INPUT = 2_000_000  # characters; longer input is decoded up to here only

# Layers that only obfuscators use (percent-encoding and entities have honest uses too).
OBFUSCATION_LAYERS = frozenset({"packer", "array_table", "js_escape", "char_codes", "base64", "eval_string"})


@dataclass
class Decoded:
    """Result of :func:`decode_text`: the decoded text, which layers were removed, new strings."""

    text: str
    layers: list[str] = field(default_factory=list)
    strings: list[str] = field(default_factory=list)

    @property
    def obfuscated(self) -> bool:
        return bool(OBFUSCATION_LAYERS.intersection(self.layers))


# ----------------------------------------------------------------------------------- entities
_ENTITY = re.compile(r"&(#\d{1,7};?|#[xX][0-9a-fA-F]{1,6};?|[A-Za-z][A-Za-z0-9]{1,31};)")


def decode_entities(text: str) -> str:
    """HTML character references, decimal (``&#36172;``), hex (``&#x8D4C;``) and named."""
    if "&" not in text:
        return text
    return html.unescape(text)


# -------------------------------------------------------------------------------- JS escapes
_JS_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})|\\u\{([0-9a-fA-F]{1,6})\}|\\u([0-9a-fA-F]{4})")
_SURROGATES = re.compile(r"\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})")


def _chr_safe(code: int) -> str:
    try:
        return chr(code)
    except (ValueError, OverflowError):
        return "\ufffd"


def decode_js_escapes(text: str) -> str:
    """``\\x3c``, ``\\u8d4c`` and ``\\u{1F3B2}`` escapes anywhere in the text."""
    if "\\x" not in text and "\\u" not in text:
        return text

    def repl(m: re.Match[str]) -> str:
        return _chr_safe(int(m.group(1) or m.group(2) or m.group(3), 16))

    def pair(m: re.Match[str]) -> str:
        return chr(0x10000 + ((int(m.group(1), 16) - 0xD800) << 10) + (int(m.group(2), 16) - 0xDC00))

    return _JS_ESCAPE.sub(repl, _SURROGATES.sub(pair, text))


# ----------------------------------------------------------------------------------- percent
_PCT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_PCT_U = re.compile(r"%u([0-9A-Fa-f]{4})")


def _bytes_to_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            return raw.decode("utf-8", "replace")


def decode_percent(text: str) -> str:
    """Runs of ``%XX`` (UTF-8, else GB18030) and JavaScript ``%uXXXX`` escapes."""
    if "%" not in text:
        return text
    text = _PCT_U.sub(lambda m: _chr_safe(int(m.group(1), 16)), text)
    return _PCT_RUN.sub(lambda m: _bytes_to_text(binascii.unhexlify(m.group(0).replace("%", ""))), text)


# ------------------------------------------------------------------------------- JS literals
_STR_LIT = r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\""


# ------------------------------------------------------------------------ Dean Edwards packer
_PACKER_START = re.compile(r"eval\s*\(\s*function\s*\(\s*p\s*,\s*a\s*,\s*c\s*,\s*k\s*,\s*e\s*,\s*[dr]\s*\)")
_PACKER_ARGS = re.compile(
    r"\}\s*\(\s*(?P<q>['\"])(?P<payload>.*)(?P=q)\s*,\s*(?P<radix>\d+|\[\])\s*,\s*(?P<count>\d+)\s*,"
    r"\s*(?P<q2>['\"])(?P<symtab>.*?)(?P=q2)\.split\(\s*['\"]\|['\"]\s*\)",
    re.DOTALL,
)
_ALPHA62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ALPHA95 = (" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
            "abcdefghijklmnopqrstuvwxyz{|}~")


def _unbase(word: str, radix: int) -> int:
    if radix <= 36:
        return int(word, radix)
    alphabet = _ALPHA62 if radix <= 62 else _ALPHA95
    value = 0
    for ch in word:
        pos = alphabet.find(ch)
        if pos < 0 or pos >= radix:
            raise ValueError(word)
        value = value * radix + pos
    return value


def _end_of_call(text: str, start: int) -> int:
    """Index just past the ``eval(...)`` call that starts at ``start`` (string-aware); the text's end if
    the call is not closed."""
    end = closing_index(text, start, "(", ")", limit=None)
    return len(text) if end < 0 else end


def unpack_packer(text: str) -> str | None:
    """Unpack every ``eval(function(p,a,c,k,e,d){...}(...))`` in ``text`` once; None if none."""
    m = _PACKER_START.search(text)
    if m is None:
        return None
    out: list[str] = []
    pos = 0
    changed = False
    while m is not None:
        end = _end_of_call(text, m.start())
        call = text[m.start():end]
        unpacked = _unpack_call(call)
        out.append(text[pos:m.start()])
        if unpacked is None:
            out.append(call)
        else:
            out.append(unpacked)
            changed = True
        pos = end
        m = _PACKER_START.search(text, pos)
    out.append(text[pos:])
    return "".join(out) if changed else None


def _unpack_call(call: str) -> str | None:
    args = _PACKER_ARGS.search(call)
    if args is None:
        return None
    payload = args.group("payload").replace("\\\\", "\\").replace("\\" + args.group("q"), args.group("q"))
    try:
        radix = 62 if args.group("radix") == "[]" else int(args.group("radix"))
        count = int(args.group("count"))
    except ValueError:
        return None
    symtab = args.group("symtab").split("|")
    if radix < 2 or radix > 95 or count != len(symtab):
        return None

    def lookup(m: re.Match[str]) -> str:
        word = m.group(0)
        try:
            idx = _unbase(word, radix)
        except ValueError:
            return word
        if 0 <= idx < len(symtab) and symtab[idx]:
            return symtab[idx]
        return word

    return re.sub(r"\b\w+\b", lookup, payload)


# --------------------------------------------------------------------- array-table obfuscator
_ITEM = re.compile(_STR_LIT)
_CONCAT = re.compile(r"'((?:[^'\\\n]|\\.)*)'\s*\+\s*'((?:[^'\\\n]|\\.)*)'")


def deobfuscate_array_table(text: str) -> str | None:
    """Replace lookups into literal string arrays (``_0x1f2e[0x3]``, accessor calls ``_0x2c('0x1')``,
    tables rotated at start-up) by the strings; see :mod:`chainbreaker.chains.tech.strarray`."""
    return resolve_string_arrays(text)  # literals are folded by the normalisation after each round


def fold_concatenation(text: str) -> str:
    """``'ab' + 'cd'`` -> ``'abcd'`` (bounded)."""
    for _ in range(50):
        new = _CONCAT.sub(lambda m: "'" + m.group(1) + m.group(2) + "'", text)
        if new == text:
            break
        text = new
    return text


# -------------------------------------------------------------- fromCharCode, atob, unescape
_CHAR_CODES = re.compile(r"String\.fromCharCode\(\s*((?:(?:0x[0-9a-fA-F]+|\d+)\s*,\s*)*(?:0x[0-9a-fA-F]+|\d+))\s*\)")
_ATOB = re.compile(r"atob\(\s*(['\"])([A-Za-z0-9+/=\s]{8,})\1\s*\)")
_UNESCAPE = re.compile(r"(?:unescape|decodeURIComponent|decodeURI)\(\s*(['\"])((?:[^'\"\\]|\\.)*)\1\s*\)")


def decode_char_codes(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        return _quote("".join(_chr_safe(int(x.strip(), 0)) for x in m.group(1).split(",")))

    return _CHAR_CODES.sub(repl, text)


def decode_atob(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        try:
            raw = base64.b64decode("".join(m.group(2).split()), validate=True)
        except (binascii.Error, ValueError):
            return m.group(0)
        value = _bytes_to_text(raw)
        if sum(ch.isprintable() or ch in "\n\t\r" for ch in value) < 0.9 * max(len(value), 1):
            return m.group(0)
        return _quote(value)

    return _ATOB.sub(repl, text)


def decode_unescape_calls(text: str) -> str:
    return _UNESCAPE.sub(lambda m: _quote(decode_percent(js_string_value(m.group(2)))), text)


_EVAL_STRING = re.compile(r"(?:eval|(?:new\s+)?Function)\s*\(\s*(" + _STR_LIT + r")\s*\)(?:\s*\(\s*\))?")
_IDENT_CHAR = re.compile(r"[\w$]")


def unwrap_eval_strings(text: str) -> str | None:
    """``eval('code')`` / ``Function('code')()`` of a literal -> the code itself (``eval(atob(...))``)."""
    if "eval" not in text and "Function" not in text:
        return None

    def repl(m: re.Match[str]) -> str:
        if m.start() and _IDENT_CHAR.match(text, m.start() - 1):  # myeval('x'), newFunction('x')
            return m.group(0)
        return js_string_value(m.group(1)[1:-1])

    new = _EVAL_STRING.sub(repl, text)
    return None if new == text else new


# ------------------------------------------------------------------------------------ driver
def _escape_layer(text: str) -> str | None:
    """Escapes only count as obfuscation when they hide letters, digits or CJK; minified libraries
    escape whitespace and control characters (``\x20``, ``\u00a0``, ``\u2028``) for honest reasons.

    Escapes inside a string literal are decoded by re-quoting the literal (an escaped ``\x22``
    must not end a double-quoted string); escapes elsewhere are decoded in place."""
    if "\\x" not in text and "\\u" not in text:
        return None
    out: list[str] = []
    pos = 0
    for start, end in literal_spans(text):
        body = text[start + 1:end - 1]
        if "\\x" in body or "\\u" in body:
            out.append(decode_js_escapes(text[pos:start]))
            out.append(_quote(js_string_value(body)))
            pos = end
    out.append(decode_js_escapes(text[pos:]))
    new = "".join(out)
    return None if new == text else new


def _escapes_hide_text(text: str) -> bool:
    for m in _JS_ESCAPE.finditer(text[:MAX_INPUT]):
        ch = _chr_safe(int(m.group(1) or m.group(2) or m.group(3), 16))
        if ch.isalnum() or ch in "<>/:.'\"=":
            return True
    return False


_STEPS = (
    ("packer", unpack_packer),
    ("array_table", deobfuscate_array_table),
    ("char_codes", lambda s: decode_char_codes(s) if "fromCharCode" in s else None),
    ("base64", lambda s: decode_atob(s) if "atob" in s else None),
    ("unescape", lambda s: decode_unescape_calls(s) if "scape" in s or "decodeURI" in s else None),
    ("eval_string", unwrap_eval_strings),
    ("js_escape", _escape_layer),
    ("percent", decode_percent),
    ("entities", decode_entities),
)


def decode_text(text: str, *, max_rounds: int = MAX_ROUNDS, max_len: int = MAX_INPUT) -> Decoded:
    """Remove encoding layers until nothing changes (at most ``max_rounds`` passes)."""
    text = text[:max_len]
    layers: list[str] = []
    before = set(_ITEM.findall(text))
    for _ in range(max_rounds):
        changed = False
        for name, step in _STEPS:
            hides = name == "js_escape" and _escapes_hide_text(text)
            new = step(text)
            if new is not None and new != text:
                text = new[: max_len * 4]
                layers.append(name if name != "js_escape" or hides else "js_escape_ws")
                changed = True
        # one spelling per sink for the next round and the detectors (not a layer: honest code has it too)
        normal = normalise_js(text)
        if normal != text:
            text = normal[: max_len * 4]
            changed = True
        if not changed:
            break
    strings = [js_string_value(s[1:-1]) for s in dict.fromkeys(_ITEM.findall(text)) if s not in before]
    return Decoded(text=text, layers=layers, strings=[s for s in strings if len(s) >= 4][:200])


__all__ = [
    "OBFUSCATION_LAYERS",
    "Decoded",
    "decode_atob",
    "decode_char_codes",
    "decode_entities",
    "decode_js_escapes",
    "decode_percent",
    "decode_text",
    "deobfuscate_array_table",
    "fold_concatenation",
    "js_string_value",
    "unpack_packer",
    "unwrap_eval_strings",
]
