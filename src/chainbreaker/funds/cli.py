"""CLI of the funds chain: ``chainbreaker funds ...``. Commands live in cli_* modules."""

from __future__ import annotations

import importlib
import importlib.util

from chainbreaker.funds.cli_app import app

# Command modules are owned separately; each registers its commands on ``app``.
for _module in ("cli_screen", "cli_learn"):
    if importlib.util.find_spec(f"chainbreaker.funds.{_module}") is not None:
        importlib.import_module(f"chainbreaker.funds.{_module}")

__all__ = ["app"]
