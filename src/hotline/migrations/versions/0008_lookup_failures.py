"""Work orders: failed citizen lookups (`wo_lookup_failures`), counted per order number to stop guessing the
last four digits of the caller's phone.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wo_lookup_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_wo_lookup_failures_number", "wo_lookup_failures", ["number"])


def downgrade() -> None:
    op.drop_index("ix_wo_lookup_failures_number", table_name="wo_lookup_failures")
    op.drop_table("wo_lookup_failures")
