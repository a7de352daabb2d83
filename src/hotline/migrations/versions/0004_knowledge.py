"""Tables of the knowledge capability.

Owned by hotline.knowledge; edit this file while the capability is young, add a new revision once a
release has shipped.
"""

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _content_columns() -> list[sa.Column]:  # type: ignore[type-arg,unused-ignore]
    return [
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("owner_unit", sa.String(100), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("external_id", sa.String(128), nullable=True),
        *_content_columns(),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kb_articles"),
        sa.UniqueConstraint("external_id", name="uq_kb_articles_external_id"),
    )
    op.create_index("ix_kb_articles_updated_at", "kb_articles", ["updated_at"])
    op.create_table(
        "kb_article_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        *_content_columns(),
        sa.Column("changed_fields", sa.JSON(), nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kb_article_versions"),
        sa.ForeignKeyConstraint(
            ["article_id"], ["kb_articles.id"], name="fk_kb_article_versions_article_id_kb_articles", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("article_id", "version", name="uq_kb_article_versions_article_version"),
    )
    op.create_table(
        "kb_article_flags",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("article_version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("comment", sa.String(1000), nullable=False),
        sa.Column("owner_unit", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("review_due", sa.Date(), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(64), nullable=False),
        sa.Column("resolution", sa.String(20), nullable=False),
        sa.Column("resolution_note", sa.String(1000), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kb_article_flags"),
        sa.ForeignKeyConstraint(
            ["article_id"], ["kb_articles.id"], name="fk_kb_article_flags_article_id_kb_articles", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_kb_article_flags_unit_open", "kb_article_flags", ["owner_unit", "resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_kb_article_flags_unit_open", table_name="kb_article_flags")
    op.drop_table("kb_article_flags")
    op.drop_table("kb_article_versions")
    op.drop_index("ix_kb_articles_updated_at", table_name="kb_articles")
    op.drop_table("kb_articles")
