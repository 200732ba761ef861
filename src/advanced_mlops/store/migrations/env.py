"""Alembic environment: runs on the connection handed over by `store.engine.upgrade`."""

from alembic import context

from advanced_mlops.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic` CLI use: build one from the configured URL
    from advanced_mlops.settings import Settings
    from advanced_mlops.store.engine import get_engine

    connection = get_engine(Settings().store.url).connect()

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
