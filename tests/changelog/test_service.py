"""设置变更记录 (changelog) as the services write it, on SQLite and PostgreSQL: each change to a unit, a catalogue
entry, a time limit or a calendar day is recorded with its actor, before and after in the transaction that makes it
(rolled back, neither is kept); a refused change and the same value set again record nothing; the records are
never updated nor deleted; they are listed newest first, fifty at a time, by kind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, func, inspect, select, text, update
from sqlalchemy.exc import DBAPIError

from hotline import db
from hotline.calendar import service as calendar
from hotline.changelog import service as changelog
from hotline.changelog.store import SettingChange
from hotline.db import AppendOnlyError, Base, get_engine, session_scope
from hotline.errors import HotlineError
from hotline.tables import read_csv_bytes
from hotline.timeutil import CHINA_TZ
from hotline.workorders import service, units
from tests.changelog.chengdu import CGJ, ZJJ, two_bureaus
from tests.conftest import fresh_database

WATER = "510100-zjj-gs"
MONDAY = date(2099, 1, 5)  # a year the package does not know: Monday to Friday count


@pytest.fixture
def tree(db_url: str) -> str:
    """Chengdu's centre, two bureaus (住建局 heading a 供水办) and 住建局 named by the catalogue for Chengdu."""
    two_bureaus()
    with session_scope() as s:
        service.add_unit(s, WATER, "成都市供水管理办公室", "department", region_code="510100", parent=ZJJ)
        service.set_catalogue_entry(s, "城乡建设", ZJJ, region_code="510100")
    return db_url


def _records() -> list[tuple[str, str, str, Any, Any, str]]:
    """Every record, oldest first: (actor, kind, key, before, after, summary)."""
    with session_scope() as s:
        rows = s.scalars(select(SettingChange).order_by(SettingChange.id)).all()
        return [(r.actor, r.kind, r.key, r.before, r.after, r.summary) for r in rows]


def _count() -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(SettingChange)) or 0)


def _new_records(before: int) -> list[tuple[str, str, str, Any, Any, str]]:
    return _records()[before:]


def test_each_kind_is_recorded_with_its_actor_before_and_after(tree: str) -> None:
    start = _count()
    with session_scope() as s:
        service.set_catalogue_entry(s, "城乡建设", CGJ, region_code="成都市", actor="赵磊（zhaolei）")
        service.set_limit(s, "投诉", 10, actor="赵磊（zhaolei）")
        service.add_unit(s, "510104-sw", "锦江区水务局", "department", region_code="510104", parent="510100",
                         actor="赵磊（zhaolei）")  # fmt: skip
        calendar.set_override(s, MONDAY, "holiday", note="暴雨停工", actor="管理员")
        service.remove_catalogue_entry(s, "城乡建设", region_code="510100", actor="admin")
        calendar.clear_override(s, MONDAY, actor="admin")
    assert _new_records(start) == [
        ("赵磊（zhaolei）", "catalogue", "城乡建设|510100|", {"unit": ZJJ, "unit_name": "成都市住房和城乡建设局"},
         {"unit": CGJ, "unit_name": "成都市城市管理局"},
         "派单目录 城乡建设（成都市，全部号码）：成都市住房和城乡建设局 → 成都市城市管理局"),
        ("赵磊（zhaolei）", "limit", "投诉", {"days": 15}, {"days": 10}, "办理时限 投诉：15 → 10 个工作日"),
        ("赵磊（zhaolei）", "unit", "510104-sw", None,
         {"name": "锦江区水务局", "kind": "department", "region_code": "510104", "parent": "510100", "active": True,
          "parent_name": "成都市12345热线中心"},
         "单位 锦江区水务局（510104-sw）：新增，部门，成都市 510104，上级单位 成都市12345热线中心（510100）"),
        ("管理员", "calendar", "2099-01-05", None, {"is_workday": False, "note": "暴雨停工"},
         "工作日历 2099-01-05（星期一）：按官方日历（工作日） → 休息日（暴雨停工）"),
        ("admin", "catalogue", "城乡建设|510100|", {"unit": CGJ, "unit_name": "成都市城市管理局"}, None,
         "派单目录 城乡建设（成都市，全部号码）：删除（原由成都市城市管理局承办）"),
        ("admin", "calendar", "2099-01-05", {"is_workday": False, "note": "暴雨停工"}, None,
         "工作日历 2099-01-05（星期一）：休息日（暴雨停工） → 按官方日历（工作日）"),
    ]  # fmt: skip


