"""Fixtures of the promotion tests: small synthetic platforms with fixed seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainbreaker.synth.platform import SynthPlatform, export_platform, generate_platform


@pytest.fixture(scope="session")
def pyramid() -> SynthPlatform:
    return generate_platform("pyramid", 1000, 8000, seed=7, name="金沙")


@pytest.fixture(scope="session")
def quanmin() -> SynthPlatform:
    return generate_platform("quanmin", 1000, 8000, seed=3, name="全民")


@pytest.fixture(scope="session")
def exports(tmp_path_factory: pytest.TempPathFactory, pyramid: SynthPlatform, quanmin: SynthPlatform) -> dict[str, dict[str, Path]]:
    root = tmp_path_factory.mktemp("platforms")
    return {"pyramid": export_platform(pyramid, root / "pyramid", formats=("csv", "mysql")),
            "quanmin": export_platform(quanmin, root / "quanmin", formats=("csv", "mysql", "sqlite"))}


@pytest.fixture(scope="session")
def analysed(tmp_path_factory: pytest.TempPathFactory, exports, pyramid, quanmin):  # type: ignore[no-untyped-def]
    """One workspace holding both platforms (pyramid from CSV, 全民代理 from a MySQL dump), analysed."""
    from chainbreaker.chains.promotion.analyze import analyze
    from chainbreaker.chains.promotion.ingest import ingest_platform
    from chainbreaker.core.workspace import Workspace

    ws = Workspace(tmp_path_factory.mktemp("ws") / "ws")
    ingest_platform(ws, exports["pyramid"]["csv"], pyramid.name)
    ingest_platform(ws, exports["quanmin"]["mysql"], quanmin.name)
    result = analyze(ws)
    return ws, result
