"""短信回访: a text asking the citizen for a rating says so (`sms_messages.asks_rating`), and the citizens' replies
(`sms_replies`, append-only: the ORM refuses to change its rows, the database an UPDATE; a gateway's id unique).

Revision ID: 0030
Revises: 0029
"""

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime
from hotline.migrations import append_only

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

APPEND_ONLY = "sms_replies"
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # In place (ALTER TABLE … ADD COLUMN): a batch copy on SQLite would drop sms_messages, which sms_events refers to.
    op.add_column("sms_messages", sa.Column("asks_rating", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "sms_replies",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("gateway_id", sa.String(64), nullable=True),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("message_id", BigId, nullable=True),
        sa.Column("order_id", BigId, nullable=True),
        sa.Column("rating", sa.String(16), nullable=True),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sms_replies"),
        sa.UniqueConstraint("gateway_id", name="uq_sms_replies_gateway_id"),
        sa.ForeignKeyConstraint(["message_id"], ["sms_messages.id"], name="fk_sms_replies_message_id_sms_messages"),
        sa.ForeignKeyConstraint(["order_id"], ["wo_orders.id"], name="fk_sms_replies_order_id_wo_orders"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_sms_replies_message_id", "sms_replies", ["message_id"])
    op.create_index("ix_sms_replies_order_id", "sms_replies", ["order_id"])
    op.create_index("ix_sms_replies_outcome", "sms_replies", ["outcome"])
    # sms_append_only() was created by 0029 for sms_events.
    append_only.refuse_updates(APPEND_ONLY, "sms_append_only", new_function=False)


def downgrade() -> None:
    append_only.allow_updates(APPEND_ONLY, "sms_append_only", drop_function=False)
    op.drop_index("ix_sms_replies_outcome", table_name="sms_replies")
    op.drop_index("ix_sms_replies_order_id", table_name="sms_replies")
    op.drop_index("ix_sms_replies_message_id", table_name="sms_replies")
    op.drop_table("sms_replies")
    # In place on both (SQLite 3.35+): a batch copy would drop sms_messages, which sms_events' rows refer to.
    op.execute("ALTER TABLE sms_messages DROP COLUMN asks_rating")
