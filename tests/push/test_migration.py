"""Migration 0011 creates exactly the table `hotline.push.store` declares (both databases)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import hotline.push.store  # noqa: F401  (registers the table on Base.metadata)
from hotline.db import Base, get_engine


def test_migration_matches_store(db_url: str) -> None:
    with get_engine(db_url).connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diffs if "push_" in repr(d)] == []
