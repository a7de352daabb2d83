"""Accounts: the lockout counts failed sign-ins in the audit trail per login name and per client address
(`acc_events`, indexed by each with the time) instead of a count per account (`acc_accounts.failures`,
`last_failure`, dropped).

On SQLite the columns are dropped with `ALTER TABLE … DROP COLUMN` (SQLite 3.35+), not by copying the table:
dropping the old copy of `acc_accounts` would delete every token with it (`ON DELETE CASCADE`).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_acc_events_login", table_name="acc_events")
    op.create_index("ix_acc_events_login_at", "acc_events", ["login", "at"])
    op.create_index("ix_acc_events_address_at", "acc_events", ["address", "at"])
    with op.batch_alter_table("acc_accounts", recreate="never") as batch:
        batch.drop_column("last_failure")
        batch.drop_column("failures")


def downgrade() -> None:
    with op.batch_alter_table("acc_accounts", recreate="never") as batch:
        batch.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_failure", UTCDateTime()))
    op.drop_index("ix_acc_events_address_at", table_name="acc_events")
    op.drop_index("ix_acc_events_login_at", table_name="acc_events")
    op.create_index("ix_acc_events_login", "acc_events", ["login"])
