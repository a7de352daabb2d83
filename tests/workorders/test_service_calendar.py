"""Deadlines follow the working-day calendar (workorders.service.change_calendar): entering a holiday after an
order's deadline was set moves it later, recorded in the order's history and pushed to its unit's system; closed
orders, orders due before the change and a rest day made a working day move nothing. Both databases."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from hotline.calendar import service as calendar
from hotline.db import session_scope
from hotline.timeutil import CHINA_TZ
from hotline.workorders import service

ZJJ, CGJ = "510100-zjj", "510100-cgw"
# 2099 is not in the package: Monday to Friday until its arrangement is entered. Monday 2099-01-05, 10:00.
AT = datetime(2099, 1, 5, 10, 0, tzinfo=CHINA_TZ)


@pytest.fixture
def unit(db_url: str) -> str:
    with session_scope() as session:
        service.load_units(session)
        service.add_unit(session, ZJJ, "成都市住房和城乡建设局", "department", region_code="510100", parent="510100")
        service.add_unit(session, CGJ, "成都市城市管理委员会", "department", region_code="510100", parent="510100")
    return db_url


def _order(type_: str = "咨询", at: datetime = AT, dispatch: bool = True) -> str:
    with session_scope() as session:
        order = service.create_order(session, type=type_, content="公积金怎么提取？", phone="13812341234",
                                     region="510100", at=at)  # fmt: skip
        session.flush()
        if dispatch:
            service.act(session, order, "dispatch", role="dispatcher", actor="派单员甲", target_unit=ZJJ, at=at)
        return order.number


def _show(number: str) -> dict[str, Any]:
    with session_scope() as session:
        return service.show_order(session, number, "dispatcher", today=AT.date())


def _change(change: Any, actor: str = "管理员甲") -> list[service.Redated]:
    with session_scope() as session:
        return service.change_calendar(session, partial(change, session), actor=actor)[1]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _act(number: str, action: str, at: datetime, **kwargs: Any) -> None:
    with session_scope() as session:
        service.act(session, number, action, at=at, **kwargs)


def _limits(number: str) -> tuple[str, str, str]:
    shown = _show(number)
    return shown["due"], shown["accept_due"], shown["return_due"]


def test_a_holiday_entered_later_moves_open_deadlines_and_says_so_in_their_history(unit: str) -> None:
    consult, complaint = _order("咨询"), _order("投诉")
    closed = _order("咨询", dispatch=False)
    with session_scope() as session:
        service.act(session, closed, "direct_resolve", role="agent", actor="话务员", reply="已告知提取条件", at=AT)
    assert (_show(consult)["due"], _show(complaint)["due"], _show(closed)["due"]) == (
        "2099-01-08",
        "2099-01-26",
        "2099-01-08",
    )

    moved = _change(partial(calendar.set_override, day=date(2099, 1, 7), kind="holiday", note="本地停工"))
    assert [(m.number, _iso(m.before), _iso(m.after)) for m in moved] == [
        (consult, "2099-01-08", "2099-01-09"),
        (closed, None, None),  # waiting for its callback: only its 回访时限 moves (tests/workorders/test_visit_due.py)
        (complaint, "2099-01-26", "2099-01-27"),
    ]
    assert _show(closed)["due"] == "2099-01-08"  # answered: its deadline is history
    entry = _show(consult)["history"][-1]
    assert (entry["action"], entry["action_label"], entry["actor"]) == ("recalendar", "工作日历调整", "管理员甲")
    # Dispatched on 01-05: 签收 by 01-06 (before the holiday, unchanged), 退单 by 01-07, now 01-08.
    assert entry["reason"] == "工作日历调整（2099-01-07），办理期限顺延至 2099-01-09，退单时限顺延至 2099-01-08"
    assert entry["changes"] == {"due": ["2099-01-08", "2099-01-09"], "return_due": ["2099-01-07", "2099-01-08"]}

    # The same day set again changes nothing more; a Saturday made a working day takes nothing away.
    assert _change(partial(calendar.set_override, day=date(2099, 1, 7), kind="holiday", note="本地停工")) == []
    assert _change(partial(calendar.set_override, day=date(2099, 1, 10), kind="workday")) == []
    assert _show(consult)["due"] == "2099-01-09" and len(_show(consult)["history"]) == 3


def test_an_order_due_before_the_change_or_taken_after_it_keeps_its_deadline(unit: str) -> None:
    earlier = _order("咨询")  # due 01-08
    later = _order("咨询", at=AT + timedelta(days=14))  # Monday 01-19, due 01-22
    moved = _change(partial(calendar.set_override, day=date(2099, 1, 12), kind="holiday"))
    assert moved == []
    assert (_show(earlier)["due"], _show(later)["due"]) == ("2099-01-08", "2099-01-22")


def test_a_years_arrangement_imported_moves_deadlines_and_the_change_is_pushed_to_the_unit(
    unit: str, tmp_path: Any
) -> None:
    from hotline.push.domain import EVENT_LABELS, target_unit
    from hotline.tables import read_table

    number = _order("投诉")  # due 2099-01-26
    notice = tmp_path / "2099.csv"
    notice.write_text("日期,类型,说明\n2099-01-19至2099-01-23,放假,春节\n2099-01-24,上班,春节调休\n", encoding="utf-8")
    table = read_table(notice, needed=calendar.IMPORT_COLUMNS)
    moved = _change(partial(calendar.import_days, table=table, actor="管理员甲"))
    # Five weekdays off, one Saturday worked: four working days given back.
    assert [(_iso(m.before), _iso(m.after)) for m in moved] == [("2099-01-26", "2099-01-30")]
    entry = _show(number)["history"][-1]
    assert entry["action"] == "recalendar" and "2099-01-19、2099-01-20" in entry["reason"]
    assert EVENT_LABELS[entry["action"]] == "时限顺延（工作日历调整）"
    assert target_unit(entry["action"], entry["changes"], ZJJ) == ZJJ


def test_a_co_handling_order_moves_with_its_lead(unit: str) -> None:
    lead = _order("投诉", dispatch=False)  # taken Monday 01-05, due 01-26
    with session_scope() as session:
        service.act(session, lead, "dispatch", role="dispatcher", actor="派单员甲", target_unit=ZJJ, co_units=[CGJ],
                    at=AT + timedelta(days=2))  # fmt: skip
    child = f"{lead}-01"
    assert _show(child)["due"] == _show(lead)["due"] == "2099-01-26"
    # 01-06 lies between the lead's 受理 and the co-handling order's creation on 01-07: both get the day back.
    moved = _change(partial(calendar.set_override, day=date(2099, 1, 6), kind="holiday"))
    assert sorted((m.number, m.after.isoformat()) for m in moved) == [(lead, "2099-01-27"), (child, "2099-01-27")]


# The 签收 and 退单 limits, counted in working days from the order's latest 派单, 改派 or 重办 ----------------------------


def test_the_sign_and_return_limits_count_from_the_dispatch_and_move_with_the_due_date_in_one_entry(
    unit: str,
) -> None:
    number = _order("咨询", dispatch=False)  # taken Monday 01-05: due Thursday 01-08
    _act(number, "dispatch", AT + timedelta(days=2), role="dispatcher", actor="派单员甲", target_unit=ZJJ)
    assert _limits(number) == ("2099-01-08", "2099-01-08", "2099-01-09")  # 派单 Wednesday 01-07: 1 and 2 days

    # 01-06 lies before the 派单: only the due date, counted from the 受理, gets it back.
    moved = _change(partial(calendar.set_override, day=date(2099, 1, 6), kind="holiday"))
    assert [dict(m.changes) for m in moved] == [{"due": (date(2099, 1, 8), date(2099, 1, 9))}]
    assert _limits(number) == ("2099-01-09", "2099-01-08", "2099-01-09")

    # 01-08 lies in all three counts: each gets its day back, in one history entry.
    moved = _change(partial(calendar.set_override, day=date(2099, 1, 8), kind="holiday", note="暴雨停工"))
    assert [(m.number, sorted(m.changes)) for m in moved] == [(number, ["accept_due", "due", "return_due"])]
    assert _limits(number) == ("2099-01-12", "2099-01-09", "2099-01-12")
    history = _show(number)["history"]
    assert [e["action"] for e in history] == ["create", "dispatch", "recalendar", "recalendar"]
    assert history[-1]["changes"] == {
        "due": ["2099-01-09", "2099-01-12"],
        "accept_due": ["2099-01-08", "2099-01-09"],
        "return_due": ["2099-01-09", "2099-01-12"],
    }
    assert history[-1]["reason"] == (
        "工作日历调整（2099-01-08），办理期限顺延至 2099-01-12，签收时限顺延至 2099-01-09，退单时限顺延至 2099-01-12"
    )
    # A Saturday made a working day brings none of them earlier.
    assert _change(partial(calendar.set_override, day=date(2099, 1, 10), kind="workday")) == []
    assert _limits(number) == ("2099-01-12", "2099-01-09", "2099-01-12")


def test_only_the_sign_and_return_limits_may_move_and_the_answer_says_which(unit: str) -> None:
    from hotline.workorders.domain import redated_text

    number = _order("咨询", dispatch=False)  # due Thursday 01-08
    _act(number, "dispatch", AT + timedelta(days=3), role="dispatcher", actor="派单员甲", target_unit=ZJJ)
    assert _limits(number) == ("2099-01-08", "2099-01-09", "2099-01-12")
    moved = _change(partial(calendar.set_override, day=date(2099, 1, 9), kind="holiday"))
    assert [(m.number, m.before, m.after) for m in moved] == [(number, None, None)]  # its due date stands
    assert _limits(number) == ("2099-01-08", "2099-01-12", "2099-01-13")
    counts = service.redated_counts(moved)
    assert counts == {"due": 0, "accept_due": 1, "return_due": 1, "visit_due": 0}
    assert redated_text(counts) == "1 张待签收工单的签收时限、1 张在办工单的退单时限随之顺延"
    assert redated_text({"due": 2, "accept_due": 0, "return_due": 0}) == "2 张在办工单的办理期限随之顺延"
    assert redated_text({"due": 0, "accept_due": 0, "return_due": 0}) == ""


def _holiday_entered(day: date, *, on: datetime) -> dict[str, list[str]]:
    """DAY made a holiday by an administrator at the instant ON: each order moved, with the limits it moved."""
    with session_scope() as session:
        before = calendar.load_calendar(session)
        calendar.set_override(session, day, "holiday")
        session.flush()
        moved = service.follow_calendar(session, before, actor="管理员甲", at=on)
    return {m.number: sorted(m.changes) for m in moved}


def test_a_limit_no_longer_relevant_stays_as_it_was(unit: str) -> None:
    signed = _order("投诉")  # taken and dispatched Monday 01-05: 签收 by 01-06, 退单 by 01-07
    _act(signed, "accept", AT + timedelta(hours=1), role="department", unit=ZJJ, actor="承办人")
    returned = _order("投诉")
    _act(
        returned, "return", AT + timedelta(hours=1), role="department", unit=ZJJ, actor="承办人", reason="非本单位职责"
    )
    waiting = _order("投诉")
    late = _order("投诉")

    changes = _holiday_entered(date(2099, 1, 6), on=AT + timedelta(days=2))  # Wednesday 01-07
    # Signed for: its 签收 limit judged the 签收 already made; 退单 still possible, so its limit moves.
    assert changes[signed] == ["due", "return_due"]
    assert _limits(signed) == ("2099-01-27", "2099-01-06", "2099-01-08")
    # Given back: no unit holds it; its limits judged the giving that ended (改派 sets new ones).
    assert changes[returned] == ["due"]
    assert _limits(returned) == ("2099-01-27", "2099-01-06", "2099-01-07")
    # Still waiting for its 签收: both move.
    assert changes[waiting] == ["accept_due", "due", "return_due"]
    assert _limits(waiting) == ("2099-01-27", "2099-01-07", "2099-01-08")

    # A holiday on 01-07 entered on Friday 01-09, after the 退单 limit (01-08) passed: 退单 is no longer possible
    # and stays so; the 签收 limit (01-07) of the order still waiting for it moves.
    changes = _holiday_entered(date(2099, 1, 7), on=AT + timedelta(days=4))
    assert changes[waiting] == ["accept_due", "due"]
    assert _limits(waiting) == ("2099-01-28", "2099-01-08", "2099-01-08")
    assert changes[late] == ["accept_due", "due"]


def test_after_a_return_the_limits_count_from_the_redispatch_and_co_handling_orders_follow(unit: str) -> None:
    number = _order("投诉")  # taken and dispatched Monday 01-05
    _act(number, "return", AT + timedelta(days=1), role="department", unit=ZJJ, actor="承办人", reason="非本单位职责")
    _act(number, "redispatch", AT + timedelta(days=2), role="dispatcher", actor="派单员甲", target_unit=CGJ,
         co_units=[ZJJ])  # fmt: skip
    child = f"{number}-01"
    assert _limits(number)[1:] == _limits(child)[1:] == ("2099-01-08", "2099-01-09")  # 改派 Wednesday 01-07

    moved = _change(partial(calendar.set_override, day=date(2099, 1, 6), kind="holiday"))  # before the 改派
    assert {m.number: sorted(m.changes) for m in moved} == {number: ["due"], child: ["due"]}
    moved = _change(partial(calendar.set_override, day=date(2099, 1, 8), kind="holiday"))
    assert {m.number: sorted(m.changes) for m in moved} == {
        number: ["accept_due", "due", "return_due"],
        child: ["accept_due", "due", "return_due"],
    }
    assert _limits(number) == _limits(child) == ("2099-01-28", "2099-01-09", "2099-01-12")


def test_the_cli_says_which_deadlines_a_change_moved(
    unit: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from hotline.cli import main

    number = _order("咨询", dispatch=False)  # due Thursday 01-08
    _act(number, "dispatch", AT + timedelta(days=3), role="dispatcher", actor="派单员甲", target_unit=ZJJ)
    _order("咨询")  # dispatched Monday 01-05: due 01-08, its 签收 and 退单 limits passed by 01-09
    monkeypatch.setattr(sys, "argv", ["hotline", "calendar", "set", "2099-01-09", "holiday", "--actor", "管理员甲"])
    with pytest.raises(SystemExit) as ended:
        main()
    assert not ended.value.code
    assert capsys.readouterr().out.strip() == (
        "2099-01-09 已设为休息日；1 张待签收工单的签收时限、1 张在办工单的退单时限随之顺延"
    )
