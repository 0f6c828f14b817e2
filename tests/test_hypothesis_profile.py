"""Property tests do not flake on a loaded machine: no deadline, no too_slow health check, everywhere."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TESTS = Path(__file__).resolve().parent


def test_the_shared_profile_is_loaded() -> None:
    assert settings.default.deadline is None
    assert HealthCheck.too_slow in settings.default.suppress_health_check


@settings(max_examples=5)
@given(st.integers())
def test_a_test_with_its_own_settings_inherits_the_profile(n: int) -> None:
    assert settings.default.deadline is None


def test_no_property_test_sets_a_deadline_of_its_own() -> None:
    """A per-test deadline would bring the flakiness back."""
    offenders = [str(p.relative_to(TESTS)) for p in TESTS.rglob("test_*.py")
                 if re.search(r"settings\([^)]*deadline\s*=\s*(?!None)", p.read_text("utf-8"))]
    assert offenders == []
