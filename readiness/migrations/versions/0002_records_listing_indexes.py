"""Records: indexes for listing the history (newest first) and joining a record to its review.

Revision 0002 (after 0001). Indexes only: no row changes.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_records_created_at", "records", ["created_at"])
    op.create_index("ix_records_review_id", "records", ["review_id"])


def downgrade() -> None:
    op.drop_index("ix_records_review_id", table_name="records")
    op.drop_index("ix_records_created_at", table_name="records")
