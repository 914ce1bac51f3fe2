"""Records: superseded_at and superseded_reason — a report discarded (the app's "Edit the
review again") is marked superseded in the history, never left standing as a decision.

Revision 0004 (after 0003). Two nullable columns: existing records stay standing (NULL).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("records", sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("records", sa.Column("superseded_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("records") as batch_op:  # SQLite: drop a column by copying the table
        batch_op.drop_column("superseded_reason")
        batch_op.drop_column("superseded_at")
