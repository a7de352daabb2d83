"""Migration 0026: units already out of service take the 接替单位 their latest 停用 named (read from its change
record), so their co-handling orders reopened with a lead still find it; the column goes down and up (both
databases)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect, text

from hotline import db
from hotline.db import get_engine
from tests.conftest import fresh_database

BEFORE = "0025"
UNITS = [  # code, name, active
    ("510100-cgj", "成都市城市管理局", False),  # 停用, then 启用, then 停用 naming 高新区
    ("510100-gx", "成都高新区（自贸区）综合执法局", True),
    ("510100-rsj", "成都市人社局", True),
    ("510100-sw", "成都市水务局", False),  # 停用 naming none
    ("510100-zjj", "成都市住建局", True),  # in service: its old 停用 no longer counts
]
CHANGES = [  # key, summary
    ("510100-cgj", "单位 成都市城市管理局（510100-cgj）：停用（接替单位：成都市人社局（510100-rsj））"),
    ("510100-cgj", "单位 成都市城市管理局（510100-cgj）：启用"),
    (
        "510100-cgj",
        "单位 成都市城市管理局（510100-cgj）：停用（接替单位：成都高新区（自贸区）综合执法局（510100-gx））",
    ),
    ("510100-sw", "单位 成都市水务局（510100-sw）：停用（接替单位：成都市人社局（510100-rsj））"),
    ("510100-sw", "单位 成都市水务局（510100-sw）：上级单位 无 → 成都市人社局"),
    ("510100-sw", "单位 成都市水务局（510100-sw）：启用"),
    ("510100-sw", "单位 成都市水务局（510100-sw）：停用"),
    ("510100-zjj", "单位 成都市住建局（510100-zjj）：停用（接替单位：成都市人社局（510100-rsj））"),
    ("510100-zjj", "单位 成都市住建局（510100-zjj）：启用"),
]


def test_0026_takes_the_successor_each_unit_out_of_service_was_given(database_url: str, tmp_path: Path) -> None:
    with fresh_database(database_url, tmp_path) as url:
        db.upgrade(url, BEFORE)
        engine = get_engine(url)
        with engine.begin() as conn:
            for code, name, active in UNITS:
                conn.execute(
                    text(
                        "INSERT INTO wo_units (code, name, kind, region_code, active)"
                        " VALUES (:code, :name, 'department', '510100', :active)"
                    ),
                    {"code": code, "name": name, "active": active},
                )
            for key, summary in CHANGES:
                conn.execute(
                    text(
                        "INSERT INTO settings_changes (at, actor, kind, key, summary)"
                        " VALUES (:at, 'admin', 'unit', :key, :summary)"
                    ),
                    {"at": datetime(2026, 11, 1, tzinfo=UTC), "key": key, "summary": summary},
                )
        db.upgrade(url, "0026")
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT u.code, s.code FROM wo_units u LEFT JOIN wo_units s ON s.id = u.successor_id")
            )
            named = {code: successor for code, successor in rows}
        assert named == {
            "510100-cgj": "510100-gx",
            "510100-gx": None,
            "510100-rsj": None,
            "510100-sw": None,
            "510100-zjj": None,
        }
        db.downgrade(url, BEFORE)
        assert "successor_id" not in {c["name"] for c in inspect(get_engine(url)).get_columns("wo_units")}
        db.upgrade(url, "0026")
        assert "successor_id" in {c["name"] for c in inspect(get_engine(url)).get_columns("wo_units")}