def test_an_import_records_each_day_it_changes(tree: str) -> None:
    notice = "日期,类型,说明\n2099-01-01,放假,元旦\n2099-01-03,上班,调休\n".encode()
    start = _count()
    with session_scope() as s:
        calendar.set_override(s, date(2099, 1, 1), "holiday", note="元旦", actor="admin")  # already as imported
        calendar.import_days(s, read_csv_bytes(notice), actor="王芳（wangfang）")
    assert [(a, k, key, summary) for a, k, key, _, _, summary in _new_records(start)] == [
        ("admin", "calendar", "2099-01-01", "工作日历 2099-01-01（星期四）：按官方日历（工作日） → 休息日（元旦）"),
        ("王芳（wangfang）", "calendar", "2099-01-03",
         "工作日历 2099-01-03（星期六）：按官方日历（休息日） → 工作日（调休）（导入放假安排）"),
    ]  # fmt: skip


def test_a_deactivation_records_what_moved_and_the_unit_itself(tree: str) -> None:
    start = _count()
    with session_scope() as s:
        units.deactivate_unit(s, ZJJ, successor=CGJ, actor="赵磊（zhaolei）")
    records = _new_records(start)
    assert {r[0] for r in records} == {"赵磊（zhaolei）"}
    assert [(r[1], r[2], r[5]) for r in records] == [
        ("catalogue", "城乡建设|510100|",
         "派单目录 城乡建设（成都市，全部号码）：成都市住房和城乡建设局 → 成都市城市管理局"
         "（成都市住房和城乡建设局（510100-zjj）停用）"),
        ("unit", WATER,
         "单位 成都市供水管理办公室（510100-zjj-gs）：上级单位 成都市住房和城乡建设局（510100-zjj） → "
         "成都市城市管理局（510100-cgj）（成都市住房和城乡建设局（510100-zjj）停用）"),
        ("unit", ZJJ, "单位 成都市住房和城乡建设局（510100-zjj）：停用（接替单位：成都市城市管理局（510100-cgj））"),
    ]  # fmt: skip
    assert (records[2][3]["active"], records[2][4]["active"]) == (True, False)
    with session_scope() as s:
        units.activate_unit(s, ZJJ, actor="admin")
    assert _new_records(start + 3) == [
        ("admin", "unit", ZJJ, records[2][4], records[2][3], "单位 成都市住房和城乡建设局（510100-zjj）：启用")
    ]


def test_a_change_and_its_record_are_one_transaction(tree: str) -> None:
    start, limits = _count(), _limits()
    with pytest.raises(RuntimeError), session_scope() as s:
        service.set_limit(s, "投诉", 10, actor="admin")
        service.set_catalogue_entry(s, "城乡建设", CGJ, region_code="510100", actor="admin")
        assert s.scalar(select(func.count()).select_from(SettingChange)) == start + 2  # seen inside it
        raise RuntimeError("what follows the change in its transaction fails")
    assert _count() == start and _limits() == limits
    with session_scope() as s:
        assert service.lookup_dispatch_catalogue(s, "城乡建设", "510100", None).code == ZJJ  # type: ignore[union-attr]


def _limits() -> dict[str, int]:
    with session_scope() as s:
        return service.get_limits(s)


def _open_order(s: Any) -> None:
    at = datetime(2099, 1, 5, 10, 0, tzinfo=CHINA_TZ)
    order = service.create_order(s, type="投诉", content="占道经营", phone="13812341234", region="510100", at=at)
    service.act(s, order.number, "dispatch", role="dispatcher", target_unit=CGJ, at=at)


def _loop(s: Any) -> object:
    return service.add_unit(s, ZJJ, "住建局", "department", region_code="510100", parent=WATER, actor="admin")


def _bad_import(s: Any) -> object:
    notice = read_csv_bytes("日期,类型\n2099-01-05,放假\n2099-02-30,放假\n".encode())
    return calendar.import_days(s, notice, actor="admin")


REFUSED: list[tuple[str, Callable[[Any], object]]] = [
    ("unit-parent-loop", _loop),
    ("invalid-unit-kind", lambda s: service.add_unit(s, "x", "某局", "bureau", region_code="510100", actor="admin")),
    ("unit-not-found", lambda s: service.set_catalogue_entry(s, "城乡建设", "nope", actor="admin")),
    ("catalogue-entry-not-found", lambda s: service.remove_catalogue_entry(s, "城乡建设", actor="admin")),
    ("invalid-limit-days", lambda s: service.set_limit(s, "投诉", 91, actor="admin")),
    ("unit-in-catalogue", lambda s: units.deactivate_unit(s, ZJJ, actor="admin")),
    ("unit-has-open-orders", lambda s: (_open_order(s), units.deactivate_unit(s, CGJ, successor=ZJJ, actor="admin"))),
    ("invalid-day-kind", lambda s: calendar.set_override(s, MONDAY, "weekend", actor="admin")),
    ("invalid-date", _bad_import),
    ("field-too-long", lambda s: service.set_limit(s, "投诉", 10, actor="某" * 65)),
]


