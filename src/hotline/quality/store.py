"""Tables of 话务/工单质检 (migration 0024).

- `quality_sheets`: each version of the scoring sheet (质检标准), append-only: the newest is the one scored with, and
  a result names the version it was scored with, so changing the sheet never rescores an old result;
- `quality_draws`: each 抽检 with its seed, so the draw can be made again from what it says;
- `quality_inspections`: one per inspected order (the unique order id keeps an order from being inspected twice),
  the agent who took it in, its state and its current result (a voided task keeps its row, so its order is not
  drawn again);
- `quality_history`: every step of an inspection (抽检, 评分, 确认, 申诉, 复核, 作废), append-only as `wo_history` is; who
  voided a task, when and why is its 作废 step alone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime, append_only
from hotline.workorders.store import Order

BigId = BigInteger().with_variant(Integer, "sqlite")


class SheetVersion(Base):
    __tablename__ = "quality_sheets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)  # [{"label", "points"}]
    vetoes: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    pass_line: Mapped[int] = mapped_column(Integer, nullable=False)
    appeal_days: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)


class Draw(Base):
    __tablename__ = "quality_draws"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    since: Mapped[date] = mapped_column(Date, nullable=False)  # China dates the orders were taken in, both included
    until: Mapped[date] = mapped_column(Date, nullable=False)
    per_agent: Mapped[int] = mapped_column(Integer, nullable=False)
    seed: Mapped[int] = mapped_column(BigInteger, nullable=False)
    candidates: Mapped[int] = mapped_column(Integer, nullable=False)  # orders it drew from
    drawn: Mapped[int] = mapped_column(Integer, nullable=False)


class Inspection(Base):
    __tablename__ = "quality_inspections"
    __table_args__ = (
        UniqueConstraint("order_id", name="uq_quality_inspections_order_id"),
        Index("ix_quality_inspections_status_created", "status", "created_at"),  # 待质检, 申诉待复核
        Index("ix_quality_inspections_agent_status", "agent_key", "status"),  # an agent's own results
        Index("ix_quality_inspections_taken_at", "taken_at"),  # a period's figures
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey(Order.id), nullable=False)
    order_number: Mapped[str] = mapped_column(String(32), nullable=False)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)  # the order's 受理
    region_code: Mapped[str] = mapped_column(String(6), nullable=False)
    agent: Mapped[str] = mapped_column(String(64), nullable=False)  # as the order's history names its 受理人
    agent_key: Mapped[str] = mapped_column(String(64), nullable=False)  # domain.agent_key(agent)
    draw_id: Mapped[int | None] = mapped_column(ForeignKey("quality_draws.id"), nullable=True)  # None: picked
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # domain.Status
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    # The current result, scored on `sheet_id`'s version; `first_result` the one a 改分 replaced.
    sheet_id: Mapped[int | None] = mapped_column(ForeignKey("quality_sheets.id"), nullable=True)
    total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # domain.Result.to_dict()
    first_result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    scored_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    appeal_due: Mapped[date | None] = mapped_column(Date, nullable=True)  # the last China day to appeal
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    appeal_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    appealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    review_outcome: Mapped[str | None] = mapped_column(String(8), nullable=True)  # domain.Outcome
    review_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Step(Base):
    __tablename__ = "quality_history"
    __table_args__ = (UniqueConstraint("inspection_id", "seq", name="uq_quality_history_inspection_seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("quality_inspections.id"), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)  # domain.Action
    note: Mapped[str] = mapped_column(Text, nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


append_only(SheetVersion, "the quality scoring sheet's versions")
append_only(Step, "an inspection's history")
