"""Schema migrations of the ops database (Alembic, packaged with the product, run programmatically).

``upgrade(engine)`` brings any database to the newest revision: an empty one, one at an earlier
revision, and one created before migrations existed (the key-person register tables made by
``create_all``), which is first stamped ``0001_base`` because that revision is exactly those tables.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from chainbreaker.core.errors import WorkspaceError

BASE_REVISION = "0001_base"
HEAD = "head"


def _config(connection: object | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as con:
        return MigrationContext.configure(con).get_current_revision()


def upgrade(engine: Engine, revision: str = HEAD) -> str | None:
    """Upgrade the database to ``revision`` (default: the newest); returns the revision reached."""
    try:
        with engine.begin() as con:
            cfg = _config(con)
            have = MigrationContext.configure(con).get_current_revision()
            if have is None and inspect(con).has_table("register_person"):
                command.stamp(cfg, BASE_REVISION)  # made by create_all before migrations existed
            command.upgrade(cfg, revision)
    except Exception as exc:
        if isinstance(exc, WorkspaceError):
            raise
        raise WorkspaceError(
            f"无法升级案件数据库结构（{type(exc).__name__}：{exc}）。请检查数据库连接与权限。",
            f"Could not upgrade the ops database schema ({type(exc).__name__}: {exc}). "
            "Check the database connection and permissions.") from exc
    return current_revision(engine)
