"""Monitoring: one row per production batch checked by ``readiness monitor`` against a review.

Revision 0003 (after 0002). A new table only: no existing row changes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitor_batches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=True),
        sa.Column("review_digest", sa.String(length=64), nullable=True),
        sa.Column("project", sa.String(length=200), nullable=True),
        sa.Column("model_name", sa.String(length=200), nullable=True),
        sa.Column("model_version", sa.String(length=100), nullable=True),
        sa.Column("model_sha256", sa.String(length=64), nullable=True),
        sa.Column("batch_name", sa.String(length=300), nullable=False),
        sa.Column("batch_sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("labelled_rows", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("n_tests", sa.Integer(), nullable=False),
        sa.Column("alerts", sa.Text(), nullable=False),
        sa.Column("estimated_accuracy", sa.Float(), nullable=True),
        sa.Column("realised_accuracy", sa.Float(), nullable=True),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_monitor_batches_record_id", "monitor_batches", ["record_id", "created_at"])
    op.create_index("ix_monitor_batches_review_digest", "monitor_batches", ["review_digest", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_monitor_batches_review_digest", table_name="monitor_batches")
    op.drop_index("ix_monitor_batches_record_id", table_name="monitor_batches")
    op.drop_table("monitor_batches")
