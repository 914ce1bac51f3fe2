"""The database's schema version: what it is, and bringing it to this code's.

States a database can be in (:func:`inspect_schema`):

========== =================================================================== ==============
state      what the database holds                                             on open
========== =================================================================== ==============
empty      no tables                                                           schema created
current    our version table at this code's revision                           used
older      our version table at an earlier revision                            refused: upgrade
v0.1.0     release 0.1.0's four tables, no version table                       refused: upgrade
newer      our version table at a revision this code does not know             refused
foreign    tables that are not a review history (another application's)        refused
damaged    our version table with no row or several rows                       refused
========== =================================================================== ==============

"Refused" is a :class:`~readiness.store.engine.SchemaError` before anything is written.
Creating and upgrading run in one transaction under a lock (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: an advisory lock), re-reading the state once the lock is held: six processes
opening one new database at once create it once, and a migration killed half-way leaves
the database at its previous version.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from readiness import errors as E
from readiness.migrations import BASELINE, alembic_config, head, revisions
from readiness.store.engine import SCHEMA_LOCK_KEY, WRITE, SchemaError, display_url, translated
from readiness.store.schema import VERSION_TABLE

#: Release 0.1.0's tables and their columns, to tell an unversioned 0.1.0 history from a
#: database of another application that happens to have a table called ``reviews``.
V010_TABLES = {
    "reviews": {"id", "created_at", "source", "project", "model_name", "model_version", "title", "review_digest",
                "train_sha256", "test_sha256", "model_sha256", "task", "status", "n_checks", "status_counts",
                "report_json"},
    "holdout_evaluations": {"id", "test_sha256", "review_digest", "review_id", "created_at"},
    "records": {"record_id", "review_id", "created_at", "project", "model_name", "model_version", "review_digest",
                "decision", "conditions", "signers_planned", "record_sha256", "record_json"},
    "signatures": {"id", "record_id", "field", "role", "signer_name", "signer_email", "decision", "note",
                   "signed_at", "cert_sha256", "certified"},
}
V010 = "v0.1.0"


@dataclass(frozen=True)
class SchemaState:
    state: str  # empty | current | older | v0.1.0 | newer | foreign | damaged
    revision: str | None = None  # the version found (None: none recorded)
    detail: str = ""

    @property
    def label(self) -> str:
        """The version as people say it: ``0002``, ``0.1.0 (no version recorded)``, ``none``."""
        if self.state == V010:
            return "0.1.0 (no version recorded)"
        return self.revision or "none"

    def error(self, url: str) -> SchemaError | None:
        """Why this database cannot be written by this code, or None."""
        shown = display_url(url)
        if self.state in ("older", V010):
            return SchemaError(E.DB_SCHEMA_OLDER.format(url=shown, found=self.label, head=head()))
        if self.state == "newer":
            return SchemaError(E.DB_SCHEMA_NEWER.format(url=shown, found=self.revision, head=head()))
        if self.state == "foreign":
            return SchemaError(E.DB_FOREIGN.format(url=shown, detail=self.detail))
        if self.state == "damaged":
            return SchemaError(E.DB_SCHEMA_DAMAGED.format(url=shown, detail=self.detail))
        return None


def read_version(conn) -> list[str]:
    """The revisions in our version table (raises if there is no such table)."""
    from sqlalchemy import text

    return [r for (r,) in conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))]


def inspect_schema(conn) -> SchemaState:
    """What this database holds (see the module's table)."""
    from sqlalchemy import inspect

    insp = inspect(conn)
    names = set(insp.get_table_names())
    if VERSION_TABLE in names:
        found = read_version(conn)
        if len(found) != 1:
            return SchemaState("damaged", detail=f"{len(found)} version rows instead of one")
        rev = found[0]
        if rev == head():
            return SchemaState("current", rev)
        if rev in revisions():
            return SchemaState("older", rev)
        return SchemaState("newer", rev)
    if not names:
        return SchemaState("empty")
    ours = names & set(V010_TABLES)
    if ours == set(V010_TABLES):
        odd = [t for t in sorted(ours) if {c["name"] for c in insp.get_columns(t)} != V010_TABLES[t]]
        if not odd:
            return SchemaState(V010)
        return SchemaState("foreign", detail=f"its table {odd[0]!r} has other columns than a review history's")
    if ours:
        return SchemaState("foreign", detail=f"it has a table {sorted(ours)[0]!r} but not the rest of a review history")
    shown = ", ".join(sorted(names)[:3]) + (", …" if len(names) > 3 else "")
    return SchemaState("foreign", detail=f"{len(names)} table(s) of its own: {shown}")


@contextmanager
def schema_transaction(engine):
    """One write transaction holding the schema lock (SQLite: the write lock itself)."""
    from sqlalchemy import text

    url = engine.url.render_as_string(hide_password=False)
    with translated(url), engine.execution_options(**WRITE).begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK_KEY})
        yield conn


def current_state(engine) -> SchemaState:
    url = engine.url.render_as_string(hide_password=False)
    with translated(url), engine.connect() as conn:
        return inspect_schema(conn)


def ensure_current(engine) -> SchemaState:
    """Open check: create the schema in an empty database; refuse any other state but
    current. Two small queries when the database is current."""
    from sqlalchemy import inspect

    url = engine.url.render_as_string(hide_password=False)
    with translated(url), engine.connect() as conn:  # an unusable database fails here, once
        if inspect(conn).has_table(VERSION_TABLE) and read_version(conn) == [head()]:
            return SchemaState("current", head())
        state = inspect_schema(conn)
    if state.state == "empty":
        return upgrade(engine, create_only=True)[1]
    err = state.error(url)
    if err is not None:
        raise err
    return state


def require_current(conn, url: str) -> None:
    """Inside a write transaction: the schema is still this code's (another process may have
    upgraded the database since this store was opened)."""
    from sqlalchemy.exc import DBAPIError

    try:
        found = read_version(conn)
    except DBAPIError:
        found = []
    if found == [head()]:
        return
    if len(found) == 1:
        state = SchemaState("older" if found[0] in revisions() else "newer", found[0])
    else:
        state = SchemaState("damaged", detail=f"{len(found)} version rows instead of one")
    raise state.error(url)


def upgrade(engine, *, create_only: bool = False, to: str = "head") -> tuple[SchemaState, SchemaState]:
    """Bring the database to this code's schema in one transaction; returns (before, after).

    ``create_only``: only create the schema of an empty database (the open path); any other
    state is left alone and reported by the caller. ``to``: stop at that revision (tests)."""
    from alembic import command

    url = engine.url.render_as_string(hide_password=False)
    with schema_transaction(engine) as conn:
        before = inspect_schema(conn)  # again, now that we hold the lock
        if before.state == "current" or (create_only and before.state != "empty"):
            return before, before
        err = before.error(url)
        if err is not None and before.state not in ("older", V010):
            raise err
        cfg = alembic_config(conn)
        if before.state == V010:
            command.stamp(cfg, BASELINE)
        command.upgrade(cfg, to)
        after = inspect_schema(conn)
    return before, after
