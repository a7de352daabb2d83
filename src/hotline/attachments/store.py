"""Tables of 工单附件 (migration 0031).

- `attachment_blob`: the bytes, keyed by their SHA-256, so the same file attached twice (to one order or to several)
  is stored once. Written with an insert that does nothing when the key is there (two uploads of one file at once
  both succeed).
- `order_attachment`: one row per file attached to an order: the name as uploaded (cleaned), the type sniffed from
  the content, size, hash, when, who (actor, role, unit). Only ever inserted (no deletion in v1): the ORM refuses
  to change or delete a row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime, append_only

BigId = BigInteger().with_variant(Integer, "sqlite")


class Blob(Base):
    __tablename__ = "attachment_blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class Attachment(Base):
    __tablename__ = "order_attachment"
    __table_args__ = (Index("ix_order_attachment_order_id", "order_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("wo_orders.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    content_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), ForeignKey("attachment_blob.sha256"), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    unit_code: Mapped[str] = mapped_column(String(64), nullable=False, default="")


append_only(Attachment, "a work order's attachments")
