"""Obfuscators that reproduce the shapes injection kits use (written here for the tests).

Each function emits JavaScript in a publicly documented obfuscation shape: Dean Edwards' packer
(``eval(function(p,a,c,k,e,d){...})``), hex/unicode escapes, ``String.fromCharCode``,
``eval(atob(...))``, ``unescape`` with percent-encoding, and the javascript-obfuscator string
arrays — a rotated table read through an offset accessor (older releases) and a function-wrapped
table rotated until a ``parseInt`` checksum matches (newer releases), optionally base64-encoded.
The output is real JavaScript: the browser tests run it in Chromium. Deterministic for a seed.
"""

from __future__ import annotations

import base64
import random
import re

_A62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
OBF_B64_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/="


# ------------------------------------------------------------------------ simple encodings
def _u(code: int) -> str:
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # outside the BMP: a UTF-16 surrogate pair, as JavaScript strings hold it
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def hex_escape(text: str) -> str:
    """Every character as ``\\xNN`` (or ``\\uNNNN`` above 0xFF, surrogate pairs above 0xFFFF)."""
    return "".join(f"\\x{ord(c):02x}" if ord(c) < 256 else _u(ord(c)) for c in text)


def unicode_escape(text: str) -> str:
    return "".join(_u(ord(c)) for c in text)


def percent_encode(text: str) -> str:
    """Every byte of the UTF-8 text as ``%XX`` (for ``unescape``/``decodeURIComponent``)."""
    return "".join(f"%{b:02X}" for b in text.encode("utf-8"))


def char_codes(text: str) -> str:
    """``String.fromCharCode(60,115,...)`` building ``text``."""
    return "String.fromCharCode(" + ",".join(str(ord(c)) for c in text) + ")"


def js_literal(text: str, quote: str = "'") -> str:
    body = text.replace("\\", "\\\\").replace(quote, "\\" + quote).replace("\n", "\\n")
    return quote + body + quote


def entity_encode(text: str, hexa: bool = False) -> str:
    return "".join((f"&#x{ord(c):x};" if hexa else f"&#{ord(c)};") for c in text)


def eval_atob(code: str) -> str:
    """``eval(atob('...'))`` of ASCII code (non-ASCII characters escaped first)."""
    ascii_code = "".join(c if ord(c) < 128 else _u(ord(c)) for c in code)
    return f"eval(atob('{base64.b64encode(ascii_code.encode()).decode()}'));"


# ------------------------------------------------------------------------------- packer
def _base(n: int, radix: int) -> str:
    out = ""
    while True:
        out = _A62[n % radix] + out
        n //= radix
        if n == 0:
            return out


def pack(source: str, radix: int = 62) -> str:
    """Dean Edwards' packer format, base 36 or 62; the symbol table holds every word once."""
    source = source.replace("\n", " ")
    words = list(dict.fromkeys(re.findall(r"\b\w+\b", source)))
    index = {w: _base(i, radix) for i, w in enumerate(words)}
    payload = re.sub(r"\b\w+\b", lambda m: index[m.group(0)], source)
    payload = payload.replace("\\", "\\\\").replace("'", "\\'")
    if radix <= 36:
        enc = "e=function(c){return c.toString(a)};"
    else:
        enc = "e=function(c){return(c<a?'':e(parseInt(c/a)))+((c=c%a)>35?String.fromCharCode(c+29):c.toString(36))};"
    return ("eval(function(p,a,c,k,e,d){" + enc + "if(!''.replace(/^/,String)){while(c--){d[e(c)]=k[c]||e(c)}"
            "k=[function(e){return d[e]}];e=function(){return'\\\\w+'};c=1};while(c--){if(k[c]){p=p.replace("
            "new RegExp('\\\\b'+e(c)+'\\\\b','g'),k[c])}}return p}"
            f"('{payload}',{radix},{len(words)},'{'|'.join(words)}'.split('|'),0,{{}}))")


# ----------------------------------------------------------------------- string arrays
def _names(rng: random.Random, n: int) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        name = f"_0x{rng.randrange(0x100000, 0xFFFFFF):x}"
        if name not in out:
            out.append(name)
    return out


def _fill(code: str, strings: list[str], call: str) -> str:
    """Replace ``{i}`` placeholders in ``code`` by accessor calls (``call`` formats the index)."""
    return re.sub(r"\{(\d+)\}", lambda m: call.format(int(m.group(1))), code)


