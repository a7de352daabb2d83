"""Work orders: the 关键词 full-text index (`wo_order_words`), each order's content and place segmented with jieba
(`workorders.search.index_words`), so that the order list, its count and its export find a word through an index
rather than reading every order's text (LIKE '%word%').

SQLite: an FTS5 table whose rowid is the order's id (detail=none, columnsize=0: only which orders hold a word is
asked). PostgreSQL: (order_id, words tsvector, config 'simple') with a GIN index on words.

The orders already stored are indexed here, in batches of BATCH in id order (cutting takes about 0.3 ms an order:
bench/workorders.md gives the time for 250,000). From here on the service writes an order's entry in the
transaction that creates it or changes its content or place.

Revision ID: 0025
Revises: 0024
"""

from alembic import op

from hotline.workorders.store import index_orders

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.execute(
            "CREATE TABLE wo_order_words (order_id BIGINT NOT NULL, words TSVECTOR NOT NULL, "
            "CONSTRAINT pk_wo_order_words PRIMARY KEY (order_id), CONSTRAINT fk_wo_order_words_order_id_wo_orders "
            "FOREIGN KEY (order_id) REFERENCES wo_orders (id) ON DELETE CASCADE)"
        )
    else:
        op.execute("CREATE VIRTUAL TABLE wo_order_words USING fts5(words, detail=none, columnsize=0)")
    index_orders(conn, batch=BATCH)
    if conn.dialect.name == "postgresql":
        # Built once the rows are in: faster than keeping it up to date row by row.
        op.execute("CREATE INDEX ix_wo_order_words_words ON wo_order_words USING gin (words)")


def downgrade() -> None:
    op.execute("DROP TABLE wo_order_words")
