"""Work orders: an index on the caller's number with the time taken, for a caller's earlier orders (来电人历史工单 on
the 受理 page, `?phone=` on the list): without it each lookup and its count read every order.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_wo_orders_caller_phone_created_at", "wo_orders", ["caller_phone", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_wo_orders_caller_phone_created_at", table_name="wo_orders")
