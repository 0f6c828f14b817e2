"""Chinese personal names as entity resolution compares them (姓名比对).

Characters are NFKC-normalised and stripped of spaces and middle dots; pinyin comes from
``pypinyin`` without tones, so homophones (王小明/王晓明) and traditional characters (王曉明) give
the same pinyin. The surname is split off (two-character surnames from a short list), and the given
name's syllables are also kept sorted, which catches swapped given names (王明小/王小明).
Pinyin is computed once per distinct character, not per record.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import pyarrow as pa

# Two-character surnames (复姓) common enough to matter; others are read as one character.
COMPOUND_SURNAMES = frozenset(
    ["欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "轩辕", "令狐", "钟离", "端木", "独孤", "南宫", "西门", "歐陽", "司馬", "諸葛", "東方", "長孫", "夏侯", "鍾離", "獨孤"]
)
_STRIP = re.compile(r"[\s·•．.・\u00b7\u2022\u30fb\u200b-\u200d\ufeff]+")
_HAN = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]+$")


def clean_name(text: object) -> str | None:
    """The name as compared: NFKC, no spaces or dots; ``None`` when nothing is left."""
    if text is None:
        return None
    s = _STRIP.sub("", unicodedata.normalize("NFKC", str(text))).strip()
    return s or None


@lru_cache(maxsize=65536)
def char_pinyin(ch: str) -> str:
    """Toneless pinyin of one character (the most common reading); the character lower-cased otherwise."""
    from pypinyin import Style, lazy_pinyin

    out = lazy_pinyin(ch, style=Style.NORMAL, errors="default")
    return (out[0] if out else ch).lower().replace("ü", "v")


def split_name(name: str) -> tuple[str, str]:
    """(surname, given name) of a Chinese name; a non-Han name is all surname."""
    if not _HAN.match(name):
        return name, ""
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


def name_features(name: str | None) -> tuple[str | None, str | None, str | None, str | None]:
    """(pinyin of the whole name, surname pinyin, given-name pinyin, given-name syllables sorted)."""
    if not name:
        return None, None, None, None
    if not _HAN.match(name):
        latin = re.sub(r"[^a-z]", "", name.lower()) or None
        return latin, latin, None, None
    sur, given = split_name(name)
    sur_py = "".join(char_pinyin(c) for c in sur)
    given_syl = [char_pinyin(c) for c in given]
    return sur_py + "".join(given_syl), sur_py, "".join(given_syl) or None, " ".join(sorted(given_syl)) or None


def name_table(names: Sequence[str | None]) -> pa.Table:
    """Features of distinct names as an Arrow table to join on ``name``."""
    rows = [(n, *name_features(n)) for n in names if n]
    cols: list[Sequence[str | None]] = [list(c) for c in zip(*rows, strict=True)] if rows else [[]] * 5
    return pa.table({
        "name": pa.array(cols[0], pa.string()),
        "name_py": pa.array(cols[1], pa.string()),
        "surname_py": pa.array(cols[2], pa.string()),
        "given_py": pa.array(cols[3], pa.string()),
        "given_py_sorted": pa.array(cols[4], pa.string()),
    })
