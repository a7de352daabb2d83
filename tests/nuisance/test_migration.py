"""Migration 0027 creates exactly the 骚扰号码名单 tables `hotline.nuisance.store` declares, refuses an UPDATE of the
history, never reuses a history id (what the list's revision relies on), and goes down and up again (both
databases)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

import hotline.nuisance.store  # noqa: F401  (registers the tables on Base.metadata)
from hotline import db
from hotline.db import Base, get_engine
from tests.conftest import fresh_database

TABLES = {"nuisance_entry", "nuisance_event"}
ENTRY = (
    "INSERT INTO nuisance_entry (number, treatment, days, reason, evidence, state, proposed_by, proposed_at) "
    "VALUES ('13800001111', 'warn', 7, '骚扰', '', 'pending', '张敏', '2021-06-01 02:00:00')"
)
EVENT = "INSERT INTO nuisance_event (entry_id, at, actor, action, note) VALUES ({}, '2021-06-01 02:00:00', '张敏', 'proposed', '')"


def test_migration_matches_store(db_url: str) -> None:
    engine = get_engine(db_url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diffs if "nuisance_" in repr(d)] == []


def test_0027_refuses_updates_never_reuses_ids_and_goes_down_and_up(database_url: str, tmp_path: Path) -> None:
    with fresh_database(database_url, tmp_path) as url:
        db.upgrade(url, "0027")
        engine = get_engine(url)
        with engine.begin() as conn:
            conn.execute(text(ENTRY))
            entry = conn.execute(text("SELECT id FROM nuisance_entry")).scalar_one()
            conn.execute(text(EVENT.format(entry)))
            conn.execute(text(EVENT.format(entry)))
            conn.execute(text("DELETE FROM nuisance_event"))
            conn.execute(text(EVENT.format(entry)))
            assert conn.execute(text("SELECT id FROM nuisance_event")).scalar_one() == 3
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text("UPDATE nuisance_event SET note = '改写'"))
        db.downgrade(url, "0026")
        assert not TABLES & set(inspect(get_engine(url)).get_table_names())
        db.upgrade(url, "0027")
        assert set(inspect(get_engine(url)).get_table_names()) >= TABLES
