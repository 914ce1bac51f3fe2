"""Review history: every completed review, signed record and signature, in a real database.

SQLite file by default (``READINESS_DB`` or ``./reviews.db``); any SQLAlchemy URL works
(``postgresql+psycopg://user@host/db``). Every write is one transaction: a crash in the
middle of a write rolls that write back and loses nothing committed before it.

Tables (SQLAlchemy Core; created on first use):

- ``reviews``: one row per completed review run (project, model name/version, input
  SHA-256s, status, the review JSON).
- ``holdout_evaluations``: one row per distinct evaluation of a holdout (keyed by the
  holdout's SHA-256 and the review digest, so re-running the identical review does not
  count twice). :meth:`ReviewStore.holdout_evaluation_count` feeds the reuse budget.
- ``records``: signed review records (the exact canonical bytes, decision, conditions).
- ``signatures``: who signed which record, in which role, with which decision.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from readiness.errors import ReadinessError

DB_ENV = "READINESS_DB"
DEFAULT_DB_FILE = "reviews.db"


class StoreError(ReadinessError):
    """The review history database cannot be opened or written."""


def default_url() -> str:
    return normalize_url(os.environ.get(DB_ENV) or DEFAULT_DB_FILE)


def normalize_url(text: str | os.PathLike) -> str:
    """A SQLAlchemy URL as is; a file path becomes ``sqlite:///<absolute path>``."""
    s = str(text).strip()
    if not s:
        raise StoreError("The review history database URL is empty.")
    if "://" in s:
        return s
    return f"sqlite:///{Path(s).expanduser().resolve()}"


