"""Recognising which bank layout a file is, from its name and its header.

Four layouts (see ``spec.yaml``): ``statement`` (one account's 交易明细), ``edges`` (one row per
transfer with both parties), ``accounts`` (账户信息/子账户信息) and ``persons`` (人员信息). A file
is matched against every layout; the layouts whose required columns are present compete on how
many canonical fields the header feeds, with a bonus when the file name says what it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from chainbreaker.core.errors import ConfigError, MappingError
from chainbreaker.core.ingest.mapping import Mapping, match_score, normalise_header, resolve_columns

LAYOUTS = ("statement", "edges", "accounts", "persons")
TRANSFER_LAYOUTS = ("statement", "edges")

# What each layout needs before it can be chosen.
REQUIRED: dict[str, dict[str, Any]] = {
    "statement": {"required": [], "any_of": [("own_card", "own_acct"), ("ts", "ts_date"),
                                             ("amount", "out_amount", "in_amount")]},
    "edges": {"required": ["from_account", "to_account", "amount", "ts"], "any_of": []},
    "accounts": {"required": [], "any_of": [("own_card", "own_acct"),
                                            ("open_date", "close_date", "status", "last_login_ip",
                                             "account_type", "branch", "bank", "holder_name", "holder_id")]},
    "persons": {"required": ["id_number", "name"], "any_of": []},
}

# File-name hints of the 调单 package: {银行全称}交易明细信息.csv, {银行全称}账户信息.csv, 人员信息.csv.
NAME_HINTS: dict[str, tuple[str, ...]] = {
    "statement": ("交易明细", "流水", "明细", "statement", "transactions"),
    "edges": ("第三方", "支付", "edges", "transactions"),
    "accounts": ("账户信息", "子账户", "开户信息", "accounts"),
    "persons": ("人员信息", "客户信息", "persons", "customers"),
}
_BANK_FROM_NAME = re.compile(r"^(.*?)(交易明细信息|交易明细|账户信息|子账户信息|开户信息|人员信息|交易流水)")


@lru_cache(maxsize=1)
def spec() -> dict[str, dict[str, list[str]]]:
    text = resources.files("chainbreaker.chains.funds.bank").joinpath("spec.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    return {k: {f: [str(s) for s in syns] for f, syns in v.items()} for k, v in data.items()}


def all_header_names() -> set[str]:
    return {normalise_header(s) for layout in spec().values() for syns in layout.values() for s in syns}


def expected_header(name: str) -> bool:
    """Predicate for the readers' header-row search: is this a header name any layout knows?"""
    return normalise_header(name) in _KNOWN


_KNOWN = all_header_names()


def bank_from_file_name(path: Path) -> str | None:
    """``中国工商银行交易明细信息.csv`` → ``中国工商银行``; None when the name carries no bank."""
    stem = path.name.split(".")[0]
    m = _BANK_FROM_NAME.match(stem)
    if m and m.group(1).strip(" _-"):
        return m.group(1).strip(" _-")
    return None


@dataclass
class Detected:
    layout: str
    mapping: Mapping
    score: float


def _profile_for(layout: str, profile: dict[str, Any]) -> dict[str, Any] | None:
    """The profile applies to the layout it names, or to the transfer layout whose fields it uses."""
    if not profile:
        return None
    named = profile.get("layout")
    if named is not None:
        if named not in LAYOUTS:
            raise ConfigError(
                f"映射配置的 layout 应为 {'/'.join(LAYOUTS)} 之一，而不是“{named}”。",
                f"The profile's layout must be one of {', '.join(LAYOUTS)}, not '{named}'.",
            )
        return profile if named == layout else None
    fields = set((profile.get("columns") or {}).keys())
    if layout in TRANSFER_LAYOUTS and fields and fields <= set(spec()[layout]):
        return profile
    if layout == "statement" and not fields and profile.get("values"):
        return profile
    return None


def detect_layout(path: Path, header: list[str], profile: dict[str, Any] | None = None) -> Detected:
    """Pick the layout of a file, or raise MappingError naming the file and listing its columns."""
    profile = profile or {}
    name = path.name.lower()
    candidates: list[Detected] = []
    profile_error: MappingError | None = None
    for layout in LAYOUTS:
        layout_spec = spec()[layout]
        req = REQUIRED[layout]
        prof = _profile_for(layout, profile)
        try:
            mapping = resolve_columns(header, layout_spec, required=req["required"], any_of=req["any_of"],
                                      profile=prof, file_name=path.name)
        except MappingError as exc:
            if prof is not None and profile_error is None:
                profile_error = exc
            continue
        score = float(match_score(header, layout_spec)) + (100.0 if prof is not None else 0.0)
        if any(h.lower() in name for h in NAME_HINTS[layout]):
            score += 3.0
        candidates.append(Detected(layout, mapping, score))
    if not candidates:
        if profile_error is not None:
            raise profile_error
        cols = "、".join(header) or "（无）"
        raise MappingError(
            f"无法识别文件 {path.name} 的格式：表头与交易明细、账户信息、人员信息或转账清单的已知列名都不匹配。"
            f"现有列：{cols}。可用 --profile 指定列名映射。",
            f"Cannot recognise the layout of {path.name}: its header matches no known bank statement, "
            f"account, person or edge-list columns. Columns present: {', '.join(header) or '(none)'}. "
            f"Use --profile to map them.",
        )
    return max(candidates, key=lambda d: d.score)
