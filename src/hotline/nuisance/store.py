"""Tables of the 骚扰号码名单 (migration 0027).

- `nuisance_entry`: one per application (申请), with the decision on it (审核通过 or 驳回) and its lifting (解除).
  `number` is the caller's number in full, normalized (`domain.normalize_number`). `open_number` repeats it while the
  entry is pending or in force and is NULL otherwise: its unique constraint keeps a number from having two such
  entries even when two applications arrive at the same moment (an expired entry gives its number up when the next
  application for it is made). 已到期 is not stored: it is `active_until` passed.
- `nuisance_event`: every step of an entry (申请, 审核通过, 驳回, 解除), append-only as `quality_history` is (the ORM
  refuses to change its rows, the database refuses an UPDATE). Its ids are never reused (SQLite AUTOINCREMENT, a
  PostgreSQL sequence), so the newest id with the count tells whether the list changed (`service.list_revision`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime, append_only


class Entry(Base):
    __tablename__ = "nuisance_entry"
    __table_args__ = (
        UniqueConstraint("open_number", name="uq_nuisance_entry_open_number"),
        Index("ix_nuisance_entry_state_until", "state", "active_until"),  # the list in force, each state's list
        Index("ix_nuisance_entry_number", "number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), nullable=False)
    open_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    treatment: Mapped[str] = mapped_column(String(16), nullable=False)  # domain.Treatment
    days: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    evidence: Mapped[str] = mapped_column(String(255), nullable=False)  # the call id or order number it came from
    call_id: Mapped[str | None] = mapped_column(String(255), nullable=True)  # applied from this call record
    order_number: Mapped[str | None] = mapped_column(String(32), nullable=True)  # applied from this work order
    state: Mapped[str] = mapped_column(String(16), nullable=False)  # domain.EntryState, never `expired`
    proposed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    active_from: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    active_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lifted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lift_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class Event(Base):
    __tablename__ = "nuisance_event"
    __table_args__ = (Index("ix_nuisance_event_entry_id", "entry_id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("nuisance_entry.id"), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)  # domain.Action
    note: Mapped[str] = mapped_column(Text, nullable=False)


append_only(Event, "a nuisance-list entry's history")
