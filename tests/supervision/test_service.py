"""KPIs computed from orders that went through the real work-order loop (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from hotline.app import create_app
from hotline.db import session_scope
from hotline.errors import HotlineError, InvalidInput
from hotline.knowledge import service as knowledge
from hotline.knowledge.domain import ArticleInput
from hotline.supervision import service
from hotline.timeutil import CHINA_TZ
from hotline.workorders import domain as d
from hotline.workorders import service as orders
from hotline.workorders.store import History
from tests.conftest import query_plan

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


@pytest.mark.parametrize(
    "query",
    [
        lambda s: service.latest_order_day(s),
        lambda s: service.latest_order_day(s, region="成都市"),
        lambda s: service.report(s, *JUNE),
        lambda s: service.hotspots(s, *JUNE),
    ],
    ids=["latest_order_day", "latest_order_day 成都市", "report", "hotspots"],
)
def test_a_period_or_the_latest_is_found_by_receipt_time_not_through_every_lead_order(
    db_url: str, query: Callable[[Any], object]
) -> None:
    """考核指标 and 热点诉求 read a period's demands (or, when it is empty, the latest one). On a fresh database
    (SQLite is never analysed) SQLite took their `parent_id IS NULL` for the selective part and read the entry
    of every lead order ever taken (years of them at a centre); the period must be what narrows the read."""
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL plans by its statistics: an empty table's plan says nothing about a large one")
    plan = query_plan(db_url, query, wanted="SELECT wo_orders")
    assert "ix_wo_orders_created_at" in plan and "ix_wo_orders_parent_state_region_created" not in plan, plan


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


# -- every giving to a unit: 退单率 and 按时签收率 per giving (重办 included) --------------------------------------


def _unit_kpis(report: dict[str, Any]) -> dict[str, dict[str, tuple[int, int]]]:
    return {u["unit"]: _kpis(u["kpis"]) for u in report["units"]}


def _answered_unsatisfied(number: str, unit: str, at: datetime) -> None:
    """Signed for at AT, answered the next day, and the citizen not satisfied."""
    _act(number, "accept", at, role="department", unit=unit)
    _act(number, "resolve", at + DAY, role="department", unit=unit, reply="已处理")
    _act(number, "review_pass", at + DAY, role="supervisor")
    _act(number, "callback", at + 2 * DAY, role="agent", satisfaction="unsatisfied", citizen_resolved=False)


def test_a_unit_returning_a_reopened_order_is_charged_per_giving(units: None) -> None:
    lead = _create()
    _act(lead, "dispatch", AT, role="dispatcher", target_unit=ZJJ)
    _act(lead, "return", AT + DAY, role="department", unit=ZJJ, reason="不属于本单位职责")  # in time, unsigned
    _act(lead, "redispatch", AT + DAY, role="dispatcher", target_unit=RSJ)
    _answered_unsatisfied(lead, RSJ, AT + DAY)
    # Reopened to ZJJ, which gives it back again: 2 returns of 2 givings, where the 重办 used not to count
    # as giving it (2 of 1: 200 %).
    _act(lead, "reopen", AT + 7 * DAY, role="dispatcher", target_unit=ZJJ, reason="市民称仍未解决")
    _act(lead, "return", AT + 8 * DAY, role="department", unit=ZJJ, reason="仍不属于本单位职责")
    report = _report()
    units = _unit_kpis(report)
    assert units[ZJJ]["return"] == (2, 2) and units[RSJ]["return"] == (0, 1)
    # Both givings to ZJJ were answered in time by a 退单: no 签收 to judge; RSJ signed for its own in time.
    assert units[ZJJ]["on_time_accept"] == (0, 0) and units[RSJ]["on_time_accept"] == (1, 1)
    assert _kpis(report["order_kpis"])["return"] == (1, 1)  # the centre: one demand, returned


def test_a_co_handling_order_reopened_with_its_lead_is_given_again(units: None) -> None:
    lead, (rsj_part, cgj_part) = _family(callback="unsatisfied")
    reopened = AT + 7 * DAY  # Tuesday 06-08: 签收 by 06-09
    _act(lead, "reopen", reopened, role="dispatcher", target_unit=ZJJ, reason="市民称仍有污水外溢")
    _act(lead, "accept", reopened, role="department", unit=ZJJ)
    _act(cgj_part, "return", reopened + DAY, role="department", unit=CGJ, reason="已配合完毕，无需再办")
    _act(rsj_part, "accept", reopened + 3 * DAY, role="department", unit=RSJ)  # 06-11: late
    units = _unit_kpis(_report())
    assert units[CGJ]["return"] == (1, 2) and units[RSJ]["return"] == (0, 2) and units[ZJJ]["return"] == (0, 2)
    assert units[RSJ]["on_time_accept"] == (1, 2)  # its first 签收 in time, the reopened one late
    assert units[CGJ]["on_time_accept"] == (1, 1) and units[ZJJ]["on_time_accept"] == (2, 2)


def test_each_giving_is_signed_for_by_its_own_deadline_across_a_reopen(units: None) -> None:
    lead = _create()
    _act(lead, "dispatch", AT, role="dispatcher", target_unit=ZJJ)  # 签收 by 06-02
    _answered_unsatisfied(lead, ZJJ, AT + 2 * DAY)  # signed for on 06-03: late
    # 重办 on 06-08 resets the order's 签收 deadline to 06-09, and opens a part for CGJ, never signed for.
    _act(lead, "reopen", AT + 7 * DAY, role="dispatcher", target_unit=ZJJ, co_units=[CGJ], reason="未解决")
    _act(lead, "accept", AT + 7 * DAY, role="department", unit=ZJJ)  # in time
    report = _report()
    # Compared with the reopen's deadline, the first 签收 looked in time; it was late for its own.
    assert _kpis(report["order_kpis"])["on_time_accept"] == (0, 1)
    units = _unit_kpis(report)
    assert units[ZJJ]["on_time_accept"] == (1, 2) and units[ZJJ]["return"] == (0, 2)
    assert units[CGJ]["on_time_accept"] == (0, 1) and units[CGJ]["return"] == (0, 1)  # opened at the 重办


def test_an_order_never_signed_for_is_late_once_its_deadline_has_passed(units: None) -> None:
    lead = _create()
    _act(lead, "dispatch", AT, role="dispatcher", target_unit=ZJJ)  # 签收 by 06-02
    within = _report(today=date(2021, 6, 2))
    assert _kpis(within["order_kpis"])["on_time_accept"] == (0, 0)  # not judged yet
    assert _unit_kpis(within)[ZJJ]["on_time_accept"] == (0, 0)
    passed = _report(today=date(2021, 6, 3))
    assert _kpis(passed["order_kpis"])["on_time_accept"] == (0, 1)  # late, not left out
    assert _unit_kpis(passed)[ZJJ]["on_time_accept"] == (0, 1)


def test_a_return_after_the_signing_deadline_is_late_signing(units: None) -> None:
    lead = _create()
    _act(lead, "dispatch", AT, role="dispatcher", target_unit=ZJJ)  # 签收 by 06-02, 退单 by 06-03
    _act(lead, "return", AT + 2 * DAY, role="department", unit=ZJJ, reason="不属于本单位职责")
    report = _report()
    assert _unit_kpis(report)[ZJJ]["on_time_accept"] == (0, 1) and _unit_kpis(report)[ZJJ]["return"] == (1, 1)
    assert _kpis(report["order_kpis"])["on_time_accept"] == (0, 1)


_GIVING_ACTIONS = ("dispatch", "redispatch", "reopen")
_NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
_WALK_UNITS = (ZJJ, RSJ, CGJ)


def _random_lifecycles(rnd: random.Random, orders_n: int, steps: int) -> None:
    """ORDERS_N demands taken through STEPS random actions of the real service (co-handling, 退单, 改派,
    重办 …; 并单 left out: a merged order is counted nowhere), a few hours apart."""
    at = AT
    leads = [_create(at=at + i * timedelta(minutes=1)) for i in range(orders_n)]
    for _ in range(steps):
        at += timedelta(hours=rnd.randint(0, 12))
        with session_scope() as session:
            numbers = [
                n
                for lead in leads
                for n in (lead, *(k["number"] for k in orders.show_order(session, lead)["children"]))
            ]
            number = rnd.choice(numbers)
            order = orders.get_order(session, number)
            options = [r for (s, a), r in d.TRANSITIONS.items() if s.value == order.state and a is not d.Action.MERGE]
            if not options:
                continue
            rule = rnd.choice(options)
            try:
                orders.act(
                    session,
                    number,
                    rule.action.value,
                    role=rnd.choice(sorted(rule.roles)).value,
                    unit=order.lead_unit.code if order.lead_unit else "",
                    reason="理由",
                    at=max(at, order.updated_at),
                    target_unit=rnd.choice(_WALK_UNITS),
                    co_units=rnd.choice([(), (), [CGJ], [RSJ, CGJ]]),
                    days=2,
                    reply="答复",
                    satisfaction=rnd.choice(["satisfied", "unsatisfied", "unsatisfied"]),
                    citizen_resolved=rnd.random() < 0.3,
                )
            except HotlineError:
                session.rollback()


def test_for_any_lifecycle_unit_rates_stay_within_0_and_100_percent(units: None) -> None:
    """Random lifecycles through the service (both databases): every giving the history holds is counted
    once, every 退单 against one of them, and no unit's rate leaves 0–100 %."""

    # No shrinking: each example runs through the database, and the failing seed is reported as it is.
    @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), phases=_NO_SHRINK)
    @given(rnd=st.randoms(use_true_random=True))
    def check(rnd: random.Random) -> None:
        _random_lifecycles(rnd, 4, 50)
        report = _report(today=date(2021, 6, 1) + timedelta(days=rnd.randint(0, 60)))
        with session_scope() as session:
            steps = Counter(dict(session.execute(select(History.action, func.count()).group_by(History.action)).all()))
        units = report["units"]
        assert sum(_kpis(u["kpis"])["return"][1] for u in units) == sum(steps[a] for a in _GIVING_ACTIONS)
        assert sum(_kpis(u["kpis"])["return"][0] for u in units) == steps["return"]
        for unit in units:
            for rate in unit["kpis"]:
                assert 0 <= rate["numerator"] <= rate["denominator"]
                assert rate["value"] is None or 0 <= rate["value"] <= 1
        for rate in report["order_kpis"]:
            assert 0 <= rate["numerator"] <= rate["denominator"]

    check()
