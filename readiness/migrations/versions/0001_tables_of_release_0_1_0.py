"""The tables of release 0.1.0, exactly as its ``create_all`` made them.

A 0.1.0 history has these tables and no version table: ``readiness db upgrade`` stamps it
with this revision (nothing to create) and applies the later ones. A new database gets
them from here. Frozen: never edit; change the schema in a new revision.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("project", sa.String(200)),
        sa.Column("model_name", sa.String(200)),
        sa.Column("model_version", sa.String(100)),
        sa.Column("title", sa.String(300)),
        sa.Column("review_digest", sa.String(64), nullable=False),
        sa.Column("train_sha256", sa.String(64)),
        sa.Column("test_sha256", sa.String(200)),
        sa.Column("model_sha256", sa.String(64)),
        sa.Column("task", sa.String(20)),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("n_checks", sa.Integer, nullable=False),
        sa.Column("status_counts", sa.Text, nullable=False),
        sa.Column("report_json", sa.Text, nullable=False),
    )
    op.create_index("ix_reviews_created_at", "reviews", ["created_at"])
    op.create_index("ix_reviews_review_digest", "reviews", ["review_digest"])
    op.create_index("ix_reviews_test_sha256", "reviews", ["test_sha256"])
    op.create_table(
        "holdout_evaluations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("test_sha256", sa.String(200), nullable=False),
        sa.Column("review_digest", sa.String(64), nullable=False),
        sa.Column("review_id", sa.Integer, sa.ForeignKey("reviews.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("test_sha256", "review_digest", name="uq_holdout_evaluation"),
    )
    op.create_index("ix_holdout_evaluations_test_sha256", "holdout_evaluations", ["test_sha256"])
    op.create_table(
        "records",
        sa.Column("record_id", sa.String(64), primary_key=True),
        sa.Column("review_id", sa.Integer, sa.ForeignKey("reviews.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("project", sa.String(200), nullable=False),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(100), nullable=False),
        sa.Column("review_digest", sa.String(64)),
        sa.Column("decision", sa.String(40)),
        sa.Column("conditions", sa.Text, nullable=False),
        sa.Column("signers_planned", sa.Text, nullable=False),
        sa.Column("record_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("record_json", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "signatures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("record_id", sa.String(64), sa.ForeignKey("records.record_id"), nullable=False),
        sa.Column("field", sa.String(20), nullable=False),
        sa.Column("role", sa.String(100), nullable=False),
        sa.Column("signer_name", sa.String(200), nullable=False),
        sa.Column("signer_email", sa.String(200)),
        sa.Column("decision", sa.String(40), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cert_sha256", sa.String(64), nullable=False),
        sa.Column("certified", sa.Boolean, nullable=False),
        sa.UniqueConstraint("record_id", "field", name="uq_signature_field"),
    )
    op.create_index("ix_signatures_record_id", "signatures", ["record_id"])


def downgrade() -> None:
    for table in ("signatures", "records", "holdout_evaluations", "reviews"):
        op.drop_table(table)
