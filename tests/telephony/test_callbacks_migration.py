"""Migration 0021 creates exactly the 漏话回拨 tables `hotline.telephony.store` declares, and goes down and up again
(both databases)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import hotline.telephony.store  # noqa: F401  (registers the tables on Base.metadata)
from hotline import db
from hotline.db import Base, get_engine
from tests.conftest import fresh_database

TABLES = {"telephony_callback", "telephony_callback_call", "telephony_callback_attempt"}


def test_migration_matches_store(db_url: str) -> None:
    engine = get_engine(db_url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diffs if "telephony_callback" in repr(d)] == []


def test_0021_goes_down_and_up(database_url: str, tmp_path: Path) -> None:
    with fresh_database(database_url, tmp_path) as url:
        db.upgrade(url, "0021")
        indexes = {i["name"] for i in inspect(get_engine(url)).get_indexes("telephony_callback")}
        assert {"ix_telephony_callback_state_first", "uq_telephony_callback_open_caller"} <= indexes
        db.downgrade(url, "0020")
        assert not TABLES & set(inspect(get_engine(url)).get_table_names())
        db.upgrade(url, "0021")
        assert set(inspect(get_engine(url)).get_table_names()) >= TABLES
