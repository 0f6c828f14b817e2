"""CLI of the funds chain: ``chainbreaker funds ...``. Commands live in cli_* modules."""

from __future__ import annotations

import contextlib

from chainbreaker.funds.cli_app import app

with contextlib.suppress(ModuleNotFoundError):
    from chainbreaker.funds import cli_screen  # noqa: F401  (screen, trace, suggest)
with contextlib.suppress(ModuleNotFoundError):
    from chainbreaker.funds import cli_learn  # noqa: F401  (learn)

__all__ = ["app"]
