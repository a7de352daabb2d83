"""The migrations create exactly the work-order tables `hotline.workorders.store` declares, indexes included
(both databases): an index declared but never migrated would leave production without it."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import hotline.quality.store  # (its tables refer to wo_orders: known, they are not read as extra)
import hotline.sms.store  # (the same)
import hotline.workorders.store  # noqa: F401  (registers the tables on Base.metadata)
from hotline.db import Base, get_engine


def test_migrations_match_store(db_url: str) -> None:
    with get_engine(db_url).connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    # The 关键词 index (0025) is each database's own (an FTS5 table, a tsvector table): tests/workorders/test_search.py.
    assert [d for d in diffs if "wo_" in repr(d) and "wo_order_words" not in repr(d)] == []
