"""Alembic migrations of the review history (env, template and versions, shipped as package data).

Revisions are numbered: ``versions/NNNN_what_changes.py`` holds ``revision = "NNNN"`` and
``down_revision`` = the previous number; the chain is linear and its last file is the
schema this code reads and writes. ``python -m readiness.migrations new "what changes"``
writes the next file (see docs/history.md); ``tests/test_store_migrations.py`` checks the
chain, the numbering, and that the last revision builds exactly ``readiness.store.schema``.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
VERSIONS = HERE / "versions"
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.py$")

#: The first revision: the tables of release 0.1.0 exactly as it created them (without a
#: version table). ``readiness db upgrade`` stamps such a database with it, then upgrades.
BASELINE = "0001"


@cache
def revisions() -> tuple[str, ...]:
    """All revision ids, oldest first, from the file names (no Alembic import: this runs on
    every open of the history)."""
    ids = sorted(m.group(1) for p in VERSIONS.iterdir() if (m := _NAME.match(p.name)))
    return tuple(ids)


def head() -> str:
    """The schema version this code reads and writes."""
    return revisions()[-1]


def alembic_config(connection=None):
    """An Alembic config over this package (no alembic.ini); ``connection`` is used as is,
    inside its transaction."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.attributes["connection"] = connection
    return cfg
