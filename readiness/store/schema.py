"""The review history's tables at the current schema version (SQLAlchemy Core).

This is what the code reads and writes. Every change here comes with a migration in
``readiness/migrations/versions/`` that brings an existing history to the same tables;
``tests/test_store_migrations.py`` compares the two on SQLite and PostgreSQL, so a table
changed here without a migration (or the reverse) fails the tests. How to add one:
``docs/history.md``.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

#: Alembic's version table, named for this application so that a database shared with
#: another Alembic-managed application is told apart from ours.
VERSION_TABLE = "readiness_schema_version"

metadata = MetaData()

reviews = Table(
    "reviews", metadata,
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

holdout_evaluations = Table(
    "holdout_evaluations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("test_sha256", String(200), nullable=False, index=True),
    Column("review_digest", String(64), nullable=False),
    Column("review_id", Integer, ForeignKey("reviews.id")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("test_sha256", "review_digest", name="uq_holdout_evaluation"),
)

records = Table(
    "records", metadata,
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
    # 0002: the history lists records newest first and joins them to their review
    Index("ix_records_created_at", "created_at"),
    Index("ix_records_review_id", "review_id"),
    # 0004: a report discarded (e.g. "Edit the review again") is superseded, never left standing
    Column("superseded_at", DateTime(timezone=True)),
    Column("superseded_reason", Text),
)

signatures = Table(
    "signatures", metadata,
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

# 0003: one row per production batch checked by `readiness monitor` against a review. The
# review is named by its record id (when the review was a signed record) and its digest; no
# foreign key: the record may live in another history (a PDF brought from elsewhere).
monitor_batches = Table(
    "monitor_batches", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("record_id", String(64)),
    Column("review_digest", String(64)),
    Column("project", String(200)),
    Column("model_name", String(200)),
    Column("model_version", String(100)),
    Column("model_sha256", String(64)),
    Column("batch_name", String(300), nullable=False),
    Column("batch_sha256", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("labelled_rows", Integer, nullable=False),
    Column("status", String(10), nullable=False),
    Column("n_tests", Integer, nullable=False),
    Column("alerts", Text, nullable=False),
    Column("estimated_accuracy", Float),
    Column("realised_accuracy", Float),
    Column("result_json", Text, nullable=False),
    Index("ix_monitor_batches_record_id", "record_id", "created_at"),
    Index("ix_monitor_batches_review_digest", "review_digest", "created_at"),
)

#: Tables in dependency order (parents first): the order to write them in, e.g. on import.
TABLES = (reviews, holdout_evaluations, records, signatures, monitor_batches)
