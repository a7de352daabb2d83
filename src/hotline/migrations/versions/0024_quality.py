"""话务/工单质检: the scoring sheet's versions (`quality_sheets`, seeded with the default 质检标准), the draws
(`quality_draws`), one inspection per inspected order (`quality_inspections`) and each inspection's steps
(`quality_history`). The sheet's versions and the history are append-only: the ORM refuses to change their rows,
the database refuses an UPDATE (a trigger, as `wo_history` has since 0003).

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

from hotline.db import UTCDateTime
from hotline.timeutil import now

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

APPEND_ONLY = ("quality_sheets", "quality_history")
# The default 质检标准 as of this revision (quality.domain.DEFAULT_SHEET then); the administrator changes it from there.
ITEMS = [
    {"label": "服务用语规范", "points": 15},
    {"label": "诉求记录完整准确", "points": 25},
    {"label": "政策解答准确", "points": 20},
    {"label": "分类与派单正确", "points": 20},
    {"label": "工单填写规范", "points": 10},
    {"label": "办理时效（受理及时）", "points": 10},
]
VETOES = ["泄露来电人信息", "与群众发生争执、态度恶劣"]


def upgrade() -> None:
    sheets = op.create_table(
        "quality_sheets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("vetoes", sa.JSON(), nullable=False),
        sa.Column("pass_line", sa.Integer(), nullable=False),
        sa.Column("appeal_days", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_quality_sheets"),
    )
    op.create_table(
        "quality_draws",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("per_agent", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("drawn", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_quality_draws"),
    )
    op.create_table(
        "quality_inspections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("order_number", sa.String(32), nullable=False),
        sa.Column("taken_at", UTCDateTime(), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("agent_key", sa.String(64), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("sheet_id", sa.Integer(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("first_result", sa.JSON(), nullable=True),
        sa.Column("scored_at", UTCDateTime(), nullable=True),
        sa.Column("scored_by", sa.String(64), nullable=True),
        sa.Column("appeal_due", sa.Date(), nullable=True),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("appeal_reason", sa.Text(), nullable=True),
        sa.Column("appealed_at", UTCDateTime(), nullable=True),
        sa.Column("review_outcome", sa.String(8), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("reviewed_at", UTCDateTime(), nullable=True),
        sa.Column("reviewed_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_quality_inspections"),
        sa.UniqueConstraint("order_id", name="uq_quality_inspections_order_id"),
        sa.ForeignKeyConstraint(["order_id"], ["wo_orders.id"], name="fk_quality_inspections_order_id_wo_orders"),
        sa.ForeignKeyConstraint(["draw_id"], ["quality_draws.id"], name="fk_quality_inspections_draw_id_quality_draws"),
        sa.ForeignKeyConstraint(
            ["sheet_id"], ["quality_sheets.id"], name="fk_quality_inspections_sheet_id_quality_sheets"
        ),
    )
    op.create_index("ix_quality_inspections_status_created", "quality_inspections", ["status", "created_at"])
    op.create_index("ix_quality_inspections_agent_status", "quality_inspections", ["agent_key", "status"])
    op.create_index("ix_quality_inspections_taken_at", "quality_inspections", ["taken_at"])
    op.create_table(
        "quality_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_quality_history"),
        sa.UniqueConstraint("inspection_id", "seq", name="uq_quality_history_inspection_seq"),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["quality_inspections.id"],
            name="fk_quality_history_inspection_id_quality_inspections",
        ),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute(
            "CREATE FUNCTION quality_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
    for table in APPEND_ONLY:
        if postgresql:
            op.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION quality_append_only()"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    op.bulk_insert(
        sheets,
        [{"items": ITEMS, "vetoes": VETOES, "pass_line": 80, "appeal_days": 3, "created_at": now(),
          "created_by": "初始质检标准"}],
    )  # fmt: skip


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update" + (f" ON {table}" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS quality_append_only()")
    op.drop_table("quality_history")
    op.drop_index("ix_quality_inspections_taken_at", table_name="quality_inspections")
    op.drop_index("ix_quality_inspections_agent_status", table_name="quality_inspections")
    op.drop_index("ix_quality_inspections_status_created", table_name="quality_inspections")
    op.drop_table("quality_inspections")
    op.drop_table("quality_draws")
    op.drop_table("quality_sheets")
