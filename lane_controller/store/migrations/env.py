"""Alembic environment for the lane store.

``lane_controller.store.migrate`` passes an open connection through ``config.attributes["connection"]``.
Run from the ``alembic`` command line instead, the URL comes from ``sqlalchemy.url`` or, failing that,
from ``$LANE_CONTROLLER_DB`` / the default SQLite file.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from lane_controller.store.db import create_engine_for, resolve_db_url
from lane_controller.store.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=resolve_db_url(config.get_main_option("sqlalchemy.url")),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine_for(resolve_db_url(config.get_main_option("sqlalchemy.url")))
    try:
        with engine.connect() as own_connection:
            _configure(own_connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
