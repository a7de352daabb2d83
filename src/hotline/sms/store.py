"""Tables of 短信通知 (migration 0029) and 短信回访 (migration 0030).

- `sms_messages`: the outbox, one text per order and kind (UNIQUE(order_id, kind): a relay reading an event twice
  writes nothing twice), its full number (masked wherever it is shown), state, attempts and when it may next go;
- `sms_events`: every step of a text (written, not sent and why, a failed try, sent, failed, 重新发送), append-only
  as `wo_history` is;
- `sms_replies` (短信回访): every text a citizen sent back through the gateway (or typed in by `hotline sms reply`),
  the text it answered and the order, the rating read and what it did (`domain.ReplyOutcome`); append-only. A
  gateway's id is unique: the same reply posted again is answered from its row.

How far the relay has read the work-order history is kept in `push_cursors` under the name "sms" (the same cursor
as push's, `push.domain.Cursor`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime, append_only
from hotline.workorders.store import Order

BigId = BigInteger().with_variant(Integer, "sqlite")


class Message(Base):
    __tablename__ = "sms_messages"
    __table_args__ = (
        UniqueConstraint("order_id", "kind", name="uq_sms_messages_order_kind"),
        Index("ix_sms_messages_state_next_try", "state", "next_try_at"),  # the sender's due texts, the tabs' counts
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey(Order.id), nullable=False)
    order_number: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # domain.MessageKind
    phone: Mapped[str] = mapped_column(String(32), nullable=False)  # in full: masked wherever shown
    text: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)  # domain.MessageState
    skip_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)  # domain.SkipReason
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    gateway_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # 短信回访: the text asks the citizen for a rating (a 办结告知 of the order's own answer, the survey on)
    asks_rating: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())


class Event(Base):
    __tablename__ = "sms_events"
    __table_args__ = ({"sqlite_autoincrement": True},)  # an id is never handed out twice, as the database keeps them

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("sms_messages.id"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(
        String(16), nullable=False
    )  # written | skipped | tried | sent | failed | retried
    state: Mapped[str] = mapped_column(String(16), nullable=False)  # the text's state after the step
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")


append_only(Event, "a text message's history")


class CitizenReply(Base):
    __tablename__ = "sms_replies"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    gateway_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    phone: Mapped[str] = mapped_column(String(32), nullable=False)  # in full: masked wherever shown
    text: Mapped[str] = mapped_column(Text, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("sms_messages.id"), nullable=True, index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey(Order.id), nullable=True, index=True)
    rating: Mapped[str | None] = mapped_column(String(16), nullable=True)  # workorders.domain.Satisfaction
    outcome: Mapped[str] = mapped_column(String(24), nullable=False, index=True)  # domain.ReplyOutcome


append_only(CitizenReply, "a citizen's SMS reply")
