"""The MariaDB fallback for dumps too irregular for the streaming parser, against the real service
(``settings.mariadb_url``, default mysql://root@127.0.0.1:3306); skipped when it is not reachable."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from chainbreaker.chains.promotion.ingest import ingest_platform
from chainbreaker.chains.promotion.mariadb import Server, unavailable
from chainbreaker.core.errors import InputError
from chainbreaker.core.settings import get_settings
from chainbreaker.core.workspace import Workspace

DUMPS = Path(__file__).parent / "dumps"
SERVER = Server.from_url(get_settings().mariadb_url)


@pytest.fixture(scope="module")
def mariadb() -> Server:
    why = unavailable(SERVER)
    if why:
        pytest.skip(f"MariaDB fallback tests need a MariaDB server at {SERVER.label()} and the mariadb client: {why}")
    return SERVER


def server_state(server: Server) -> tuple[set[str], set[str]]:
    import pymysql

    con = pymysql.connect(host=server.host, port=server.port, user=server.user, password=server.password)
    try:
        with con.cursor() as cur:
            cur.execute("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
            schemas = {r[0] for r in cur.fetchall()}
            cur.execute("SELECT User FROM mysql.user")
            users = {r[0] for r in cur.fetchall()}
    finally:
        con.close()
    return schemas, users


def test_irregular_dump_is_read_through_mariadb(tmp_path: Path, mariadb: Server) -> None:
    """INSERT ... SET, expressions and USE of its own database: the streaming parser reads 3 of 8 rows and
    quarantines the rest; ``auto`` restores the dump into a scratch database and keeps the complete reading."""
    before = server_state(mariadb)
    dump = DUMPS / "irregular_mysql.sql"
    stream = Workspace(tmp_path / "never")
    s = ingest_platform(stream, dump, "乐园", mariadb="never")
    assert s.rows_kept == {"members": 2, "bets": 1} and s.quarantined_by_reason == {"dump_syntax": 4}
    ws = Workspace(tmp_path / "auto")
    s = ingest_platform(ws, dump, "乐园", mariadb="auto")
    assert s.rows_kept == {"members": 4, "bets": 4} and s.quarantined_by_reason == {}
    assert any("采用 MariaDB 结果" in zh for zh, _ in s.messages)
    con = ws.duck()
    assert con.sql("SELECT member_id, upline_id FROM platform_members ORDER BY 1").fetchall() == [
        ("1", None), ("2", "1"), ("3", "2"), ("4", "2")]
    bets = con.sql("SELECT order_id, stake, payout, ts FROM platform_bets ORDER BY 1").fetchall()
    assert [(o, s_, p) for o, s_, p, _ in bets] == [("B1", Decimal("100.00"), Decimal("195.00")),
                                                   ("B2", Decimal("200.00"), Decimal("0.00")),
                                                   ("B3", Decimal("33.33"), Decimal("0.00")),
                                                   ("B4", Decimal("50.00"), Decimal("97.50"))]
    assert bets[1][3].isoformat() == "2024-05-01T13:00:00+00:00"  # DATE_ADD evaluated by the server
    # the scratch database and user are gone; the dump's own CREATE DATABASE/USE did not reach the server
    assert server_state(mariadb) == before


def test_always_gives_the_same_tables_as_the_streaming_parser(tmp_path: Path, mariadb: Server) -> None:
    dump = tmp_path / "fh.sql"
    shutil.copy(DUMPS / "fh_game_mysql.sql", dump)
    a, b = Workspace(tmp_path / "stream"), Workspace(tmp_path / "mariadb")
    sa = ingest_platform(a, dump, "凤凰", mariadb="never")
    sb = ingest_platform(b, dump, "凤凰", mariadb="always")
    assert sa.tables == sb.tables and sa.rows_kept == sb.rows_kept
    # restoring ran the trigger block too: the server refused it (DEFINER), and said so in quarantine
    assert set(sb.quarantined_by_reason) <= {"table_unrecognised", "restore_error"}
    for table in ("platform_members", "platform_bets", "platform_deposits", "platform_withdrawals", "platform_rebates"):
        query = f"SELECT * EXCLUDE (src_row) FROM {table} ORDER BY ALL"
        assert a.duck().sql(query).fetchall() == b.duck().sql(query).fetchall(), table


def test_unreachable_server(tmp_path: Path) -> None:
    """``auto`` keeps the streaming result and says why; ``always`` cannot read the dump at all."""
    dump = DUMPS / "irregular_mysql.sql"
    ws = Workspace(tmp_path / "ws")
    s = ingest_platform(ws, dump, "乐园", mariadb="auto", mariadb_url="mysql://root@127.0.0.1:1")
    assert s.rows_kept == {"members": 2, "bets": 1}
    assert any("MariaDB 兜底不可用" in zh and "127.0.0.1:1" in zh for zh, _ in s.messages)
    with pytest.raises(InputError) as info:
        ingest_platform(Workspace(tmp_path / "ws2"), dump, "乐园", mariadb="always", mariadb_url="mysql://root@127.0.0.1:1")
    assert "MariaDB 还原不可用" in info.value.zh
    with pytest.raises(InputError, match="via-mariadb"):
        ingest_platform(Workspace(tmp_path / "ws3"), dump, "乐园", mariadb="sometimes")
    run = ws.runs()[-1]
    assert run["settings"]["mariadb"] == "auto" and json.dumps(run)
