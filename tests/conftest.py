"""Shared fixtures. Large data comes from chainbreaker.synth with fixed seeds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)  # type: ignore[attr-defined]

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture()
def ws(tmp_path: Path):
    from chainbreaker.core.workspace import Workspace

    return Workspace(tmp_path / "ws")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout (development data; never copied into the repo)."""
    if not SHARED_DATA.exists():
        pytest.skip("../shared/data is not available")
    return SHARED_DATA
