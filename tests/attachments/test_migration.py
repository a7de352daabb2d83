"""Migration 0031 creates exactly the 工单附件 tables `hotline.attachments.store` declares, refuses an UPDATE of an
attachment row, and goes down and up again (both databases)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

import hotline.attachments.store  # noqa: F401  (registers the tables on Base.metadata)
from hotline import db
from hotline.attachments import service
from hotline.db import Base, get_engine, session_scope
from tests.attachments.conftest import png
from tests.conftest import fresh_database
from tests.quality.orders import take

TABLES = {"order_attachment", "attachment_blob"}


def test_migration_matches_store(db_url: str) -> None:
    engine = get_engine(db_url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diffs if "attachment" in repr(d)] == []


def test_0031_refuses_updates_and_goes_down_and_up(database_url: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    with fresh_database(database_url, tmp_path) as url:
        monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
        db.upgrade(url, "0031")
        number = take("张敏（zhangmin）")
        with session_scope() as s:
            service.attach(s, number, png(), "a.png", role="agent", actor="张敏")
        engine = get_engine(url)
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text("UPDATE order_attachment SET name = '改写.png'"))
        db.downgrade(url, "0030")
        assert not TABLES & set(inspect(get_engine(url)).get_table_names())
        db.upgrade(url, "0031")
        assert set(inspect(get_engine(url)).get_table_names()) >= TABLES