def string_array_rotated(strings: list[str], code: str, *, rotation: int = 0x13, seed: int = 1) -> str:
    """Older javascript-obfuscator shape: table, counted rotation IIFE, offset-0 accessor.

    ``code`` refers to ``strings[i]`` as ``{i}``; the table is stored rotated so that the
    start-up loop (``push(shift())`` ``rotation`` times) restores the order.
    """
    rng = random.Random(seed)
    arr, a, b, f, n, acc, i, k, v = _names(rng, 9)
    r = rotation % len(strings)
    stored = strings[len(strings) - r:] + strings[:len(strings) - r] if r else list(strings)
    table = ",".join("'" + hex_escape(s) + "'" for s in stored)
    head = (f"var {arr}=[{table}];(function({a},{b}){{var {f}=function({n}){{while(--{n}){{{a}['push']({a}['shift']());}}}};"
            f"{f}(++{b});}}({arr},0x{rotation:x}));var {acc}=function({i},{k}){{{i}={i}-0x0;var {v}={arr}[{i}];return {v};}};")
    return head + _fill(code, strings, acc + "('0x{0:x}')")


def string_array_checksum(strings: list[str], code: str, *, rotation: int = 5, offset: int = 0x1b3,
                          encoding: str = "", seed: int = 2) -> str:
    """Newer javascript-obfuscator shape: function-wrapped table, offset accessor (optionally
    base64 with the obfuscator's alphabet), rotated until a ``parseInt`` checksum matches.

    ``code`` refers to ``strings[i]`` as ``{i}``.
    """
    rng = random.Random(seed)
    getter, inner, acc, a1, a2, j1, j2, av, iife_a, iife_b, alias, arrv, sv, ev, use = _names(rng, 15)
    divisors = [1, 2, 3, 4, 5, 6]
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for _attempt in range(100):
        items = list(strings)
        fillers: list[int] = []
        for d in divisors:
            q = rng.randrange(1_000, 90_000)
            items.append(f"{d * q}{''.join(rng.choice(letters) for _ in range(rng.randrange(3, 7)))}")
            fillers.append(len(items) - 1)

        def value(arr: list[str], fillers: list[int] = fillers) -> float:
            t = [_parse_int(arr[p]) / d for p, d in zip(fillers, divisors, strict=True)]
            # the emitted expression, same operations in the same order as JavaScript evaluates them
            return t[0] + t[1] * t[2] + -t[3] + t[4] + -t[5] * 1000

        target = value(items)
        n = len(items)
        r = rotation % n
        stored = items[n - r:] + items[:n - r] if r else list(items)
        rotations = [value(stored[k:] + stored[:k]) for k in range(n)]
        if target > 0 and target == int(target) and rotations.index(target) == r:
            break
    else:  # pragma: no cover - the generator is deterministic and the seeds used converge
        raise ValueError("no checksum found for this seed")

    def enc(text: str) -> str:
        if encoding == "base64":
            return base64.b64encode(text.encode("utf-8")).decode().swapcase()
        return hex_escape(text)

    table = ",".join("'" + enc(x) + "'" for x in stored)
    calls = [f"parseInt({alias}(0x{p + offset:x}))/0x{d:x}" for p, d in zip(fillers, divisors, strict=True)]
    expr = f"{calls[0]}+{calls[1]}*({calls[2]})+-{calls[3]}+{calls[4]}+-{calls[5]}*0x3e8"
    decode = ""
    if encoding == "base64":
        decode = (f"var {ev}=function(s){{var t='{OBF_B64_ALPHABET}',bits=0,n=0,o='';for(var y=0;y<s.length;y++){{"
                  "var x=t.indexOf(s.charAt(y));if(x<0||x>63)continue;bits=((bits<<6)|x)&65535;n+=6;"
                  "if(n>=8){n-=8;o+='%'+('00'+((bits>>n)&255).toString(16)).slice(-2);}}return decodeURIComponent(o);};"
                  f"{sv}={ev}({sv});")
    head = (f"function {getter}(){{var {inner}=[{table}];{getter}=function(){{return {inner};}};return {getter}();}}"
            f"function {acc}({a1},{a2}){{var {av}={getter}();return {acc}=function({j1},{j2}){{{j1}={j1}-0x{offset:x};"
            f"var {sv}={av}[{j1}];{decode}return {sv};}},{acc}({a1},{a2});}}"
            f"(function({iife_a},{iife_b}){{var {alias}={acc},{arrv}={iife_a}();while(!![]){{try{{var {use}={expr};"
            f"if({use}==={iife_b})break;else {arrv}['push']({arrv}['shift']());}}catch(_e){{{arrv}['push']({arrv}['shift']());}}}}"
            f"}}({getter},0x{int(target):x}));")
    body = re.sub(r"\{(\d+)\}", lambda m: f"{alias}(0x{int(m.group(1)) + offset:x})", code)
    return head + f"var {alias}={acc};" + body


def _parse_int(text: str) -> float:
    m = re.match(r"\s*([+-]?)(\d+)", text)
    if m is None:
        return float("nan")
    value = int(m.group(2))
    return float(-value if m.group(1) == "-" else value)
