"""Fixtures of the people chain: one synthetic province per test session (fixed seed)."""

from __future__ import annotations

from pathlib import Path

import pytest

N_PEOPLE = 2500
SEED = 11


@pytest.fixture(scope="session")
def travel_files(tmp_path_factory: pytest.TempPathFactory):
    from chainbreaker.synth.travel import write_travel_files

    out = tmp_path_factory.mktemp("province")
    data = write_travel_files(out, N_PEOPLE, seed=SEED)
    return out, data


@pytest.fixture(scope="session")
def analysed(travel_files, tmp_path_factory: pytest.TempPathFactory):
    """A workspace with the synthetic files ingested and analysed (treat as read-only)."""
    from chainbreaker.chains.people.analyze import analyze
    from chainbreaker.chains.people.ingest import ingest_travel
    from chainbreaker.core.workspace import Workspace

    out, data = travel_files
    ws = Workspace(tmp_path_factory.mktemp("ws-analysed"))
    summary = ingest_travel(ws, [out / "travel"])
    result = analyze(ws, data.as_of)
    return ws, data, summary, result


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    import csv

    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path
