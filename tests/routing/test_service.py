"""Routing through the service and the database: recorded and postponed milestones in one region only,
sub-centre hours on the official calendar, and the cache following every change."""

from __future__ import annotations

import subprocess
import sys
import time as time_module
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from hotline.calendar import service as calendar_service
from hotline.db import get_engine, session_scope
from hotline.errors import InvalidInput, NotFound
from hotline.plan import service as plan
from hotline.routing.service import decide, transfer_available

CN = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CN)


def route(number: str, region: str, when: str) -> tuple[str, str | None, str | None]:
    with session_scope() as session:
        got = decide(session, number, region, at(when))
    return got.action.value, got.prompt, got.target


def test_early_transition_in_one_region_leaves_the_others_on_plan(db_url: str) -> None:
    assert route("12331", "成都市", "2021-05-25T10:00")[0] == "legacy"  # cached before the record
    with session_scope() as session:
        plan.record_milestone(session, "12331", "transition", "成都市", done=date(2021, 5, 20), note="提前完成")
    assert route("12331", "成都市", "2021-05-19T23:59")[0] == "legacy"
    assert route("12331", "成都市", "2021-05-20T00:00") == ("queue", "transition:12331", "queue:510100")
    assert route("12331", "绵阳市", "2021-05-25T10:00") == ("legacy", None, "legacy:12331:510700")
    assert route("12331", "四川省", "2021-05-31T23:59") == ("legacy", None, "legacy:12331:510000")
    # Cancellation stays on plan everywhere.
    assert route("12331", "成都市", "2021-10-01T00:00")[0] == "cancelled"


def test_postponed_transfer_in_one_region(db_url: str) -> None:
    with session_scope() as session:
        plan.record_milestone(session, "12333", "transfer", "南充市", postpone=date(2021, 11, 1), note="人员未划转")
    assert route("12333", "南充市", "2021-10-16T09:00") == ("legacy", None, "legacy:12333:511300")
    assert route("12333", "南充市", "2021-10-31T23:59")[0] == "legacy"
    assert route("12333", "南充市", "2021-11-01T00:00") == ("queue", None, "queue:511300")
    assert route("12333", "成都市", "2021-10-16T09:00") == ("queue", None, "queue:510100")
    with session_scope() as session:
        assert plan.effective_date(session, "12333", "transfer", "511300") == date(2021, 11, 1)
        assert plan.effective_date(session, "12333", "transfer", "成都市") == date(2021, 10, 16)


def test_postponed_transition_past_cancellation_moves_cancellation(db_url: str) -> None:
    with session_scope() as session:
        plan.record_milestone(session, "12396", "transition", "德阳市", postpone=date(2021, 10, 10))
    # The number is never cancelled before its transition began.
    assert route("12396", "德阳市", "2021-10-05T10:00")[0] == "legacy"
    assert route("12396", "德阳市", "2021-10-10T10:00")[0] == "cancelled"
    assert route("12396", "自贡市", "2021-10-05T10:00")[0] == "cancelled"


def test_latest_record_decides_and_history_is_kept(db_url: str) -> None:
    with session_scope() as session:
        plan.record_milestone(
            session, "12396", "transition", "德阳市", postpone=date(2021, 6, 20), actor="张三", note="场地"
        )
    assert route("12396", "德阳市", "2021-06-10T10:00")[0] == "legacy"
    with session_scope() as session:
        plan.record_milestone(
            session, "12396", "transition", "德阳市", done=date(2021, 6, 8), actor="李四", note="已完成"
        )
    assert route("12396", "德阳市", "2021-06-08T10:00")[0] == "queue"
    with session_scope() as session:
        records = plan.history(session, "12396", "德阳市")
    assert [(r.kind.value, r.day, r.recorded_by, r.note) for r in records] == [
        ("postpone", date(2021, 6, 20), "张三", "场地"),
        ("done", date(2021, 6, 8), "李四", "已完成"),
    ]
    assert all(r.recorded_at.tzinfo is not None for r in records)


def test_subcenter_full_time_recorded_early_in_one_region(db_url: str) -> None:
    with session_scope() as session:
        plan.record_milestone(session, "12366", "full-time", "成都市", done=date(2021, 7, 1))
    # 2021-07-03 is a Saturday: outside default hours.
    assert route("12366", "成都市", "2021-07-03T22:00") == ("subcenter", None, "subcenter:12366:510100")
    assert route("12366", "德阳市", "2021-07-03T22:00") == ("queue", "after-hours:12366", "queue:510600")


def test_subcenter_hours_on_make_up_saturday_and_holiday_weekday(db_url: str) -> None:
    # 2021-02-20 (Saturday) and 2021-09-18 (Saturday) are make-up working days; 2021-06-14 (Monday) is
    # the Dragon Boat Festival holiday (checked against chinese_calendar in tests/plan/test_calendar_facts.py).
    assert route("12366", "成都市", "2021-02-20T10:00")[0] == "subcenter"
    assert route("12366", "成都市", "2021-02-20T18:00") == ("queue", "after-hours:12366", "queue:510100")
    assert route("12360", "凉山彝族自治州", "2021-06-14T10:00") == ("queue", "after-hours:12360", "queue:513400")
    assert route("12360", "凉山彝族自治州", "2021-06-15T10:00")[0] == "subcenter"
    # 2021-09-18 is after 08-31: 7×24 whatever the calendar says.
    assert route("12313", "成都市", "2021-09-18T03:00")[0] == "subcenter"


