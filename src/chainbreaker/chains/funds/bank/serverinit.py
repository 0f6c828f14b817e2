"""First module the ingest's fork server imports (``files.mp_context``): keeps pandas out of it.

pyarrow imports pandas (~0.3 CPU s and ~40 MiB per process) the first time it converts a Python
or NumPy object: ``pa.array``, a compute call with a Python scalar, ``to_numpy``. Nothing the
workers run uses pandas, yet the fork server would import it while importing ``files`` (and
every worker forked from it would inherit it). pandas is an optional dependency of pyarrow, which
then takes its pandas-free paths, giving the same arrays (the lake is compared with and without
workers in ``tests/ingest_bank/test_parallel.py``). Only the fork server imports this module:
the ingest process, and anything else that may need pandas, never do. A worker that did call
pandas would fail with ImportError, which aborts the run like any other bug in a worker.
One import is let through: ``multiprocessing`` imports the calling program's main module into
every worker (as ``__mp_main__``), and an analyst's script that imports pandas must still run
(before, every worker of such a script died and the run stopped).
``multiprocessing`` keeps one fork server per process: other code of the same process that
started processes through it would get them without pandas too (none does today).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import FrameType, ModuleType


class _NoPandas(importlib.abc.MetaPathFinder):
    """Makes ``import pandas`` raise ModuleNotFoundError, as where pandas is not installed.

    (``sys.modules["pandas"] = None`` is not enough: Cython's import, which pyarrow uses, returns
    the None.)
    """

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if (fullname == "pandas" or fullname.startswith("pandas.")) and not _importing_main():
            raise ModuleNotFoundError("pandas is kept out of the ingest's fork server", name=fullname)
        return None


def _importing_main() -> bool:
    """Whether this import happens while the main module is imported as ``__mp_main__`` (directly or not)."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__") == "__mp_main__":
            return True
        frame = frame.f_back
    return False


if "pandas" not in sys.modules:
    sys.meta_path.insert(0, _NoPandas())
