"""``chainbreaker --help`` and the light commands start without the data libraries.

The CLI modules import pyarrow, DuckDB, pandas and the chains' services inside the command bodies:
importing them at module level made every command, ``--help`` included, pay for them
(``core.timefmt`` alone pulled in pyarrow: ~0.17 CPU s of the 0.5 s of ``--help``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("pyarrow", "duckdb", "pandas", "numpy", "ibis", "pyspark")


def test_the_cli_imports_no_data_library() -> None:
    code = ("import sys, chainbreaker.faces.cli.main; "
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "", f"imported when the CLI starts: {out.stdout.strip()}"
