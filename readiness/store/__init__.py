"""Review history: reviews, signed records and signatures in SQLite or PostgreSQL.

- :mod:`readiness.store.core`: :class:`ReviewStore` (reads and writes) and the app's helpers;
- :mod:`readiness.store.schema`: the tables (docs/history.md says what each holds);
- :mod:`readiness.store.migrate`: schema versions and ``readiness db upgrade`` (Alembic;
  the migrations are in ``readiness/migrations/``);
- :mod:`readiness.store.transfer`: ``readiness db export`` / ``import`` (JSON lines);
- :mod:`readiness.store.commands`: the ``readiness db`` subcommands.
"""

from readiness.store.core import (
    SUPERSEDED_EDITED,
    HistoryRow,
    ReviewStore,
    holdout_key,
    holdout_key_for,
    last_error,
    open_store,
    prior_holdout_evaluations,
    record_completed_review,
    shared_store,
    supersede_discarded_report,
)
from readiness.store.engine import (
    DB_ENV,
    DEFAULT_DB_FILE,
    SchemaError,
    StoreError,
    default_url,
    display_url,
    normalize_url,
)

__all__ = [
    "DB_ENV", "DEFAULT_DB_FILE", "SUPERSEDED_EDITED", "HistoryRow", "ReviewStore", "SchemaError", "StoreError", "default_url",
    "display_url", "holdout_key", "holdout_key_for", "last_error", "normalize_url", "open_store",
    "prior_holdout_evaluations", "record_completed_review", "shared_store", "supersede_discarded_report",
]
