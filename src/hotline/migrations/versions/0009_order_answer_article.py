"""Work orders: the knowledge article an agent answered from when resolving directly (`wo_orders.answer_article`,
the article's external id). Answered pairs teach the knowledge base's answer model (`hotline kb learn --from-db`).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wo_orders") as batch:
        batch.add_column(sa.Column("answer_article", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("wo_orders") as batch:
        batch.drop_column("answer_article")
