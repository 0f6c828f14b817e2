"""Migrations: an empty database, a database at the previous revision and a pre-migration database
all reach the newest revision with every model's table."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from chainbreaker.ops import migrate
from chainbreaker.ops.db import Base

HEAD = "0008_web_rate_limit"


def _tables(engine) -> set[str]:  # type: ignore[no-untyped-def]
    return {t for t in inspect(engine).get_table_names() if t != "alembic_version"}


def _model_tables() -> set[str]:
    import chainbreaker.ops.accounts_models  # noqa: F401
    import chainbreaker.ops.casework_models  # noqa: F401
    import chainbreaker.ops.register_models  # noqa: F401
    import chainbreaker.ops.rewards_models  # noqa: F401
    import chainbreaker.ops.sharing_models  # noqa: F401
    import chainbreaker.ops.tips_models  # noqa: F401

    return set(Base.metadata.tables)


def test_empty_database_upgrades_to_head(db_url: str) -> None:
    engine = create_engine(db_url)
    assert migrate.upgrade(engine) == migrate.head_revision() == HEAD
    assert _tables(engine) == _model_tables()
    assert migrate.upgrade(engine) == HEAD  # running it again changes nothing
    engine.dispose()


def test_database_at_previous_revision_upgrades_and_keeps_rows(db_url: str) -> None:
    engine = create_engine(db_url)
    migrate.upgrade(engine, "0001_base")
    assert migrate.current_revision(engine) == "0001_base"
    assert not any(t.startswith("ops_") for t in _tables(engine))
    with engine.begin() as con:
        con.execute(text("INSERT INTO register_person (id, person_key, status, created_at, updated_at, created_by) "
                          "VALUES (1, 'ID:X', '线索', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'test')"))
    assert migrate.upgrade(engine) == HEAD
    assert _tables(engine) == _model_tables()
    with engine.connect() as con:
        assert con.execute(text("SELECT person_key FROM register_person")).scalar_one() == "ID:X"
    engine.dispose()


def test_database_at_the_casework_revision_upgrades_and_keeps_cases(db_url: str) -> None:
    engine = create_engine(db_url)
    migrate.upgrade(engine, "0002_casework")
    assert "ops_tip" not in _tables(engine)
    with engine.begin() as con:
        con.execute(text("INSERT INTO ops_case (id, number, name, supervision, status, created_at) "
                          "VALUES (1, 'A-1', '案', '部督', '立案侦查', CURRENT_TIMESTAMP)"))
    assert migrate.upgrade(engine) == HEAD
    assert _tables(engine) == _model_tables()
    with engine.connect() as con:
        assert con.execute(text("SELECT supervision FROM ops_case")).scalar_one() == "部督"
    engine.dispose()


def test_database_made_before_migrations_is_stamped_then_upgraded(db_url: str) -> None:
    engine = create_engine(db_url)
    register = [t for name, t in Base.metadata.tables.items() if name.startswith("register_")]
    Base.metadata.create_all(engine, tables=register)  # how ops/db.py made the register before 0001
    assert migrate.current_revision(engine) is None
    assert migrate.upgrade(engine) == HEAD
    assert _tables(engine) == _model_tables()
    engine.dispose()


def test_migrations_match_the_models(db_url: str) -> None:
    """Autogenerate finds nothing to add: the migrations create exactly what the models declare."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(db_url)
    migrate.upgrade(engine)
    _model_tables()
    with engine.connect() as con:
        diff = compare_metadata(MigrationContext.configure(con), Base.metadata)
    assert diff == []
    engine.dispose()


def test_downgrade_to_base_and_up_again(db_url: str) -> None:
    from alembic import command

    engine = create_engine(db_url)
    migrate.upgrade(engine)
    with engine.begin() as con:
        command.downgrade(migrate._config(con), migrate.BASE_REVISION)
    assert migrate.current_revision(engine) == "0001_base"
    assert not any(t.startswith("ops_") for t in _tables(engine))
    assert migrate.upgrade(engine) == HEAD
    engine.dispose()


def test_every_earlier_revision_upgrades_to_head(db_url: str) -> None:
    """Each database a user may hold today (at any earlier revision) reaches the newest one."""
    from alembic.script import ScriptDirectory

    revisions = [r.revision for r in ScriptDirectory.from_config(migrate._config()).walk_revisions()][::-1]
    assert revisions[0] == "0001_base" and revisions[-1] == HEAD
    for earlier in revisions[:-1]:
        engine = create_engine(db_url)
        with engine.begin() as con:
            from alembic import command

            command.downgrade(migrate._config(con), "base")
        migrate.upgrade(engine, earlier)
        assert migrate.current_revision(engine) == earlier
        assert migrate.upgrade(engine) == HEAD
        assert _tables(engine) == _model_tables()
        engine.dispose()
