"""Work orders: an index on `resolved_at` (办结时间), for 实时监控's 今日办结 (`supervision.monitor.order_figures`),
read every few seconds by each board's stream: without it both databases read every order ever taken to count the
day's answered ones.

Revision ID: 0028
Revises: 0027
"""

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_wo_orders_resolved_at", "wo_orders", ["resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_wo_orders_resolved_at", table_name="wo_orders")
