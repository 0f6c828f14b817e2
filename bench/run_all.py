"""Run every benchmark in bench/ at its default scale, one after the other, and keep the output.

Each benchmark prints its own throughput and peak memory beside a plain baseline measured in the
same run; this script only runs them and saves what they printed to bench/out/<name>.txt.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        start = time.perf_counter()
        print(f"== {script.name}", flush=True)
        proc = subprocess.run([sys.executable, str(script), *sys.argv[1:]], capture_output=True, text=True)
        (out_dir / f"{script.stem}.txt").write_text(proc.stdout + proc.stderr, "utf-8")
        print(proc.stdout[-4000:], flush=True)
        status = "ok" if proc.returncode == 0 else f"FAILED ({proc.returncode})"
        print(f"== {script.name}: {status} in {time.perf_counter() - start:.1f} s\n", flush=True)
        if proc.returncode:
            failed.append(script.name)
            print(proc.stderr[-2000:], file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
