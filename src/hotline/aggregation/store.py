"""Tables of the aggregation capability: the latest version of every record a source sent, and each source's
connection state. No caller's number or name is stored (a feed does not carry them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime

BigId = BigInteger().with_variant(Integer, "sqlite")


class _FedRecord:
    """What every kept record has: the source, the source's own id, the version kept and when it came."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    external_id: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class FeedCallRow(_FedRecord, Base):
    __tablename__ = "agg_calls"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_agg_calls_source_started", "source", "started_at"),
    )

    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    requested: Mapped[bool] = mapped_column(Boolean, nullable=False)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FeedOrderRow(_FedRecord, Base):
    __tablename__ = "agg_orders"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_agg_orders_source_created", "source", "created_at"),
    )

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    due: Mapped[date] = mapped_column(Date, nullable=False)
    region_code: Mapped[str | None] = mapped_column(String(6))
    category: Mapped[str | None] = mapped_column(String(100))
    demand_type: Mapped[str | None] = mapped_column(String(20))
    dispatched: Mapped[bool] = mapped_column(Boolean, nullable=False)
    accept_due: Mapped[date | None] = mapped_column(Date)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    direct: Mapped[bool] = mapped_column(Boolean, nullable=False)
    returned: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reopened: Mapped[bool] = mapped_column(Boolean, nullable=False)
    satisfaction: Mapped[str | None] = mapped_column(String(16))
    citizen_resolved: Mapped[bool | None] = mapped_column(Boolean)


class FeedState(Base):
    """One row per source that has ever sent anything: when it was last heard from, and totals."""

    __tablename__ = "agg_feeds"

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)  # any batch, empty ones too
    last_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a batch that changed something
    batches: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    records: Mapped[int] = mapped_column(BigId, nullable=False, default=0)
    rejected: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class FeedRejection(Base):
    """A batch that was refused, kept so a supervisor sees it and the sender can be told. For the message
    queue, `stream_seq` finds the refused message, which stays in the stream."""

    __tablename__ = "agg_rejections"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    transport: Mapped[str] = mapped_column(String(16), nullable=False)  # http | queue
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    message: Mapped[str] = mapped_column(String(500), nullable=False)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    stream_seq: Mapped[int | None] = mapped_column(BigId)
