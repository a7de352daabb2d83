"""座席状态: the agents' state changes as the ACD reports them (`telephony_agent_state`, append-only: the ORM refuses to
change its rows, the database refuses an UPDATE; UNIQUE(agent, at, state) makes a repeated report idempotent and
serves the latest state per agent; `at` indexed for a day's changes).

Revision ID: 0032
Revises: 0031
"""

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime

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
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION telephony_agent_state_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION telephony_agent_state_append_only()"
        )
    else:
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only'); END"
        )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update" + (f" ON {TABLE}" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS telephony_agent_state_append_only()")
    op.drop_index("ix_telephony_agent_state_at", table_name=TABLE)
    op.drop_table(TABLE)
