"""Knowledge: one 有用 mark per person and article version, enforced by the database (a partial unique index), so
two clicks arriving at the same instant cannot both count. Marks already doubled are merged into the first.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_USEFUL = sa.text("kind = 'useful'")


def upgrade() -> None:
    op.execute(
        "DELETE FROM kb_article_flags WHERE kind = 'useful' AND id NOT IN ("
        " SELECT MIN(id) FROM kb_article_flags WHERE kind = 'useful'"
        " GROUP BY article_id, article_version, agent)"
    )
    op.create_index(
        "uq_kb_article_flags_useful",
        "kb_article_flags",
        ["article_id", "article_version", "agent"],
        unique=True,
        sqlite_where=_USEFUL,
        postgresql_where=_USEFUL,
    )


def downgrade() -> None:
    op.drop_index("uq_kb_article_flags_useful", table_name="kb_article_flags")
