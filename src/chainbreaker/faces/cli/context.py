"""Process-wide CLI state: workspace, language, debug flag, claimed role, console; ``safe()`` for data.

Everything printed through rich is markup: a file name, header, page title or member name holding
``[/bold]`` or ``[red]`` would end the command with a MarkupError or restyle the output, and an ESC
from a file name would reach the terminal. Every data-derived string goes through ``safe()``
(``tests/test_cli_hostile_static.py`` checks every CLI module for it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from chainbreaker.core.settings import Settings, get_settings

# C0 controls but \t and \n, DEL, C1 controls, and the bidirectional overrides that can make a
# terminal show text in another order than it is stored (zero-width characters are harmless here).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@dataclass
class CliState:
    workspace: Path | None = None
    lang: str = "zh"
    debug: bool = False
    role: str | None = None  # --role given before the command (a claim, see claimed_role)
    settings: Settings = field(default_factory=get_settings)


STATE = CliState()
console = Console(highlight=False, emoji=False)  # data such as person:ID:... is never an emoji code
err_console = Console(stderr=True, highlight=False, emoji=False)


def get_workspace():  # type: ignore[no-untyped-def]
    from chainbreaker.core.workspace import Workspace

    return Workspace(STATE.workspace or STATE.settings.workspace)


def t(zh: str, en: str) -> str:
    """Pick the user's language."""
    return zh if STATE.lang == "zh" else en


def strip_controls(text: str, newlines: bool = True) -> str:
    """Drop terminal control characters (ESC, BEL, \\r, C1, bidi overrides); keep \\t and, if asked, \\n."""
    text = _CONTROL.sub("", text)
    return text if newlines else text.replace("\n", " ")


def safe(value: Any, newlines: bool = False) -> str:
    """A data-derived value ready for rich: control characters removed, markup escaped."""
    if value is None:
        return ""
    return escape(strip_controls(str(value), newlines))


def claimed_role(option: str | None = None):  # type: ignore[no-untyped-def]
    """The role of this command: ``--role`` (the command's, else the global one) or the ``role``
    setting. Either way a claim: the CLI cannot check who is typing (see docs/architecture.md)."""
    from chainbreaker.core.model.masking import Role

    given = option or STATE.role
    if given:
        return Role(given, source="cli")
    return Role(STATE.settings.role, source="setting")


def shown(value: Any, kind: str | None = None, role: str | None = None) -> str:
    """A personal value as the claimed role may see it, ready for rich (masked, then ``safe``)."""
    from chainbreaker.core.model.masking import mask_text

    return safe(mask_text(value, role if role is not None else claimed_role(), kind))
