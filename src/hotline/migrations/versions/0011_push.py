"""Push: how far the relay that delivers work-order events to units' systems has read the history
(`push_cursors`).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "push_cursors",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("push_cursors")
