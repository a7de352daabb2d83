"""Tables of smart dispatch: the categories dispatchers finally chose (feedback for retraining)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime


class DispatchFeedback(Base):
    """One dispatcher decision: the demand's text and the first-level category it was finally given."""

    __tablename__ = "dispatch_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False)
    suggested: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    order_id: Mapped[str] = mapped_column(String(64), nullable=False, default="", index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
