"""Alembic environment: migrations run on the connection Database.migrate passes in."""

from alembic import context

from plenary.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "Run migrations through Plenary (`plenary migrate`), which supplies the connection."
    )
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
context.run_migrations()
