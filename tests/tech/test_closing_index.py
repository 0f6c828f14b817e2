"""The one string-aware bracket matcher behind eval(...) unpacking and string-array function bodies."""

from chainbreaker.chains.tech.strarray import closing_index


def test_brackets_inside_strings_do_not_count() -> None:
    text = "eval(f(')', \"(\\\")\") + g('a)b')) ; rest"
    assert text[:closing_index(text, 0, "(", ")", None)] == "eval(f(')', \"(\\\")\") + g('a)b'))"
    body = "function _0x1(){var a='}';return {x:\"{\"};} tail"
    assert body[:closing_index(body, body.index("{"))].endswith("};}")


def test_unclosed_and_bounded() -> None:
    assert closing_index("eval(a(b)", 0, "(", ")", None) == -1
    assert closing_index("{" + "x" * 100 + "}", 0, limit=50) == -1
