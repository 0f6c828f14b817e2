"""The layer contracts of docs/architecture.md are enforced by import-linter (`lint-imports`).

`make test` runs `lint-imports` on the tree; these tests show the contracts bite: a copy of the
package with one deliberate violation per contract must be reported as broken.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed (pip install import-linter)")


def _lint(src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([str(LINT), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def package_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("src")
    shutil.copytree(ROOT / "src" / "chainbreaker", dst / "chainbreaker",
                    ignore=shutil.ignore_patterns("__pycache__", "*.joblib", "*.parquet"))
    return dst


VIOLATIONS = {
    # contract id -> (module to add, its import, the text import-linter reports)
    "layers": ("core/_violation.py", "import chainbreaker.faces.cli.main\n",
               "chainbreaker.core._violation -> chainbreaker.faces.cli.main"),
    "chains-independent": ("chains/funds/_violation.py", "import chainbreaker.chains.tech.scan\n",
                           "chainbreaker.chains.funds._violation -> chainbreaker.chains.tech.scan"),
    "product-without-synth": ("intel/_violation.py", "import chainbreaker.synth.bank\n",
                              "chainbreaker.intel._violation -> chainbreaker.synth.bank"),
    "synth-on-core": ("synth/_violation.py", "import chainbreaker.chains.funds.screen\n",
                      "chainbreaker.synth._violation -> chainbreaker.chains.funds.screen"),
}


@pytest.mark.parametrize("contract", sorted(VIOLATIONS))
def test_a_deliberate_violation_breaks_its_contract(package_copy: Path, contract: str) -> None:
    rel, code, reported = VIOLATIONS[contract]
    module = package_copy / "chainbreaker" / rel
    module.write_text(code)
    try:
        result = _lint(package_copy)
    finally:
        module.unlink()
    assert result.returncode != 0
    assert reported in " ".join(result.stdout.split()), result.stdout[-3000:]


def test_a_cycle_between_sibling_modules_is_reported(package_copy: Path) -> None:
    a = package_copy / "chainbreaker" / "core" / "_cycle_a.py"
    b = package_copy / "chainbreaker" / "core" / "_cycle_b.py"
    a.write_text("import chainbreaker.core._cycle_b\n")
    b.write_text("import chainbreaker.core._cycle_a\n")
    try:
        result = _lint(package_copy)
    finally:
        a.unlink()
        b.unlink()
    assert result.returncode != 0
    assert "_cycle_a" in result.stdout and "No cycles are allowed in chainbreaker.core" in " ".join(result.stdout.split())
