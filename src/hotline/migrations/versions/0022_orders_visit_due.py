"""Work orders: the 回访时限 (`wo_orders.visit_due`), the day by which an order waiting for its callback (待回访) is
to be called back, set as it enters 待回访 (审核通过, 直接办结) from the 回访 limit (`wo_limits`, default 3 working
days, a local rule).

Left NULL on the orders already past that step: their callback is not judged (not 超期, not in 按时回访率).

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wo_orders", recreate="never") as batch:
        batch.add_column(sa.Column("visit_due", sa.Date(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN on SQLite too (3.35+): copying wo_orders would trip the keys referring to it.
    with op.batch_alter_table("wo_orders", recreate="never") as batch:
        batch.drop_column("visit_due")
