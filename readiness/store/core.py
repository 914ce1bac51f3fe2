"""Review history: every completed review, signed record and signature, in a real database.

SQLite file by default (``READINESS_DB`` or ``./reviews.db``); PostgreSQL for a team
(``postgresql+psycopg://user:password@host/db``, the ``[postgres]`` extra). The tables are
in :mod:`readiness.store.schema` and documented in docs/history.md; their version is kept
by Alembic (:mod:`readiness.store.migrate`).

Every write is one transaction that first checks the schema version, so a crash in the
middle of a write rolls that write back, and an older or newer schema is refused before
anything is written. Concurrent writers never lose a write: SQLite queues them on its
write lock; on PostgreSQL the unique constraints decide a race, and the loser re-reads
what the winner stored (the same record or signature: nothing to do; a different one:
a one-line :class:`StoreError`).

A record is linked to the review it was built from by that review's own id: the id
:meth:`ReviewStore.record_review` returned (passed as ``review_id=``, or remembered by this
store for the review digest it recorded), never by looking the digest up — two reviews of
the same inputs, run at the same time, would otherwise share (or swap) records.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from readiness import errors as E
from readiness.store import schema as S
from readiness.store.engine import (
    WRITE,
    StoreError,
    create,
    default_url,
    display_url,
    normalize_url,
    translated,
)


def holdout_key(inputs) -> str | None:
    """Identity of the holdout: its file's SHA-256, or for one file with a split column,
    that file's SHA-256 plus the column (``<sha>:split=<col>``)."""
    by_role = {getattr(f, "role", None) or f.get("role"): f for f in inputs}
    test = by_role.get("test")
    if test is not None:
        return getattr(test, "sha256", None) or test.get("sha256")
    return None


def holdout_key_for(ctx) -> str | None:
    key = holdout_key(ctx.input_files)
    if key is None and ctx.roles.split_column:
        train = next((f for f in ctx.input_files if f.role == "train"), None)
        if train is not None:
            key = f"{train.sha256}:split={ctx.roles.split_column}"
    return key


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes (we store UTC); PostgreSQL aware ones in the
    session's zone. Both become aware UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value).isoformat(timespec="seconds")
    return str(value)


def _parse_time(text: str | None) -> datetime:
    if not text:
        return _now()
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return _now()
    return as_utc(dt)  # stored as UTC: SQLite keeps wall-clock time and drops the offset


@dataclass
class HistoryRow:
    review_id: int | None
    created_at: str
    project: str | None
    model_name: str | None
    model_version: str | None
    status: str | None
    record_id: str | None
    decision: str | None
    conditions: list[str]
    signatures: list[dict]
    signers_planned: list[str]
    test_sha256: str | None
    source: str | None
    superseded_at: str | None = None  # a discarded report: when, and why (never a standing decision)
    superseded_reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def decision_text(self) -> str:
        """The decision as the history shows it: a superseded report's decision is not in force."""
        from readiness.report.canonical import outcome_word

        if not self.record_id:
            return "no report"
        if self.superseded_at:
            return f"superseded, not in force (was {outcome_word(self.decision)})"
        return outcome_word(self.decision)


