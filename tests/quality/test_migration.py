"""Migration 0024 creates exactly the 质检 tables `hotline.quality.store` declares, seeded with the default 质检标准,
refuses an UPDATE of the append-only ones, and goes down and up again (both databases)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

import hotline.quality.store  # noqa: F401  (registers the tables on Base.metadata)
from hotline import db
from hotline.db import Base, get_engine
from hotline.quality.domain import DEFAULT_SHEET
from tests.conftest import fresh_database

TABLES = {"quality_sheets", "quality_draws", "quality_inspections", "quality_history"}


def test_migration_matches_store(db_url: str) -> None:
    engine = get_engine(db_url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diffs if "quality_" in repr(d)] == []


def test_0024_seeds_the_default_sheet_refuses_updates_and_goes_down_and_up(database_url: str, tmp_path: Path) -> None:
    with fresh_database(database_url, tmp_path) as url:
        db.upgrade(url, "0024")
        engine = get_engine(url)
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT items, vetoes, pass_line, appeal_days, created_by FROM quality_sheets")
            ).one()
        items, vetoes = (value if isinstance(value, list) else json.loads(value) for value in row[:2])
        assert {"items": items, "vetoes": vetoes, "pass_line": row[2], "appeal_days": row[3]} == DEFAULT_SHEET.to_dict()
        assert row[4] == "初始质检标准"
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text("UPDATE quality_sheets SET pass_line = 60"))
        db.downgrade(url, "0023")
        assert not TABLES & set(inspect(get_engine(url)).get_table_names())
        db.upgrade(url, "0024")
        assert set(inspect(get_engine(url)).get_table_names()) >= TABLES
