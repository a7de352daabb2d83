"""按时回访率: callbacks made by their 回访时限 over callbacks made with one, from orders that went through the real
loop (SQLite and PostgreSQL), with its definition on /kpis and in the 考核报表."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date, datetime

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import update

from hotline.app import create_app
from hotline.db import session_scope
from hotline.supervision import export, service
from hotline.supervision.domain import LABELS, OrderFacts, order_kpis
from hotline.timeutil import CHINA_TZ
from hotline.workorders import service as orders
from hotline.workorders.store import Order
from tests.supervision.test_domain import BASE
from tests.supervision.test_export import _table
from tests.supervision.test_service import AT, DAY, JUNE, ZJJ, _act, _create
from tests.supervision.test_service import units as units  # the fixture

JUNE_4, JUNE_7 = date(2021, 6, 4), date(2021, 6, 7)


def _visit_rate(facts: list[OrderFacts]) -> tuple[int, int]:
    rate = next(r for r in order_kpis(facts) if r.key == "on_time_visit")
    assert rate.label == LABELS["on_time_visit"] == "按时回访率" and rate.target is None
    return rate.numerator, rate.denominator


def test_only_callbacks_made_with_a_deadline_are_judged() -> None:
    timed = replace(BASE, visit_due=JUNE_4)
    assert _visit_rate([
        replace(timed, visited_on=JUNE_4),  # on the day itself: on time
        replace(timed, visited_on=JUNE_7),  # late
        replace(BASE, visited_on=JUNE_7),  # no deadline (before they were set, or a feed): not judged
        replace(timed, visited=False, satisfaction=None),  # not called back yet: not a callback made
        replace(timed, visited_on=JUNE_4, co_handling=True),  # part of its lead's demand
    ]) == (1, 2)  # fmt: skip
    assert _visit_rate([BASE]) == (0, 0)


def _dispatched(at: datetime) -> str:
    number = _create(at)
    _act(number, "dispatch", at, role="dispatcher", target_unit=ZJJ)
    _act(number, "accept", at, role="department", unit=ZJJ)
    return number


def _call_back(number: str, at: datetime, satisfied: bool = True) -> None:
    _act(number, "callback", at, role="agent", satisfaction="satisfied" if satisfied else "unsatisfied",
         citizen_resolved=satisfied)  # fmt: skip


def test_the_report_judges_each_demands_latest_callback_by_its_deadline(units: None) -> None:
    on_time = _create(type="咨询")
    _act(on_time, "direct_resolve", AT, role="agent", reply="已答复")  # Tuesday 06-01: by Friday 06-04
    _call_back(on_time, AT + 3 * DAY)  # on the last day
    late = _dispatched(AT)
    _act(late, "resolve", AT + DAY, role="department", unit=ZJJ, reply="已处理")
    _act(late, "review_pass", AT + DAY, role="supervisor")  # Wednesday 06-02: by Monday 06-07
    _call_back(late, AT + 7 * DAY)
    legacy = _create(type="咨询")
    _act(legacy, "direct_resolve", AT, role="agent", reply="已答复")
    _call_back(legacy, AT + 20 * DAY)
    with session_scope() as session:  # called back before deadlines were set: its column empty, as 0022 leaves it
        session.execute(update(Order).where(Order.number == legacy).values(visit_due=None))
    waiting = _create(type="咨询")
    _act(waiting, "direct_resolve", AT, role="agent", reply="已答复")  # never called back
    # Called back in time, reopened, answered again and called back late: its latest callback is the one judged.
    again = _dispatched(AT)
    _act(again, "resolve", AT, role="department", unit=ZJJ, reply="已处理")
    _act(again, "review_pass", AT, role="supervisor")
    _call_back(again, AT + DAY, satisfied=False)
    _act(again, "reopen", AT + DAY, role="dispatcher", reason="市民反映未解决")
    _act(again, "accept", AT + DAY, role="department", unit=ZJJ)
    _act(again, "resolve", AT + 6 * DAY, role="department", unit=ZJJ, reply="已再次处理")
    _act(again, "review_pass", AT + 6 * DAY, role="supervisor")  # Monday 06-07: by Thursday 06-10
    _call_back(again, AT + 14 * DAY)

    with session_scope() as session:
        report = service.report(session, *JUNE, today=date(2021, 7, 30))
    rates = {k["key"]: k for k in report["order_kpis"]}
    assert (rates["on_time_visit"]["numerator"], rates["on_time_visit"]["denominator"]) == (1, 3)
    assert (rates["callback"]["numerator"], rates["callback"]["denominator"]) == (4, 5)

    # The 考核报表 lists it with its definition, and /kpis shows it with the local rule it is judged by.
    with session_scope() as session:
        done = export.export_report(session, *JUNE, by="王芳（wangfang）", at=datetime(2021, 7, 30, tzinfo=CHINA_TZ))
    row = {r["指标"]: r for r in _table(load_workbook(io.BytesIO(done.content)), "总体指标")}["按时回访率"]
    assert (row["分子"], row["分母"]) == (1, 3) and "回访时限" in row["口径说明"]
    with session_scope() as session:
        orders.set_limit(session, "回访", 2, actor="管理员甲")
    page = TestClient(create_app()).get("/kpis", params={"since": "2021-06-01", "until": "2021-06-30"})
    assert page.status_code == 200
    card = re.search(r'data-kpi="on_time_visit">.*?(\d+) / (\d+)', page.text, re.S)
    assert card is not None and card.groups() == ("1", "3")
    assert 'id="visit-rule"' in page.text and "审核通过或直接办结后 2 个工作日内完成回访" in page.text


def test_every_order_kpi_has_its_definition_in_the_report() -> None:
    assert set(LABELS) <= set(export.DEFINITIONS)