class ReviewStore:
    """The review history in one database. Cheap to create; one engine per store.

    Opening checks the schema: an empty database gets the current schema; an older, newer
    or foreign one raises :class:`SchemaError` (nothing is written)."""

    def __init__(self, url: str | None = None):
        from readiness.store.migrate import ensure_current

        self.url = normalize_url(url) if url else default_url()
        self.engine = create(self.url)
        self.md = S.metadata
        self.reviews, self.holdout, self.records, self.signatures = (
            S.reviews, S.holdout_evaluations, S.records, S.signatures)
        self.batches_table = S.monitor_batches
        self._writer = self.engine.execution_options(**WRITE)
        self._reader = (self.engine.execution_options(isolation_level="REPEATABLE READ")
                        if self.engine.dialect.name == "postgresql" else self.engine)
        self._recorded: dict[str, int] = {}  # review digest -> id of the review this store recorded
        try:
            self.schema = ensure_current(self.engine)
        except BaseException:
            self.engine.dispose()
            raise

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def display_url(self) -> str:
        return display_url(self.url)

    # --- transactions ------------------------------------------------------------------------------
    @contextmanager
    def _write(self):
        """One write transaction, refused unless the schema is still this code's."""
        from readiness.store.migrate import require_current

        with translated(self.url), self._writer.begin() as conn:
            require_current(conn, self.url)
            yield conn

    @contextmanager
    def _read(self):
        """A consistent snapshot for several statements (PostgreSQL: REPEATABLE READ;
        SQLite: one deferred transaction)."""
        with translated(self.url), self._reader.connect() as conn:
            yield conn

    # --- holdout reuse ---------------------------------------------------------------------------
    def holdout_evaluation_count(self, test_sha256: str | None, *, exclude_digest: str | None = None) -> int:
        """Distinct earlier evaluations of this holdout (re-runs of one review count once;
        ``exclude_digest`` leaves out the review about to run)."""
        from sqlalchemy import func, select

        if not test_sha256:
            return 0
        q = select(func.count()).select_from(self.holdout).where(self.holdout.c.test_sha256 == test_sha256)
        if exclude_digest:
            q = q.where(self.holdout.c.review_digest != exclude_digest)
        with self._read() as conn:
            return int(conn.execute(q).scalar_one())

    # --- writes (each one transaction) ------------------------------------------------------------
    def record_review(self, report, *, review_digest: str, source: str = "api", project: str | None = None,
                      model_name: str | None = None, model_version: str | None = None, title: str = "",
                      test_sha256: str | None = None, evaluation_digest: str | None = None) -> int:
        """Store one completed review and its holdout evaluation; returns the review's id.

        ``evaluation_digest`` (``ReviewContext.evaluation_digest``) identifies the holdout
        evaluation: reviews that differ only in the reviewers' answers count once."""
        with self._write() as conn:
            review_id = self._insert_review(conn, report, review_digest=review_digest, source=source,
                                            project=project, model_name=model_name, model_version=model_version,
                                            title=title, test_sha256=test_sha256,
                                            evaluation_digest=evaluation_digest)
        self._recorded[review_digest] = review_id
        return review_id

    def _insert_review(self, conn, report, *, review_digest, source, project, model_name, model_version, title,
                       test_sha256, evaluation_digest=None) -> int:
        from sqlalchemy import insert, select
        from sqlalchemy.exc import IntegrityError

        files = {f.role: f.sha256 for f in report.inputs}
        key = test_sha256 or files.get("test")
        counts: dict[str, int] = {}
        for c in report.checks:
            counts[c.status.value] = counts.get(c.status.value, 0) + 1
        row = {
            "created_at": _parse_time(report.created_at), "source": source, "project": project,
            "model_name": model_name or report.model.name, "model_version": model_version, "title": title or None,
            "review_digest": review_digest, "train_sha256": files.get("train"), "test_sha256": key,
            "model_sha256": files.get("model"), "task": report.task, "status": report.status.value,
            "n_checks": len(report.checks), "status_counts": json.dumps(counts, sort_keys=True),
            "report_json": report.to_json(indent=None),
        }
        review_id = int(conn.execute(insert(self.reviews).values(**row)).inserted_primary_key[0])
        h = self.holdout
        evaluation = evaluation_digest or _evaluation_digest(report) or review_digest
        if key and conn.execute(select(h.c.id).where(h.c.test_sha256 == key,
                                                     h.c.review_digest == evaluation)).first() is None:
            try:
                with conn.begin_nested():  # the same evaluation stored by a concurrent writer: counted once
                    conn.execute(insert(h).values(test_sha256=key, review_digest=evaluation, review_id=review_id,
                                                  created_at=_now()))
            except IntegrityError:
                pass
        return review_id

    def save_record(self, record, data: bytes, *, review_id: int | None = None) -> None:
        """Store a review record's exact bytes, linked to the review it was built from.

        ``review_id``: that review's id (from :meth:`record_review`); default: the review
        this store recorded for the record's digest, else the review the record carries,
        stored now (source ``record``). Idempotent on the record id (same bytes)."""
        from sqlalchemy import insert, select
        from sqlalchemy.exc import IntegrityError

        from readiness.report.canonical import sha256_hex

        sha = sha256_hex(data)
        if review_id is None and record.review_digest in self._recorded:
            review_id = self._recorded[record.review_digest]
            with self._read() as conn:  # the history may have been replaced since (an import)
                if conn.execute(select(self.reviews.c.id).where(self.reviews.c.id == review_id)).first() is None:
                    review_id = self._recorded.pop(record.review_digest) and None
        try:
            with self._write() as conn:
                if self._same_record_stored(conn, record.record_id, sha):
                    return
                if review_id is None:
                    files = {f.role: f.sha256 for f in record.review.inputs}
                    review_id = self._insert_review(
                        conn, record.review, review_digest=record.review_digest or f"record:{record.record_id}",
                        source="record", project=record.project, model_name=record.model_name,
                        model_version=record.model_version, title=record.title, test_sha256=files.get("test"))
                else:
                    found = conn.execute(select(self.reviews.c.review_digest).where(
                        self.reviews.c.id == review_id)).first()
                    if found is None:
                        raise StoreError(E.DB_REVIEW_UNKNOWN.format(review_id=review_id, url=self.display_url))
                    if record.review_digest and found.review_digest != record.review_digest:
                        raise StoreError(E.DB_REVIEW_MISMATCH.format(
                            review_id=review_id, found=found.review_digest[:12], record_id=record.record_id,
                            expected=record.review_digest[:12]))
                conn.execute(insert(self.records).values(
                    record_id=record.record_id, review_id=review_id, created_at=_parse_time(record.created_at),
                    project=record.project, model_name=record.model_name, model_version=record.model_version,
                    review_digest=record.review_digest,
                    decision=record.decision.outcome.value if record.decision.outcome else None,
                    conditions=json.dumps(record.decision.conditions, ensure_ascii=False),
                    signers_planned=json.dumps([s.role for s in record.signers], ensure_ascii=False),
                    record_sha256=sha, record_json=data))
        except IntegrityError:  # a concurrent writer stored this record first (its review went with ours)
            with self._read() as conn:
                if not self._same_record_stored(conn, record.record_id, sha):
                    raise

    def mark_superseded(self, record_id: str, reason: str) -> None:
        """Mark a stored report superseded (discarded, e.g. the review edited after it was
        built): the history shows it as such, never as a standing decision. The first mark
        stays (idempotent); an unknown record is a :class:`StoreError`."""
        from sqlalchemy import select, update

        rec = self.records
        with self._write() as conn:
            found = conn.execute(select(rec.c.superseded_at).where(rec.c.record_id == record_id)).first()
            if found is None:
                raise StoreError(E.DB_RECORD_UNKNOWN.format(record_id=record_id))
            if found.superseded_at is None:
                conn.execute(update(rec).where(rec.c.record_id == record_id, rec.c.superseded_at.is_(None))
                             .values(superseded_at=_now(), superseded_reason=reason))

    def _same_record_stored(self, conn, record_id: str, sha: str) -> bool:
        from sqlalchemy import select

        found = conn.execute(select(self.records.c.record_sha256).where(
            self.records.c.record_id == record_id)).scalar()
        if found is None:
            return False
        if found != sha:
            raise StoreError(E.DB_RECORD_CONFLICT.format(record_id=record_id, found=found[:16], expected=sha[:16]))
        return True

    def add_signature(self, statement, *, certified: bool, record=None, data: bytes | None = None,
                      review_id: int | None = None) -> None:
        """Store one signature (idempotent: the same signature again is no change). Stores the
        record first if it is given and not stored yet (e.g. a report built elsewhere and
        signed here). Another signature already in the same slot is a :class:`StoreError`."""
        from sqlalchemy import insert, select
        from sqlalchemy.exc import IntegrityError

        if record is not None and data is not None:
            self.save_record(record, data, review_id=review_id)
        row = dict(record_id=statement.record_id, field=statement.field, role=statement.role,
                   signer_name=statement.signer_name, signer_email=statement.signer_email,
                   decision=statement.decision.value, note=statement.note, signed_at=_parse_time(statement.signed_at),
                   cert_sha256=statement.cert_sha256, certified=certified)
        try:
            with self._write() as conn:
                stored = conn.execute(select(self.records.c.record_sha256).where(
                    self.records.c.record_id == statement.record_id)).scalar()
                if stored is None:
                    raise StoreError(E.DB_RECORD_UNKNOWN.format(record_id=statement.record_id))
                if statement.record_sha256 and stored != statement.record_sha256:
                    raise StoreError(E.DB_SIGNATURE_MISMATCH.format(
                        signer=statement.signer_name, signed=statement.record_sha256[:16],
                        record_id=statement.record_id, stored=stored[:16]))
                if self._same_signature_stored(conn, row):
                    return
                conn.execute(insert(self.signatures).values(**row))
        except IntegrityError:  # a concurrent writer filled this slot first
            with self._read() as conn:
                if not self._same_signature_stored(conn, row):
                    raise

    def _same_signature_stored(self, conn, row: dict) -> bool:
        from sqlalchemy import select

        sig = self.signatures
        found = conn.execute(select(sig).where(sig.c.record_id == row["record_id"],
                                               sig.c.field == row["field"])).mappings().first()
        if found is None:
            return False
        if (found["cert_sha256"], as_utc(found["signed_at"]), found["signer_name"]) != (
                row["cert_sha256"], as_utc(row["signed_at"]), row["signer_name"]):
            raise StoreError(E.DB_SLOT_TAKEN.format(
                field=row["field"], role=found["role"], record_id=row["record_id"], other=found["signer_name"],
                other_cert=found["cert_sha256"][:16], signer=row["signer_name"]))
        return True

    # --- reads -----------------------------------------------------------------------------------------
    def record_data(self, record_id: str) -> bytes | None:
        from sqlalchemy import select

        with self._read() as conn:
            data = conn.execute(select(self.records.c.record_json).where(
                self.records.c.record_id == record_id)).scalar()
        return bytes(data) if data is not None else None

    def superseded(self, record_id: str) -> tuple[str, str] | None:
        """(when, why) a stored report was superseded; None when it stands or is not stored."""
        from sqlalchemy import select

        rec = self.records
        with self._read() as conn:
            row = conn.execute(select(rec.c.superseded_at, rec.c.superseded_reason)
                               .where(rec.c.record_id == record_id)).first()
        if row is None or row.superseded_at is None:
            return None
        return _iso(row.superseded_at), row.superseded_reason or ""

    def signatures_of(self, record_id: str) -> list[dict]:
        """The signatures recorded for one record, in signing order."""
        from sqlalchemy import select

        sig = self.signatures
        with self._read() as conn:
            rows = conn.execute(select(sig).where(sig.c.record_id == record_id).order_by(sig.c.signed_at, sig.c.id))
            return [{**dict(r._mapping), "signed_at": _iso(r.signed_at)} for r in rows]

    def count(self, table: str) -> int:
        from sqlalchemy import func, select

        t = {"reviews": self.reviews, "records": self.records, "signatures": self.signatures,
             "holdout_evaluations": self.holdout, "monitor_batches": self.batches_table}[table]
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(t)).scalar_one())

    def history(self, *, project: str | None = None, limit: int = 500) -> list[HistoryRow]:
        """Newest first: signed records (with their signatures) and reviews never signed off.
        One consistent snapshot, however many writers are writing."""
        from sqlalchemy import select

        r, rec, sig = self.reviews, self.records, self.signatures
        out: list[HistoryRow] = []
        with self._read() as conn:
            q = select(rec, r.c.status, r.c.test_sha256, r.c.source).select_from(
                rec.outerjoin(r, rec.c.review_id == r.c.id))
            if project:
                q = q.where(rec.c.project == project)
            recs = conn.execute(q.order_by(rec.c.created_at.desc(), rec.c.record_id).limit(limit)).mappings().all()
            ids = [x["record_id"] for x in recs]
            sigs: dict[str, list[dict]] = {}
            if ids:
                for s in conn.execute(select(sig).where(sig.c.record_id.in_(ids))
                                      .order_by(sig.c.signed_at, sig.c.id)).mappings():
                    d = dict(s)
                    d["signed_at"] = _iso(d["signed_at"])
                    sigs.setdefault(s["record_id"], []).append(d)
            linked = {x["review_id"] for x in recs if x["review_id"] is not None}
            for x in recs:
                out.append(HistoryRow(
                    review_id=x["review_id"], created_at=_iso(x["created_at"]), project=x["project"],
                    model_name=x["model_name"], model_version=x["model_version"], status=x["status"],
                    record_id=x["record_id"], decision=x["decision"], conditions=json.loads(x["conditions"]),
                    signatures=sigs.get(x["record_id"], []), signers_planned=json.loads(x["signers_planned"]),
                    test_sha256=x["test_sha256"], source=x["source"], superseded_at=_iso(x["superseded_at"]),
                    superseded_reason=x["superseded_reason"]))
            q = select(r.c.id, r.c.created_at, r.c.project, r.c.model_name, r.c.model_version, r.c.status,
                       r.c.test_sha256, r.c.source)
            if project:
                q = q.where(r.c.project == project)
            for x in conn.execute(q.order_by(r.c.id.desc()).limit(limit)).mappings():
                if x["id"] in linked:
                    continue
                out.append(HistoryRow(
                    review_id=x["id"], created_at=_iso(x["created_at"]), project=x["project"],
                    model_name=x["model_name"], model_version=x["model_version"], status=x["status"],
                    record_id=None, decision=None, conditions=[], signatures=[], signers_planned=[],
                    test_sha256=x["test_sha256"], source=x["source"]))
        out.sort(key=lambda h: h.created_at or "", reverse=True)
        return out[:limit]

    # --- monitoring (readiness monitor) -------------------------------------------------------------
    def record_batch(self, result) -> int:
        """Store one monitored batch (a :class:`readiness.monitor.result.MonitorResult`); returns its id."""
        from sqlalchemy import insert

        r = result.review
        row = {"created_at": _parse_time(result.created_at), "record_id": r.get("record_id"),
               "review_digest": r.get("review_digest"), "project": r.get("project"),
               "model_name": r.get("model_name"), "model_version": r.get("model_version"),
               "model_sha256": result.model.get("sha256"), "batch_name": str(result.batch["name"])[:300],
               "batch_sha256": result.batch["sha256"], "rows": int(result.batch["rows"]),
               "labelled_rows": int(result.batch.get("labelled_rows") or 0), "status": result.status,
               "n_tests": len(result.tests), "alerts": json.dumps([t.id for t in result.alerts]),
               "estimated_accuracy": (result.estimated or {}).get("accuracy"),
               "realised_accuracy": (result.realised or {}).get("accuracy"), "result_json": result.to_json(indent=None)}
        with self._write() as conn:
            return int(conn.execute(insert(self.batches_table).values(**row)).inserted_primary_key[0])

    def monitored_reviews(self) -> list[dict]:
        """Per monitored review (record id, else review digest): identity, batches, alerts, first and last batch."""
        from sqlalchemy import select

        b = self.batches_table
        out: dict[tuple, dict] = {}
        with self._read() as conn:
            q = select(b.c.record_id, b.c.review_digest, b.c.project, b.c.model_name, b.c.model_version,
                       b.c.status, b.c.created_at).order_by(b.c.created_at, b.c.id)
            for x in conn.execute(q).mappings():
                key = (x["record_id"], None if x["record_id"] else x["review_digest"])
                e = out.setdefault(key, {"record_id": x["record_id"], "review_digest": x["review_digest"],
                                         "project": x["project"], "model_name": x["model_name"],
                                         "model_version": x["model_version"], "batches": 0, "alert_batches": 0,
                                         "first": _iso(x["created_at"])})
                e["batches"] += 1
                e["alert_batches"] += x["status"] == "alert"
                e["last"] = _iso(x["created_at"])
        return sorted(out.values(), key=lambda e: e["last"] or "", reverse=True)

    def batches(self, *, record_id: str | None = None, review_digest: str | None = None,
                limit: int = 1000) -> list[dict]:
        """The batches monitored against one review (by record id, else review digest), oldest
        first, each with its whole result (``result``, the JSON ``readiness monitor --json`` writes)."""
        from sqlalchemy import select

        b = self.batches_table
        q = select(b)
        if record_id:
            q = q.where(b.c.record_id == record_id)
        elif review_digest:
            q = q.where(b.c.review_digest == review_digest, b.c.record_id.is_(None))
        with self._read() as conn:
            rows = conn.execute(q.order_by(b.c.created_at.desc(), b.c.id.desc()).limit(limit)).mappings().all()
        out = []
        for x in reversed(rows):
            d = dict(x)
            d["created_at"] = _iso(d["created_at"])
            d["alerts"] = json.loads(d["alerts"])
            d["result"] = json.loads(d.pop("result_json"))
            out.append(d)
        return out

    def holdout_counts(self) -> list[dict]:
        """Per holdout: distinct evaluations, first and last use."""
        from sqlalchemy import func, select

        h = self.holdout
        q = (select(h.c.test_sha256, func.count().label("evaluations"), func.min(h.c.created_at).label("first"),
                    func.max(h.c.created_at).label("last"))
             .group_by(h.c.test_sha256).order_by(func.max(h.c.created_at).desc(), h.c.test_sha256))
        with self._read() as conn:
            return [{"test_sha256": x.test_sha256, "evaluations": int(x.evaluations), "first": _iso(x.first),
                     "last": _iso(x.last)} for x in conn.execute(q)]

    def projects(self) -> list[str]:
        from sqlalchemy import select, union

        with self._read() as conn:
            q = union(select(self.records.c.project), select(self.reviews.c.project))
            return sorted({p for (p,) in conn.execute(q) if p})


