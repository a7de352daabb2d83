"""短信通知: the outbox (`sms_messages`: one text per order and kind) and each text's steps (`sms_events`, append-only:
the ORM refuses to change its rows, the database an UPDATE). The relay's cursor is a `push_cursors` row named "sms",
set here past the history already written: a platform in service texts about what happens from now on.

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime
from hotline.timeutil import now

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

APPEND_ONLY = "sms_events"
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sms_messages",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("order_id", BigId, nullable=False),
        sa.Column("order_number", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("skip_reason", sa.String(16), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_try_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("gateway_id", sa.String(64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sms_messages"),
        sa.UniqueConstraint("order_id", "kind", name="uq_sms_messages_order_kind"),
        sa.ForeignKeyConstraint(["order_id"], ["wo_orders.id"], name="fk_sms_messages_order_id_wo_orders"),
    )
    op.create_index("ix_sms_messages_state_next_try", "sms_messages", ["state", "next_try_at"])
    op.create_index("ix_sms_messages_order_number", "sms_messages", ["order_number"])
    op.create_table(
        "sms_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("message_id", BigId, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sms_events"),
        sa.ForeignKeyConstraint(["message_id"], ["sms_messages.id"], name="fk_sms_events_message_id_sms_messages"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_sms_events_message_id", "sms_events", ["message_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION sms_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {APPEND_ONLY}_no_update BEFORE UPDATE ON {APPEND_ONLY} "
            "FOR EACH ROW EXECUTE FUNCTION sms_append_only()"
        )
    else:
        op.execute(
            f"CREATE TRIGGER {APPEND_ONLY}_no_update BEFORE UPDATE ON {APPEND_ONLY} "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY} is append-only'); END"
        )
    bind = op.get_bind()
    last = bind.execute(sa.text("SELECT MAX(id) FROM wo_history")).scalar() or 0
    cursors = sa.table(
        "push_cursors",
        sa.column("name", sa.String),
        sa.column("state", sa.JSON),
        sa.column("updated_at", UTCDateTime()),
    )
    bind.execute(sa.delete(cursors).where(cursors.c.name == "sms"))
    bind.execute(sa.insert(cursors).values(name="sms", state={"last_id": int(last), "holes": []}, updated_at=now()))


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.text("DELETE FROM push_cursors WHERE name = 'sms'"))
    postgresql = bind.dialect.name == "postgresql"
    op.execute(f"DROP TRIGGER IF EXISTS {APPEND_ONLY}_no_update" + (f" ON {APPEND_ONLY}" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS sms_append_only()")
    op.drop_index("ix_sms_events_message_id", table_name="sms_events")
    op.drop_table("sms_events")
    op.drop_index("ix_sms_messages_order_number", table_name="sms_messages")
    op.drop_index("ix_sms_messages_state_next_try", table_name="sms_messages")
    op.drop_table("sms_messages")
