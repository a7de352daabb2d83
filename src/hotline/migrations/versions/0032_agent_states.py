"""座席状态: the agents' state changes as the ACD reports them (`telephony_agent_state`, append-only: the ORM refuses to
change its rows, the database refuses an UPDATE; UNIQUE(agent, at, state) makes a repeated report idempotent and
serves the latest state per agent; `at` indexed for a day's changes).

Revision ID: 0032
Revises: 0031
"""

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime
from hotline.migrations import append_only

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

TABLE = "telephony_agent_state"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_telephony_agent_state"),
        sa.UniqueConstraint("agent", "at", "state", name="uq_telephony_agent_state_agent_at_state"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_telephony_agent_state_at", TABLE, ["at"])
    append_only.refuse_updates(TABLE, "telephony_agent_state_append_only")


def downgrade() -> None:
    append_only.allow_updates(TABLE, "telephony_agent_state_append_only")
    op.drop_index("ix_telephony_agent_state_at", table_name=TABLE)
    op.drop_table(TABLE)
