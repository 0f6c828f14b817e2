"""Which text encoding a file analysts were handed is in (编码识别).

Shared by every chain's readers (CSV/TXT exports, SQL dumps). Seized platforms run from Taiwan or
Macau export Big5; SQL Server tools save scripts as UTF-16; mainland banks and platforms use
GB18030/GBK. Decoding Big5 or UTF-16 as GB18030 does not fail: it silently yields gibberish, so
"it decodes" is not enough. The rules, in order:

1. a byte-order mark (UTF-8, UTF-16 LE/BE);
2. UTF-16 without a BOM, told by the zero bytes of ASCII characters (digits, commas, line ends)
   falling on odd (LE) or even (BE) positions, and the text decoding cleanly;
3. strict UTF-8 (a multi-byte character cut at the end of the sample is not evidence against it);
   then *mostly* UTF-8: a file damaged in a few places (a truncated copy, a bad sector, one row
   pasted from a GBK tool) is still UTF-8: its Chinese characters decode as UTF-8 and the invalid
   sequences are few. It is read as UTF-8 with replacement characters, and the damaged rows are
   flagged (quarantined as ``bad_bytes``) instead of the whole file turning into GB18030 mojibake;
4. GB18030 only if it decodes *and* looks right: most non-ASCII characters are common simplified
   characters (GB2312 level 1, 一级汉字) or CJK punctuation;
5. Big5 (cp950, then Big5-HKSCS) if it decodes and looks right the same way (Big5 常用字);
6. ``charset-normalizer`` as the fallback;
7. GB18030 with replacement characters (the rows are then flagged as holding bad bytes).

Very short samples (a handful of Chinese characters) can be ambiguous between GB18030 and Big5;
GB18030 wins a tie because mainland data are the common case.
"""

from __future__ import annotations

import codecs
import functools
import re
import unicodedata

BIG5_CODECS = ("cp950", "big5hkscs")
UTF16_NO_BOM = ("utf-16-le", "utf-16-be")
LOOKS_RIGHT = 0.7  # mean weight of the non-ASCII characters a decoding must reach


