"""Backup and move: the whole history as JSON lines, and back.

``readiness db export`` writes one JSON object per line (UTF-8)::

    {"format": "readiness-history", "format_version": 1, "schema": "0004", "exported_at": ..., "tables": [...]}
    {"table": "reviews", "row": {"id": 1, "created_at": "2026-01-02T03:04:05+00:00", ...}}
    ...                                   (tables parents first, rows by primary key)
    {"end": true, "counts": {"reviews": 3, ...}, "sha256": "<SHA-256 of every line above>"}

Times are ISO 8601 in UTC; binary columns (the signed record bytes) are base64, so the
exact signed bytes and their SHA-256 survive. Ids are kept. The export reads one consistent
snapshot and works on any schema version this code knows (also 0.1.0, to back up before
``readiness db upgrade``).

``readiness db import`` checks the whole file first (format, known schema version, the
closing line's counts and SHA-256, every record's SHA-256), then, in one transaction,
creates the schema at the export's version in an empty database (or one whose history
tables are all empty), inserts every row, and upgrades to this code's schema: a failed
import leaves the target as it was.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from readiness import errors as E
from readiness.migrations import BASELINE, alembic_config, head, revisions
from readiness.store.engine import SchemaError, StoreError, create, display_url, translated
from readiness.store.migrate import V010, inspect_schema, schema_transaction
from readiness.store.schema import VERSION_TABLE

FORMAT = "readiness-history"
FORMAT_VERSION = 1
BATCH = 500


def _line(obj: dict) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")


def _reflect(conn):
    """The history's tables as they are in this database, parents first."""
    from sqlalchemy import MetaData

    md = MetaData()
    md.reflect(bind=conn)
    return [t for t in md.sorted_tables if t.name != VERSION_TABLE]


def _kind(col) -> str:
    from sqlalchemy import Boolean, DateTime, LargeBinary

    t = col.type
    if isinstance(t, LargeBinary):
        return "bytes"
    if isinstance(t, DateTime):
        return "time"
    if isinstance(t, Boolean):
        return "bool"
    return "plain"


def _encode(value, kind: str):
    if value is None:
        return None
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind == "time":
        v = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return (v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)).isoformat()
    if kind == "bool":
        return bool(value)
    return value


def _decode(value, kind: str):
    if value is None:
        return None
    if kind == "bytes":
        return base64.b64decode(value, validate=True)
    if kind == "time":
        return datetime.fromisoformat(value).astimezone(UTC)
    return value


def export_lines(url: str) -> Iterator[bytes]:
    """The history at ``url`` as export lines (see the module doc); :class:`StoreError` if
    it cannot be read or is not a review history."""
    from sqlalchemy import select

    engine = create(url)
    try:
        eng = engine.execution_options(isolation_level="REPEATABLE READ") \
            if engine.dialect.name == "postgresql" else engine
        with translated(url), eng.connect() as conn:
            state = inspect_schema(conn)
            if state.state in ("newer", "foreign", "damaged"):
                raise state.error(url)
            if state.state == "empty":
                raise StoreError(E.DB_CANNOT_OPEN.format(url=display_url(url), detail="it holds no review history"))
            rev = BASELINE if state.state == V010 else state.revision
            tables = _reflect(conn)
            digest = hashlib.sha256()
            counts: dict[str, int] = {}

            def emit(obj):
                data = _line(obj)
                digest.update(data)
                return data

            yield emit({"format": FORMAT, "format_version": FORMAT_VERSION, "schema": rev,
                        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
                        "tables": [t.name for t in tables]})
            for t in tables:
                kinds = {c.name: _kind(c) for c in t.columns}
                order = list(t.primary_key.columns) or list(t.columns)
                counts[t.name] = 0
                for row in conn.execute(select(t).order_by(*order)).mappings():
                    counts[t.name] += 1
                    yield emit({"table": t.name, "row": {k: _encode(v, kinds[k]) for k, v in row.items()}})
            yield _line({"end": True, "counts": counts, "sha256": digest.hexdigest()})
    finally:
        engine.dispose()


def export_history(url: str, out: IO[bytes]) -> dict[str, int]:
    """Write the export to a binary stream; returns the row count per table."""
    data = b"{}"
    for data in export_lines(url):
        out.write(data)
    return json.loads(data)["counts"]  # the closing line