@pytest.mark.parametrize(("code", "change"), REFUSED, ids=[code for code, _ in REFUSED])
def test_a_refused_change_records_nothing(tree: str, code: str, change: Callable[[Any], object]) -> None:
    start = _count()
    with pytest.raises(HotlineError) as refused, session_scope() as s:
        change(s)
    assert refused.value.code == code
    assert _count() == start


def test_the_same_value_again_records_nothing(tree: str) -> None:
    notice = read_csv_bytes("日期,类型,说明\n2099-01-01,放假,元旦\n".encode())
    with session_scope() as s:
        service.set_limit(s, "投诉", 10, actor="admin")
        calendar.set_override(s, MONDAY, "holiday", note="停工", actor="admin")
        calendar.import_days(s, notice, actor="admin")
    start = _count()
    with session_scope() as s:
        service.add_unit(s, ZJJ, "成都市住房和城乡建设局", "department", region_code="成都市", parent="510100",
                         actor="李四")  # fmt: skip
        service.load_units(s, actor="李四")
        service.set_catalogue_entry(s, "城乡建设", ZJJ, region_code="510100", actor="李四")
        service.set_limit(s, "投诉", 10, actor="李四")
        service.set_limit(s, "咨询", 3, actor="李四")  # its default, never set
        units.activate_unit(s, CGJ, actor="李四")  # in service already
        calendar.set_override(s, MONDAY, "holiday", note="停工", actor="李四")
        calendar.import_days(s, notice, actor="李四")
        assert calendar.clear_override(s, date(2099, 1, 6), actor="李四") is False
    assert _count() == start
    with session_scope() as s:
        # nothing changed, so who last changed it is who really did
        limits = {r["key"]: r["set_by"] for r in service.limit_settings(s)}
        assert (limits["投诉"], limits["咨询"]) == ("admin", None)
        assert calendar.describe(s, MONDAY).override.set_by == "admin"  # type: ignore[union-attr]


def test_the_records_are_never_updated_nor_deleted(tree: str) -> None:
    with session_scope() as s:
        service.set_limit(s, "投诉", 10, actor="admin")
    with session_scope() as s:
        row = s.scalars(select(SettingChange).order_by(SettingChange.id.desc())).first()
        assert row is not None
        row.actor = "别人"
        with pytest.raises(AppendOnlyError):
            s.flush()
        s.rollback()
        s.delete(s.get(SettingChange, row.id))
        with pytest.raises(AppendOnlyError):
            s.flush()
        s.rollback()
        with pytest.raises(AppendOnlyError):
            s.execute(update(SettingChange).values(actor="别人"))
        with pytest.raises(AppendOnlyError):
            s.execute(delete(SettingChange))
    with pytest.raises(DBAPIError), session_scope() as s:  # nor by the database, plain SQL
        s.execute(text("UPDATE settings_changes SET actor = '别人'"))
    assert _records()[-1][0] == "admin"


def test_listed_newest_first_fifty_at_a_time_by_kind(tree: str) -> None:
    with session_scope() as s:
        for days in range(2, 56):  # 54 changes of one limit
            service.set_limit(s, "咨询", days, actor="admin")
    with session_scope() as s:
        first = changelog.list_changes(s)
        assert len(first.changes) == 50 and first.earlier == first.changes[-1].id
        assert first.changes[0].summary == "办理时限 咨询：54 → 55 个工作日"
        ids = [r.id for r in first.changes]
        assert ids == sorted(ids, reverse=True)
        rest = changelog.list_changes(s, before=first.earlier)
        assert rest.earlier is None and [r.id for r in rest.changes] == sorted(
            (r.id for r in rest.changes), reverse=True
        )
        assert rest.changes[-1].summary.startswith("单位 四川省12345热线中心")  # the oldest: load_units' first
        limits = changelog.list_changes(s, kind="办理时限", before=first.earlier)
        assert len(limits.changes) == 4 and limits.earlier is None
        assert limits.changes[-1].summary == "办理时限 咨询：3 → 2 个工作日"
        catalogue = changelog.list_changes(s, kind="catalogue")
        assert [r.key for r in catalogue.changes] == ["城乡建设|510100|"]


def test_migration_0023_matches_the_store_and_goes_down_and_up(database_url: str, tmp_path: Path) -> None:
    with fresh_database(database_url, tmp_path) as url:
        db.upgrade(url, "0023")
        with get_engine(url).connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert [d for d in diffs if "settings_changes" in repr(d)] == []
        db.downgrade(url, "0022")
        assert "settings_changes" not in inspect(get_engine(url)).get_table_names()
        db.upgrade(url, "0023")
        assert "settings_changes" in inspect(get_engine(url)).get_table_names()
