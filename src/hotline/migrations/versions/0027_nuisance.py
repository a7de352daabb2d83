"""骚扰号码名单: the entries (`nuisance_entry`: one per application, with its decision and lifting; `open_number` unique
while pending or in force) and their steps (`nuisance_event`, append-only: the ORM refuses to change its rows, the
database refuses an UPDATE, as `quality_history` since 0024; ids never reused).

Revision ID: 0027
Revises: 0026
"""

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

APPEND_ONLY = "nuisance_event"


def upgrade() -> None:
    op.create_table(
        "nuisance_entry",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("open_number", sa.String(32), nullable=True),
        sa.Column("treatment", sa.String(16), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.String(255), nullable=False),
        sa.Column("call_id", sa.String(255), nullable=True),
        sa.Column("order_number", sa.String(32), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("proposed_by", sa.String(64), nullable=False),
        sa.Column("proposed_at", UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("active_from", UTCDateTime(), nullable=True),
        sa.Column("active_until", UTCDateTime(), nullable=True),
        sa.Column("lifted_by", sa.String(64), nullable=True),
        sa.Column("lifted_at", UTCDateTime(), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_nuisance_entry"),
        sa.UniqueConstraint("open_number", name="uq_nuisance_entry_open_number"),
    )
    op.create_index("ix_nuisance_entry_state_until", "nuisance_entry", ["state", "active_until"])
    op.create_index("ix_nuisance_entry_number", "nuisance_entry", ["number"])
    op.create_table(
        "nuisance_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_nuisance_event"),
        sa.ForeignKeyConstraint(["entry_id"], ["nuisance_entry.id"], name="fk_nuisance_event_entry_id_nuisance_entry"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_nuisance_event_entry_id", "nuisance_event", ["entry_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION nuisance_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {APPEND_ONLY}_no_update BEFORE UPDATE ON {APPEND_ONLY} "
            "FOR EACH ROW EXECUTE FUNCTION nuisance_append_only()"
        )
    else:
        op.execute(
            f"CREATE TRIGGER {APPEND_ONLY}_no_update BEFORE UPDATE ON {APPEND_ONLY} "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY} is append-only'); END"
        )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute(f"DROP TRIGGER IF EXISTS {APPEND_ONLY}_no_update" + (f" ON {APPEND_ONLY}" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS nuisance_append_only()")
    op.drop_index("ix_nuisance_event_entry_id", table_name="nuisance_event")
    op.drop_table("nuisance_event")
    op.drop_index("ix_nuisance_entry_number", table_name="nuisance_entry")
    op.drop_index("ix_nuisance_entry_state_until", table_name="nuisance_entry")
    op.drop_table("nuisance_entry")
