"""The table of 设置变更记录 (`settings_changes`): append-only, as `wo_history` is (`db.append_only`: the ORM refuses
to update or delete its rows, one by one or in bulk)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime, append_only

BigId = BigInteger().with_variant(Integer, "sqlite")


class SettingChange(Base):
    """One change to a setting (`changelog.domain.Change`), written in the transaction that made it."""

    __tablename__ = "settings_changes"
    # A kind's changes newest first (the 变更记录 filtered by 类型; unfiltered, the primary key serves).
    __table_args__ = (Index("ix_settings_changes_kind_id", "kind", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # changelog.domain.Kind
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    summary: Mapped[str] = mapped_column(Text, nullable=False)


append_only(SettingChange, "the settings' change records")