def open_store(url: str | None = None) -> ReviewStore:
    """Open (and create if new) the review history; :class:`StoreError` if impossible,
    :class:`SchemaError` if its schema is not this code's."""
    try:
        return ReviewStore(url)
    except StoreError:
        raise
    except Exception as exc:  # driver missing, permission denied...
        shown = display_url(normalize_url(url) if url else default_url())
        raise StoreError(E.DB_CANNOT_OPEN.format(
            url=shown, detail=f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}")) from None


# --- process-wide helpers for the app ----------------------------------------------------------------

_STORES: dict[str, ReviewStore] = {}
_LAST_ERROR: dict[str, str] = {}


def shared_store(url: str | None = None) -> ReviewStore:
    """One store per URL per process (engines are thread-safe); raises :class:`StoreError`.
    A store that cannot be opened is not kept: the next call tries again (e.g. after
    ``readiness db upgrade``)."""
    key = normalize_url(url) if url else default_url()
    store = _STORES.get(key)
    if store is None:
        store = _STORES[key] = open_store(key)
    return store


def last_error(url: str | None = None) -> str | None:
    return _LAST_ERROR.get(normalize_url(url) if url else default_url())


def _note_error(url, exc) -> None:
    _LAST_ERROR[normalize_url(url) if url else default_url()] = (
        str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}")


def _evaluation_digest(report) -> str | None:
    """The holdout evaluation a review (e.g. one inside a signed record) counts as: the
    evaluation digest its reuse check recorded; None for reviews made before it did."""
    check = report.check("evaluation.holdout_reuse")
    value = check.metrics.get("evaluation_digest") if check is not None else None
    return value if isinstance(value, str) and value else None


#: Why the app supersedes a stored report (its "Edit the review again" button).
SUPERSEDED_EDITED = "the review was edited again after this report was built; the report and its signatures were discarded"


def supersede_discarded_report(record_id: str, url: str | None = None) -> str | None:
    """Mark a report discarded in the app superseded; None when done, else why not (shown by the page)."""
    try:
        shared_store(url).mark_superseded(record_id, SUPERSEDED_EDITED)
        return None
    except Exception as exc:
        _note_error(url, exc)
        return str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"


def prior_holdout_evaluations(ctx, url: str | None = None) -> int | None:
    """Earlier distinct evaluations of this review's holdout; None when the history is
    unavailable (the reuse budget then says so instead of guessing)."""
    try:
        return shared_store(url).holdout_evaluation_count(holdout_key_for(ctx), exclude_digest=ctx.evaluation_digest)
    except Exception as exc:
        _note_error(url, exc)
        return None


def record_completed_review(ctx, report, *, source: str = "app", title: str = "", url: str | None = None,
                            **identity) -> int | None:
    """Store one completed review; returns its id, or None when the history is unavailable.
    The shared store remembers the id for the review's digest, so a record built from this
    review in this process is linked to it (:meth:`ReviewStore.save_record`)."""
    try:
        return shared_store(url).record_review(report, review_digest=ctx.digest, source=source, title=title,
                                               test_sha256=holdout_key_for(ctx),
                                               evaluation_digest=ctx.evaluation_digest, **identity)
    except Exception as exc:
        _note_error(url, exc)
        return None
