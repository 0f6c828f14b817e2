"""String arrays with rotation, the checksum arithmetic, and the normalisation of decoded JS."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainbreaker.chains.tech.decode import decode_text
from chainbreaker.chains.tech.jsnorm import (
    dot_member_access,
    fold_literals,
    inline_constants,
    literal_spans,
    normalise_js,
)
from chainbreaker.chains.tech.strarray import eval_arithmetic, js_parse_int, resolve_string_arrays
from support.obfuscate import hex_escape, pack, string_array_checksum, string_array_rotated

STRINGS = ["write", '<iframe src="http://vip.hg-8866.test/" width="0" height="0">', "</iframe>", "location", "replace",
           "http://m.bet-8866.test/", "澳门新葡京"]
CODE = "document[{0}]({1}+{2});window[{3}][{4}]({5});var t={6};"
PLAIN = ("document.write('<iframe src=\"http://vip.hg-8866.test/\" width=\"0\" height=\"0\"></iframe>');"
         "window.location.replace('http://m.bet-8866.test/');var t='澳门新葡京';")


@pytest.mark.parametrize("rotation", [0, 1, 6, 7, 0x2b, 0x1b3])
def test_rotated_table_with_counted_rotation(rotation: int) -> None:
    out = decode_text(string_array_rotated(STRINGS, CODE, rotation=rotation, seed=rotation))
    assert out.text.endswith(PLAIN) and "array_table" in out.layers and out.obfuscated


@pytest.mark.parametrize(("rotation", "offset", "encoding"), [(0, 0, ""), (5, 0x1b3, ""), (9, 0x9a, "base64"),
                                                              (3, 0x2fe, "base64"), (12, 0x10, "")])
def test_function_table_rotated_until_the_checksum_matches(rotation: int, offset: int, encoding: str) -> None:
    js = string_array_checksum(STRINGS, CODE, rotation=rotation, offset=offset, encoding=encoding, seed=rotation + 1)
    assert "hg-8866" not in js and "write" not in js  # hidden
    out = decode_text(js)
    assert out.text.endswith(PLAIN), out.text[-300:]


def test_wrong_rotation_is_not_guessed() -> None:
    js = string_array_checksum(STRINGS, CODE, rotation=5, seed=6)
    broken = js.replace("===", "!==", 1)  # a checksum we cannot match: the lookups are left as they are
    assert not decode_text(broken).text.endswith(PLAIN)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12), min_size=2,
                max_size=12, unique=True), st.integers(0, 500), st.integers(0, 3))
def test_any_table_round_trips(strings: list[str], rotation: int, seed: int) -> None:
    code = "".join(f"f({{{i}}});" for i in range(len(strings)))
    expected = "".join("f(" + _lit(s) + ");" for s in strings)
    out = decode_text(string_array_rotated(strings, code, rotation=rotation, seed=seed)).text
    assert out.endswith(expected) or _values(out[-len(expected) * 4:]) == strings


def _lit(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def _values(text: str) -> list[str]:
    from chainbreaker.chains.tech.strarray import js_string_value

    return [js_string_value(text[a + 1:b - 1]) for a, b in literal_spans(text)]


def test_js_parse_int_like_javascript() -> None:
    assert js_parse_int("1234567abcDEF") == 1234567
    assert js_parse_int("  -42px") == -42
    assert js_parse_int("0x1F") == 31
    assert math.isnan(js_parse_int("abc")) and math.isnan(js_parse_int(""))


def test_checksum_arithmetic_is_whitelisted() -> None:
    assert eval_arithmetic("_v0/0x1+-_v1/0x2*(_v2/0x3)", {"_v0": 10.0, "_v1": 4.0, "_v2": 9.0}) == 4.0
    assert eval_arithmetic("7 % -3", {}) == 1.0 and eval_arithmetic("-7 % 3", {}) == -1.0  # JS remainder sign
    assert eval_arithmetic("1/0", {}) == math.inf
    for hostile in ("__import__('os')", "(1).__class__", "[1,2]", "x", "1 if 1 else 2", "2**99999999", "'a'*3"):
        assert eval_arithmetic(hostile, {}) is None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789x+-*/%() _v.abc'")), max_size=60))
def test_checksum_arithmetic_never_raises(expr: str) -> None:
    value = eval_arithmetic(expr, {"_v0": 1.0})
    assert value is None or isinstance(value, float)


@pytest.mark.parametrize("spelling", [
    "document.write(H)", "document['write'](H)", 'document["write"](H)', "window.document['write'](H)",
    'window["document"]["write"](H)', "window['document'].writeln(H)", "self [ 'document' ] [ \"write\" ] (H)",
])
def test_every_spelling_of_a_sink_reads_alike(spelling: str) -> None:
    js = spelling.replace("H", "'<scr'+\"ipt src=\\\"http://x.evil.test/a.js\\\"></scr\"+'ipt>'")
    text = decode_text(js).text
    assert ".write" in text and "document.write" in text.replace("self.", "").replace("window.", "")
    assert "'<script src=\"http://x.evil.test/a.js\"></script>'" in text


def test_normalisation_pieces() -> None:
    assert dot_member_access("a['b'][\"c\"][0]['d-e']") == "a.b.c[0]['d-e']"
    assert dot_member_access("x = ['a', 'b']; f(['c'])") == "x = ['a', 'b']; f(['c'])"  # array literals stay
    assert fold_literals("'a' + \"b\" + 'c'.length + 'd'") == "'ab' + 'c'.length + 'd'"
    assert fold_literals("x = \"it's\" + '\\x41'") == "x = 'it\\'sA'"
    inlined = inline_constants("var h='evil.test';var s='<script src=//'+h+'/a.js>';h2=h;")
    assert "'<script src=//'+'evil.test'+'/a.js>'" in inlined
    assert inline_constants("var h='a';h='b';f(h)") == "var h='a';h='b';f(h)"  # assigned twice: not a constant
    assert normalise_js("var u='http://e.test/';window['location']['href']=u;") == \
        "var u='http://e.test/';window.location.href='http://e.test/';"


def test_literal_spans_skip_comments_and_regexes() -> None:
    js = "var r=/\\.(baidu|so)'x/ig; // it's a comment\n/* 'no' */ f('yes', \"too\")"
    assert _values(js) == ["yes", "too"]


def test_escaped_quote_inside_a_literal_keeps_the_literal_whole() -> None:
    out = decode_text('document.write("' + hex_escape('<script src="http://a.evil.test/x.js"></script>') + '");')
    assert out.text == "document.write('<script src=\"http://a.evil.test/x.js\"></script>');"


def test_eval_of_packed_code_in_a_string() -> None:
    inner = pack("document.write('<iframe src=\"http://f.evil.test/\">')")
    out = decode_text("eval(" + _lit(inner) + ")")
    assert "http://f.evil.test/" in out.text and {"eval_string", "packer"} <= set(out.layers)


def test_resolver_ignores_tables_it_cannot_read() -> None:
    assert resolve_string_arrays("var a = 1; f(a[0]);") is None
    assert resolve_string_arrays("var q=['only'];") is None


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("var_0x[]'\"(){},;=+-!.push shift parseInt while function 0123")),
               max_size=300))
def test_resolver_and_normaliser_never_raise(text: str) -> None:
    resolve_string_arrays(text)
    assert isinstance(normalise_js(text), str)
