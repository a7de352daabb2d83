"""Tables of the plan capability: local lines, milestone records (history), sub-centre hours, revision."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Boolean, Date, Index, Integer, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime


class LocalLine(Base):
    """A line set up by a provincial department or a city (整体并入, local dates), registered by an admin."""

    __tablename__ = "plan_local_lines"

    number: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    units: Mapped[str] = mapped_column(Text, nullable=False, default="")  # "、"-separated
    note: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    registered_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class MilestoneRecord(Base):
    """One recorded completion or postponement; never updated, the latest per key decides."""

    __tablename__ = "plan_milestone_records"
    __table_args__ = (Index("ix_plan_milestone_records_key", "line_number", "milestone_id", "region_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    line_number: Mapped[str] = mapped_column(String(20), nullable=False)
    milestone_id: Mapped[str] = mapped_column(String(40), nullable=False)
    region_code: Mapped[str] = mapped_column(String(6), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)  # done | postpone
    day: Mapped[date] = mapped_column(Date, nullable=False)
    note: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class SubcenterHours(Base):
    """Service hours of a sub-centre before it reaches 7×24; region_code '*' applies to every region."""

    __tablename__ = "plan_subcenter_hours"

    line_number: Mapped[str] = mapped_column(String(20), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    opens: Mapped[time] = mapped_column(Time, nullable=False)
    closes: Mapped[time] = mapped_column(Time, nullable=False)
    workdays_only: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    set_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class PlanRevision(Base):
    """One row whose token changes with every write to the plan tables: lets readers cache cheaply."""

    __tablename__ = "plan_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
