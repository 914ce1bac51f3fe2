"""A separate process writing to (or reading) the review history, for the concurrency tests.

    python tests/store_worker.py MODE JSON_ARGS

Workers that must start together wait on a file barrier (each writes ``<dir>/ready-<i>``
and waits for all) after their imports, so their database work starts within milliseconds.
Each prints one JSON line with what it did.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def barrier(folder: str, me: int, parties: int, timeout: float = 120.0) -> None:
    d = Path(folder)
    (d / f"ready-{me}").write_text("")
    end = time.monotonic() + timeout
    while len(list(d.glob("ready-*"))) < parties:
        if time.monotonic() > end:
            raise SystemExit("barrier timeout")
        time.sleep(0.002)


def _report(path: str):
    from readiness.results import ReviewReport

    return ReviewReport.model_validate_json(Path(path).read_text(encoding="utf-8"))


def _statement(record, data, *, field, role, name, cert):
    from readiness.report.canonical import Outcome, Statement, sha256_hex

    return Statement(field=field, role=role, signer_name=name, signer_email=None, decision=Outcome.APPROVE, note="",
                     signed_at="2026-01-02T03:04:05+00:00", record_id=record.record_id,
                     record_sha256=sha256_hex(data), cert_sha256=cert, record_cms="")


def write(a: dict) -> dict:
    """Open the (maybe new) history at the barrier, then record reviews, records and signatures.
    Digests are shared between workers: the same inputs reviewed at the same time."""
    from readiness.report.canonical import new_record, record_bytes
    from readiness.store import open_store

    report = _report(a["report"])
    barrier(a["barrier"], a["index"], a["parties"])
    store = open_store(a["url"])
    done = []
    for k in range(a["n"]):
        project = f"worker {a['index']} review {k}"
        digest = f"{k:064d}"
        review_id = store.record_review(report, review_digest=digest, project=project, test_sha256="holdout")
        record = new_record(report, project=project, model_version=str(k), review_digest=digest)
        data = record_bytes(record)
        store.save_record(record, data)  # linked to review_id: this store recorded it
        store.add_signature(_statement(record, data, field="Sig1", role="Data scientist", name=project,
                                       cert=f"{a['index']:02d}" * 32), certified=True)
        done.append({"review_id": review_id, "record_id": record.record_id, "project": project})
    store.close()
    return {"done": done}


def sign(a: dict) -> dict:
    """Sign the same unsigned report as the other signer (before the barrier), then record
    the signature, and with it the record, at the same moment."""
    from readiness.report.sign import read_record, sign_report
    from readiness.store import StoreError, open_store

    result = sign_report(Path(a["pdf"]).read_bytes(), key=Path(a["key"]).read_bytes(),
                         cert=Path(a["cert"]).read_bytes(), role=a["role"], decision="approve")
    data, record = read_record(result.pdf)
    barrier(a["barrier"], a["index"], a["parties"])
    store = open_store(a["url"])
    try:
        store.add_signature(result.statement, certified=result.certified, record=record, data=data)
        outcome = "recorded"
    except StoreError as exc:
        outcome = f"refused: {exc}"
    store.close()
    return {"outcome": outcome, "field": result.statement.field, "cert_sha256": result.statement.cert_sha256}


def read(a: dict) -> dict:
    """List the history over and over while writers write; check every snapshot."""
    from readiness.store import open_store

    barrier(a["barrier"], a["index"], a["parties"])
    problems: list[str] = []
    snapshots, last = 0, (0, 0)
    stop = Path(a["stop"])
    store = None
    while True:
        stopping = stop.exists()
        try:  # opened at the barrier, while the writers create the schema
            store = store or open_store(a["url"])
            rows = store.history(limit=10_000)
        except Exception as exc:
            problems.append(f"{type(exc).__name__}: {exc}")
            break
        snapshots += 1
        ids = [r.review_id for r in rows]
        if len(ids) != len(set(ids)):
            problems.append(f"a review listed twice in snapshot {snapshots}")
        for r in rows:
            if r.record_id and r.status is None:
                problems.append(f"record {r.record_id} listed without its review")
            if len(r.signatures) > 1:
                problems.append(f"record {r.record_id} with {len(r.signatures)} signatures")
        now = (len(rows), sum(len(r.signatures) for r in rows))
        if now < last:
            problems.append(f"the history shrank from {last} to {now}")
        last = now
        if stopping:
            break
    if store is not None:
        store.close()
    return {"snapshots": snapshots, "problems": problems[:5], "last": last}


def crash(a: dict) -> dict:
    """Record one review; on "go", start another and wait to be killed in its middle (after
    the statement ``a["pause_after"]`` starts has run, before the commit)."""
    from sqlalchemy import event

    from readiness.report.canonical import new_record, record_bytes
    from readiness.store import open_store

    report = _report(a["report"])
    folder = Path(a["barrier"])
    store = open_store(a["url"])
    store.record_review(report, review_digest="a" * 64, project="before the crash", test_sha256="holdout")
    (folder / "first").write_text("")
    while not (folder / "go").exists():
        time.sleep(0.01)

    @event.listens_for(store.engine, "after_cursor_execute")
    def pause(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(a["pause_after"].upper()):
            (folder / "mid").write_text("")
            time.sleep(600)

    if a["what"] == "review":
        store.record_review(report, review_digest="b" * 64, project="killed", test_sha256="holdout")
    else:  # a report signed elsewhere: its review and record in one transaction
        record = new_record(report, project="killed", model_version="9", review_digest="c" * 64)
        store.save_record(record, record_bytes(record))
    return {"error": "not killed"}


def migrate(a: dict) -> dict:
    """Upgrade the history, pausing (to be killed) after one statement of the migration."""
    from sqlalchemy import event

    from readiness.store.engine import create
    from readiness.store.migrate import upgrade

    folder = Path(a["barrier"])
    engine = create(a["url"])

    @event.listens_for(engine, "after_cursor_execute")
    def pause(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(a["pause_after"].upper()):
            (folder / "mid").write_text("")
            time.sleep(600)

    upgrade(engine)
    return {"error": "not killed"}


if __name__ == "__main__":
    mode, args = sys.argv[1], json.loads(sys.argv[2])
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    out = {"write": write, "sign": sign, "read": read, "crash": crash, "migrate": migrate}[mode](args)
    print(json.dumps(out))
