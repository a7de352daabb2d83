"""回访时限: an order waiting for its callback (待回访) has a working-day deadline of its own, set as it enters 待回访
(审核通过, 直接办结) from the administrator's 回访 limit (default 3, a local rule), kept on the order and in its
history, judged as 正常/临期/超期 in the to-do and the list's 时限状态 filter, and moved later by a calendar change.
The domain without a database, the service on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, update

from hotline.calendar import service as calendar_service
from hotline.calendar.domain import WorkCalendar
from hotline.db import session_scope
from hotline.errors import InvalidInput
from hotline.push.domain import target_unit
from hotline.timeutil import CHINA_TZ
from hotline.workorders import domain as d
from hotline.workorders import service
from hotline.workorders.domain import Action as A
from hotline.workorders.domain import Role as R
from hotline.workorders.domain import State as S
from hotline.workorders.service import OrderFilters
from hotline.workorders.store import Order
from tests.conftest import fresh_database

CAL = WorkCalendar()
LIMITS = d.limits_with({})
ZJJ = "510100-zjj"

# --- domain ------------------------------------------------------------------------------------------------------


def _answered(state: S = S.RESOLVED, **kw: Any) -> d.Case:
    return d.Case(**{"type": d.OrderType.HELP, "state": state, "due": date(2021, 10, 20), "lead_unit": ZJJ, **kw})


def _enter(case: d.Case, action: A, today: date, limits: dict[str, int] = LIMITS) -> d.Transition:
    role = R.AGENT if action is A.DIRECT_RESOLVE else R.SUPERVISOR
    cmd = d.Command(action=action, role=role, reply="已答复")
    return d.apply(case, cmd, today=today, calendar=CAL, limits=limits)


@pytest.mark.parametrize(
    ("entered", "deadline"),
    [
        (date(2021, 6, 4), date(2021, 6, 9)),  # a Friday: the weekend is not counted
        # Thursday before National Day: 10-01…10-07 off, Saturday 10-09 a make-up working day, Sunday 10-10 off.
        (date(2021, 9, 30), date(2021, 10, 11)),
        (date(2021, 10, 8), date(2021, 10, 12)),  # Friday 10-08: the make-up Saturday counts
    ],
)
def test_the_visit_deadline_counts_working_days_by_the_official_calendar(entered: date, deadline: date) -> None:
    assert d.DEFAULT_LIMITS[d.VISIT_LIMIT] == 3
    reviewed = _enter(_answered(), A.REVIEW_PASS, entered)
    assert reviewed.case.visit_due == deadline
    assert reviewed.changes["visit_due"] == [None, deadline.isoformat()]
    direct = _enter(_answered(S.REGISTERED, lead_unit=None), A.DIRECT_RESOLVE, entered)
    assert direct.case.visit_due == deadline
    longer = _enter(_answered(), A.REVIEW_PASS, entered, d.limits_with({d.VISIT_LIMIT: 5}))
    assert longer.case.visit_due == CAL.add_workdays(entered, 5) > deadline


def test_every_way_into_to_visit_sets_the_deadline_and_no_other_step_does() -> None:
    """Read off the table: whatever row leads into 待回访 sets it; 重办 clears it (a new round gets a new one)."""
    into = {action for (source, action), rule in d.TRANSITIONS.items() if S.TO_VISIT == rule.target != source}
    assert into == {A.DIRECT_RESOLVE, A.REVIEW_PASS}
    for action in into:
        source = next(s for (s, a) in d.TRANSITIONS if a is action)
        assert _enter(_answered(source), action, date(2021, 6, 1)).case.visit_due == date(2021, 6, 4)
    visited = _answered(S.VISITED, visit_due=date(2021, 6, 4), satisfaction=d.Satisfaction.UNSATISFIED,
                        citizen_resolved=False)  # fmt: skip
    reopened = d.apply(visited, d.Command(A.REOPEN, R.DISPATCHER, reason="未解决"), today=date(2021, 6, 7),
                       calendar=CAL, limits=LIMITS)  # fmt: skip
    assert reopened.case.visit_due is None and reopened.changes["visit_due"] == ["2021-06-04", None]
    to_visit = _answered(S.TO_VISIT, visit_due=date(2021, 6, 4))
    cmd = d.Command(A.CALLBACK, R.AGENT, satisfaction=d.Satisfaction.SATISFIED, citizen_resolved=True)
    called = d.apply(to_visit, cmd, today=date(2021, 6, 8), calendar=CAL, limits=LIMITS)
    assert called.case.visit_due == date(2021, 6, 4) and "visit_due" not in called.changes  # it judged this one


def test_an_order_waiting_for_its_callback_is_judged_by_its_visit_deadline() -> None:
    # Answered late (after its due date 10-20), but what waits now is the callback, due Friday 10-29.
    case = _answered(S.TO_VISIT, visit_due=date(2021, 10, 29), resolved_on=date(2021, 10, 25))
    assert d.sla_state(case, date(2021, 10, 26), CAL) is d.Sla.ON_TIME
    assert d.sla_state(case, date(2021, 10, 28), CAL) is d.Sla.NEAR_DUE
    assert d.sla_state(case, date(2021, 10, 29), CAL) is d.Sla.NEAR_DUE
    assert d.sla_state(case, date(2021, 11, 1), CAL) is d.Sla.OVERDUE
    # One that entered 待回访 before deadlines were set is not judged on its callback: never 超期 for waiting.
    legacy = dataclasses.replace(case, visit_due=None, resolved_on=date(2021, 10, 18))
    assert d.sla_state(legacy, date(2022, 1, 1), CAL) is d.Sla.ON_TIME
    # Called back: judged again by its answer, as before.
    visited = dataclasses.replace(case, state=S.VISITED)
    assert d.sla_state(visited, date(2021, 10, 26), CAL) is d.Sla.OVERDUE
    assert S.TO_VISIT in d.RUNNING_STATES and S.RESOLVED not in d.RUNNING_STATES


def test_a_calendar_change_moves_only_the_visit_deadline_of_an_order_waiting_for_its_callback() -> None:
    before, after = WorkCalendar(), WorkCalendar({date(2021, 6, 8): False})  # Tuesday 06-08 made a holiday
    case = _answered(S.TO_VISIT, visit_due=date(2021, 6, 9), due=date(2021, 6, 10), resolved_on=date(2021, 6, 4))

    def moved(on: d.Case, since: date | None, *, was: WorkCalendar = before, now: WorkCalendar = after) -> Any:
        return d.redated(on, counted_from=date(2021, 6, 1), given_on=date(2021, 6, 1), today=date(2021, 6, 7),
                         before=was, after=now, visit_from=since)  # fmt: skip

    assert moved(case, date(2021, 6, 4)) == {"visit_due": (date(2021, 6, 9), date(2021, 6, 10))}
    assert moved(case, date(2021, 6, 8)) == {}  # counted from the holiday itself: not a day it had
    assert moved(case, None) == {}
    assert moved(dataclasses.replace(case, visit_due=None), date(2021, 6, 4)) == {}
    assert moved(case, date(2021, 6, 4), was=after, now=before) == {}  # a working day added takes nothing away
    assert d.redated_text({"visit_due": 2}) == "2 张待回访工单的回访时限随之顺延"


# --- service, SQLite and PostgreSQL -------------------------------------------------------------------------------

AT = datetime(2021, 9, 30, 10, 0, tzinfo=CHINA_TZ)  # Thursday before National Day


@pytest.fixture
def unit(db_url: str) -> str:
    with session_scope() as session:
        service.load_units(session)
        service.add_unit(session, ZJJ, "成都市住房和城乡建设局", "department", region_code="510100", parent="510100")
    return db_url


def _create(at: datetime = AT, type_: str = "咨询") -> str:
    with session_scope() as session:
        order = service.create_order(session, type=type_, content="公积金怎么提取？", phone="13812341234",
                                     region="510100", at=at)  # fmt: skip
        session.flush()
        return order.number


def _act(number: str, action: str, at: datetime, **kw: Any) -> None:
    with session_scope() as session:
        service.act(session, number, action, at=at, **kw)


def _direct(at: datetime) -> str:
    number = _create(at)
    _act(number, "direct_resolve", at, role="agent", reply="携带身份证到网点办理")
    return number


def _reviewed(taken: datetime, resolved: datetime, reviewed: datetime) -> str:
    number = _create(taken)
    _act(number, "dispatch", taken, role="dispatcher", target_unit=ZJJ)
    _act(number, "accept", taken, role="department", unit=ZJJ)
    _act(number, "resolve", resolved, role="department", unit=ZJJ, reply="已处理")
    _act(number, "review_pass", reviewed, role="supervisor")
    return number


def _show(number: str, today: date = AT.date()) -> dict[str, Any]:
    with session_scope() as session:
        return service.show_order(session, number, "dispatcher", today=today)


def _entry(number: str, action: str) -> dict[str, Any]:
    return next(h for h in reversed(_show(number)["history"]) if h["action"] == action)


def test_each_way_into_to_visit_sets_the_deadline_on_the_order_and_in_its_history(unit: str) -> None:
    direct = _direct(AT)
    assert _show(direct)["visit_due"] == "2021-10-11"  # 3 working days over National Day and the make-up Saturday
    assert _entry(direct, "direct_resolve")["changes"]["visit_due"] == [None, "2021-10-11"]

    reviewed = _reviewed(AT, AT + timedelta(days=7), AT + timedelta(days=8))  # 审核通过 Friday 10-08
    shown = _show(reviewed)
    assert (shown["state"], shown["visit_due"]) == ("to_visit", "2021-10-12")
    assert _entry(reviewed, "review_pass")["changes"]["visit_due"] == [None, "2021-10-12"]
    assert _entry(reviewed, "resolve")["changes"].get("visit_due") is None  # 办结 alone waits for 审核 first

    # Called back unsatisfied and reopened: the deadline goes with the round; answered again, a new one.
    _act(reviewed, "callback", AT + timedelta(days=9), role="agent", satisfaction="unsatisfied",
         citizen_resolved=False)  # fmt: skip
    assert _show(reviewed)["visit_due"] == "2021-10-12"
    _act(reviewed, "reopen", AT + timedelta(days=12), role="dispatcher", reason="市民反映未解决")
    assert _show(reviewed)["visit_due"] is None
    _act(reviewed, "accept", AT + timedelta(days=12), role="department", unit=ZJJ)
    _act(reviewed, "resolve", AT + timedelta(days=13), role="department", unit=ZJJ, reply="已再次处理")
    _act(reviewed, "review_pass", AT + timedelta(days=13), role="supervisor")  # Wednesday 10-13
    assert _show(reviewed)["visit_due"] == "2021-10-18"


TODAY = date(2021, 10, 12)  # a Tuesday


def _waiting_orders() -> dict[str, str]:
    """Orders waiting for their callback on TODAY: one past its 回访时限, one due today, one due Friday, one from
    before deadlines were set (its column emptied, as the migration leaves such orders), and one being handled."""
    made = {
        "overdue": _direct(datetime(2021, 9, 27, 9, 0, tzinfo=CHINA_TZ)),  # Monday: by Thursday 09-30
        "near_due": _direct(datetime(2021, 10, 8, 9, 0, tzinfo=CHINA_TZ)),  # Friday: by Tuesday 10-12
        "on_time": _direct(datetime(2021, 10, 12, 9, 0, tzinfo=CHINA_TZ)),  # by Friday 10-15
        "legacy": _direct(datetime(2021, 9, 27, 9, 0, tzinfo=CHINA_TZ)),
    }
    with session_scope() as session:
        session.execute(update(Order).where(Order.number == made["legacy"]).values(visit_due=None))
    handling = _create(datetime(2021, 10, 12, 9, 0, tzinfo=CHINA_TZ), "投诉")
    _act(handling, "dispatch", datetime(2021, 10, 12, 9, 5, tzinfo=CHINA_TZ), role="dispatcher", target_unit=ZJJ)
    return made


def _listed(**filters: str) -> list[str]:
    with session_scope() as session:
        rows = service.list_orders(session, OrderFilters(**filters), role="agent", limit=1000, today=TODAY)
    return [row["number"] for row in rows]


def test_the_agents_to_do_and_the_list_judge_waiting_callbacks_by_their_deadline(unit: str) -> None:
    made = _waiting_orders()
    with session_scope() as session:
        (line,) = service.todo(session, "agent", today=TODAY)
    assert (line.state, line.label, line.count, line.near_due, line.overdue) == ("to_visit", "待回访", 4, 1, 1)
    assert _listed(state="to_visit", sla="overdue") == [made["overdue"]]
    assert _listed(state="to_visit", sla="near_due") == [made["near_due"]]
    # The order from before deadlines were set is not judged: in no time-limit state.
    assert _listed(state="to_visit", sla="on_time") == [made["on_time"]]
    assert made["legacy"] in _listed(state="to_visit")
    assert made["overdue"] in _listed(sla="overdue")  # without a state: with the overdue orders being handled
    views = {o["number"]: o for o in _list_views(state="to_visit")}
    assert (views[made["overdue"]]["sla_label"], views[made["overdue"]]["visit_due"]) == ("超期", "2021-09-30")
    assert views[made["legacy"]]["sla"] != "overdue" and views[made["legacy"]]["visit_due"] is None


def _list_views(**filters: str) -> list[dict[str, Any]]:
    with session_scope() as session:
        return service.list_orders(session, OrderFilters(**filters), role="agent", limit=1000, today=TODAY)


def test_a_changed_visit_limit_applies_to_orders_entering_to_visit_afterwards(unit: str) -> None:
    with session_scope() as session:
        row = next(r for r in service.limit_settings(session) if r["key"] == "回访")
    assert (row["days"], row["default"], row["set_by"]) == (3, 3, None)
    earlier = _direct(AT)
    waiting = _create(AT)  # taken before the change, enters 待回访 after it
    with session_scope() as session:
        service.set_limit(session, "回访", 5, actor="管理员甲")
    later = _direct(AT)
    _act(waiting, "direct_resolve", AT + timedelta(minutes=5), role="agent", reply="已告知")
    assert _show(earlier)["visit_due"] == "2021-10-11"  # its deadline stands
    assert _show(later)["visit_due"] == _show(waiting)["visit_due"] == "2021-10-13"
    with pytest.raises(InvalidInput) as err, session_scope() as session:
        service.set_limit(session, "回访", 0)
    assert err.value.code == "invalid-limit-days"


# 2099 is not in the package: Monday to Friday until its arrangement is entered. Monday 2099-01-05, 10:00.
FUTURE = datetime(2099, 1, 5, 10, 0, tzinfo=CHINA_TZ)


def _change(change: Any) -> list[service.Redated]:
    with session_scope() as session:
        return service.change_calendar(session, partial(change, session), actor="管理员甲")[1]


def test_a_holiday_entered_later_moves_the_visit_deadline_counted_from_entering_to_visit(unit: str) -> None:
    direct = _direct(FUTURE)  # 待回访 from Monday 01-05: by Thursday 01-08
    # Taken Monday, answered Monday, reviewed Wednesday 01-07: by Monday 01-12.
    reviewed = _reviewed(FUTURE, FUTURE, FUTURE + timedelta(days=2))
    called = _direct(FUTURE)
    _act(called, "callback", FUTURE + timedelta(hours=1), role="agent", satisfaction="satisfied", citizen_resolved=True)
    assert [_show(n)["visit_due"] for n in (direct, reviewed, called)] == ["2099-01-08", "2099-01-12", "2099-01-08"]

    # Tuesday 01-06 off: within the direct one's count, before the reviewed one's (from 01-07, not its 受理).
    moved = _change(partial(calendar_service.set_override, day=date(2099, 1, 6), kind="holiday", note="本地停工"))
    assert [(m.number, dict(m.changes)) for m in moved] == [
        (direct, {"visit_due": (date(2099, 1, 8), date(2099, 1, 9))})
    ]
    assert [_show(n)["visit_due"] for n in (direct, reviewed, called)] == ["2099-01-09", "2099-01-12", "2099-01-08"]
    assert _show(direct)["due"] == "2099-01-08"  # its answer's deadline stands
    entry = _show(direct)["history"][-1]
    assert (entry["action"], entry["changes"]) == ("recalendar", {"visit_due": ["2099-01-08", "2099-01-09"]})
    assert entry["reason"] == "工作日历调整（2099-01-06），回访时限顺延至 2099-01-09"

    # Friday 01-09 off: both waiting ones get it back; the reviewed one's unit is not told (the callback is ours).
    moved = _change(partial(calendar_service.set_override, day=date(2099, 1, 9), kind="holiday"))
    assert sorted(m.number for m in moved) == sorted([direct, reviewed])
    assert _show(reviewed)["visit_due"] == "2099-01-13"
    last = _show(reviewed)["history"][-1]
    assert last["action"] == "recalendar" and target_unit(last["action"], last["changes"], ZJJ) is None
    assert target_unit("recalendar", {"due": ["2099-01-08", "2099-01-09"]}, ZJJ) == ZJJ  # a due date still is
    # A Saturday made a working day takes nothing away.
    assert _change(partial(calendar_service.set_override, day=date(2099, 1, 10), kind="workday")) == []
    assert _show(direct)["visit_due"] == "2099-01-12"


def test_0022_adds_the_column_and_goes_down_and_up(database_url: str, tmp_path: Path) -> None:
    from hotline import db

    def columns(url: str) -> set[str]:
        return {c["name"] for c in inspect(db.get_engine(url)).get_columns("wo_orders")}

    with fresh_database(database_url, tmp_path) as url:
        db.upgrade(url, "0022")
        assert "visit_due" in columns(url)
        db.downgrade(url, "-1")
        assert "visit_due" not in columns(url) and "due" in columns(url)
        db.upgrade(url, "0022")
        assert "visit_due" in columns(url)
