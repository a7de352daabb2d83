"""Tables of the accounts capability: staff and system accounts, and the sessions and API tokens they hold."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime


class Account(Base):
    __tablename__ = "acc_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    # scrypt, see `service.hash_password`; systems (feed, proxy) sign in with API tokens and have none.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    grants: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    bound_to: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class Token(Base):
    """A web session (kind "session", from signing in) or an API token (kind "api", issued by an administrator).

    Only the token's SHA-256 is kept, so a copy of the database does not let anyone sign in."""

    __tablename__ = "acc_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("acc_accounts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(8), nullable=False)
    label: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AccountEvent(Base):
    """The audit trail of signing in and of account changes (等保 asks that both be kept and reviewable). The
    lockout counts its failed sign-ins, by login name and by address over the last minutes: hence the indexes."""

    __tablename__ = "acc_events"
    __table_args__ = (
        Index("ix_acc_events_login_at", "login", "at"),
        Index("ix_acc_events_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    login: Mapped[str] = mapped_column(String(64), nullable=False)  # as typed, for failed sign-ins
    event: Mapped[str] = mapped_column(String(24), nullable=False)
    detail: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    address: Mapped[str | None] = mapped_column(String(64))  # the client's address, when it came over HTTP
