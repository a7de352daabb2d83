"""漏话回拨 against the store (SQLite and PostgreSQL): missed calls open or join their number's task in the same
transaction as the event (or the late decision) that made them missed, a later answered call closes it, attempts
close it or not, errors write nothing, the list's filters, and the KPIs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from hotline.db import session_scope
from hotline.errors import HotlineError
from hotline.telephony import callbacks, service
from hotline.telephony.store import Callback, CallbackAttempt, CallbackCall
from tests.telephony.missed_calls import (
    ANSWERED,
    ENDED_UNANSWERED,
    LATER,
    MISSED,
    T0,
    call,
    report,
    routed,
    set_up_lines,
)


@pytest.fixture(autouse=True)
def _lines(db_url: str) -> None:
    set_up_lines()


def _tasks(state: str = "all", **filters: Any) -> list[dict[str, Any]]:
    with session_scope() as s:
        return callbacks.list_callbacks(s, state=state, mask=False, at=filters.pop("at", LATER), **filters)["callbacks"]


def _stored() -> tuple[int, int, int]:
    with session_scope() as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.count()).select_from(t)) for t in (Callback, CallbackCall, CallbackAttempt)
        )


def _attempt(callback_id: int, outcome: str, **kw: Any) -> dict[str, Any]:
    with session_scope() as s:
        return callbacks.record_attempt(s, callback_id, outcome, actor=kw.pop("actor", "张敏"), mask=False, **kw)


# -- which calls make tasks ------------------------------------------------------------------------------------------
def test_a_call_abandoned_while_queued_opens_a_callback_task_with_what_the_agent_needs() -> None:
    call("m1", "13900002222", 0, MISSED, dialed="12331", trunk="my-telecom")
    [task] = _tasks("open")
    assert task["caller"] == "13900002222" and task["state"] == "open" and task["state_label"] == "待回拨"
    assert (task["dialed"], task["region"], task["missed_count"]) == ("12331", "绵阳市", 1)
    assert task["last_time"] == "2021-06-01 10:00" and task["calls"] == ["m1"]
    assert task["due_time"] == "2021-06-02 10:00"  # 24 hours after the missed call, by default
    assert task["attempts"] == [] and task["attempts_left"] == 3


def test_calls_that_need_no_callback_make_no_task() -> None:
    call("answered", "13900000001", 0, ANSWERED)
    call("notice-only", "13900000002", 1, (("offered", 0), ("abandoned", 8)))  # hung up during the notice
    call("waiting", "13900000003", 2, (("offered", 0), ("queued", 2)))  # still queued
    call("anonymous", "anonymous", 3, MISSED)
    call("withheld", "", 4, MISSED)
    call("refused", "13900000004", 5, MISSED, dialed="99999")  # an unknown number: rejected, no agent
    assert _tasks() == [] and _stored() == (0, 0, 0)
    # Ended unanswered after queueing is missed too.
    call("ended", "13900000005", 6, ENDED_UNANSWERED)
    assert [t["calls"] for t in _tasks()] == [["ended"]]


def test_a_listed_caller_hanging_up_at_the_nuisance_seats_is_not_called_back() -> None:
    """A caller on the 骚扰号码名单 (warned, then queued for the 骚扰专席) who hangs up is no 漏话: agents are not
    asked to ring back the caller who tied up their seats."""
    from hotline.nuisance import service as nuisance

    with session_scope() as s:
        entry = nuisance.propose(s, actor="王芳（wangfang）", role="supervisor", number="13900002222",
                                 reason="一天来电 40 次辱骂话务员", at=T0 - timedelta(hours=1))  # fmt: skip
        nuisance.approve(s, entry["id"], actor="王芳（wangfang）", at=T0 - timedelta(hours=1))
    call("listed", "13900002222", 0, MISSED)
    with session_scope() as s:
        assert service.get_call(s, "listed")["decision"]["skill"] == "nuisance"  # queued for the 骚扰专席
    call("other", "13900003333", 1, MISSED)
    assert [t["calls"] for t in _tasks()] == [["other"]]


def test_several_missed_calls_from_one_number_are_one_task_with_the_latest_time_and_their_count() -> None:
    call("a1", "13900002222", 0, MISSED)
    call("a2", "+86 139 0000 2222", 30, ENDED_UNANSWERED, trunk="my-telecom")  # the same caller
    call("a3", "13900002222", 90, MISSED)
    call("other", "13700003333", 10, MISSED)
    tasks = _tasks("open")
    assert [t["caller"] for t in tasks] == ["13900002222", "13700003333"]  # oldest first
    task = tasks[0]
    assert task["missed_count"] == 3 and task["calls"] == ["a1", "a2", "a3"]
    assert (task["last_time"], task["first_time"]) == ("2021-06-01 11:30", "2021-06-01 10:00")
    assert task["due_time"] == "2021-06-02 10:00"  # from the first missed call
    assert task["region"] == "成都市"  # the latest call's
    # A call's second closing event (abandoned, then ended) does not count it twice.
    report("a3", 90, (("ended", 60),))
    assert _tasks("open")[0]["missed_count"] == 3


def test_a_later_answered_call_from_the_number_closes_the_task_and_a_new_miss_opens_another() -> None:
    call("b1", "13900002222", 0, MISSED)
    call("b2", "13900002222", 20, MISSED)
    call("between", "13700003333", 5, MISSED)
    call("b-answered-before", "13700003333", 1, ANSWERED)  # answered before that number's missed call
    call("b3", "13900002222", 60, ANSWERED)
    closed = {t["caller"]: t for t in _tasks("closed")}
    assert list(closed) == ["13900002222"]
    task = closed["13900002222"]
    assert (task["state"], task["state_label"]) == ("called-again", "已再次来电接通")
    assert task["closed_call_id"] == "b3" and task["closed_by"] == "" and task["closed_time"] == "2021-06-01 11:00"
    assert [t["caller"] for t in _tasks("open")] == ["13700003333"]
    # Missed again afterwards: a task of its own.
    call("b4", "13900002222", 120, MISSED)
    open_ = {t["caller"]: t for t in _tasks("open")}
    assert open_["13900002222"]["calls"] == ["b4"] and open_["13900002222"]["missed_count"] == 1


def test_an_answer_between_two_missed_calls_leaves_the_later_one_to_call_back() -> None:
    call("c1", "13900002222", 0, MISSED)
    call("c3", "13900002222", 30, MISSED)
    call("c2", "13900002222", 10, ANSWERED)  # reported after c3, answered before it
    [task] = _tasks("all")
    assert task["state"] == "open" and task["missed_count"] == 2


def test_events_before_the_decision_the_decision_reported_later_makes_the_task() -> None:
    """The proxy reports decisions it served from its cache afterwards, in batches: a call's events may be stored
    first, and only the decision names the caller."""
    missed, answered = routed("d1", "13900002222", 0), routed("d2", "13900002222", 30)
    report("d1", 0, MISSED)
    report("d2", 30, ANSWERED)
    assert _stored() == (0, 0, 0)  # no caller known yet
    with session_scope() as s:
        service.record_decisions(s, [missed])  # the batch path
    [task] = _tasks("open")
    assert task["calls"] == ["d1"]
    with session_scope() as s:
        service.record_decisions(s, [answered, missed])  # the same decision again changes nothing
    [task] = _tasks("all")
    assert task["state"] == "called-again" and task["missed_count"] == 1


def test_the_compact_report_of_cached_decisions_follows_calls_too() -> None:
    import json

    decided = routed("e1", "13900002222", 0)
    report("e1", 0, MISSED)
    answer = json.dumps(decided.answer.to_dict(), ensure_ascii=False)
    line = f"e1\t{T0.timestamp()}\t13900002222\tcd-telecom\t\t{answer}"
    with session_scope() as s:
        assert service.record_reported_lines(s, line + "\n")[0] == 1
    assert [t["calls"] for t in _tasks("open")] == [["e1"]]


def test_a_call_answered_after_its_own_missed_report_closes_its_task() -> None:
    call("f1", "13900002222", 0, ENDED_UNANSWERED)
    report("f1", 0, (("answered", 50),))  # reported late, out of order: the caller did reach an agent
    [task] = _tasks("all")
    assert task["state"] == "called-again" and task["closed_call_id"] == "f1"


def test_the_deadline_follows_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_CALLBACK_HOURS", "2")
    call("g1", "13900002222", 0, MISSED)
    [task] = _tasks("open")
    assert task["due_time"] == "2021-06-01 12:00"
    assert [t["id"] for t in _tasks("open", overdue=True, at=T0 + timedelta(hours=3))] == [task["id"]]
    assert _tasks("open", overdue=True, at=T0 + timedelta(hours=1)) == []


# -- attempts --------------------------------------------------------------------------------------------------------
def test_unanswered_attempts_keep_the_task_open_until_the_third_closes_it() -> None:
    call("h1", "13900002222", 0, MISSED)
    [task] = _tasks("open")
    for n in (1, 2):
        after = _attempt(task["id"], "no-answer", note=f"第{n}次无人接听", at=T0 + timedelta(hours=n))
        assert after["open"] and after["attempts_left"] == 3 - n
    done = _attempt(task["id"], "no-answer", at=T0 + timedelta(hours=3))
    assert (done["state"], done["state_label"], done["open"]) == ("unreachable", "多次回拨未接通", False)
    assert done["closed_by"] == "张敏" and done["closed_time"] == "2021-06-01 13:00"
    assert [a["outcome_label"] for a in done["attempts"]] == ["未接通"] * 3
    assert done["attempts"][0]["note"] == "第1次无人接听" and done["attempts"][0]["actor"] == "张敏"
    assert not done["late"]  # the first attempt came within the deadline


def test_the_number_of_unanswered_attempts_follows_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_CALLBACK_MAX_ATTEMPTS", "1")
    call("h2", "13900002222", 0, MISSED)
    [task] = _tasks("open")
    assert _attempt(task["id"], "no-answer")["state"] == "unreachable"


@pytest.mark.parametrize(
    ("outcome", "state", "label"),
    [
        ("reached", "reached", "已回拨接通"),
        ("invalid-number", "invalid-number", "号码无效"),
        ("not-needed", "not-needed", "来电人表示无需办理"),
    ],
)
def test_each_closing_outcome_closes_the_task(outcome: str, state: str, label: str) -> None:
    call("i1", "13900002222", 0, MISSED)
    [task] = _tasks("open")
    done = _attempt(task["id"], outcome, note="已联系")
    assert (done["state"], done["state_label"], done["open"]) == (state, label, False)
    assert _tasks("open") == [] and [t["id"] for t in _tasks("closed")] == [task["id"]]


def test_a_reached_callback_may_name_the_work_order_raised_from_it() -> None:
    from hotline.workorders import service as orders

    call("j1", "13900002222", 0, MISSED)
    with session_scope() as s:
        number = orders.create_order(
            s, type="求助", content="回拨后受理：路灯不亮", phone="13900002222", region="510100", call_id="j1"
        ).number
    [task] = _tasks("open")
    done = _attempt(task["id"], "reached", order=f" {number} ")
    assert done["attempts"][0]["order_number"] == number and done["state"] == "reached"


def test_refused_attempts_write_nothing() -> None:
    call("k1", "13900002222", 0, MISSED)
    call("k2", "13700003333", 0, MISSED)
    first, second = (t["id"] for t in _tasks("open"))
    _attempt(second, "not-needed")
    before, tasks_before = _stored(), _tasks()
    for callback_id, outcome, kw, code in [
        (999999, "no-answer", {}, "callback-not-found"),
        (second, "no-answer", {}, "callback-closed"),
        (first, "busy", {}, "invalid-callback-outcome"),
        (first, "", {}, "invalid-callback-outcome"),
        (first, "no-answer", {"order": "12345-20210601-0001"}, "invalid-callback-order"),  # only when reached
        (first, "reached", {"order": "NO-SUCH-ORDER"}, "workorder-not-found"),
        (first, "reached", {"note": "长" * 501}, "invalid-callback-note"),
        (first, "reached", {"actor": " "}, "actor-required"),
    ]:
        with pytest.raises(HotlineError) as exc, session_scope() as s:
            callbacks.record_attempt(s, callback_id, outcome, actor=kw.pop("actor", "张敏"), **kw)
        assert exc.value.code == code, (outcome, kw)
    assert _stored() == before and _tasks() == tasks_before


# -- the list --------------------------------------------------------------------------------------------------------
def test_the_list_filters_by_state_region_and_overdue_and_masks_numbers() -> None:
    call("l1", "13900002222", 0, MISSED)
    call("l2", "13700003333", 60, MISSED, trunk="my-telecom")
    call("l3", "13600004444", 120, MISSED)
    ids = {t["caller"]: t["id"] for t in _tasks()}
    _attempt(ids["13600004444"], "reached")
    _attempt(ids["13700003333"], "no-answer", at=T0 + timedelta(hours=1, minutes=30))  # in time, still open
    assert [t["caller"] for t in _tasks("open")] == ["13900002222", "13700003333"]
    assert [t["caller"] for t in _tasks("closed")] == ["13600004444"]
    assert {t["caller"] for t in _tasks("all")} == set(ids)
    assert [t["caller"] for t in _tasks("open", region="绵阳市")] == ["13700003333"]
    assert [t["caller"] for t in _tasks("open", region="510100")] == ["13900002222"]
    # 超时: past the deadline with no attempt; the one attempted in time is not.
    assert [t["caller"] for t in _tasks("open", overdue=True)] == ["13900002222"]
    assert _tasks("open", overdue=True, at=T0 + timedelta(hours=2)) == []
    with session_scope() as s:
        masked = callbacks.list_callbacks(s, state="all", at=LATER)
        assert {t["caller"] for t in masked["callbacks"]} == {"139****2222", "137****3333", "136****4444"}
        assert masked["total"] == 3 and (masked["hours"], masked["max_attempts"]) == (24, 3)
        assert callbacks.open_counts(s, at=LATER) == (2, 1)
        assert callbacks.open_counts(s, at=T0) == (2, 0)
        for bad, code in [({"state": "pending"}, "invalid-callback-state"), ({"region": "火星"}, "region-not-found")]:
            with pytest.raises(HotlineError) as exc:
                callbacks.list_callbacks(s, **bad)
            assert exc.value.code == code


# -- KPIs ------------------------------------------------------------------------------------------------------------
def test_callback_kpis_of_a_period() -> None:
    call("n1", "13900000001", 0, MISSED)  # called back in time
    call("n2", "13900000002", 10, MISSED)  # called back late
    call("n3", "13900000003", 20, MISSED)  # never
    call("n4", "13900000004", 30, MISSED)
    call("n5", "13900000004", 90, ANSWERED)  # got through in time
    call("n6", "13900000006", 60 * 24 * 5, MISSED)  # another period
    ids = {t["caller"]: t["id"] for t in _tasks()}
    _attempt(ids["13900000001"], "reached", at=T0 + timedelta(hours=1))
    _attempt(ids["13900000002"], "no-answer", at=T0 + timedelta(hours=30))
    with session_scope() as s:
        k = callbacks.callback_kpi_report(s, T0 - timedelta(hours=2), T0 + timedelta(days=1), at=LATER)
        assert (k.tasks, k.called_back, k.judged, k.timely) == (4, 3, 3, 1)
        mianyang = callbacks.callback_kpi_report(s, T0, T0 + timedelta(days=1), region="绵阳市", at=LATER)
        assert mianyang.tasks == 0
        from hotline.supervision import service as supervision

        report = supervision.report(s, T0.date(), T0.date())
        assert report["missed_call_kpis"]["tasks"] == 4


# -- demo ------------------------------------------------------------------------------------------------------------
def test_the_demo_leaves_open_callback_tasks_and_loading_it_again_changes_nothing() -> None:
    with session_scope() as s:
        assert service.load_demo(s).endswith("演示来电 8 通")
    with session_scope() as s:
        found = callbacks.list_callbacks(s, state="all", mask=False)["callbacks"]
        assert callbacks.open_counts(s) == (3, 1)  # one of them missed more than 24 hours ago
    assert {(t["caller"], t["state"], t["missed_count"]) for t in found} == {
        ("13912340001", "open", 1),
        ("13912340002", "open", 2),
        ("08162345678", "open", 1),
        ("13912340005", "called-again", 1),
    }
    with session_scope() as s:
        assert service.load_demo(s).endswith("演示来电 0 通")
    assert _stored() == (4, 5, 0)
