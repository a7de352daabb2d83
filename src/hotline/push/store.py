"""Tables of the push capability: how far each relay has read the work-order history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime


class PushCursor(Base):
    __tablename__ = "push_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)  # `domain.Cursor.to_dict()`
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
