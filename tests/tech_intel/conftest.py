"""Fixtures of the tech-intel tests: realistic pages written for these tests (tests/tech_intel/pages)."""

from __future__ import annotations

from pathlib import Path

import pytest

PAGES = Path(__file__).parent / "pages"


@pytest.fixture(scope="session")
def pages() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(PAGES.glob("*.html"))}
