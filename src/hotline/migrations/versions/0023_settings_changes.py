"""设置变更记录: `settings_changes`, one row per change to a handling unit, a dispatch-catalogue entry, a time limit or
a day of the working-day calendar (who, when, the key, before and after, a Chinese summary), written in the
transaction that made the change. Append-only: the ORM refuses to update or delete its rows, and the database
refuses an UPDATE (a trigger, as `wo_history` has since 0003). Changes made before
0023 were not kept: the table starts empty.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "settings_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_settings_changes"),
    )
    op.create_index("ix_settings_changes_kind_id", "settings_changes", ["kind", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION settings_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'settings_changes is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER settings_changes_no_update BEFORE UPDATE ON settings_changes "
            "FOR EACH ROW EXECUTE FUNCTION settings_changes_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER settings_changes_no_update BEFORE UPDATE ON settings_changes "
            "BEGIN SELECT RAISE(ABORT, 'settings_changes is append-only'); END"
        )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute("DROP TRIGGER IF EXISTS settings_changes_no_update" + (" ON settings_changes" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS settings_changes_append_only()")
    op.drop_index("ix_settings_changes_kind_id", table_name="settings_changes")
    op.drop_table("settings_changes")
