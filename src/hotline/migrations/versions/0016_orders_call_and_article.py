"""Work orders: indexes on the call an order was taken from (the calls page lists each call's orders) and on the
knowledge article an order was answered from (an article's page counts the orders that cited it); without them
each lookup reads every order.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_wo_orders_call_id", "wo_orders", ["call_id"])
    op.create_index("ix_wo_orders_answer_article", "wo_orders", ["answer_article"])


def downgrade() -> None:
    op.drop_index("ix_wo_orders_answer_article", table_name="wo_orders")
    op.drop_index("ix_wo_orders_call_id", table_name="wo_orders")
