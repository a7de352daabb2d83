"""Migration 0010 creates exactly the tables `hotline.aggregation.store` declares (both databases)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import hotline.aggregation.store  # noqa: F401  (registers the tables on Base.metadata)
from hotline.db import Base, get_engine


def test_migration_matches_store(db_url: str) -> None:
    with get_engine(db_url).connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    mine = [d for d in diffs if "agg_" in repr(d)]
    assert mine == []
    with get_engine(db_url).connect() as conn:
        names = set(conn.dialect.get_table_names(conn))
    assert {"agg_calls", "agg_orders", "agg_feeds", "agg_rejections"} <= names
