"""A platform CSV whose folder or name holds glob characters is read as named, not as a pattern."""

from __future__ import annotations

from pathlib import Path

import duckdb

from chainbreaker.chains.promotion.tabular import _duckdb_csv


def test_csv_in_a_folder_with_brackets_reads_that_file(tmp_path: Path) -> None:
    real, decoy = tmp_path / "案件[1]'s", tmp_path / "案件1's"
    real.mkdir()
    decoy.mkdir()
    (real / "members.csv").write_text("member_id,upline\nA,B\n", "utf-8")
    (decoy / "members.csv").write_text("member_id,upline\nX,Y\nZ,W\n", "utf-8")
    con = duckdb.connect()
    _duckdb_csv(real / "members.csv", ["member_id", "upline"], 20)(con, 'members "v"')
    assert con.execute('SELECT member_id, upline, _row FROM "members ""v"""').fetchall() == [("A", "B", 2)]
