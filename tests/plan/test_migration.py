"""Migration 0001 creates exactly the tables `hotline.plan.store` declares (both databases)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import hotline.plan.store  # noqa: F401  (registers the tables on Base.metadata)
from hotline.db import Base, get_engine


def _table_of(diff: Any) -> str:
    item = diff[0] if isinstance(diff, list) else diff
    for part in item[1:]:
        name = getattr(part, "name", None)
        table = getattr(part, "table", None)
        if table is not None:
            return str(table.name)
        if isinstance(part, str) and part.startswith("plan_"):
            return part
        if name and str(name).startswith("plan_"):
            return str(name)
    return ""


def test_migration_matches_store(db_url: str) -> None:
    with get_engine(db_url).connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    mine = [d for d in diffs if _table_of(d).startswith("plan_")]
    assert mine == []
    with get_engine(db_url).connect() as conn:
        names = set(conn.dialect.get_table_names(conn))
    assert {"plan_local_lines", "plan_milestone_records", "plan_subcenter_hours", "plan_revision"} <= names
