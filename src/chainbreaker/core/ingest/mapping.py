"""Header auto-detection by synonyms, overridable by a YAML mapping profile.

A *field spec* maps each canonical field to the header names that mean it, e.g.::

    amount: [交易金额, 金额, amount, txn_amount]

A *profile* (``--profile FILE``) is YAML of the form::

    columns:            # canonical field -> the file's own header name
      amount: 发生额
      ts: 记账日期时间
    values:             # optional per-field value maps (e.g. bank-specific direction codes)
      direction: {"1": out, "2": in}

Profiles win over synonyms; fields named in a profile must exist in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chainbreaker.core.errors import ConfigError, MappingError

_NORMALISE = re.compile(r"[\s_\-()（）\[\]【】:：/\\.·]+")


def normalise_header(name: str) -> str:
    return _NORMALISE.sub("", name).lower()


@dataclass
class Mapping:
    """Which header of a file feeds which canonical field."""

    columns: dict[str, str]  # canonical field -> header in the file
    unmapped: list[str]  # headers of the file no field uses
    values: dict[str, dict[str, str]] = field(default_factory=dict)

    def get(self, fld: str) -> str | None:
        return self.columns.get(fld)


def load_profile(path: Path | str | None) -> dict[str, Any]:
    if path is None:
        return {}
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"映射配置文件无法读取：{path}（{exc}）", f"Cannot read mapping profile {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("columns", {}), dict):
        raise ConfigError(
            f"映射配置文件格式错误：{path}。应包含 columns: {{字段: 列名}}。",
            f"Mapping profile {path} is malformed; expected 'columns: {{field: header}}'.",
        )
    return data


def header_matcher(spec: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    """A predicate telling whether a header name is one the spec knows (for header-row search)."""
    known = {normalise_header(s) for syns in spec.values() for s in syns}
    return lambda h: normalise_header(h) in known


def resolve_columns(
    header: list[str],
    spec: dict[str, list[str]],
    *,
    required: list[str] | tuple[str, ...] = (),
    any_of: list[tuple[str, ...]] | None = None,
    profile: dict[str, Any] | None = None,
    file_name: str = "",
) -> Mapping:
    """Map a file's headers to canonical fields, or raise :class:`MappingError` saying what is missing."""
    by_norm: dict[str, str] = {}
    for h in header:
        by_norm.setdefault(normalise_header(h), h)
    columns: dict[str, str] = {}
    used: set[str] = set()
    profile = profile or {}
    for fld, col in (profile.get("columns") or {}).items():
        actual = col if col in header else by_norm.get(normalise_header(str(col)))
        if actual is None:
            raise MappingError(
                f"映射配置指定的列“{col}”（字段 {fld}）不在 {file_name} 中。现有列：{'、'.join(header)}",
                f"Column '{col}' (field {fld}) named in the profile is not in {file_name}. Columns: {', '.join(header)}",
            )
        columns[fld] = actual
        used.add(actual)
    for fld, synonyms in spec.items():
        if fld in columns:
            continue
        for syn in synonyms:
            actual = by_norm.get(normalise_header(syn))
            if actual is not None and actual not in used:
                columns[fld] = actual
                used.add(actual)
                break
    missing = [f for f in required if f not in columns]
    for group in any_of or []:
        if not any(f in columns for f in group):
            missing.append("/".join(group))
    if missing:
        names = "、".join(_display(spec, m) for m in missing)
        raise MappingError(
            f"{file_name} 中找不到必需的列：{names}。现有列：{'、'.join(header) or '（无）'}。"
            f"可用 --profile 指定列名映射。",
            f"Required column(s) {', '.join(missing)} not found in {file_name}. Columns present: "
            f"{', '.join(header) or '(none)'}. Use --profile to map them.",
            fields={m: "missing" for m in missing},
        )
    values = {k: {str(a): str(b) for a, b in v.items()} for k, v in (profile.get("values") or {}).items()}
    return Mapping(columns, [h for h in header if h not in used], values)


def _display(spec: dict[str, list[str]], fld: str) -> str:
    first = [spec[f][0] for f in fld.split("/") if f in spec and spec[f]]
    return f"{fld}（{'/'.join(first)}）" if first else fld


def match_score(header: list[str], spec: dict[str, list[str]]) -> int:
    """How many canonical fields of ``spec`` a header can feed (used to recognise layouts)."""
    norm = {normalise_header(h) for h in header}
    return sum(1 for syns in spec.values() if any(normalise_header(s) in norm for s in syns))
