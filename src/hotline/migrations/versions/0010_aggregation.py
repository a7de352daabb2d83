"""Aggregation (数据汇聚): records fed by sub-centres and city centres (`agg_calls`, `agg_orders`), each source's
connection state (`agg_feeds`) and refused batches (`agg_rejections`).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "agg_calls",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("version", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("requested", sa.Boolean(), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("source", "external_id", name="uq_agg_calls_source"),
    )
    op.create_index("ix_agg_calls_source_started", "agg_calls", ["source", "started_at"])
    op.create_table(
        "agg_orders",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("version", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=True),
        sa.Column("category", sa.String(100), nullable=True),
        sa.Column("demand_type", sa.String(20), nullable=True),
        sa.Column("dispatched", sa.Boolean(), nullable=False),
        sa.Column("accept_due", sa.Date(), nullable=True),
        sa.Column("accepted_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("direct", sa.Boolean(), nullable=False),
        sa.Column("returned", sa.Boolean(), nullable=False),
        sa.Column("reopened", sa.Boolean(), nullable=False),
        sa.Column("satisfaction", sa.String(16), nullable=True),
        sa.Column("citizen_resolved", sa.Boolean(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("source", "external_id", name="uq_agg_orders_source"),
    )
    op.create_index("ix_agg_orders_source_created", "agg_orders", ["source", "created_at"])
    op.create_table(
        "agg_feeds",
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_changed_at", UTCDateTime(), nullable=True),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("records", BigId, nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
    )
    op.create_table(
        "agg_rejections",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("transport", sa.String(16), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("message", sa.String(500), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("stream_seq", BigId, nullable=True),
    )
    op.create_index("ix_agg_rejections_source", "agg_rejections", ["source"])


def downgrade() -> None:
    op.drop_index("ix_agg_rejections_source", table_name="agg_rejections")
    op.drop_table("agg_rejections")
    op.drop_table("agg_feeds")
    op.drop_index("ix_agg_orders_source_created", table_name="agg_orders")
    op.drop_table("agg_orders")
    op.drop_index("ix_agg_calls_source_started", table_name="agg_calls")
    op.drop_table("agg_calls")
