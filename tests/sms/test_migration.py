"""Migration 0029 creates exactly the 短信通知 tables `hotline.sms.store` declares, refuses an UPDATE of a text's
history, starts the relay past the history already written (a platform in service texts about what happens from
now on), and goes down and up again (both databases)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

import hotline.sms.store  # noqa: F401  (registers the tables on Base.metadata)
from hotline import db
from hotline.db import Base, get_engine, session_scope
from hotline.sms import service
from tests.conftest import fresh_database
from tests.sms.conftest import T0, take

TABLES = {"sms_messages", "sms_events"}


def test_migration_matches_store(db_url: str) -> None:
    engine = get_engine(db_url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diffs if "sms_" in repr(d)] == []


def test_0029_starts_past_the_history_refuses_updates_and_goes_down_and_up(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fresh_database(database_url, tmp_path) as url:
        monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
        db.upgrade(url, "0028")
        old = take(T0)
        db.upgrade(url, "0029")
        new = take(T0)
        with session_scope() as s:
            assert service.relay_once(s, at=T0)["read"] == 1
            assert [m["order_number"] for m in service.list_messages(s)] == [new]
            assert old != new
        engine = get_engine(url)
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text("UPDATE sms_events SET note = '改写'"))
        db.downgrade(url, "0028")
        tables = set(inspect(get_engine(url)).get_table_names())
        assert not TABLES & tables
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM push_cursors WHERE name = 'sms'")).scalar_one() == 0
        db.upgrade(url, "0029")
        assert set(inspect(get_engine(url)).get_table_names()) >= TABLES
