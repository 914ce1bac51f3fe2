"""``readiness db``: the review history's schema, backup and move.

    readiness db current [--db URL]          the schema version (reads only)
    readiness db upgrade [--db URL]          bring the history to this version's schema
    readiness db export  [--db URL] [-o F]   the whole history as JSON lines (stdout by default)
    readiness db import  FILE [--db URL]     load an export into an empty history

Exit codes: 0 done; 2 bad input or a database that cannot be used (one line on stderr).
Registered from :mod:`readiness.cli` by :func:`add_db_command`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from readiness import errors as E

EXIT_OK = 0
DB_HELP = "review history: SQLAlchemy URL or SQLite file (default: $READINESS_DB or ./reviews.db)"


def add_db_command(sub) -> None:
    d = sub.add_parser("db", help="review history database: schema version, upgrade, export and import")
    dsub = d.add_subparsers(dest="db_command", required=True, parser_class=type(d))
    c = dsub.add_parser("current", help="print the history's schema version (changes nothing)")
    u = dsub.add_parser("upgrade", help="bring the history to this version's schema, in place, in one transaction")
    x = dsub.add_parser("export", help="write the whole history as JSON lines (ids, exact record bytes, digests)")
    x.add_argument("-o", "--output", type=Path, metavar="FILE.jsonl", help="write here (default: stdout)")
    i = dsub.add_parser("import", help="load an export into an empty history (then upgrade it to this version)")
    i.add_argument("file", type=Path, metavar="FILE.jsonl")
    for p in (c, u, x, i):
        p.add_argument("--db", metavar="URL", help=DB_HELP)


def _url(a) -> str:
    from readiness.store.engine import default_url, normalize_url

    return normalize_url(a.db) if a.db else default_url()


def _missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file ``url`` names, when it does not exist (connecting would create it)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.split(":///", 1)[1].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" and not Path(path).exists() else None


def _counts(counts: dict[str, int]) -> str:
    from readiness.store.schema import TABLES

    order = [t.name for t in TABLES]
    names = sorted(counts, key=lambda t: (order.index(t) if t in order else len(order), t))
    return ", ".join(f"{t.replace('_', ' ')}: {counts[t]}" for t in names)


def cmd_current(a) -> int:
    from readiness.migrations import head
    from readiness.store.engine import create, display_url
    from readiness.store.migrate import current_state

    url = _url(a)
    shown = display_url(url)
    if _missing_sqlite_file(url):
        print(f"{shown}: no review history yet (no such file); it is created at schema {head()} on first use.")
        return EXIT_OK
    engine = create(url)
    try:
        state = current_state(engine)
    finally:
        engine.dispose()
    if state.state == "empty":
        print(f"{shown}: no review history yet; it is created at schema {head()} on first use.")
    elif state.state == "current":
        print(f"{shown}: schema {state.revision} (current)")
    elif state.state in ("older", "v0.1.0"):
        print(f"{shown}: schema {state.label}, older than this version's {head()}: run `readiness db upgrade`.")
    else:
        raise state.error(url)
    return EXIT_OK


def cmd_upgrade(a) -> int:
    from readiness.store.engine import create, display_url
    from readiness.store.migrate import upgrade

    url = _url(a)
    engine = create(url)
    try:
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    shown = display_url(url)
    if before.state == "current":
        print(f"{shown}: already at schema {after.revision} (current); nothing to do.")
    elif before.state == "empty":
        print(f"{shown}: created the review history at schema {after.revision}.")
    else:
        print(f"{shown}: upgraded from schema {before.label} to {after.revision}.")
    return EXIT_OK


def cmd_export(a) -> int:
    from readiness.store.engine import StoreError, display_url
    from readiness.store.transfer import export_history

    url = _url(a)
    if _missing_sqlite_file(url):
        raise StoreError(E.DB_CANNOT_OPEN.format(url=display_url(url), detail="no such file"))
    if a.output is None:
        counts = export_history(url, sys.stdout.buffer)
        sys.stdout.flush()
    else:
        tmp = a.output.with_name(a.output.name + ".part")
        try:
            a.output.parent.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as fh:
                counts = export_history(url, fh)
                fh.flush()
                os.fsync(fh.fileno())
            tmp.replace(a.output)
        except OSError as exc:
            raise StoreError(f"Cannot write the export to {a.output}: {exc.strerror}.") from None
        finally:
            tmp.unlink(missing_ok=True)
    print(f"Exported {_counts(counts)} from {display_url(url)}"
          + (f" to {a.output}." if a.output else "."), file=sys.stderr)
    return EXIT_OK


def cmd_import(a) -> int:
    from readiness.store.engine import display_url
    from readiness.store.transfer import import_history

    url = _url(a)
    counts = import_history(url, a.file)
    print(f"Imported {_counts(counts)} into {display_url(url)}.")
    return EXIT_OK


def cmd_db(a) -> int:
    return {"current": cmd_current, "upgrade": cmd_upgrade, "export": cmd_export, "import": cmd_import}[a.db_command](a)


HANDLERS = {"db": cmd_db}
