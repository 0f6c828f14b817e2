"""The destination table (重点目的地表): high-risk countries and named border towns.

A dated YAML file analysts edit without code. The packaged default lives beside this module; a
file ``people_destinations.yaml`` in the workspace's ``config/`` folder replaces it for that
workspace. Every listed country and town carries a source and a date; a file without them is
refused with a :class:`ConfigError` naming the entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from chainbreaker.core.config import read_yaml
from chainbreaker.core.errors import ConfigError

DEFAULT_PATH = Path(__file__).with_name("destinations.yaml")
OVERRIDE_NAME = "people_destinations.yaml"
_NORM = re.compile(r"[\s()（）\[\]【】,，.·/\\\-_:：]+")


def _norm(text: str) -> str:
    return _NORM.sub("", text).lower()


@dataclass
class Town:
    name_zh: str
    aliases: list[str]
    source: str
    date: str


@dataclass
class Country:
    code: str
    name_zh: str
    aliases: list[str]
    listed: bool
    source: str | None = None
    date: str | None = None
    towns: list[Town] = field(default_factory=list)


@dataclass
class Match:
    code: str
    name_zh: str
    listed: bool
    town: str | None


@dataclass
class DestinationTable:
    """Loaded, validated destination table."""

    version: str
    path: Path
    sha256: str
    countries: list[Country]
    _aliases: dict[str, str] | None = None

    def listed_countries(self) -> list[Country]:
        return [c for c in self.countries if c.listed or c.towns]

    def match(self, raw: str | None) -> Match | None:
        """Map free text such as ``缅甸（小勐拉）``, ``Cambodia`` or ``KHM`` to a country and town."""
        if not raw:
            return None
        text = _norm(raw)
        if not text:
            return None
        for c in self.countries:  # a named town wins: it says more than the country
            for t in c.towns:
                if any(len(_norm(a)) >= 2 and _norm(a) in text for a in [t.name_zh, *t.aliases]):
                    return Match(c.code, c.name_zh, True, t.name_zh)
        for c in self.countries:
            if any(_norm(a) == text for a in [c.code, c.name_zh, *c.aliases]):
                return Match(c.code, c.name_zh, c.listed, None)
        best: tuple[int, Country] | None = None
        for c in self.countries:  # longest contained name (only names of 2+ CJK chars or 4+ letters)
            for a in [c.name_zh, *c.aliases]:
                na = _norm(a)
                if (len(na) >= 4 or (len(na) >= 2 and not na.isascii())) and na in text and (
                        best is None or len(na) > best[0]):
                    best = (len(na), c)
        if best:
            return Match(best[1].code, best[1].name_zh, best[1].listed, None)
        return None

    def lookup_table(self, raw_values: list[str | None]) -> pa.Table:
        """One row per distinct raw text: raw, code, name_zh, listed, town (for SQL joins)."""
        rows = []
        for raw in sorted({r for r in raw_values if r is not None}):
            m = self.match(raw)
            rows.append({"raw": raw, "code": m.code if m else raw.strip().upper(),
                         "name_zh": m.name_zh if m else raw, "listed": bool(m and m.listed),
                         "town": m.town if m else None})
        return pa.Table.from_pylist(rows, schema=pa.schema([("raw", pa.string()), ("code", pa.string()),
                                                            ("name_zh", pa.string()), ("listed", pa.bool_()),
                                                            ("town", pa.string())]))

    def code_for(self, text: str | None) -> str | None:
        """Country code for a nationality or country name (the text upper-cased when unknown)."""
        if not text:
            return None
        return self.alias_map().get(_norm(text), text.strip().upper())

    def alias_map(self) -> dict[str, str]:
        """Normalised alias -> country code (used to normalise nationalities)."""
        if self._aliases is not None:
            return self._aliases
        out: dict[str, str] = {}
        for c in self.countries:
            for a in [c.code, c.name_zh, *c.aliases]:
                out[_norm(a)] = c.code
        self._aliases = out
        return out


def _check_date(value: Any, where: str, path: Path) -> str:
    text = str(value) if value is not None else ""
    try:
        dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(
            f"目的地表 {path} 中 {where} 缺少有效日期（date: YYYY-MM-DD），当前为“{text}”。",
            f"Destination table {path}: {where} needs a valid date (YYYY-MM-DD), got '{text}'.",
        ) from exc
    return text


def _need(entry: dict[str, Any], key: str, where: str, path: Path) -> str:
    value = entry.get(key)
    if value is None or str(value).strip() == "":
        raise ConfigError(f"目的地表 {path} 中 {where} 缺少字段 {key}。",
                          f"Destination table {path}: {where} lacks '{key}'.")
    return str(value)


def parse_table(path: Path) -> DestinationTable:
    data = read_yaml(path, "目的地表", "destination table")
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"目的地表无法读取：{path}（{exc}）", f"Cannot read destination table {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("countries"), list):
        raise ConfigError(f"目的地表格式错误：{path}，应包含 countries 列表。",
                          f"Destination table {path} is malformed: expected a 'countries' list.")
    version = _check_date(data.get("version"), "version", path)
    countries = []
    for i, entry in enumerate(data["countries"]):
        if not isinstance(entry, dict):
            raise ConfigError(f"目的地表 {path} 第 {i + 1} 项格式错误。", f"Destination table {path}: entry {i + 1} is malformed.")
        where = f"第 {i + 1} 项（{entry.get('name_zh') or entry.get('code')}）"
        code = _need(entry, "code", where, path).upper()
        listed = bool(entry.get("listed", False))
        towns = []
        for j, t in enumerate(entry.get("towns") or []):
            tw = f"{where} 的第 {j + 1} 个城镇"
            towns.append(Town(_need(t, "name_zh", tw, path), [str(a) for a in t.get("aliases") or []],
                              _need(t, "source", tw, path), _check_date(t.get("date"), tw, path)))
        source = date = None
        if listed or towns:
            source = _need(entry, "source", where, path)
            date = _check_date(entry.get("date"), where, path)
        countries.append(Country(code, str(entry.get("name_zh") or code), [str(a) for a in entry.get("aliases") or []],
                                 listed, source, date, towns))
    return DestinationTable(version, path, hashlib.sha256(raw_bytes).hexdigest(), countries)


def load_destinations(config_dir: Path | None = None, path: Path | None = None) -> DestinationTable:
    """The workspace override when present, else the packaged default (or an explicit ``path``)."""
    if path is not None:
        return parse_table(Path(path))
    if config_dir is not None and (config_dir / OVERRIDE_NAME).exists():
        return parse_table(config_dir / OVERRIDE_NAME)
    return parse_table(DEFAULT_PATH)
