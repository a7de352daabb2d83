"""漏话回拨 by region (SQLite and PostgreSQL): a 市（州） asked for lists, counts and measures its 区（县）'s tasks with its
own (a district's code lies in its city's, as the dispatch catalogue reads it: `regions.city_code`), never another
city's; the province, its own only."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from hotline.db import session_scope
from hotline.telephony import callbacks, service
from tests.telephony.missed_calls import LATER, MISSED, T0, call, report, routed, set_up_lines

WUHOU = "510107"  # 成都市武侯区


@pytest.fixture(autouse=True)
def _lines(db_url: str) -> None:
    set_up_lines()


def _missed_in(region: str, call_id: str, caller: str, minutes: float) -> None:
    """A call missed whose decision names REGION (as a proxy may report one for a district's trunk)."""
    decided = routed(call_id, caller, minutes)
    with session_scope() as s:
        service.record_decision(
            s, dataclasses.replace(decided, answer=dataclasses.replace(decided.answer, region=region))
        )
    report(call_id, minutes, MISSED)


def _callers(**filters: str) -> list[str]:
    with session_scope() as s:
        found = callbacks.list_callbacks(s, state="all", mask=False, at=LATER, **filters)
    assert found["total"] == len(found["callbacks"])
    return sorted(t["caller"] for t in found["callbacks"])


def test_a_city_takes_in_its_districts_tasks() -> None:
    call("c1", "13900000001", 0, MISSED)  # 成都市's own trunk
    _missed_in(WUHOU, "c2", "13900000002", 10)
    call("c3", "13900000003", 20, MISSED, trunk="my-telecom")  # 绵阳市
    _missed_in("510000", "c4", "13900000004", 30)  # the provincial centre's own

    chengdu = ["13900000001", "13900000002"]
    assert _callers(region="510100") == chengdu
    assert _callers(region="成都市") == chengdu
    assert _callers(region="绵阳市") == ["13900000003"]
    assert _callers(region="四川省") == ["13900000004"]
    with session_scope() as s:  # a district's task is shown by its city and code
        [district] = [
            t for t in callbacks.list_callbacks(s, state="all", at=LATER)["callbacks"] if t["region_code"] == WUHOU
        ]
    assert district["region"] == "成都市 510107"
    with session_scope() as s:
        kpis = callbacks.callback_kpi_report(s, T0, T0 + timedelta(days=1), region="成都市", at=LATER)
    assert kpis.tasks == 2
