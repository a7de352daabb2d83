"""Work orders: the words of each order's content as 热点诉求 counts them (`wo_orders.content_words`), stored once
so that the first hot-topics call after a start no longer cuts every content of both periods again.

Left NULL here: cutting needs jieba and takes about 0.1 ms an order, too slow for a migration on a platform in
service; `supervision.service.hotspots` fills the rows it reads that have none, once (docs/supervision.md).

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wo_orders", recreate="never") as batch:
        batch.add_column(sa.Column("content_words", sa.Text(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN on SQLite too (3.35+): copying wo_orders would trip the keys referring to it.
    with op.batch_alter_table("wo_orders", recreate="never") as batch:
        batch.drop_column("content_words")
