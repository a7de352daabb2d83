"""KPIs computed from orders that went through the real work-order loop (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hotline.app import create_app
from hotline.db import session_scope
from hotline.errors import InvalidInput
from hotline.knowledge import service as knowledge
from hotline.knowledge.domain import ArticleInput
from hotline.supervision import service
from hotline.timeutil import CHINA_TZ
from hotline.workorders import service as orders

AT = datetime(2021, 6, 1, 10, 0, tzinfo=CHINA_TZ)  # a Tuesday
DAY = timedelta(days=1)
ZJJ, RSJ, CGJ = "510100-zjj", "510100-rsj", "510107-cgj"
JUNE = (date(2021, 6, 1), date(2021, 6, 30))


def _create(at: datetime = AT, **kw: Any) -> str:
    args: dict[str, Any] = {"type": "投诉", "content": "小区噪音扰民", "phone": "13812341234", "region": "510100"}
    args.update(kw)
    with session_scope() as session:
        order = orders.create_order(session, at=at, **args)
        session.flush()
        return order.number


def _act(number: str, action: str, at: datetime, **kw: Any) -> None:
    with session_scope() as session:
        orders.act(session, number, action, at=at, **kw)


@pytest.fixture
def units(db_url: str) -> None:
    with session_scope() as session:
        orders.load_units(session)
        orders.add_unit(session, ZJJ, "成都市住房和城乡建设局", "department", region_code="510100", parent="510100")
        orders.add_unit(session, RSJ, "成都市人社局", "department", region_code="510100", parent="510100")
        orders.add_unit(session, "510107", "武侯区", "county", region_code="510107", parent="510100")
        orders.add_unit(session, CGJ, "武侯区综合行政执法局", "department", region_code="510107", parent="510107")


@pytest.fixture
def loop(units: None) -> None:
    with session_scope() as session:
        knowledge.create_article(
            session, ArticleInput(title="公积金提取", body="带身份证到公积金服务网点办理。"), actor="kb",
            status="published", external_id="GJJ-01",
        )  # fmt: skip
    dept = {"role": "department", "unit": ZJJ}
    # Answered on the call from a knowledge article, then a satisfied callback.
    a = _create(type="咨询", content="公积金怎么提取？")
    _act(a, "direct_resolve", AT, role="agent", article="GJJ-01")
    _act(a, "callback", AT + DAY, role="agent", satisfaction="satisfied", citizen_resolved=True)
    # Dispatched, accepted on time, resolved on time, unsatisfied callback.
    b = _create()
    _act(b, "dispatch", AT, role="dispatcher", target_unit=ZJJ)
    _act(b, "accept", AT, **dept)
    _act(b, "resolve", AT + 2 * DAY, reply="已处理", **dept)
    _act(b, "review_pass", AT + 2 * DAY, role="supervisor")
    _act(b, "callback", AT + 3 * DAY, role="agent", satisfaction="unsatisfied", citizen_resolved=False)
    # Returned once, re-dispatched, accepted late, still open long after its due date.
    c = _create(type="求助", content="拖欠工资")
    _act(c, "dispatch", AT, role="dispatcher", target_unit=ZJJ)
    _act(c, "return", AT + DAY, reason="不属于本单位职责", **dept)
    _act(c, "redispatch", AT + DAY, role="dispatcher", target_unit=RSJ)
    _act(c, "accept", AT + 6 * DAY, role="department", unit=RSJ)
    # Received outside the period asked about.
    _create(at=AT + 40 * DAY)


def test_report_counts_what_happened(loop: None) -> None:
    with session_scope() as session:
        report = service.report(session, date(2021, 6, 1), date(2021, 6, 30), today=date(2021, 7, 30))
    assert report["orders"] == 3
    got = {k["key"]: (k["numerator"], k["denominator"]) for k in report["order_kpis"]}
    assert got["direct"] == (1, 3)
    assert got["knowledge"] == (1, 1)  # the direct answer cited a knowledge article
    assert got["on_time_accept"] == (1, 2)
    assert got["return"] == (1, 2)
    assert got["on_time_resolve"] == (2, 2)
    assert got["callback"] == (2, 2)
    assert got["satisfaction"] == (1, 2)
    assert got["resolution"] == (1, 2)
    assert got["overdue"] == (1, 3)  # c: open and past due on 07-30


def test_units_are_assessed_on_what_they_did(loop: None) -> None:
    with session_scope() as session:
        report = service.report(session, date(2021, 6, 1), date(2021, 6, 30), today=date(2021, 7, 30))
    units = {u["unit"]: u for u in report["units"]}
    assert set(units) == {ZJJ, RSJ}  # the direct answer had no handling unit
    zjj = {k["key"]: (k["numerator"], k["denominator"]) for k in units[ZJJ]["kpis"]}
    rsj = {k["key"]: (k["numerator"], k["denominator"]) for k in units[RSJ]["kpis"]}
    assert units[ZJJ]["name"] == "成都市住房和城乡建设局" and units[ZJJ]["orders"] == 1
    assert zjj["on_time_resolve"] == (1, 1) and zjj["satisfaction"] == (0, 1)
    # ZJJ returned c, which RSJ now leads: the return is ZJJ's (1 of the 2 orders sent to it), not RSJ's.
    assert zjj["return"] == (1, 2) and rsj["return"] == (0, 1)
    assert rsj["on_time_accept"] == (0, 1) and units[RSJ]["open_overdue"] == 1 and rsj["overdue"] == (1, 1)


def test_region_filter_and_bad_period(loop: None) -> None:
    with session_scope() as session:
        other = service.report(session, date(2021, 6, 1), date(2021, 6, 30), region="绵阳市")
        assert other["orders"] == 0
        with pytest.raises(InvalidInput) as err:
            service.report(session, date(2021, 6, 30), date(2021, 6, 1))
        assert err.value.code == "invalid-period"


def test_api_reports_kpis_and_refuses_bad_dates(loop: None) -> None:
    client = TestClient(create_app())
    ok = client.get("/api/supervision/kpis", params={"since": "2021-06-01", "until": "2021-06-30"})
    assert ok.status_code == 200
    assert ok.json()["orders"] == 3
    assert "connection_rate" in ok.json()["call_kpis"]
    bad = client.get("/api/supervision/kpis", params={"since": "2021-06-31"})
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid-date"


def test_the_latest_order_day_is_the_china_day_and_follows_the_region(db_url: str) -> None:
    with session_scope() as session:
        assert service.latest_order_day(session) is None
    _create()
    _create(at=datetime(2021, 6, 3, 23, 30, tzinfo=CHINA_TZ), region="510700")  # 15:30 UTC: still the 3rd in China
    with session_scope() as session:
        assert service.latest_order_day(session) == date(2021, 6, 3)
        assert service.latest_order_day(session, region="成都市") == date(2021, 6, 1)
        assert service.latest_order_day(session, region="自贡市") is None


# -- co-handling (主办/协办): a citizen's demand is counted once --------------------------------------------------


def _report(since: date = JUNE[0], until: date = JUNE[1], today: date = date(2021, 7, 30)) -> dict[str, Any]:
    with session_scope() as session:
        return service.report(session, since, until, today=today)


def _kpis(rates: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    return {k["key"]: (k["numerator"], k["denominator"]) for k in rates}


def _family(callback: str = "satisfied", *, duplicate: bool = False) -> tuple[str, list[str]]:
    """A demand led by ZJJ and co-handled by RSJ and CGJ, all answered on time, then called back once; with
    DUPLICATE, a second call about it merged into it (并单) while it was open."""
    lead = _create(type="求助", content="小区下水道堵塞，污水外溢")
    _act(lead, "dispatch", AT, role="dispatcher", target_unit=ZJJ, co_units=[RSJ, CGJ])
    if duplicate:
        dup = _create(type="求助", content="小区下水道堵塞（重复来电）")
        _act(dup, "merge", AT, role="dispatcher", master=lead, reason="重复诉求")
    kids = [f"{lead}-01", f"{lead}-02"]
    for kid, unit in zip(kids, (RSJ, CGJ), strict=True):
        _act(kid, "accept", AT, role="department", unit=unit)
        _act(kid, "resolve", AT + DAY, role="department", unit=unit, reply="已配合处理")
    _act(lead, "accept", AT, role="department", unit=ZJJ)
    _act(lead, "resolve", AT + 2 * DAY, role="department", unit=ZJJ, reply="已疏通")
    _act(lead, "review_pass", AT + 2 * DAY, role="supervisor")
    resolved = callback != "unsatisfied"
    _act(lead, "callback", AT + 3 * DAY, role="agent", satisfaction=callback, citizen_resolved=resolved)
    return lead, kids


def test_a_co_handled_demand_is_one_order_called_back_once(units: None) -> None:
    _family(duplicate=True)
    report = _report()
    # Neither the co-handling orders nor the merged duplicate (it follows its master) is a demand of its own.
    assert (report["orders"], report["co_handling_orders"]) == (1, 2)
    got = _kpis(report["order_kpis"])
    assert got["callback"] == (1, 1)  # not 1 of 3: co-handling orders are never called back on their own
    assert got["on_time_accept"] == (1, 1) and got["on_time_resolve"] == (1, 1) and got["return"] == (0, 1)
    assert got["overdue"] == (0, 1) and got["direct"] == (0, 1) and got["reopen"] == (0, 1)
    assert got["satisfaction"] == (1, 1)


def test_a_co_handling_unit_is_assessed_on_its_own_order(units: None) -> None:
    _family()
    units = {u["unit"]: u for u in _report()["units"]}
    assert set(units) == {ZJJ, RSJ, CGJ}
    assert (units[ZJJ]["orders"], units[ZJJ]["co_handling"]) == (1, 0)
    assert (units[RSJ]["orders"], units[RSJ]["co_handling"]) == (1, 1)
    rsj = _kpis(units[RSJ]["kpis"])
    assert rsj["on_time_accept"] == (1, 1) and rsj["on_time_resolve"] == (1, 1) and rsj["overdue"] == (0, 1)
    assert rsj["return"] == (0, 1)  # given the order by the 协办 dispatch
    assert rsj["satisfaction"] == (0, 0)  # the callback judged the lead, which ZJJ answered
    assert _kpis(units[ZJJ]["kpis"])["satisfaction"] == (1, 1)


def test_a_reopened_lead_is_one_reopen(units: None) -> None:
    lead, kids = _family(callback="unsatisfied")
    _act(lead, "reopen", AT + 4 * DAY, role="dispatcher", target_unit=ZJJ, reason="市民称仍有污水外溢")
    with session_scope() as session:  # the co-handling orders were reopened with it
        assert [orders.get_order(session, k).reopen_count for k in kids] == [1, 1]
    report = _report()
    assert report["orders"] == 1
    assert _kpis(report["order_kpis"])["reopen"] == (1, 1)


def test_an_overdue_co_handling_order_is_its_units_overdue_work(units: None) -> None:
    lead = _create()
    _act(lead, "dispatch", AT, role="dispatcher", target_unit=ZJJ, co_units=[RSJ])
    _act(lead, "accept", AT, role="department", unit=ZJJ)  # RSJ never signs for its part
    report = _report()
    assert _kpis(report["order_kpis"])["overdue"] == (1, 1)  # one demand overdue, not two orders
    units = {u["unit"]: u for u in report["units"]}
    assert units[RSJ]["open_overdue"] == 1 and _kpis(units[RSJ]["kpis"])["overdue"] == (1, 1)


def test_a_co_handling_order_belongs_to_its_demands_period(units: None) -> None:
    received = datetime(2021, 6, 30, 23, 0, tzinfo=CHINA_TZ)
    lead = _create(at=received)
    _act(lead, "dispatch", received + 10 * timedelta(hours=1), role="dispatcher", target_unit=ZJJ, co_units=[RSJ])
    june = _report()
    assert (june["orders"], june["co_handling_orders"]) == (1, 1)
    assert {u["unit"] for u in june["units"]} == {ZJJ, RSJ}
    july = _report(date(2021, 7, 1), date(2021, 7, 31))
    assert (july["orders"], july["co_handling_orders"], july["units"]) == (0, 0, [])
    with session_scope() as session:  # the co-handling order, opened on 07-01, is not a demand received then
        assert service.latest_order_day(session) == date(2021, 6, 30)


def test_the_report_does_not_depend_on_how_ids_are_batched(loop: None, monkeypatch: pytest.MonkeyPatch) -> None:
    _family()
    whole = _report()
    monkeypatch.setattr(service, "_CHUNK", 1)  # every IN (...) of one id: first 签收 and moves across batches
    assert _report() == whole
