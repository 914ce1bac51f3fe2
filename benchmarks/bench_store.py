"""Time the review history: opening it, recording, listing, export and import.

    python benchmarks/bench_store.py [--reviews 200] [--pg postgresql+psycopg://user:pw@host:port/postgres]

On a new SQLite file (and, with --pg, a new PostgreSQL database created and dropped on
that server): the first open (schema created by the migrations), a later open, recording
``--reviews`` reviews each with a record and a signature (three transactions per review,
as the CLI does), one history listing, an export and an import into a second new database.
A script, not a timed test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def _timed(label: str, fn, per: int | None = None):
    start = time.perf_counter()
    out = fn()
    s = time.perf_counter() - start
    print(f"  {label:<38} {s * 1000:9.1f} ms" + (f"  ({s / per * 1000:.2f} ms each)" if per else ""))
    return out


def run(url: str, other: str, n: int, tmp: Path) -> None:
    from store_helpers import small, statement

    from readiness.report.canonical import new_record, record_bytes
    from readiness.store import ReviewStore
    from readiness.store.transfer import export_history, import_history

    ctx, report = small()
    _timed("first open (schema created)", lambda: ReviewStore(url).close())
    store = _timed("open (schema current)", lambda: ReviewStore(url))

    def record_all():
        for k in range(n):
            rid = store.record_review(report, review_digest=f"{k:064d}", project=f"p{k % 7}", test_sha256="t")
            record = new_record(report, project=f"p{k % 7}", model_version=str(k), review_digest=f"{k:064d}")
            data = record_bytes(record)
            store.save_record(record, data, review_id=rid)
            store.add_signature(statement(record, data), certified=True)

    _timed(f"record {n} reviews + records + signatures", record_all, per=n)
    rows = _timed("history listing", lambda: store.history(limit=10_000))
    assert len(rows) == n
    store.close()
    path = tmp / "export.jsonl"
    with path.open("wb") as fh:
        _timed("export", lambda: export_history(url, fh))
    print(f"  {'export size':<38} {path.stat().st_size / 1e6:9.2f} MB")
    _timed("import into a new database", lambda: import_history(other, path))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--reviews", type=int, default=200)
    p.add_argument("--pg", help="PostgreSQL server URL (a database is created and dropped)")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite")
        run(f"sqlite:///{tmp}/a.db", f"sqlite:///{tmp}/b.db", a.reviews, Path(tmp))
        if a.pg:
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            admin = create_engine(a.pg, isolation_level="AUTOCOMMIT")
            names = [f"bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
            with admin.connect() as conn:
                for name in names:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                urls = [make_url(a.pg).set(database=n).render_as_string(hide_password=False) for n in names]
                print("PostgreSQL")
                run(urls[0], urls[1], a.reviews, Path(tmp))
            finally:
                with admin.connect() as conn:
                    for name in names:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
