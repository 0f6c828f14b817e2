"""Alembic environment of the ops database; run programmatically by :mod:`chainbreaker.ops.migrate`.

The caller hands over an open connection in ``config.attributes["connection"]``; there is no
alembic.ini and no URL here, so the same migrations run on SQLite and PostgreSQL.
"""

from __future__ import annotations

from alembic import context

from chainbreaker.ops.db import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
