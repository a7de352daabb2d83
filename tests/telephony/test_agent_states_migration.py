"""Migration 0032 creates exactly the 座席状态 table `hotline.telephony.store` declares, the database itself refuses to
rewrite a reported change, and it goes down and up again (both databases)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

import hotline.telephony.store  # noqa: F401  (registers the tables on Base.metadata)
from hotline import db
from hotline.db import Base, get_engine
from tests.conftest import fresh_database

TABLE = "telephony_agent_state"


def test_migration_matches_store(db_url: str) -> None:
    engine = get_engine(db_url)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diffs if TABLE in repr(d)] == []


def test_the_database_refuses_to_rewrite_a_change(db_url: str) -> None:
    engine = get_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text(f"INSERT INTO {TABLE} (agent, state, reason, at, received_at) VALUES ('A007', 'ready', '', :t, :t)"),
            {"t": "2026-06-02 01:00:00.000000"},
        )
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(f"UPDATE {TABLE} SET state = 'busy'"))


def test_0032_goes_down_and_up(database_url: str, tmp_path: Path) -> None:
    with fresh_database(database_url, tmp_path) as url:
        db.upgrade(url, "0032")
        assert TABLE in inspect(get_engine(url)).get_table_names()
        db.downgrade(url, "0031")
        assert TABLE not in inspect(get_engine(url)).get_table_names()
        db.upgrade(url, "0032")
        assert {i["name"] for i in inspect(get_engine(url)).get_indexes(TABLE)} >= {"ix_telephony_agent_state_at"}
