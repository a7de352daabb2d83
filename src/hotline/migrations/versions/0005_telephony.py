"""Tables of the telephony capability.

Owned by hotline.telephony; edit this file while the capability is young, add a new revision once a
release has shipped.
"""

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telephony_trunk",
        sa.Column("trunk", sa.String(128), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("trunk", name="pk_telephony_trunk"),
    )
    op.create_table(
        "telephony_endpoint",
        sa.Column("pattern", sa.String(64), nullable=False),
        sa.Column("uri_template", sa.String(255), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("pattern", name="pk_telephony_endpoint"),
    )
    op.create_table(
        "telephony_call",
        sa.Column("call_id", sa.String(255), nullable=False),
        sa.Column("dialed", sa.String(32), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("trunk", sa.String(128), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("proxy_action", sa.String(16), nullable=False),
        sa.Column("target", sa.String(64), nullable=True),
        sa.Column("uri", sa.String(255), nullable=True),
        sa.Column("prompt", sa.String(64), nullable=True),
        sa.Column("skill", sa.String(32), nullable=True),
        sa.Column("sip_code", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_for", UTCDateTime(), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("call_id", name="pk_telephony_call"),
    )
    op.create_index("ix_telephony_call_decided_at", "telephony_call", ["decided_at"])
    op.create_table(
        "telephony_call_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("call_id", sa.String(255), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_telephony_call_event"),
        sa.UniqueConstraint("call_id", "event", name="uq_telephony_call_event_call"),
    )
    op.create_index("ix_telephony_call_event_call_id", "telephony_call_event", ["call_id"])
    op.create_index("ix_telephony_call_event_at", "telephony_call_event", ["at"])
    op.create_table(
        "telephony_prompt",
        sa.Column("prompt_id", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("recording_key", sa.String(64), nullable=True),
        sa.Column("recorded", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("prompt_id", name="pk_telephony_prompt"),
    )


def downgrade() -> None:
    op.drop_table("telephony_prompt")
    op.drop_index("ix_telephony_call_event_at", table_name="telephony_call_event")
    op.drop_index("ix_telephony_call_event_call_id", table_name="telephony_call_event")
    op.drop_table("telephony_call_event")
    op.drop_index("ix_telephony_call_decided_at", table_name="telephony_call")
    op.drop_table("telephony_call")
    op.drop_table("telephony_endpoint")
    op.drop_table("telephony_trunk")
