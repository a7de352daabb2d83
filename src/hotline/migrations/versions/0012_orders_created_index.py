"""Work orders: an index on `wo_orders.created_at`, for every query over a period of received orders (KPI
reports, repeat detection, an Open311 app's requests), which otherwise read the whole table.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_wo_orders_created_at", "wo_orders", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_wo_orders_created_at", table_name="wo_orders")