def display_url(url: str) -> str:
    """The URL without a password, for messages and the app."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


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


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.isoformat(timespec="seconds")
    return str(value)


def _parse_time(text: str | None) -> datetime:
    if not text:
        return _now()
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return _now()
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _tables():
    from sqlalchemy import (
        Boolean,
        Column,
        DateTime,
        ForeignKey,
        Integer,
        LargeBinary,
        MetaData,
        String,
        Table,
        Text,
        UniqueConstraint,
    )

    md = MetaData()
    reviews = Table(
        "reviews", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("created_at", DateTime(timezone=True), nullable=False, index=True),
        Column("source", String(20), nullable=False),
        Column("project", String(200)),
        Column("model_name", String(200)),
        Column("model_version", String(100)),
        Column("title", String(300)),
        Column("review_digest", String(64), nullable=False, index=True),
        Column("train_sha256", String(64)),
        Column("test_sha256", String(200), index=True),
        Column("model_sha256", String(64)),
        Column("task", String(20)),
        Column("status", String(10), nullable=False),
        Column("n_checks", Integer, nullable=False),
        Column("status_counts", Text, nullable=False),
        Column("report_json", Text, nullable=False),
    )
    holdout = Table(
        "holdout_evaluations", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("test_sha256", String(200), nullable=False, index=True),
        Column("review_digest", String(64), nullable=False),
        Column("review_id", Integer, ForeignKey("reviews.id")),
        Column("created_at", DateTime(timezone=True), nullable=False),
        UniqueConstraint("test_sha256", "review_digest", name="uq_holdout_evaluation"),
    )
    records = Table(
        "records", md,
        Column("record_id", String(64), primary_key=True),
        Column("review_id", Integer, ForeignKey("reviews.id")),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("project", String(200), nullable=False),
        Column("model_name", String(200), nullable=False),
        Column("model_version", String(100), nullable=False),
        Column("review_digest", String(64)),
        Column("decision", String(40)),
        Column("conditions", Text, nullable=False),
        Column("signers_planned", Text, nullable=False),
        Column("record_sha256", String(64), nullable=False, unique=True),
        Column("record_json", LargeBinary, nullable=False),
    )
    signatures = Table(
        "signatures", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("record_id", String(64), ForeignKey("records.record_id"), nullable=False, index=True),
        Column("field", String(20), nullable=False),
        Column("role", String(100), nullable=False),
        Column("signer_name", String(200), nullable=False),
        Column("signer_email", String(200)),
        Column("decision", String(40), nullable=False),
        Column("note", Text, nullable=False),
        Column("signed_at", DateTime(timezone=True), nullable=False),
        Column("cert_sha256", String(64), nullable=False),
        Column("certified", Boolean, nullable=False),
        UniqueConstraint("record_id", "field", name="uq_signature_field"),
    )
    return md, reviews, holdout, records, signatures


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

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class ReviewStore:
    """The review history in one database. Cheap to create; one engine per store."""

    def __init__(self, url: str | None = None):
        from sqlalchemy import create_engine, event

        self.url = normalize_url(url) if url else default_url()
        kwargs: dict[str, Any] = {}
        if self.url.startswith("sqlite"):
            path = self.url.split(":///", 1)[-1]
            if path and path != ":memory:":
                try:
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(f"Cannot create the folder for the review history {path}: {exc.strerror}.") from None
            kwargs["connect_args"] = {"timeout": 30}
        try:
            self.engine = create_engine(self.url, **kwargs)
        except Exception as exc:
            raise StoreError(f"Not a usable database URL ({display_url(self.url)}): "
                             f"{' '.join(str(exc).split())[:200]}") from None
        if self.engine.dialect.name == "sqlite":
            @event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_conn, _record):
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA synchronous=FULL")
                cur.close()
        self.md, self.reviews, self.holdout, self.records, self.signatures = _tables()
        try:
            self.md.create_all(self.engine)
        except Exception as exc:
            raise StoreError(f"Cannot open the review history {display_url(self.url)}: "
                             f"{' '.join(str(exc).split())[:200]}") from None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

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
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    # --- writes (each one transaction) ------------------------------------------------------------
    def record_review(self, report, *, review_digest: str, source: str = "api", project: str | None = None,
                      model_name: str | None = None, model_version: str | None = None, title: str = "",
                      test_sha256: str | None = None) -> int:
        """Store one completed review and its holdout evaluation; returns the review id."""
        from sqlalchemy import insert, select

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
        with self.engine.begin() as conn:
            review_id = int(conn.execute(insert(self.reviews).values(**row)).inserted_primary_key[0])
            if key:
                seen = conn.execute(select(self.holdout.c.id).where(
                    self.holdout.c.test_sha256 == key, self.holdout.c.review_digest == review_digest)).first()
                if seen is None:
                    conn.execute(insert(self.holdout).values(test_sha256=key, review_digest=review_digest,
                                                             review_id=review_id, created_at=_now()))
        return review_id

    def save_record(self, record, data: bytes, *, review_id: int | None = None) -> None:
        """Store a review record's exact bytes (idempotent on the record id)."""
        from sqlalchemy import insert, select

        from readiness.report.canonical import sha256_hex

        with self.engine.connect() as conn:
            if conn.execute(select(self.records.c.record_id).where(
                    self.records.c.record_id == record.record_id)).first() is not None:
                return
            if review_id is None and record.review_digest:
                review_id = conn.execute(
                    select(self.reviews.c.id).where(self.reviews.c.review_digest == record.review_digest)
                    .order_by(self.reviews.c.id.desc()).limit(1)).scalar()
        if review_id is None:  # a review not recorded when it ran (e.g. the sample): the record holds it
            files = {f.role: f.sha256 for f in record.review.inputs}
            review_id = self.record_review(
                record.review, review_digest=record.review_digest or f"record:{record.record_id}", source="record",
                project=record.project, model_name=record.model_name, model_version=record.model_version,
                title=record.title, test_sha256=files.get("test"))
        with self.engine.begin() as conn:
            conn.execute(insert(self.records).values(
                record_id=record.record_id, review_id=review_id, created_at=_parse_time(record.created_at),
                project=record.project, model_name=record.model_name, model_version=record.model_version,
                review_digest=record.review_digest,
                decision=record.decision.outcome.value if record.decision.outcome else None,
                conditions=json.dumps(record.decision.conditions, ensure_ascii=False),
                signers_planned=json.dumps([s.role for s in record.signers], ensure_ascii=False),
                record_sha256=sha256_hex(data), record_json=data))

    def add_signature(self, statement, *, certified: bool, record=None, data: bytes | None = None) -> None:
        """Store one signature (idempotent on record + field). Stores the record first if
        it is given and not stored yet (e.g. a report built elsewhere and signed here)."""
        from sqlalchemy import insert, select

        if record is not None and data is not None:
            self.save_record(record, data)
        with self.engine.begin() as conn:
            if conn.execute(select(self.records.c.record_id).where(
                    self.records.c.record_id == statement.record_id)).first() is None:
                raise StoreError(f"Review record {statement.record_id} is not in the history; store it first.")
            exists = conn.execute(select(self.signatures.c.id).where(
                self.signatures.c.record_id == statement.record_id,
                self.signatures.c.field == statement.field)).first()
            if exists is not None:
                return
            conn.execute(insert(self.signatures).values(
                record_id=statement.record_id, field=statement.field, role=statement.role,
                signer_name=statement.signer_name, signer_email=statement.signer_email,
                decision=statement.decision.value, note=statement.note, signed_at=_parse_time(statement.signed_at),
                cert_sha256=statement.cert_sha256, certified=certified))

    # --- reads -----------------------------------------------------------------------------------------
    def record_data(self, record_id: str) -> bytes | None:
        from sqlalchemy import select

        with self.engine.connect() as conn:
            return conn.execute(select(self.records.c.record_json).where(
                self.records.c.record_id == record_id)).scalar()

    def signatures_of(self, record_id: str) -> list[dict]:
        """The signatures recorded for one record, in signing order."""
        from sqlalchemy import select

        sig = self.signatures
        with self.engine.connect() as conn:
            rows = conn.execute(select(sig).where(sig.c.record_id == record_id).order_by(sig.c.signed_at, sig.c.id))
            return [{**dict(r._mapping), "signed_at": _iso(r.signed_at)} for r in rows]

    def count(self, table: str) -> int:
        from sqlalchemy import func, select

        t = {"reviews": self.reviews, "records": self.records, "signatures": self.signatures,
             "holdout_evaluations": self.holdout}[table]
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t)).scalar_one())

    def history(self, *, project: str | None = None, limit: int = 500) -> list[HistoryRow]:
        """Newest first: signed records (with their signatures) and reviews never signed off."""
        from sqlalchemy import select

        r, rec, sig = self.reviews, self.records, self.signatures
        out: list[HistoryRow] = []
        with self.engine.connect() as conn:
            q = select(rec, r.c.status, r.c.test_sha256, r.c.source).select_from(
                rec.outerjoin(r, rec.c.review_id == r.c.id))
            if project:
                q = q.where(rec.c.project == project)
            recs = conn.execute(q.order_by(rec.c.created_at.desc()).limit(limit)).mappings().all()
            ids = [x["record_id"] for x in recs]
            sigs: dict[str, list[dict]] = {}
            if ids:
                for s in conn.execute(select(sig).where(sig.c.record_id.in_(ids)).order_by(sig.c.signed_at)).mappings():
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
                    test_sha256=x["test_sha256"], source=x["source"]))
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

    def holdout_counts(self) -> list[dict]:
        """Per holdout: distinct evaluations, first and last use."""
        from sqlalchemy import func, select

        h = self.holdout
        q = (select(h.c.test_sha256, func.count().label("evaluations"), func.min(h.c.created_at).label("first"),
                    func.max(h.c.created_at).label("last"))
             .group_by(h.c.test_sha256).order_by(func.max(h.c.created_at).desc()))
        with self.engine.connect() as conn:
            return [{"test_sha256": x.test_sha256, "evaluations": int(x.evaluations), "first": _iso(x.first),
                     "last": _iso(x.last)} for x in conn.execute(q)]

    def projects(self) -> list[str]:
        from sqlalchemy import select, union

        with self.engine.connect() as conn:
            q = union(select(self.records.c.project), select(self.reviews.c.project))
            return sorted({p for (p,) in conn.execute(q) if p})