def sniff_encoding(sample: bytes) -> str:
    """The Python codec name for ``sample`` (the first bytes of a file); see the module rules."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    wide = _utf16_without_bom(sample)
    if wide:
        return wide
    if _decode(sample, "utf-8") is not None or mostly_utf8(sample):
        return "utf-8"
    gb = _decode(sample, "gb18030")
    gb_score = _score(gb, "gb") if gb is not None else 0.0
    if gb_score >= LOOKS_RIGHT:
        return "gb18030"
    for name in BIG5_CODECS:
        text = _decode(sample, name)
        if text is not None and _score(text, "big5") >= LOOKS_RIGHT:
            return name
    guess = _charset_normalizer(sample)
    if guess:
        return guess
    return "gb18030"


MOSTLY_UTF8_MIN_CJK = 8  # CJK characters a damaged sample must still decode to
MOSTLY_UTF8_RATIO = 20  # ...for each invalid sequence


def mostly_utf8(sample: bytes) -> bool:
    """UTF-8 with a few invalid sequences: many CJK characters decode, few sequences do not.

    GBK/GB18030 text decoded as UTF-8 gives about one invalid sequence per character and few CJK
    characters (a GBK pair may form a valid 2-byte UTF-8 sequence, which is Latin or Cyrillic, not
    CJK), so it never passes."""
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(sample, final=False)
    bad = text.count("\ufffd")
    if not bad or bad * MOSTLY_UTF8_RATIO > len(text):
        return False  # (the CJK characters are fewer than the text's characters: no need to count them)
    cjk = len(_CJK.findall(text))
    return cjk >= MOSTLY_UTF8_MIN_CJK and bad * MOSTLY_UTF8_RATIO <= cjk


def is_utf16(encoding: str) -> bool:
    return encoding.lower().replace("_", "-").startswith("utf-16")


def _decode(sample: bytes, encoding: str) -> str | None:
    """The sample decoded strictly, a sequence cut by the sample's end tolerated; None on bad bytes."""
    try:
        return codecs.getincrementaldecoder(encoding)(errors="strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return None


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 LE or BE when the sample holds zero bytes and one byte order gives clean text.

    ASCII characters put their zero byte on odd (LE) or even (BE) positions, but so do CJK
    characters such as 一 (U+4E00): both orders are decoded and the one without control characters
    and with the more plausible characters wins."""
    n = len(sample) - len(sample) % 2
    if n < 4 or b"\x00" not in sample:
        return None
    candidates = []
    for encoding in UTF16_NO_BOM:
        text = _decode(sample[:n], encoding)
        if text is None or _control_share(text) > 0.01:
            continue
        candidates.append((_control_share(text), -_score(text, "any"), encoding))
    return min(candidates)[2] if candidates else None


# Counted with regular expressions, not a Python loop per character: a sample is up to a MiB.
_CJK = re.compile("[\u3000-\u9fff\uff00-\uffef]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _control_share(text: str) -> float:
    return len(_CONTROL.findall(text)) / max(1, len(text))


def _score(text: str, family: str) -> float:
    """Mean weight of the non-ASCII characters: 1 for common characters and CJK punctuation,
    0.5 for the less common level, 0 for anything a Chinese export would not hold (kana, box
    drawing, private use, Hangul, controls...)."""
    if _control_share(text) > 0.01:
        return 0.0
    common, rarer = _levels(family)
    counts = _non_ascii_counts(text)  # each distinct character weighed once
    total = sum(counts.values())
    weight = 0.0
    for c, n in counts.items():
        if c in common or _is_punctuation(c):
            weight += n
        elif c in rarer:
            weight += 0.5 * n
    return weight / total if total else 1.0


def _non_ascii_counts(text: str) -> dict[str, int]:
    """How often each non-ASCII character occurs in ``text`` (code points counted with numpy:
    a MiB of Chinese text is ~300k characters, a regular expression list of them cost ~0.1 s)."""
    import numpy as np

    points = np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype="<u4")
    points = points[points > 0x7F]
    if not len(points):
        return {}
    values, counts = np.unique(points, return_counts=True)
    return {chr(v): int(n) for v, n in zip(values.tolist(), counts.tolist(), strict=True)}


def _is_punctuation(c: str) -> bool:
    o = ord(c)
    return (0x3000 <= o <= 0x303F or 0xFF01 <= o <= 0xFF5E or 0x2010 <= o <= 0x2027 or o in (0xB7, 0xD7, 0xF7, 0xA5)
            or (0x2160 <= o <= 0x216B) or unicodedata.category(c) == "Zs")


@functools.cache
def _levels(family: str) -> tuple[frozenset[str], frozenset[str]]:
    """(common, less common) characters: GB2312 level 1 / level 2, or Big5 常用字 / 次常用字."""
    if family == "any":
        gb, big5 = _levels("gb"), _levels("big5")
        return gb[0] | big5[0], gb[1] | big5[1]
    if family == "gb":
        return _table("gb2312", range(0xB0, 0xD8), range(0xA1, 0xFF)), _table("gb2312", range(0xD8, 0xF8), range(0xA1, 0xFF))
    # Big5 常用字 A440-C67E (C6A1-C8FE hold kana of the ETEN extension), 次常用字 C940-F9D5.
    return _table("cp950", range(0xA4, 0xC7), last=0xC67E), _table("cp950", range(0xC9, 0xFA), last=0xF9D5)


def _table(encoding: str, leads: range, trails: range | None = None, last: int = 0xFFFF) -> frozenset[str]:
    out = set()
    for lead in leads:
        for trail in trails or [*range(0x40, 0x7F), *range(0xA1, 0xFF)]:
            if (lead << 8 | trail) > last:
                continue
            try:
                out.add(bytes((lead, trail)).decode(encoding))
            except UnicodeDecodeError:
                continue
    return frozenset(out)


def _charset_normalizer(sample: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(sample[: 1 << 16]).best()
    if best is None:
        return None
    name = best.encoding
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    return name if _decode(sample, name) is not None else None
