"""Developer helper: write the next migration.

    python -m readiness.migrations new "records: superseded flag"

Change ``readiness/store/schema.py`` first: the new file (``versions/NNNN_<slug>.py``, the
next number, after the current last one) then holds the operations Alembic's autogenerate
finds between the current migrations and ``schema.py``, computed on a throwaway SQLite
database. Review them (autogenerate does not see renames, and data moves are yours to
write), then follow docs/history.md, "Adding a migration".
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path


def new_revision(message: str, *, directory: Path | None = None) -> Path:
    """Write ``versions/NNNN_<slug>.py`` after the current head; returns its path."""
    from alembic import command

    from readiness.migrations import HERE, alembic_config, head
    from readiness.store.engine import create
    from readiness.store.migrate import schema_transaction

    rev = f"{int(head()) + 1:04d}"
    with tempfile.TemporaryDirectory() as tmp:
        engine = create(f"sqlite:///{Path(tmp) / 'head.db'}")
        try:
            with schema_transaction(engine) as conn:
                cfg = alembic_config(conn)
                if directory is not None:
                    cfg.set_main_option("script_location", str(directory))
                command.upgrade(cfg, "head")
                script = command.revision(cfg, message=message, autogenerate=True, rev_id=rev)
        finally:
            engine.dispose()
    path = Path(script.path)
    if directory is None and path.parent != HERE / "versions":  # pragma: no cover - misconfigured
        raise SystemExit(f"wrote {path} outside readiness/migrations/versions")
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m readiness.migrations", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    n = sub.add_parser("new", help="write the next migration from the difference to readiness/store/schema.py")
    n.add_argument("message", help="what changes, e.g. 'records: superseded flag'")
    a = p.parse_args(argv)
    path = new_revision(a.message)
    print(f"wrote {path}: review it, then add an upgrade test (docs/history.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
