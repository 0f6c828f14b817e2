"""CLI of the tech chain: ``chainbreaker tech ...``. Commands live in cli_* modules."""

from __future__ import annotations

import contextlib

from chainbreaker.tech.cli_app import app

with contextlib.suppress(ModuleNotFoundError):
    from chainbreaker.tech import cli_scan  # noqa: F401  (scan, captures)
with contextlib.suppress(ModuleNotFoundError):
    from chainbreaker.tech import cli_intel  # noqa: F401  (classify, domains, indicators, clusters, blocklist)

__all__ = ["app"]
