"""Properties of the routing function over arbitrary plan states and instants (Hypothesis)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.calendar.domain import WorkCalendar
from hotline.plan.domain import Mode, PlanState
from hotline.plan.regions import REGIONS, Region
from hotline.routing.domain import CachedCalendar, route
from tests.routing.strategies import CAT, NUMBERS, plan_states

FULL_MERGE = [line.number for line in CAT.lines if line.mode is Mode.FULL_MERGE]
CAL = CachedCalendar(WorkCalendar())
CONTRACT = {
    "queue": (re.compile(r"^(transition|after-hours):\d+$|^$"), re.compile(r"^queue:\d{6}$")),
    "legacy": (re.compile(r"^$"), re.compile(r"^legacy:\d+:\d{6}$")),
    "subcenter": (re.compile(r"^$"), re.compile(r"^subcenter:\d+:\d{6}$")),
    "cancelled": (re.compile(r"^cancellation:\d+$"), re.compile(r"^$")),
    "reject": (re.compile(r"^$"), re.compile(r"^$")),
}


@settings(max_examples=200, deadline=None)
@given(
    plan=plan_states(),
    number=st.sampled_from([*NUMBERS, "12399", "0"]),
    region=st.sampled_from(REGIONS),
    at=st.datetimes(min_value=datetime(2020, 6, 1), max_value=datetime(2022, 6, 1), timezones=st.just(UTC)),
)
def test_every_decision_keeps_the_contract(plan: PlanState, number: str, region: Region, at: datetime) -> None:
    decision = route(number, region.code, at, plan, CAL)
    prompt_re, target_re = CONTRACT[decision.action.value]
    assert prompt_re.match(decision.prompt or "")
    assert target_re.match(decision.target or "")
    if decision.target and decision.target.count(":") == 2:
        assert decision.target.split(":")[1] == number
    assert decision.skill in (None, number)
    assert decision.reason


@settings(max_examples=100, deadline=None)
@given(plan=plan_states(), number=st.sampled_from(FULL_MERGE), region=st.sampled_from(REGIONS))
def test_a_full_merge_line_never_goes_back(plan: PlanState, number: str, region: Region) -> None:
    order = {"legacy": 0, "queue": 1, "cancelled": 2}
    seen = []
    day = datetime(2021, 1, 1, 12, tzinfo=UTC)
    while day.year == 2021:
        seen.append(order[route(number, region.code, day, plan, CAL).action.value])
        day += timedelta(days=1)
    assert seen == sorted(seen)
