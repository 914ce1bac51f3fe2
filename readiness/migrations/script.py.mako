"""${message}

Revision ${up_revision} (after ${down_revision | comma,n}), ${create_date}.
Change readiness/store/schema.py to the same tables, and test the upgrade from the previous
revision with real rows (see docs/history.md, "Adding a migration").
"""

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
