"""The Typer app of the funds chain; command modules register on it."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)
