"""Migration 0013 creates exactly the tables `hotline.accounts.store` declares (both databases)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import hotline.accounts.store  # noqa: F401  (registers the tables on Base.metadata)
from hotline.db import Base, get_engine


def test_migration_matches_store(db_url: str) -> None:
    engine = get_engine(db_url)
    assert {"acc_accounts", "acc_tokens"} <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diffs if "acc_" in repr(d)] == []
