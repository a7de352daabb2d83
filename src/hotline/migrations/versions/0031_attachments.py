"""工单附件: the files attached to work orders (`order_attachment`, one row per file attached, never updated: the
database refuses an UPDATE, the ORM an update or delete) and their bytes (`attachment_blob`, keyed by SHA-256: a
file attached twice is stored once).

Revision ID: 0031
Revises: 0030
"""

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime
from hotline.migrations import append_only

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

APPEND_ONLY = "order_attachment"
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "attachment_blob",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_attachment_blob"),
    )
    op.create_table(
        "order_attachment",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", BigId, nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_attachment"),
        sa.ForeignKeyConstraint(["order_id"], ["wo_orders.id"], name="fk_order_attachment_order_id_wo_orders"),
        sa.ForeignKeyConstraint(
            ["sha256"], ["attachment_blob.sha256"], name="fk_order_attachment_sha256_attachment_blob"
        ),
    )
    op.create_index("ix_order_attachment_order_id", "order_attachment", ["order_id"])
    append_only.refuse_updates(APPEND_ONLY, "order_attachment_append_only")


def downgrade() -> None:
    append_only.allow_updates(APPEND_ONLY, "order_attachment_append_only")
    op.drop_index("ix_order_attachment_order_id", table_name="order_attachment")
    op.drop_table("order_attachment")
    op.drop_table("attachment_blob")
