"""Tables of the plan capability: local lines, milestone records, sub-centre hours, plan revision.

Owned by hotline.plan; edit this file while the capability is young, add a new revision once a
release has shipped.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_local_lines",
        sa.Column("number", sa.String(20), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("units", sa.Text, nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("registered_by", sa.String(64), nullable=False),
        sa.Column("registered_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("number", name="pk_plan_local_lines"),
    )
    op.create_table(
        "plan_milestone_records",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("line_number", sa.String(20), nullable=False),
        sa.Column("milestone_id", sa.String(40), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_plan_milestone_records"),
    )
    op.create_index(
        "ix_plan_milestone_records_key", "plan_milestone_records", ["line_number", "milestone_id", "region_code"]
    )
    op.create_table(
        "plan_subcenter_hours",
        sa.Column("line_number", sa.String(20), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("opens", sa.Time, nullable=False),
        sa.Column("closes", sa.Time, nullable=False),
        sa.Column("workdays_only", sa.Boolean, nullable=False),
        sa.Column("set_by", sa.String(64), nullable=False),
        sa.Column("set_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("line_number", "region_code", name="pk_plan_subcenter_hours"),
    )
    op.create_table(
        "plan_revision",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_plan_revision"),
    )


def downgrade() -> None:
    op.drop_table("plan_revision")
    op.drop_table("plan_subcenter_hours")
    op.drop_index("ix_plan_milestone_records_key", table_name="plan_milestone_records")
    op.drop_table("plan_milestone_records")
    op.drop_table("plan_local_lines")
