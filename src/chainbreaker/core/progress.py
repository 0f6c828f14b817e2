"""Progress of a long job, as the job sees it: a callback protocol that any face can implement.

A chain reports progress through a ``ProgressSink`` that the caller hands in (through a
``ProgressFactory``); it never draws a bar itself. The CLI supplies a rich bar
(``faces/cli/progress.py``), the web face can supply its own view, and tests and benchmarks pass
nothing (``no_progress``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Protocol


class ProgressSink(Protocol):
    """Receives progress over the rows of the files of one run; used as a context manager.

    ``enabled`` False says nobody is watching (parallel workers then do not send row counts).
    """

    enabled: bool

    def __enter__(self) -> ProgressSink: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def start(self, path: Path) -> None:
        """``path`` is the file being read now."""

    def advance(self, rows: int) -> None:
        """``rows`` more rows were read."""


# Given the files of a run, a sink for its progress.
ProgressFactory = Callable[[list[Path]], ProgressSink]


class NoProgress:
    """A sink that shows nothing."""

    enabled = False

    def __enter__(self) -> NoProgress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        return None

    def start(self, path: Path) -> None:
        return None

    def advance(self, rows: int) -> None:
        return None


def no_progress(files: list[Path]) -> ProgressSink:
    """The ``ProgressFactory`` that shows nothing."""
    return NoProgress()