def test_calendar_override_changes_subcenter_hours(db_url: str) -> None:
    assert route("12366", "成都市", "2021-06-14T10:00")[0] == "queue"
    with session_scope() as session:
        calendar_service.set_override(session, date(2021, 6, 14), "workday", note="本地调整")
    assert route("12366", "成都市", "2021-06-14T10:00")[0] == "subcenter"


def test_configured_hours_per_subcenter_and_region(db_url: str) -> None:
    with session_scope() as session:
        plan.set_subcenter_hours(session, "12366", time(8, 0), time(20, 0), region_code="成都市", workdays_only=False)
        plan.set_subcenter_hours(session, "12305", time(8, 30), time(12, 0))
    # 2021-06-12 is a Saturday and a holiday: Chengdu's tax sub-centre answers every day 08:00-20:00.
    assert route("12366", "成都市", "2021-06-12T19:59")[0] == "subcenter"
    assert route("12366", "成都市", "2021-06-12T20:00")[0] == "queue"
    assert route("12366", "德阳市", "2021-06-12T19:00")[0] == "queue"
    # The postal sub-centre's hours apply in every region, working days only.
    assert route("12305", "德阳市", "2021-06-15T08:30")[0] == "subcenter"
    assert route("12305", "德阳市", "2021-06-15T13:00")[0] == "queue"
    with session_scope() as session:
        assert plan.subcenter_hours(session, "12305", "510100").describe() == "工作日08:30—12:00"
        with pytest.raises(InvalidInput) as err:
            plan.set_subcenter_hours(session, "12305", time(12), time(8))
        assert err.value.code == "invalid-hours"
        with pytest.raises(InvalidInput) as err:
            plan.set_subcenter_hours(session, "12333", time(8), time(12))
        assert err.value.code == "not-a-subcenter"


def test_three_way_transfer_from_transfer_mechanism_date(db_url: str) -> None:
    with session_scope() as session:
        assert not transfer_available(session, "12366", "成都市", at("2021-03-30T23:59"))
        assert transfer_available(session, "12366", "成都市", at("2021-03-31T00:00"))
        assert not transfer_available(session, "12333", "成都市", at("2021-12-01T00:00"))
        plan.record_milestone(session, "12366", "transfer-mechanism", "德阳市", done=date(2021, 3, 1))
    with session_scope() as session:
        assert transfer_available(session, "12366", "德阳市", at("2021-03-01T08:00"))
        assert not transfer_available(session, "12366", "成都市", at("2021-03-01T08:00"))


def test_local_line_follows_local_dates(db_url: str) -> None:
    assert route("96128", "成都市", "2021-05-01T10:00")[0] == "reject"
    with session_scope() as session:
        plan.add_local_line(session, "96128", "测试城市管理热线", units=["成都市城管委"])
    assert route("96128", "成都市", "2021-04-30T23:59") == ("legacy", None, "legacy:96128:510100")
    assert route("96128", "成都市", "2021-05-01T00:00") == ("queue", "transition:96128", "queue:510100")
    assert route("96128", "成都市", "2021-07-31T23:59")[0] == "queue"
    assert route("96128", "成都市", "2021-08-01T00:00") == ("cancelled", "cancellation:96128", None)


def test_change_from_another_process_is_seen(db_url: str) -> None:
    assert route("12331", "成都市", "2021-05-25T10:00")[0] == "legacy"
    done = subprocess.run(
        [sys.executable, "-m", "hotline", "plan", "record", "12331", "transition", "--region", "成都市",
         "--done", "2021-05-21", "--note", "另一进程登记"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # Another process's change is seen once the snapshot is older than MAX_AGE (a token check).
    time_module.sleep(plan.MAX_AGE + 0.1)
    assert route("12331", "成都市", "2021-05-25T10:00")[0] == "queue"


def test_any_write_in_this_process_is_seen_at_once(db_url: str) -> None:
    with session_scope() as session:
        plan.record_milestone(session, "12331", "transition", "成都市", done=date(2021, 5, 20))
    assert route("12331", "成都市", "2021-05-25T10:00")[0] == "queue"
    # Emptied behind the service's back (as a test fixture or an operator's SQL would): back on plan.
    with get_engine(db_url).begin() as conn:
        conn.execute(text("DELETE FROM plan_milestone_records"))
    assert route("12331", "成都市", "2021-05-25T10:00")[0] == "legacy"


def test_decide_errors(db_url: str) -> None:
    with session_scope() as session:
        with pytest.raises(NotFound) as nf:
            decide(session, "12345", "火星", at("2021-06-01T10:00"))
        assert nf.value.code == "region-not-found"
        with pytest.raises(InvalidInput) as bad:
            decide(session, "  ", "成都市", at("2021-06-01T10:00"))
        assert bad.value.code == "invalid-number"
        assert decide(session, "12399", "成都市", at("2021-06-01T10:00")).action == "reject"
        assert decide(session, "110", "510100", at("2021-06-01T10:00")).action == "reject"


def test_plan_year_setting_moves_the_plan(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_PLAN_YEAR", "2022")
    assert route("12331", "成都市", "2022-05-31T23:59")[0] == "legacy"
    assert route("12331", "成都市", "2022-06-01T00:00")[0] == "queue"
    assert route("12331", "成都市", "2021-10-05T10:00")[0] == "legacy"
    with session_scope() as session:
        assert plan.effective_date(session, "12366", "full-time", "成都市") == date(2022, 8, 31)
    monkeypatch.setenv("HOTLINE_PLAN_YEAR", "2021")
    assert route("12331", "成都市", "2021-10-05T10:00")[0] == "cancelled"
