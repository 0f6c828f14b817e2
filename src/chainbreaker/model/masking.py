"""Masking of personal data by role. Personal data is masked unless the role needs it."""

from __future__ import annotations

from chainbreaker.model.schemas import PERSONAL_COLUMNS

# Which kinds of personal data each role sees in clear.
ROLE_CLEAR: dict[str, frozenset[str]] = {
    "viewer": frozenset(),
    "analyst": frozenset({"name"}),
    "investigator": frozenset({"name", "id_number", "phone"}),
    "admin": frozenset({"name", "id_number", "phone"}),
}


def mask_value(kind: str, value: str | None) -> str | None:
    if value is None or value == "":
        return value
    if kind == "id_number":
        return value[:6] + "*" * max(len(value) - 10, 0) + value[-4:] if len(value) > 10 else "*" * len(value)
    if kind == "phone":
        return value[:3] + "****" + value[-4:] if len(value) >= 11 else "*" * len(value)
    if kind == "name":
        return value[0] + "*" * (len(value) - 1) if len(value) > 1 else "*"
    return "*" * len(value)


def columns_to_mask(columns: list[str], role: str) -> dict[str, str]:
    """Columns of a table that must be masked for ``role``: column -> kind."""
    clear = ROLE_CLEAR.get(role, frozenset())
    return {c: PERSONAL_COLUMNS[c] for c in columns if c in PERSONAL_COLUMNS and PERSONAL_COLUMNS[c] not in clear}


def personal_columns(columns: list[str]) -> list[str]:
    return [c for c in columns if c in PERSONAL_COLUMNS]