def open_store(url: str | None = None) -> ReviewStore:
    """Open (and create if needed) the review history; :class:`StoreError` if impossible."""
    try:
        return ReviewStore(url)
    except StoreError:
        raise
    except Exception as exc:  # driver missing, permission denied...
        raise StoreError(f"Cannot open the review history {display_url(normalize_url(url) if url else default_url())}: "
                         f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}") from None


# --- process-wide helpers for the app ----------------------------------------------------------------

_STORES: dict[str, ReviewStore] = {}
_LAST_ERROR: dict[str, str] = {}


def shared_store(url: str | None = None) -> ReviewStore:
    """One store per URL per process (engines are thread-safe); raises :class:`StoreError`."""
    key = normalize_url(url) if url else default_url()
    store = _STORES.get(key)
    if store is None:
        store = _STORES[key] = open_store(key)
    return store


def last_error(url: str | None = None) -> str | None:
    return _LAST_ERROR.get(normalize_url(url) if url else default_url())


def _note_error(url, exc) -> None:
    _LAST_ERROR[normalize_url(url) if url else default_url()] = f"{type(exc).__name__}: {exc}"


def prior_holdout_evaluations(ctx, url: str | None = None) -> int | None:
    """Earlier distinct evaluations of this review's holdout; None when the history is
    unavailable (the reuse budget then says so instead of guessing)."""
    try:
        return shared_store(url).holdout_evaluation_count(holdout_key_for(ctx), exclude_digest=ctx.digest)
    except Exception as exc:
        _note_error(url, exc)
        return None


def record_completed_review(ctx, report, *, source: str = "app", title: str = "", url: str | None = None,
                            **identity) -> int | None:
    """Store one completed review; returns its id, or None when the history is unavailable."""
    try:
        return shared_store(url).record_review(report, review_digest=ctx.digest, source=source, title=title,
                                               test_sha256=holdout_key_for(ctx), **identity)
    except Exception as exc:
        _note_error(url, exc)
        return None
