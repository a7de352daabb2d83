"""How long a routing decision stays right (`valid_until`): the next phase boundary, a sub-centre's opening
or closing time, a midnight; None when it never changes for this plan state. Boundaries written out here
from the plan's dates (catalogue of 2021), then a property over arbitrary plan states: the decision is the
same at every instant before the bound."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.calendar.domain import WorkCalendar
from hotline.plan.domain import PlanState, Record, RecordKind
from hotline.plan.regions import REGIONS, Region
from hotline.routing.domain import CachedCalendar, HoursTable, ServiceHours, route, valid_until
from tests.routing.strategies import CAT, NUMBERS, plan_states

CN = ZoneInfo("Asia/Shanghai")
PLAN = PlanState(year=2021, catalogue=CAT)
CAL = CachedCalendar(WorkCalendar())


def cn(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CN)


def test_full_merge_line_until_its_next_phase() -> None:
    # 12331: own seats until 2021-06-01, transition until 2021-10-01, then cancelled for good
    assert valid_until("12331", "510100", cn("2021-05-31T23:59:59.5"), PLAN) == cn("2021-06-01T00:00")
    assert valid_until("12331", "510100", cn("2021-06-01T00:00"), PLAN) == cn("2021-10-01T00:00")
    assert valid_until("12331", "510100", cn("2021-09-30T23:59:59"), PLAN) == cn("2021-10-01T00:00")
    assert valid_until("12331", "510100", cn("2021-10-01T00:00"), PLAN) is None


def test_the_decision_changes_exactly_at_the_bound_just_before_a_phase_change() -> None:
    just_before = cn("2021-09-30T23:59:59.999")
    bound = valid_until("12331", "510100", just_before, PLAN)
    assert bound is not None
    assert route("12331", "510100", just_before, PLAN, CAL) != route("12331", "510100", bound, PLAN, CAL)


def test_parallel_line_until_its_transfer_date() -> None:
    assert valid_until("12333", "510100", cn("2021-10-15T12:00"), PLAN) == cn("2021-10-16T00:00")
    assert valid_until("12333", "510100", cn("2021-10-16T00:00"), PLAN) is None


def test_a_recorded_date_in_one_region_moves_only_that_regions_bound() -> None:
    stamp = datetime(2021, 1, 1, tzinfo=UTC)
    early = Record("12331", "transition", "510700", RecordKind.DONE, date(2021, 5, 1), "", "t", stamp)
    plan = PlanState(year=2021, catalogue=CAT, latest={("12331", "transition", "510700"): early})
    assert valid_until("12331", "510700", cn("2021-04-20T10:00"), plan) == cn("2021-05-01T00:00")
    assert valid_until("12331", "510100", cn("2021-04-20T10:00"), plan) == cn("2021-06-01T00:00")


def test_sub_centre_until_its_next_opening_or_closing_time_or_midnight() -> None:
    hours = HoursTable({("12366", "510100"): ServiceHours(time(9, 0), time(17, 30))})
    # Wednesday 2021-04-07, open: until closing
    assert valid_until("12366", "510100", cn("2021-04-07T17:29:58"), PLAN, hours) == cn("2021-04-07T17:30")
    # before opening: until opening
    assert valid_until("12366", "510100", cn("2021-04-07T08:59:59"), PLAN, hours) == cn("2021-04-07T09:00")
    # after closing: until midnight (the next day may be a holiday)
    assert valid_until("12366", "510100", cn("2021-04-07T20:00"), PLAN, hours) == cn("2021-04-08T00:00")
    # default hours elsewhere (09:00-17:00)
    assert valid_until("12366", "510700", cn("2021-04-07T16:59:59"), PLAN, hours) == cn("2021-04-07T17:00")
    # just before closing the decision is in hours; at the bound it is not
    before = cn("2021-04-07T17:29:59.9")
    assert route("12366", "510100", before, PLAN, CAL, hours).action.value == "subcenter"
    assert route("12366", "510100", cn("2021-04-07T17:30"), PLAN, CAL, hours).action.value == "queue"


def test_sub_centre_answering_7x24_and_lines_without_phases_never_change() -> None:
    assert valid_until("12366", "510100", cn("2021-09-01T22:00"), PLAN) is None  # 7×24 from 08-31
    assert valid_until("12345", "510100", cn("2021-04-07T10:00"), PLAN) is None
    assert valid_until("110", "510100", cn("2021-04-07T10:00"), PLAN) is None
    assert valid_until("12399", "510100", cn("2021-04-07T10:00"), PLAN) is None


def test_an_instant_in_another_time_zone_is_read_as_china_time() -> None:
    # 2021-05-31T16:00Z is 2021-06-01T00:00 in China: already in 12331's transition
    assert valid_until("12331", "510100", datetime(2021, 5, 31, 15, 59, tzinfo=UTC), PLAN) == cn("2021-06-01T00:00")
    assert valid_until("12331", "510100", datetime(2021, 5, 31, 16, 0, tzinfo=UTC), PLAN) == cn("2021-10-01T00:00")


@settings(max_examples=300, deadline=None)
@given(
    plan=plan_states(),
    number=st.sampled_from([*NUMBERS, "12399"]),
    region=st.sampled_from(REGIONS),
    at=st.datetimes(min_value=datetime(2020, 12, 1), max_value=datetime(2022, 2, 1), timezones=st.just(UTC)),
    hours=st.sampled_from([HoursTable(), HoursTable({("12366", "*"): ServiceHours(time(8, 30), time(20, 0), False)})]),
    steps=st.lists(st.floats(min_value=0, max_value=1, exclude_max=True), min_size=1, max_size=5),
)
def test_the_decision_holds_until_the_bound(
    plan: PlanState, number: str, region: Region, at: datetime, hours: HoursTable, steps: list[float]
) -> None:
    decided = route(number, region.code, at, plan, CAL, hours)
    bound = valid_until(number, region.code, at, plan, hours)
    end = bound if bound is not None else at + timedelta(days=400)
    assert end > at
    span = end - at
    instants = [at + span * fraction for fraction in steps] + [end - timedelta(microseconds=1)]
    for later in instants:
        if later < end:  # (a fraction of the span is rounded to whole microseconds)
            assert route(number, region.code, later, plan, CAL, hours) == decided, (later, bound)
