"""CLI of the tech chain: ``chainbreaker tech ...``. Commands live in cli_* modules."""

from __future__ import annotations

import importlib
import importlib.util

from chainbreaker.tech.cli_app import app

# Command modules are owned separately; each registers its commands on ``app``.
for _module in ("cli_scan", "cli_intel"):
    if importlib.util.find_spec(f"chainbreaker.tech.{_module}") is not None:
        importlib.import_module(f"chainbreaker.tech.{_module}")

__all__ = ["app"]
