"""Migrations 0029 and 0030 create exactly the 短信通知 and 短信回访 tables `hotline.sms.store` declares: 0029 refuses
an UPDATE of a text's history, starts the relay past the history already written (a platform in service texts about
what happens from now on); 0030 keeps the texts already written (asking nothing), refuses an UPDATE of a reply and a
gateway's id twice; both go down and up again (both databases)."""

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

TABLES = {"sms_messages", "sms_events"}  # 0029's


def test_migration_matches_store(db_url: str) -> None:
    engine = get_engine(db_url)
    assert set(inspect(engine).get_table_names()) >= TABLES | {"sms_replies"}
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
        db.upgrade(url, "0030")  # the store's tables as they are now (0030: `sms_messages.asks_rating`)
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


def test_0030_adds_the_survey_keeps_the_texts_refuses_reply_updates_and_goes_down_and_up(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fresh_database(database_url, tmp_path) as url:
        monkeypatch.setenv("HOTLINE_DATABASE_URL", url)
        db.upgrade(url, "0029")
        engine = get_engine(url)
        number = take(T0, direct=True)
        with engine.begin() as conn:  # a 0029 text, as 0029's relay wrote it
            conn.execute(text(
                "INSERT INTO sms_messages (order_id, order_number, kind, phone, text, state, attempts, created_at) "
                "SELECT id, number, 'resolved', '13812345678', '已办结', 'sent', 1, created_at FROM wo_orders"
            ))  # fmt: skip
            conn.execute(text("INSERT INTO sms_events (message_id, at, actor, action, state, note) "
                              "SELECT id, created_at, 'system', 'sent', 'sent', '' FROM sms_messages"))  # fmt: skip
        db.upgrade(url, "0030")
        with session_scope() as s:
            [old] = service.messages_for_order(s, number, mask=False)
            assert old["text"] == "已办结"
            asks = s.execute(text("SELECT asks_rating FROM sms_messages")).scalar_one()
            assert not asks  # texts written before 0030 asked nothing
            s.execute(text(
                "INSERT INTO sms_replies (phone, text, received_at, outcome) VALUES ('13812345678', '1', :at, 'no_survey')"
            ), {"at": T0})  # fmt: skip
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text("UPDATE sms_replies SET text = '改写'"))
        with pytest.raises(DBAPIError), engine.begin() as conn:  # a gateway's id is stored once
            conn.execute(text("INSERT INTO sms_replies (gateway_id, phone, text, received_at, outcome) "
                              "VALUES ('g', '1', '1', :at, 'no_survey'), ('g', '1', '1', :at, 'no_survey')"), {"at": T0})  # fmt: skip
        db.downgrade(url, "0029")
        assert "sms_replies" not in set(inspect(get_engine(url)).get_table_names())
        columns = {c["name"] for c in inspect(get_engine(url)).get_columns("sms_messages")}
        assert "asks_rating" not in columns
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM sms_messages")).scalar_one() == 1
        db.upgrade(url, "0030")
        assert "sms_replies" in set(inspect(get_engine(url)).get_table_names())
