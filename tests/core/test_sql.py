"""core.sql against a real DuckDB: hostile paths and names read exactly what they name."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from chainbreaker.core.sql import glob_escape, glob_lit, ident, lit, read_path, read_paths

HOSTILE = ["it's.parquet", "a[1].parquet", "b*x.parquet", "c?.parquet", "d'[*?].parquet"]


def _write(con: duckdb.DuckDBPyConnection, path: Path, value: int) -> None:
    con.execute(f"COPY (SELECT {value}::INTEGER AS x) TO {lit(path)} (FORMAT parquet)")


def test_literals_and_identifiers() -> None:
    con = duckdb.connect()
    assert lit(None) == "NULL"
    assert con.execute(f"SELECT {lit(chr(39) + 'x' + chr(39) + chr(39))}").fetchall() == [("'x''",)]
    assert con.execute(f"SELECT {lit(12)}").fetchall() == [("12",)]
    name = 'col "1"; DROP'
    assert con.execute(f"SELECT 5 AS {ident(name)}").description[0][0] == name


@pytest.mark.parametrize("name", HOSTILE)
def test_read_path_reads_exactly_the_named_file(tmp_path: Path, name: str) -> None:
    con = duckdb.connect()
    folder = tmp_path / "case [x]'s"
    folder.mkdir()
    _write(con, folder / name, 1)
    # decoys a glob would also match: a1.parquet, bax.parquet, ca.parquet ...
    for decoy in ("a1.parquet", "bax.parquet", "ca.parquet", "d'x.parquet"):
        _write(con, folder / decoy, 2)
    rows = con.execute(f"SELECT x FROM read_parquet({read_path(folder / name)})").fetchall()
    assert rows == [(1,)]
    rows = con.execute(f"SELECT x FROM read_parquet({read_paths([folder / name, folder / name])})").fetchall()
    assert rows == [(1,), (1,)]


def test_glob_lit_escapes_the_folder_only(tmp_path: Path) -> None:
    con = duckdb.connect()
    real, decoy = tmp_path / "lake[1]", tmp_path / "lake1"
    real.mkdir()
    decoy.mkdir()
    for i in range(3):
        _write(con, real / f"part-{i}.parquet", 1)
    _write(con, decoy / "part-0.parquet", 2)
    rows = con.execute(f"SELECT sum(x), count(*) FROM read_parquet({glob_lit(real, '*.parquet')})").fetchall()
    assert rows == [(3, 3)]
    assert glob_escape("a[b]*?") == "a[[]b][*][?]"
