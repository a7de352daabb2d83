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
    assert [(m.number, m.before.isoformat(), m.after.isoformat()) for m in moved] == [
        (consult, "2099-01-08", "2099-01-09"),
        (complaint, "2099-01-26", "2099-01-27"),
    ]
    assert _show(closed)["due"] == "2099-01-08"  # answered: its deadline is history
    entry = _show(consult)["history"][-1]
    assert (entry["action"], entry["action_label"], entry["actor"]) == ("recalendar", "工作日历调整", "管理员甲")
    assert entry["reason"] == "工作日历调整（2099-01-07），办理期限顺延至 2099-01-09"
    assert entry["changes"] == {"due": ["2099-01-08", "2099-01-09"]}

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
    assert [(m.before.isoformat(), m.after.isoformat()) for m in moved] == [("2099-01-26", "2099-01-30")]
    entry = _show(number)["history"][-1]
    assert entry["action"] == "recalendar" and "2099-01-19、2099-01-20" in entry["reason"]
    assert EVENT_LABELS[entry["action"]] == "办理期限顺延"
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
