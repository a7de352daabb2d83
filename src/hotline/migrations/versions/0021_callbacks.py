"""漏话回拨: callback tasks for missed calls (`telephony_callback`, one open task per caller's number), the missed
calls each task gathers (`telephony_callback_call`) and the attempts made on it (`telephony_callback_attempt`).

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_OPEN = sa.text("state = 'open'")


def upgrade() -> None:
    op.create_table(
        "telephony_callback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("dialed", sa.String(32), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("last_call_id", sa.String(255), nullable=False),
        sa.Column("first_missed_at", UTCDateTime(), nullable=False),
        sa.Column("last_missed_at", UTCDateTime(), nullable=False),
        sa.Column("missed_count", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("no_answers", sa.Integer(), nullable=False),
        sa.Column("first_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(64), nullable=False),
        sa.Column("closed_call_id", sa.String(255), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_telephony_callback"),
    )
    op.create_index("ix_telephony_callback_state_first", "telephony_callback", ["state", "first_missed_at"])
    op.create_index("ix_telephony_callback_caller_closed", "telephony_callback", ["caller", "closed_at"])
    op.create_index("ix_telephony_callback_first_missed_at", "telephony_callback", ["first_missed_at"])
    op.create_index(
        "uq_telephony_callback_open_caller",
        "telephony_callback",
        ["caller"],
        unique=True,
        sqlite_where=_OPEN,
        postgresql_where=_OPEN,
    )
    op.create_table(
        "telephony_callback_call",
        sa.Column("call_id", sa.String(255), nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=False),
        sa.Column("missed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("call_id", name="pk_telephony_callback_call"),
        sa.ForeignKeyConstraint(
            ["callback_id"],
            ["telephony_callback.id"],
            name="fk_telephony_callback_call_callback_id_telephony_callback",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_telephony_callback_call_callback_id", "telephony_callback_call", ["callback_id"])
    op.create_table(
        "telephony_callback_attempt",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("order_number", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_telephony_callback_attempt"),
        sa.ForeignKeyConstraint(
            ["callback_id"],
            ["telephony_callback.id"],
            name="fk_telephony_callback_attempt_callback_id_telephony_callback",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_telephony_callback_attempt_callback_id", "telephony_callback_attempt", ["callback_id"])


def downgrade() -> None:
    op.drop_index("ix_telephony_callback_attempt_callback_id", table_name="telephony_callback_attempt")
    op.drop_table("telephony_callback_attempt")
    op.drop_index("ix_telephony_callback_call_callback_id", table_name="telephony_callback_call")
    op.drop_table("telephony_callback_call")
    op.drop_index("uq_telephony_callback_open_caller", table_name="telephony_callback")
    op.drop_index("ix_telephony_callback_first_missed_at", table_name="telephony_callback")
    op.drop_index("ix_telephony_callback_caller_closed", table_name="telephony_callback")
    op.drop_index("ix_telephony_callback_state_first", table_name="telephony_callback")
    op.drop_table("telephony_callback")
