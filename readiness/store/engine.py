"""Where the history lives: URLs, engines, transactions and one-line database errors.

Transactions:

- **SQLite** runs in the rollback-journal mode with ``synchronous=FULL`` and foreign keys
  on. The driver's own transaction handling is switched off and every transaction is begun
  explicitly: reads with ``BEGIN`` (a consistent snapshot for all their statements),
  writes with ``BEGIN IMMEDIATE`` (the write lock is taken first, so two writers queue on
  the busy timeout instead of one failing with "database is locked" when it upgrades a read
  lock). DDL is transactional too, so a schema created or migrated in one transaction is
  all there or not at all.
- **PostgreSQL** runs writes in READ COMMITTED (unique constraints settle races, see
  :mod:`readiness.store.core`), multi-statement reads (history, export) in REPEATABLE READ,
  and schema changes under a transaction-scoped advisory lock.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path

from readiness import errors as E
from readiness.errors import ReadinessError

DB_ENV = "READINESS_DB"
DEFAULT_DB_FILE = "reviews.db"
SQLITE_BUSY_TIMEOUT_S = 60
PG_CONNECT_TIMEOUT_S = 10
#: Key of the PostgreSQL advisory lock held while the schema is created or migrated.
SCHEMA_LOCK_KEY = 0x7265616479  # "ready"

WRITE = {"readiness_write": True}


class StoreError(ReadinessError):
    """The review history database cannot be opened or written."""


class SchemaError(StoreError):
    """The database's schema is not this code's: older, newer, damaged or another application's.

    Always bad input (exit 2), even for the default history: writing around it would lose
    the review's place in the history or corrupt someone else's tables."""


def default_url() -> str:
    return normalize_url(os.environ.get(DB_ENV) or DEFAULT_DB_FILE)


def normalize_url(text: str | os.PathLike) -> str:
    """A SQLAlchemy URL as is (``postgresql://`` and ``postgres://`` get psycopg 3);
    a file path becomes ``sqlite:///<absolute path>``."""
    s = str(text).strip()
    if not s:
        raise StoreError(E.DB_URL_EMPTY)
    if "://" in s:
        return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", s)
    return f"sqlite:///{Path(s).expanduser().resolve()}"


def display_url(url: str) -> str:
    """The URL without a password, for messages and the app."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def _one_line(text: object, limit: int = 200) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def create(url: str):
    """An engine for ``url`` with this module's transaction rules; :class:`StoreError` if the
    URL or its driver is unusable. Connects lazily."""
    from sqlalchemy import create_engine, event

    kwargs: dict = {}
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1].split("?", 1)[0]
        if path and path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(E.DB_CANNOT_OPEN.format(url=display_url(url), detail=exc.strerror)) from None
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
    elif url.startswith("postgresql"):
        kwargs["connect_args"] = {"connect_timeout": PG_CONNECT_TIMEOUT_S}
        kwargs["pool_pre_ping"] = True  # a server restarted under a long-running app
    try:
        engine = create_engine(url, **kwargs)
    except ModuleNotFoundError as exc:
        hint = E.DB_DRIVER_HINT_PG if url.startswith("postgresql") else E.DB_DRIVER_HINT_OTHER
        raise StoreError(E.DB_DRIVER_MISSING.format(url=display_url(url), driver=exc.name, hint=hint)) from None
    except Exception as exc:
        raise StoreError(E.DB_URL_BAD.format(url=display_url(url), detail=_one_line(exc))) from None
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # we begin every transaction ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=FULL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("readiness_write")
                                 else "BEGIN")
    return engine


@contextmanager
def translated(url: str):
    """Turn driver errors into one-line :class:`StoreError` messages (integrity errors pass:
    callers settle races with them)."""
    from sqlalchemy.exc import DBAPIError, IntegrityError

    try:
        yield
    except IntegrityError:
        raise
    except DBAPIError as exc:
        raise StoreError(describe(exc, url)) from None


def describe(exc: BaseException, url: str) -> str:
    """One line naming what is wrong with the database and what to do."""
    shown = display_url(url)
    orig = getattr(exc, "orig", None) or exc
    text = str(orig)
    first = _one_line(text.strip().splitlines()[0] if text.strip() else type(orig).__name__)
    low = text.lower()
    if "password authentication failed" in low or "no password supplied" in low or "authentication failed" in low:
        return E.DB_AUTH_FAILED.format(url=shown, detail=first)
    if re.search(r'database "[^"]*" does not exist', text):
        return E.DB_MISSING.format(url=shown)
    if any(s in low for s in ("connection refused", "could not translate host name", "timeout expired",
                              "could not connect", "no route to host", "name or service not known",
                              "connection timed out", "server closed the connection")):
        return E.DB_UNREACHABLE.format(url=shown, detail=first)
    if "file is not a database" in low:
        return E.DB_NOT_A_DATABASE.format(url=shown)
    if "database is locked" in low:
        return E.DB_CANNOT_OPEN.format(url=shown, detail=f"{first} (another process held it for over "
                                                          f"{SQLITE_BUSY_TIMEOUT_S} s)")
    return E.DB_CANNOT_OPEN.format(url=shown, detail=first)
