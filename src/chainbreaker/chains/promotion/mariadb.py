"""Fallback for dumps too irregular for the streaming parser: restore into MariaDB, read it back
(MariaDB 还原兜底).

The dump is fed to the real ``mariadb``/``mysql`` client (``--force --binary-mode``) into a scratch
database with a unique name (``cb_restore_<random>``), as a throwaway user that may touch only that
database; both are dropped afterwards, whatever happens. On the way in the text is transcoded to
UTF-8 (``SET NAMES`` follows) and ``USE``/``CREATE DATABASE``/``DROP DATABASE`` lines are turned into
comments, so the dump lands in the scratch database and nothing else on the server is touched.
Tables, column and table comments come from ``information_schema``; rows are streamed with a
server-side cursor into the raw store. Statements the server refused become quarantine records
(``restore_error``) with the line number the client reported. Rows read this way are numbered in
table order (the server does not know source lines).

The server is ``settings.mariadb_url`` (``CHAINBREAKER_MARIADB_URL``, default
``mysql://root@127.0.0.1:3306``); the ``pymysql`` package (extra ``mariadb``) and a client program
are needed.
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from chainbreaker.chains.promotion.dumpfile import DumpReader
from chainbreaker.chains.promotion.rawstore import Problem, RawStore, RawTable, safe_names
from chainbreaker.core.errors import InputError

CHUNK = 1 << 22
FETCH = 10_000
MAX_ERRORS = 1000
_ERROR = re.compile(r"^ERROR (\d+) \(([0-9A-Z]+)\)(?: at line (\d+))?: (.*)$")
_NEUTRALISE = re.compile(r"^\s*(?:USE\s|CREATE\s+(?:DATABASE|SCHEMA)\b|DROP\s+(?:DATABASE|SCHEMA)\b|"
                         r"/\*!\d+\s+(?:USE|CREATE\s+DATABASE|DROP\s+DATABASE)\b)", re.I)
_SET_NAMES = re.compile(r"(SET\s+NAMES\s+|character_set_client\s*=\s*)(\w+)", re.I)


@dataclass
class Server:
    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: str = ""

    @classmethod
    def from_url(cls, url: str) -> Server:
        u = urlsplit(url if "://" in url else "mysql://" + url)
        return cls(u.hostname or "127.0.0.1", u.port or 3306, unquote(u.username or "root"),
                   unquote(u.password or ""))

    def label(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"


def _pymysql() -> Any:
    try:
        import pymysql
    except ImportError as exc:
        raise InputError("需要 pymysql 才能用 MariaDB 还原转储：pip install 'chainbreaker[mariadb]'",
                         "Restoring a dump into MariaDB needs pymysql: pip install 'chainbreaker[mariadb]'") from exc
    return pymysql


def unavailable(server: Server) -> str | None:
    """Why the MariaDB fallback cannot run here (None when it can)."""
    try:
        pymysql = _pymysql()
    except InputError as exc:
        return exc.zh
    if not (shutil.which("mariadb") or shutil.which("mysql")):
        return "未找到 mariadb 或 mysql 客户端程序"
    try:
        pymysql.connect(host=server.host, port=server.port, user=server.user, password=server.password,
                        connect_timeout=3).close()
    except pymysql.err.MySQLError as exc:
        return f"无法连接 MariaDB {server.label()}（{exc.args[-1] if exc.args else exc}）"
    return None


def restore_dump(path: Path, sha: str, encoding: str, store: RawStore, server: Server,
                 advance: Callable[[int], None]) -> list[RawTable]:
    """Restore ``path`` into a scratch database, read every table into ``store``, drop the database."""
    why = unavailable(server)
    if why:
        raise InputError(f"MariaDB 还原不可用：{why}", f"The MariaDB fallback is unavailable: {why}")
    pymysql = _pymysql()
    admin = pymysql.connect(host=server.host, port=server.port, user=server.user, password=server.password,
                            charset="utf8mb4", autocommit=True)
    db = f"cb_restore_{secrets.token_hex(6)}"
    user, password, host = db, secrets.token_hex(16), ""
    try:
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci")
            cur.execute("SELECT SUBSTRING_INDEX(USER(), '@', -1)")
            host = str(cur.fetchone()[0])
            try:
                cur.execute("CREATE USER %s@%s IDENTIFIED BY %s", (user, host, password))
                cur.execute(f"GRANT ALL PRIVILEGES ON `{db}`.* TO %s@%s", (user, host))
            except pymysql.err.MySQLError:
                user, password, host = server.user, server.password, ""  # no right to create users: filter only
        errors = _run_client(path, encoding, Server(server.host, server.port, user, password), db, store, advance)
        for line, message in errors:
            store.problems.add(Problem(path.name, sha, line, "restore_error", message, {"error": message}))
        return _read_tables(admin, db, path, sha, store)
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{db}`")
            if host:
                cur.execute("DROP USER IF EXISTS %s@%s", (user, host))
        admin.close()


def _transcoded(path: Path, encoding: str, advance: Callable[[int], None]) -> Iterator[bytes]:
    """The dump as UTF-8 lines, with statements that would leave the scratch database neutralised."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    pending = ""
    with DumpReader(path) as reader:
        while True:
            raw, step = reader.read(CHUNK)
            advance(step)
            text = pending + decoder.decode(raw, final=not raw)
            lines = text.split("\n")
            pending = lines.pop() if raw else ""
            out = []
            for line in lines:
                if len(line) < 1000:
                    if _NEUTRALISE.match(line):
                        line = "-- [chainbreaker] " + line
                    else:
                        line = _SET_NAMES.sub(lambda m: m.group(1) + "utf8mb4", line)
                out.append(line)
            if out:
                yield ("\n".join(out) + "\n").encode("utf-8", errors="replace")
            if not raw:
                if pending:
                    yield pending.encode("utf-8", errors="replace")
                return


