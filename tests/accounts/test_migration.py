"""Migrations 0013 and 0014 create exactly the tables `hotline.accounts.store` declares, and 0014 goes down and up
again keeping accounts and their tokens (both databases)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

import hotline.accounts.store  # noqa: F401  (registers the tables on Base.metadata)
from hotline import db
from hotline.db import Base, get_engine
from tests.conftest import fresh_database


def test_migration_matches_store(db_url: str) -> None:
    engine = get_engine(db_url)
    assert {"acc_accounts", "acc_tokens"} <= set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diffs if "acc_" in repr(d)] == []


def _shape(url: str) -> tuple[list[str], set[str]]:
    found = inspect(get_engine(url))
    return [c["name"] for c in found.get_columns("acc_accounts")], {i["name"] for i in found.get_indexes("acc_events")}


def test_0014_goes_down_and_up_keeping_accounts_and_tokens(database_url: str, tmp_path: Path) -> None:
    with fresh_database(database_url, tmp_path) as url:
        db.upgrade(url, "0013")
        with get_engine(url).begin() as conn:
            conn.execute(text(
                "INSERT INTO acc_accounts (login, name, grants, active, failures, created_at) "
                "VALUES ('zhangmin', '张敏', '[\"agent\"]', true, 3, '2021-11-01 02:00:00+00')"
            ))  # fmt: skip
            conn.execute(text(
                "INSERT INTO acc_tokens (digest, account_id, kind, label, created_at, expires_at) SELECT 'abc', id, "
                "'api', '', '2021-11-01 02:00:00+00', '2031-11-01 02:00:00+00' FROM acc_accounts"
            ))  # fmt: skip
        db.upgrade(url, "0014")
        columns, indexes = _shape(url)
        assert "failures" not in columns and "last_failure" not in columns
        assert {
            "ix_acc_events_login_at",
            "ix_acc_events_address_at",
        } <= indexes and "ix_acc_events_login" not in indexes
        db.downgrade(url, "0013")
        columns, indexes = _shape(url)
        assert {"failures", "last_failure"} <= set(columns)
        assert "ix_acc_events_login" in indexes and "ix_acc_events_login_at" not in indexes
        with get_engine(url).connect() as conn:
            assert conn.execute(text("SELECT failures, last_failure FROM acc_accounts")).one() == (0, None)
            assert conn.execute(text("SELECT count(*) FROM acc_tokens")).scalar() == 1  # not dropped with a copy
        db.upgrade(url, "0014")
        with get_engine(url).connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM acc_tokens")).scalar() == 1
