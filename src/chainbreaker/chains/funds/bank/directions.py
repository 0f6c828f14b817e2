"""Per-bank table of direction codes (收付标志/借贷标志) → ``out`` | ``in``.

See ``direction_codes.yaml`` for the table and the reasons behind it. The raw value is always
kept in ``transactions.direction_raw``; unknown codes are quarantined and counted per bank.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from chainbreaker.core.errors import ConfigError

OUT, IN = "out", "in"


def _norm(code: object) -> str:
    return str(code).strip().upper()


@dataclass
class DirectionTable:
    default: dict[str, str] = field(default_factory=dict)  # code -> out|in
    banks: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, override: Path | None = None) -> DirectionTable:
        text = resources.files("chainbreaker.chains.funds.bank").joinpath("direction_codes.yaml").read_text("utf-8")
        table = cls()
        table._merge(yaml.safe_load(text), "direction_codes.yaml")
        if override is not None and override.exists():
            # imported here: core.config brings pydantic (~0.1 CPU s), which the workers (and the
            # fork server, which imports this module for them) never use
            from chainbreaker.core.config import read_yaml

            table._merge(read_yaml(override, "借贷标志代码表", "direction code table"), str(override))
        return table

    def _merge(self, data: dict[str, Any], source: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"借贷标志代码表格式错误：{source}", f"Malformed direction code table: {source}")
        self.default.update(_codes(data.get("default") or {}, source))
        for bank, codes in (data.get("banks") or {}).items():
            self.banks.setdefault(str(bank), {}).update(_codes(codes or {}, source))

    def for_bank(self, bank: str | None, profile_values: dict[str, str] | None = None) -> dict[str, str]:
        """The code map used for one file: default, then the longest matching bank entry, then the profile."""
        mapping = dict(self.default)
        if bank:
            matches = sorted((b for b in self.banks if b in bank), key=len)
            for b in matches:
                mapping.update(self.banks[b])
        for code, value in (profile_values or {}).items():
            v = str(value).strip().lower()
            if v in (OUT, IN):
                mapping[_norm(code)] = v
        return mapping


def _codes(block: dict[str, Any], source: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for direction, codes in block.items():
        if direction not in (OUT, IN):
            raise ConfigError(
                f"借贷标志代码表 {source} 中的方向只能是 out 或 in，而不是“{direction}”。",
                f"Directions in {source} must be 'out' or 'in', not '{direction}'.",
            )
        for code in codes or []:
            out[_norm(code)] = direction
    return out


def map_codes(codes: list[str | None], mapping: dict[str, str]) -> list[str | None]:
    """Map distinct raw codes (as they appear) to out/in/None."""
    return [None if c is None else mapping.get(_norm(c)) for c in codes]
