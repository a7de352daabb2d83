"""Tables of the knowledge base: articles, their kept versions, and agents' flags."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db import Base, UTCDateTime


class Article(Base):
    __tablename__ = "kb_articles"
    # The maintenance queue (知识维护) reads the few articles awaiting review, drafts and those expiring soon.
    __table_args__ = (Index("ix_kb_articles_status_expires", "status", "expires_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    external_id: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    category: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    owner_unit: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    lines: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    regions: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    keywords: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    effective_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    expires_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="draft")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, index=True)
    updated_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")

    def content(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "body": self.body,
            "category": self.category,
            "owner_unit": self.owner_unit,
            "lines": list(self.lines or []),
            "regions": list(self.regions or []),
            "keywords": list(self.keywords or []),
            "effective_from": self.effective_from,
            "expires_on": self.expires_on,
            "status": self.status,
        }


class ArticleVersion(Base):
    """One kept version: the full content after an edit, who made it, when, and which fields changed."""

    __tablename__ = "kb_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version", name="uq_kb_article_versions_article_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    category: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    owner_unit: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    lines: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    regions: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    keywords: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    effective_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    expires_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    changed_fields: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    changed_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    note: Mapped[str] = mapped_column(String(500), nullable=False, default="")


class ArticleFlag(Base):
    """An agent's mark on an article (useful / outdated); an outdated flag must be reviewed by the owner."""

    __tablename__ = "kb_article_flags"
    __table_args__ = (
        Index("ix_kb_article_flags_unit_open", "owner_unit", "resolved_at"),
        # 有用 counts people: one mark per person and version, even when two clicks arrive at the same instant.
        Index(
            "uq_kb_article_flags_useful",
            "article_id",
            "article_version",
            "agent",
            unique=True,
            sqlite_where=text("kind = 'useful'"),
            postgresql_where=text("kind = 'useful'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), nullable=False)
    article_version: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    agent: Mapped[str] = mapped_column(String(64), nullable=False)
    comment: Mapped[str] = mapped_column(String(1000), nullable=False, default="")
    owner_unit: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    review_due: Mapped[date | None] = mapped_column(Date, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    resolution: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    resolution_note: Mapped[str] = mapped_column(String(1000), nullable=False, default="")
