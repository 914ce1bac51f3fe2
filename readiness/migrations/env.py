"""Alembic environment: always online, on the connection (and transaction) the store hands in.

The caller (:func:`readiness.store.migrate.upgrade`) holds the schema lock and the
transaction, so a migration is applied entirely or not at all, and concurrent openers of a
new database wait for it instead of racing to create the same tables.
"""

from alembic import context

from readiness.store.schema import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - a developer running bare `alembic`
    raise SystemExit("Use `readiness db upgrade` (or python -m readiness.migrations) instead of bare alembic.")
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE,
                  render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