def _run_client(path: Path, encoding: str, server: Server, db: str, store: RawStore,
                advance: Callable[[int], None]) -> list[tuple[int, str]]:
    client = shutil.which("mariadb") or shutil.which("mysql")
    assert client is not None
    err_path = store.folder / f"restore-{db}.err"
    env = {**os.environ, "MYSQL_PWD": server.password}
    cmd = [client, f"--host={server.host}", f"--port={server.port}", f"--user={server.user}", "--force",
           "--binary-mode", "--default-character-set=utf8mb4", "--batch", "--silent", db]
    with open(err_path, "wb") as err, subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                                       stderr=err, env=env) as proc:
        assert proc.stdin is not None
        try:
            for piece in _transcoded(path, encoding, advance):
                proc.stdin.write(piece)
            proc.stdin.close()
        except BrokenPipeError:
            pass
        proc.wait()
    errors: list[tuple[int, str]] = []
    with open(err_path, encoding="utf-8", errors="replace") as fh:
        for text in fh:
            m = _ERROR.match(text.strip())
            if m and len(errors) < MAX_ERRORS:
                errors.append((int(m.group(3) or 0), f"ERROR {m.group(1)}: {m.group(4)}"))
    return errors


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):  # BINARY/VARBINARY/BLOB columns: hex, as the parser reads 0x.. literals
        return "0x" + bytes(value).hex().upper() if value else ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | Decimal | int | float | dt.timedelta):
        return str(value)
    return str(value)


def _read_tables(admin: Any, db: str, path: Path, sha: str, store: RawStore) -> list[RawTable]:
    import pymysql.cursors

    out = []
    with admin.cursor() as cur:
        cur.execute("SELECT TABLE_NAME, TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
                    "AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", (db,))
        tables = list(cur.fetchall())
    for name, table_comment in tables:
        with admin.cursor() as cur:
            cur.execute("SELECT COLUMN_NAME, COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
                        "AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION", (db, name))
            cols = [(str(c), str(m or "")) for c, m in cur.fetchall()]
        header = safe_names([c for c, _ in cols])
        raw = RawTable(str(name), f"{path.name}#{name}", path, sha, "mariadb", header, "utf-8",
                       comments={h: m for (_, m), h in zip(cols, header, strict=True) if m},
                       table_comment=str(table_comment or ""))
        buf = store.table(raw.file_name, header)
        with admin.cursor(pymysql.cursors.SSCursor) as cur:
            cur.execute(f"SELECT * FROM `{db}`.`{str(name).replace('`', '``')}`")
            n = 0
            while batch := cur.fetchmany(FETCH):
                for row in batch:
                    n += 1
                    buf.add([_text(v) for v in row], n)
        store.close(buf)
        raw.rows = buf.rows
        raw.register = buf.register()
        out.append(raw)
    return out
