"""Process-wide CLI state: workspace, language, debug flag, console."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from chainbreaker.settings import Settings, get_settings


@dataclass
class CliState:
    workspace: Path | None = None
    lang: str = "zh"
    debug: bool = False
    settings: Settings = field(default_factory=get_settings)


STATE = CliState()
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def get_workspace():  # type: ignore[no-untyped-def]
    from chainbreaker.workspace import Workspace

    return Workspace(STATE.workspace or STATE.settings.workspace)


def t(zh: str, en: str) -> str:
    """Pick the user's language."""
    return zh if STATE.lang == "zh" else en
