"""Accounts: staff and system accounts (`acc_accounts`), their web sessions and API tokens (`acc_tokens`), and
the audit trail of signing in and account changes (`acc_events`).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "acc_accounts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("login", sa.String(32), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(200)),
        sa.Column("grants", sa.JSON(), nullable=False),
        sa.Column("bound_to", sa.String(32)),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("login", name="uq_acc_accounts_login"),
    )
    op.create_table(
        "acc_tokens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column(
            "account_id", sa.Integer(), sa.ForeignKey("acc_accounts.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime()),
        sa.Column("revoked_at", UTCDateTime()),
        sa.UniqueConstraint("digest", name="uq_acc_tokens_digest"),
    )

    op.create_table(
        "acc_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", UTCDateTime(), nullable=False, index=True),
        sa.Column("login", sa.String(64), nullable=False, index=True),
        sa.Column("event", sa.String(24), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
        sa.Column("address", sa.String(64)),
    )


def downgrade() -> None:
    op.drop_table("acc_events")
    op.drop_table("acc_tokens")
    op.drop_table("acc_accounts")
