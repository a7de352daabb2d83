"""Tables of the workorders capability: units, categories, dispatch catalogue, limits, sequences, orders, history.

Owned by hotline.workorders; edit this file while the capability is young, add a new revision once a
release has shipped. Matches `hotline/workorders/store.py`.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "wo_units",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("wo_units.id", name="fk_wo_units_parent_id_wo_units")),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.UniqueConstraint("code", name="uq_wo_units_code"),
    )
    op.create_table(
        "wo_categories",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("level1", sa.String(64), nullable=False),
        sa.Column("level2", sa.String(64), nullable=False),
        sa.Column("level3", sa.String(64), nullable=False),
        sa.Column("path", sa.String(200), nullable=False),
        sa.UniqueConstraint("path", name="uq_wo_categories_path"),
    )
    op.create_table(
        "wo_dispatch_catalogue",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("category", sa.String(200), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("line", sa.String(32), nullable=False),
        sa.Column(
            "unit_id",
            sa.Integer,
            sa.ForeignKey("wo_units.id", name="fk_wo_dispatch_catalogue_unit_id_wo_units"),
            nullable=False,
        ),
        sa.UniqueConstraint("category", "region_code", "line", name="uq_wo_dispatch_catalogue_key"),
    )
    op.create_table(
        "wo_limits",
        sa.Column("key", sa.String(16), primary_key=True),
        sa.Column("days", sa.Integer, nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "wo_sequences",
        sa.Column("region_code", sa.String(6), primary_key=True),
        sa.Column("day", sa.String(8), primary_key=True),
        sa.Column("last", sa.Integer, nullable=False),
    )
    op.create_table(
        "wo_orders",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("client_key", sa.String(128)),
        sa.Column("payload_hash", sa.String(64)),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("caller_name", sa.String(64), nullable=False),
        sa.Column("caller_phone", sa.String(32), nullable=False),
        sa.Column("line", sa.String(32), nullable=False),
        sa.Column("call_id", sa.String(128), nullable=False),
        sa.Column("type", sa.String(8), nullable=False),
        sa.Column("category", sa.String(200), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("urgency", sa.String(8), nullable=False),
        sa.Column("confidential", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("lead_unit_id", sa.Integer, sa.ForeignKey("wo_units.id", name="fk_wo_orders_lead_unit_id_wo_units")),
        sa.Column("parent_id", BigId, sa.ForeignKey("wo_orders.id", name="fk_wo_orders_parent_id_wo_orders")),
        sa.Column("master_id", BigId, sa.ForeignKey("wo_orders.id", name="fk_wo_orders_master_id_wo_orders")),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("dispatched_at", UTCDateTime()),
        sa.Column("resolved_at", UTCDateTime()),
        sa.Column("due", sa.Date, nullable=False),
        sa.Column("accept_due", sa.Date),
        sa.Column("return_due", sa.Date),
        sa.Column("paused_on", sa.Date),
        sa.Column("paused_workdays", sa.Integer, nullable=False),
        sa.Column("extension_days", sa.Integer, nullable=False),
        sa.Column("extension_count", sa.Integer, nullable=False),
        sa.Column("pending_extension", sa.Integer),
        sa.Column("reply", sa.Text, nullable=False),
        sa.Column("satisfaction", sa.String(16)),
        sa.Column("citizen_resolved", sa.Boolean),
        sa.Column("urge_count", sa.Integer, nullable=False),
        sa.Column("supervise_count", sa.Integer, nullable=False),
        sa.Column("return_count", sa.Integer, nullable=False),
        sa.Column("reopen_count", sa.Integer, nullable=False),
        sa.Column("history_count", sa.Integer, nullable=False),
        sa.Column("child_count", sa.Integer, nullable=False),
        sa.UniqueConstraint("number", name="uq_wo_orders_number"),
        sa.UniqueConstraint("client_key", name="uq_wo_orders_client_key"),
    )
    op.create_index("ix_wo_orders_state_due", "wo_orders", ["state", "due"])
    op.create_index("ix_wo_orders_parent_id", "wo_orders", ["parent_id"])
    op.create_index("ix_wo_orders_master_id", "wo_orders", ["master_id"])
    op.create_table(
        "wo_history",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "order_id", BigId, sa.ForeignKey("wo_orders.id", name="fk_wo_history_order_id_wo_orders"), nullable=False
        ),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("from_state", sa.String(24), nullable=False),
        sa.Column("to_state", sa.String(24), nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.UniqueConstraint("order_id", "seq", name="uq_wo_history_order_seq"),
    )
    # History is append-only in the database too: an UPDATE of a history row is refused.
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION wo_history_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'wo_history is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER wo_history_no_update BEFORE UPDATE ON wo_history "
            "FOR EACH ROW EXECUTE FUNCTION wo_history_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER wo_history_no_update BEFORE UPDATE ON wo_history "
            "BEGIN SELECT RAISE(ABORT, 'wo_history is append-only'); END"
        )


def downgrade() -> None:
    bind = op.get_bind()
    op.execute(
        "DROP TRIGGER IF EXISTS wo_history_no_update" + (" ON wo_history" if bind.dialect.name == "postgresql" else "")
    )
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS wo_history_append_only()")
    op.drop_table("wo_history")
    op.drop_index("ix_wo_orders_master_id", table_name="wo_orders")
    op.drop_index("ix_wo_orders_parent_id", table_name="wo_orders")
    op.drop_index("ix_wo_orders_state_due", table_name="wo_orders")
    op.drop_table("wo_orders")
    op.drop_table("wo_sequences")
    op.drop_table("wo_limits")
    op.drop_table("wo_dispatch_catalogue")
    op.drop_table("wo_categories")
    op.drop_table("wo_units")
