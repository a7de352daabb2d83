"""Deliveries read from the work-order history (SQLite and PostgreSQL): who gets which event, what they see."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from hotline.db import session_scope
from hotline.push import service
from hotline.push.domain import Cursor, advance
from hotline.timeutil import CHINA_TZ
from hotline.workorders import service as workorders

AT = datetime(2021, 9, 30, 10, 0, tzinfo=CHINA_TZ)
ZJJ, TAX = "510100-zjj", "510000-tax"


@pytest.fixture
def units(db_url: str) -> str:
    with session_scope() as session:
        workorders.load_units(session)
        workorders.add_unit(session, ZJJ, "成都市住房和城乡建设局", "department", region_code="510100", parent="510100")
        workorders.add_unit(session, TAX, "国家税务总局四川省税务局（12366分中心）", "subcentre", region_code="510000")
    return db_url


def _order(**kw: Any) -> str:
    args: dict[str, Any] = {"type": "投诉", "content": "小区电梯长期故障", "phone": "13812341234", "region": "510100"}
    with session_scope() as session:
        order = workorders.create_order(session, at=AT, caller_name="张三", **{**args, **kw})
        session.flush()
        return order.number


def _act(number: str, action: str, **kw: Any) -> None:
    with session_scope() as session:
        workorders.act(session, number, action, at=AT + timedelta(hours=1), **kw)


def _pending(cursor: Cursor | None = None) -> tuple[list[service.Delivery], list[int]]:
    with session_scope() as session:
        return service.pending(session, cursor or service.load_cursor(session))


def test_dispatch_and_notices_go_to_the_unit_that_must_act(units: str) -> None:
    number = _order()
    _act(number, "dispatch", role="dispatcher", target_unit=TAX)
    _act(number, "accept", role="department", unit=TAX)
    _act(number, "urge", role="dispatcher", reason="请尽快办理")
    deliveries, read = _pending()
    assert [(d.payload["event_label"], d.unit) for d in deliveries] == [("派单", TAX), ("催办", TAX)]
    assert len(read) == 4  # 受理, 派单, 签收, 催办: all read, two concern a unit's system
    urge = deliveries[1].payload
    assert urge["reason"] == "请尽快办理" and urge["order"]["number"] == number
    assert urge["event_id"] == deliveries[1].history_id and deliveries[1].message_id.endswith(f"-{TAX}")
    # A handling unit sees the caller of a complaint in full (it must contact them) …
    assert urge["order"]["caller_phone"] == "13812341234"


def test_a_whistle_blowers_contact_stays_masked(units: str) -> None:
    number = _order(type="举报", content="某餐馆使用过期食材")
    _act(number, "dispatch", role="dispatcher", target_unit=ZJJ)
    (delivery,), _ = _pending()
    order = delivery.payload["order"]
    assert order["caller_phone"] != "13812341234" and "*" in order["caller_phone"]
    assert order["caller_name"] != "张三"


def test_the_cursor_is_saved_and_reading_resumes_after_it(units: str) -> None:
    first = _order()
    _act(first, "dispatch", role="dispatcher", target_unit=ZJJ)
    deliveries, read = _pending()
    with session_scope() as session:
        service.save_cursor(session, advance(Cursor(), read, AT))
        assert service.status(session)["backlog"] == 0
    second = _order()
    _act(second, "dispatch", role="dispatcher", target_unit=TAX)
    deliveries, _ = _pending()
    assert [(d.payload["order"]["number"], d.unit) for d in deliveries] == [(second, TAX)]
    with session_scope() as session:
        assert service.status(session)["backlog"] == 2


def test_a_hole_is_read_when_its_row_appears(units: str) -> None:
    number = _order()
    _act(number, "dispatch", role="dispatcher", target_unit=ZJJ)
    _, read = _pending()
    dispatch_id = max(read)
    # As if the dispatch's transaction had committed after a later entry was read.
    cursor = Cursor(dispatch_id + 5, ((dispatch_id, AT),))
    deliveries, read = _pending(cursor)
    assert [d.history_id for d in deliveries] == [dispatch_id] and read == [dispatch_id]
    assert advance(cursor, read, AT).holes == ()


def test_switching_push_on_for_a_platform_in_service_skips_the_past(units: str) -> None:
    old = _order()
    _act(old, "dispatch", role="dispatcher", target_unit=ZJJ)
    with session_scope() as session:
        assert service.skip_history(session) == 2  # 受理 and 派单 of the old order
        assert service.status(session)["backlog"] == 0
    new = _order()
    _act(new, "dispatch", role="dispatcher", target_unit=TAX)
    deliveries, _ = _pending()
    assert [d.payload["order"]["number"] for d in deliveries] == [new]


def test_a_co_handling_unit_is_told_its_deadline_moved_with_the_leads_extension(units: str) -> None:
    number = _order()
    _act(number, "dispatch", role="dispatcher", target_unit=ZJJ, co_units=[TAX])
    kid = f"{number}-01"
    _act(kid, "accept", role="department", unit=TAX)
    _act(number, "accept", role="department", unit=ZJJ)
    _act(number, "request_extension", role="department", unit=ZJJ, days=3, reason="需现场核查")
    with session_scope() as session:
        service.skip_history(session)
    _act(number, "approve_extension", role="supervisor")
    deliveries, _ = _pending()
    by_unit = {d.unit: d.payload for d in deliveries}
    assert set(by_unit) == {ZJJ, TAX}
    told = by_unit[TAX]
    lead_due = by_unit[ZJJ]["order"]["due"]
    assert (told["event_label"], told["order"]["number"], told["order"]["due"]) == ("延期已批准", kid, lead_due)
    assert told["reason"] == f"随主办工单 {number} 延期至 {lead_due}"
