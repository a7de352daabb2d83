"""Telephony: a routing decision served by the proxy from its cache is marked (`telephony_call.cached`).

Owned by hotline.telephony. A new revision rather than an edit of 0005: databases already at 0005/0006
(a running demo) get the column too.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("telephony_call") as batch:
        batch.add_column(sa.Column("cached", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("telephony_call") as batch:
        batch.drop_column("cached")
