"""Plan versus recorded: effective dates and done / due / overdue, with responsible units."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hotline.plan.catalogue import load_catalogue
from hotline.plan.domain import PlanState, Record, RecordKind, Status
from hotline.plan.regions import PROVINCE, find_region, region_name

CAT = load_catalogue()


def rec(line: str, milestone: str, region: str, kind: RecordKind, day: date) -> Record:
    return Record(line, milestone, region, kind, day, "", "admin", datetime(2021, 1, 1, tzinfo=UTC))


def test_status_done_due_overdue() -> None:
    chengdu = find_region("成都市")
    state = PlanState(
        2021,
        CAT,
        latest={
            ("12331", "transition", chengdu.code): rec(
                "12331", "transition", chengdu.code, RecordKind.DONE, date(2021, 5, 20)
            ),
            ("12396", "transition", chengdu.code): rec(
                "12396", "transition", chengdu.code, RecordKind.POSTPONE, date(2021, 6, 15)
            ),
        },
    )
    line, other = state.get_line("12331"), state.get_line("12396")
    transition = state.get_milestone(line, "transition")
    # Done counts from its date on.
    assert state.status(line, transition, chengdu, date(2021, 5, 19)).status is Status.DUE
    assert state.status(line, transition, chengdu, date(2021, 5, 20)).status is Status.DONE
    # Not recorded: due until the plan date, overdue the day after.
    deyang = find_region("德阳市")
    assert state.status(line, transition, deyang, date(2021, 6, 1)).status is Status.DUE
    assert state.status(line, transition, deyang, date(2021, 6, 2)).status is Status.OVERDUE
    # Postponed: the new deadline decides.
    postponed = state.status(other, transition, chengdu, date(2021, 6, 10))
    assert postponed.status is Status.DUE and postponed.effective_date == date(2021, 6, 15)
    assert postponed.plan_date == date(2021, 6, 1)
    assert state.status(other, transition, chengdu, date(2021, 6, 16)).status is Status.OVERDUE


def test_responsible_units_include_the_city_government() -> None:
    state = PlanState(2021, CAT)
    line = state.get_line("12366")
    ms = state.get_milestone(line, "full-time")
    assert state.status(line, ms, find_region("成都市"), date(2021, 9, 1)).units(CAT.shared_unit) == (
        "四川省税务局",
        "成都市人民政府",
    )
    assert state.status(line, ms, PROVINCE, date(2021, 9, 1)).units(CAT.shared_unit) == ("四川省税务局",)


def test_statuses_cover_every_line_milestone_and_region() -> None:
    state = PlanState(2021, CAT)
    items = state.statuses(date(2021, 1, 1))
    per_region = 13 * 2 + 14 * 3 + 5 * 4
    assert len(items) == 22 * per_region
    assert all(i.status is Status.DUE for i in items)
    assert all(i.status is Status.OVERDUE for i in state.statuses(date(2022, 1, 1)))


def test_a_region_is_named_for_reports_and_an_unknown_code_shown_as_it_is() -> None:
    assert region_name("510100") == "成都市"
    assert region_name(PROVINCE.code) == PROVINCE.name
    assert region_name("999999") == "999999"  # an old record's code the catalogue no longer names
