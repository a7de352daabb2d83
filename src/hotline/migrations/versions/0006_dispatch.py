"""Tables of the dispatch capability: dispatchers' feedback on categories.

Owned by hotline.dispatch; edit this file while the capability is young, add a new revision once a
release has shipped.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dispatch_feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("suggested", sa.String(32), nullable=False, server_default=""),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_dispatch_feedback_order_id", "dispatch_feedback", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_dispatch_feedback_order_id", table_name="dispatch_feedback")
    op.drop_table("dispatch_feedback")