def _read_export(path: Path) -> tuple[dict, dict]:
    """Check a whole export file (nothing written); returns (header, footer)."""
    from readiness.report.canonical import sha256_hex

    shown = str(path)
    digest = hashlib.sha256()
    header = footer = None
    counts: dict[str, int] = {}
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise StoreError(E.DB_EXPORT_BAD.format(path=shown, detail=exc.strerror or "cannot read it")) from None
    with fh:
        for n, data in enumerate(fh, start=1):
            if footer is not None:
                raise StoreError(E.DB_EXPORT_BAD.format(path=shown, detail=f"line {n} follows the closing line"))
            try:
                obj = json.loads(data)
            except (UnicodeDecodeError, ValueError):
                if not data.endswith(b"\n"):
                    raise StoreError(E.DB_EXPORT_INCOMPLETE.format(path=shown, detail=f"line {n} is cut off")) from None
                raise StoreError(E.DB_EXPORT_BAD.format(path=shown, detail=f"line {n} is not JSON")) from None
            if not isinstance(obj, dict):
                raise StoreError(E.DB_EXPORT_BAD.format(path=shown, detail=f"line {n} is not a JSON object"))
            if n == 1:
                if obj.get("format") != FORMAT:
                    raise StoreError(E.DB_EXPORT_BAD.format(path=shown, detail="its first line is not an export header"))
                if obj.get("format_version") != FORMAT_VERSION:
                    raise StoreError(E.DB_EXPORT_BAD.format(
                        path=shown, detail=f"export format {obj.get('format_version')!r} (this version reads "
                                           f"{FORMAT_VERSION})"))
                if obj.get("schema") not in revisions():
                    raise SchemaError(E.DB_SCHEMA_NEWER.format(url=shown, found=obj.get("schema"), head=head()))
                header = obj
                counts = {str(t): 0 for t in obj.get("tables") or []}  # an empty table is counted 0 in the footer
            elif obj.get("end") is True:
                footer = obj
                if obj.get("sha256") != digest.hexdigest() or obj.get("counts") != counts:
                    raise StoreError(E.DB_EXPORT_INCOMPLETE.format(
                        path=shown, detail="its closing line does not match the lines above (changed or cut)"))
                continue
            else:
                table, row = obj.get("table"), obj.get("row")
                if table not in header["tables"] or not isinstance(row, dict):
                    raise StoreError(E.DB_EXPORT_BAD.format(path=shown, detail=f"line {n} names no known table"))
                counts[table] = counts.get(table, 0) + 1
                if table == "records":
                    _check_record(row, shown, sha256_hex)
            digest.update(data)
    if header is None:
        raise StoreError(E.DB_EXPORT_BAD.format(path=shown, detail="it is empty"))
    if footer is None:
        raise StoreError(E.DB_EXPORT_INCOMPLETE.format(path=shown, detail="the closing line is missing"))
    return header, footer


def _check_record(row: dict, shown: str, sha256_hex) -> None:
    try:
        data = base64.b64decode(row.get("record_json") or "", validate=True)
    except ValueError:
        data = b""
    computed = sha256_hex(data)
    if computed != row.get("record_sha256"):
        raise StoreError(E.DB_IMPORT_DIGEST.format(record_id=row.get("record_id"), path=shown,
                                                   stored=str(row.get("record_sha256"))[:16], computed=computed[:16]))


def _rows(path: Path) -> Iterator[tuple[str, dict]]:
    with path.open("rb") as fh:
        next(fh)
        for data in fh:
            obj = json.loads(data)
            if obj.get("end") is True:
                return
            yield obj["table"], obj["row"]


def import_history(url: str, path: Path) -> dict[str, int]:
    """Import an export into an empty history at ``url`` (one transaction); returns the
    row count per table. :class:`StoreError` and nothing written on any problem."""
    from alembic import command
    from sqlalchemy import Integer, func, insert, select, text

    header, footer = _read_export(path)
    rev = header["schema"]
    engine = create(url)
    shown = display_url(url)
    try:
        with schema_transaction(engine) as conn:
            state = inspect_schema(conn)
            if state.state not in ("empty", "current", "older"):
                err = state.error(url) if state.state != V010 else None
                if err is not None:
                    raise err
            cfg = alembic_config(conn)
            if state.state != "empty":
                n = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in _reflect(conn)}
                if any(n.values()):
                    raise StoreError(E.DB_IMPORT_NOT_EMPTY.format(url=shown, n=n.get("reviews", sum(n.values()))))
                if state.state == V010:
                    command.stamp(cfg, BASELINE)
                command.downgrade(cfg, "base")  # empty tables: nothing is lost
            command.upgrade(cfg, rev)
            tables = {t.name: t for t in _reflect(conn)}
            missing = [t for t in header["tables"] if t not in tables]
            if missing:
                raise StoreError(E.DB_EXPORT_BAD.format(path=str(path), detail=f"schema {rev} has no table {missing[0]}"))
            kinds = {name: {c.name: _kind(c) for c in t.columns} for name, t in tables.items()}
            batch: list[dict] = []
            current = None

            def flush():
                if batch:
                    conn.execute(insert(tables[current]), batch)
                    batch.clear()

            for table, row in _rows(path):
                if table != current:
                    flush()
                    current = table
                unknown = set(row) - set(kinds[table])
                if unknown:
                    raise StoreError(E.DB_EXPORT_BAD.format(
                        path=str(path), detail=f"table {table} at schema {rev} has no column {sorted(unknown)[0]}"))
                batch.append({k: _decode(v, kinds[table][k]) for k, v in row.items()})
                if len(batch) >= BATCH:
                    flush()
            flush()
            command.upgrade(cfg, "head")
            if engine.dialect.name == "postgresql":  # ids were given: move the id sequences past them
                for t in _reflect(conn):
                    pk = list(t.primary_key.columns)
                    if len(pk) == 1 and isinstance(pk[0].type, Integer):
                        conn.execute(text(
                            f"SELECT setval(pg_get_serial_sequence(:t, :c), COALESCE(MAX({pk[0].name}), 1), "
                            f"MAX({pk[0].name}) IS NOT NULL) FROM {t.name}"), {"t": t.name, "c": pk[0].name})
    finally:
        engine.dispose()
    return footer["counts"]
