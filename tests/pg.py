"""PostgreSQL for the tests: one fresh database per test on the server named by
``READINESS_TEST_PG_URL`` (start one with ``eval "$(.ci/postgres start)"``).

Without the variable the PostgreSQL variants skip, saying how to run them; with
``READINESS_REQUIRE_PG=1`` (CI) a missing server fails instead.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager

import pytest

PG_ENV = "READINESS_TEST_PG_URL"
REQUIRE_ENV = "READINESS_REQUIRE_PG"
HOW = (f"PostgreSQL tests need a server: run `eval \"$(.ci/postgres start)\"` (Debian's postgresql package) "
       f"or set {PG_ENV}=postgresql+psycopg://USER:PASSWORD@HOST:PORT/postgres, with the [postgres] extra installed")


def server_url() -> str:
    """The server URL, or skip (fail under READINESS_REQUIRE_PG=1) with how to get one."""
    url = os.environ.get(PG_ENV, "").strip()
    missing = None
    if not url:
        missing = HOW
    else:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            missing = f"{HOW} (psycopg is not installed: pip install -e '.[postgres]')"
    if missing:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but no PostgreSQL: {missing}")
        pytest.skip(missing)
    return url


def _admin(url: str):
    from sqlalchemy import create_engine

    return create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 10})


@contextmanager
def fresh_database(prefix: str = "readiness_test"):
    """A new, empty database on the test server; dropped afterwards (connections and all)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    server = server_url()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = _admin(server)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_sql_file(url: str, path) -> None:
    """Run a plain SQL script (e.g. a pg_dump --inserts file) in one transaction."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    with psycopg.connect(host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database) as conn:
        conn.execute(open(path, encoding="utf-8").read())
