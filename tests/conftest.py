"""Shared fixtures. Large data comes from chainbreaker.synth with fixed seeds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
# every test starts as a fresh installation: no recipe SQL shared from other workspaces (and none left in
# the user's cache by a test); tests/core/test_recipes.py turns the shared folder on where it is the subject
os.environ.setdefault("CHAINBREAKER_SQL_CACHE_SHARED", "false")

# Property tests run on a shared 2-core machine next to other jobs: a slow example is load, not a
# bug. No per-example deadline and no "too slow" health check, for every @given (a test's own
# @settings inherits this profile and only changes what it names).
settings.register_profile("chainbreaker", deadline=None, suppress_health_check=[HealthCheck.too_slow],
                          print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "chainbreaker"))
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


@pytest.fixture(scope="session")
def domain_model() -> Path:
    """The domain-name model `make setup` trains from ../shared/data/domains (never committed)."""
    from chainbreaker.chains.tech.domain_model import MODEL_PATH

    if not MODEL_PATH.exists():
        pytest.skip(f"no domain model at {MODEL_PATH}: run make setup (trains it from ../shared/data/domains)")
    return MODEL_PATH
