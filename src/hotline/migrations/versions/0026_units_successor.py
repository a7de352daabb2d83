"""机构调整: `wo_units.successor_id`, the 接替单位 named when a unit was 停用, kept while it is out of service, so
that a co-handling order of its reopened with its lead (重办) goes to the successor.

Units already out of service take the successor their latest 停用's change record names (0023's
`settings_changes`, whose summary ends 「停用（接替单位：名称（代码））」); a 停用 that named none leaves NULL.

Revision ID: 0026
Revises: 0025
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

# The code in the last parentheses before the closing one, so that a name with parentheses of its own
# (成都高新区（自贸区）管委会) is read right.
_KEY = "fk_wo_units_successor_id_wo_units"
_SUCCESSOR_CODE = re.compile(r"停用（接替单位：.*（([^（）]+)））$")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # ALTER TABLE … ADD COLUMN with its key in place: copying wo_units (batch mode) would trip the keys referring
        # to it, and SQLite adds no constraint to a table afterwards.
        op.execute(f"ALTER TABLE wo_units ADD COLUMN successor_id INTEGER CONSTRAINT {_KEY} REFERENCES wo_units (id)")
    else:
        op.add_column("wo_units", sa.Column("successor_id", sa.Integer(), nullable=True))
        op.create_foreign_key(_KEY, "wo_units", "wo_units", ["successor_id"], ["id"])
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    units = sa.table("wo_units", sa.column("id"), sa.column("code"), sa.column("active"), sa.column("successor_id"))
    changes = sa.table("settings_changes", sa.column("id"), sa.column("kind"), sa.column("key"), sa.column("summary"))
    ids = {code: id_ for code, id_ in bind.execute(sa.select(units.c.code, units.c.id))}
    for code in bind.execute(sa.select(units.c.code).where(units.c.active.is_(False))).scalars().all():
        summary = bind.execute(
            sa.select(changes.c.summary)
            .where(changes.c.kind == "unit", changes.c.key == code, changes.c.summary.like("%：停用%"))
            .order_by(changes.c.id.desc())
            .limit(1)
        ).scalar()
        found = _SUCCESSOR_CODE.search(summary or "")
        if found and found.group(1) in ids:
            bind.execute(units.update().where(units.c.code == code).values(successor_id=ids[found.group(1)]))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(_KEY, "wo_units", type_="foreignkey")
    # ALTER TABLE … DROP COLUMN on SQLite too (3.35+), for the reason `upgrade` gives.
    with op.batch_alter_table("wo_units", recreate="never") as batch:
        batch.drop_column("successor_id")
