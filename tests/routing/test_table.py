"""The whole routing table of mission.md, for every line of the catalogue, at every phase boundary.

Expectations are written here from mission.md (numbers per mode, dates, targets), not derived from the
code under test: the catalogue is checked against the mission's lists, then every catalogue line is
routed on the day before, the first and the last day of each phase, in every region, at both ends of
the day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.calendar.domain import WorkCalendar
from hotline.plan.catalogue import load_catalogue
from hotline.plan.domain import Line, Mode, PlanState, Scope
from hotline.plan.regions import REGIONS
from hotline.routing.domain import route

CN = ZoneInfo("Asia/Shanghai")
Y = 2021

# From mission.md, "The three integration modes and their hotlines".
FULL_MERGE_NATIONAL = {
    "12396", "12300", "12349", "12336", "12312", "12301", "12356",
    "96119", "12330", "12331", "12358", "12365", "12322",
}  # fmt: skip
PARALLEL = {
    "12348", "12333", "12369", "12319", "12329", "12328", "12316",
    "12318", "12320", "12350", "12315", "12393", "12317", "12385",
}  # fmt: skip
SUBCENTER = {"12360", "12366", "12313", "12367", "12305"}
EMERGENCY = {"110", "119", "120", "122"}

LOCAL = Line(number="96128", name="测试本地热线", mode=Mode.FULL_MERGE, scope=Scope.LOCAL, local=True)
PLAN = PlanState(year=Y, catalogue=load_catalogue(), local_lines=(LOCAL,))
CAL = WorkCalendar()


def d(month: int, day: int, year: int = Y) -> date:
    return date(year, month, day)


def expected(number: str, kind: str, region: str) -> dict[str, str | None]:
    """mission.md's table, written out: what each kind of phase means for the decision."""
    if kind == "queue-12345":
        return {"action": "queue", "prompt": None, "skill": None, "target": f"queue:{region}"}
    if kind == "legacy":
        return {"action": "legacy", "prompt": None, "skill": None, "target": f"legacy:{number}:{region}"}
    if kind == "transition":
        return {"action": "queue", "prompt": f"transition:{number}", "skill": number, "target": f"queue:{region}"}
    if kind == "cancelled":
        return {"action": "cancelled", "prompt": f"cancellation:{number}", "skill": None, "target": None}
    if kind == "expert-queue":
        return {"action": "queue", "prompt": None, "skill": number, "target": f"queue:{region}"}
    if kind == "subcenter":
        return {"action": "subcenter", "prompt": None, "skill": None, "target": f"subcenter:{number}:{region}"}
    if kind == "after-hours":
        return {"action": "queue", "prompt": f"after-hours:{number}", "skill": number, "target": f"queue:{region}"}
    if kind == "reject":
        return {"action": "reject", "prompt": None, "skill": None, "target": None}
    raise AssertionError(kind)


# Phases per kind of line: (first day, last day, phase kind); None = open end. From mission.md's table.
PHASES: dict[str, list[tuple[date | None, date | None, str]]] = {
    "full-merge-national": [
        (None, d(5, 31), "legacy"),
        (d(6, 1), d(9, 30), "transition"),
        (d(10, 1), None, "cancelled"),
    ],
    "full-merge-local": [(None, d(4, 30), "legacy"), (d(5, 1), d(7, 31), "transition"), (d(8, 1), None, "cancelled")],
    "parallel": [(None, d(10, 15), "legacy"), (d(10, 16), None, "expert-queue")],
}


def kind_of(line: Line) -> str:
    if line.number == "12345":
        return "platform"
    if line.number in EMERGENCY:
        return "emergency"
    if line.number in FULL_MERGE_NATIONAL:
        return "full-merge-national"
    if line.number in PARALLEL:
        return "parallel"
    if line.number in SUBCENTER:
        return "subcenter"
    if line.local:
        return "full-merge-local"
    raise AssertionError(line.number)


def boundary_days(phases: list[tuple[date | None, date | None, str]]) -> list[tuple[date, str]]:
    """For each phase: the day before it (previous phase), its first and its last day."""
    cases: list[tuple[date, str]] = []
    previous = None
    for first, last, kind in phases:
        if first is not None:
            assert previous is not None
            cases.append((first - timedelta(days=1), previous))
            cases.append((first, kind))
        else:
            cases.append((d(1, 1), kind))
        cases.append((last if last is not None else d(12, 31), kind))
        previous = kind
    cases.append((d(1, 1, Y + 1), previous or ""))
    return cases


def decision(number: str, region: str, at: datetime) -> dict[str, str | None]:
    result = route(number, region, at, PLAN, CAL).to_dict()
    reason = result.pop("reason")
    assert reason and any("\u4e00" <= ch <= "\u9fff" for ch in reason), reason
    return result


def test_catalogue_holds_the_missions_lines() -> None:
    lines = PLAN.lines()
    by_mode: dict[Mode, set[str]] = {}
    for line in lines:
        by_mode.setdefault(line.mode, set()).add(line.number)
    assert {n for n in by_mode[Mode.FULL_MERGE] if not PLAN.get_line(n).local} == FULL_MERGE_NATIONAL
    assert by_mode[Mode.PARALLEL] == PARALLEL
    assert by_mode[Mode.SUBCENTER] == SUBCENTER
    assert by_mode[Mode.EMERGENCY] == EMERGENCY
    assert by_mode[Mode.PLATFORM] == {"12345"}
    assert len(FULL_MERGE_NATIONAL | PARALLEL | SUBCENTER) == 32


ALL_LINES = PLAN.lines()


@pytest.mark.parametrize("line", ALL_LINES, ids=[line.number for line in ALL_LINES])
def test_every_line_at_every_phase_boundary_in_every_region(line: Line) -> None:
    kind = kind_of(line)
    for region in REGIONS:
        code = region.code
        if kind in PHASES:
            for day, phase in boundary_days(PHASES[kind]):
                for moment in (time(0, 0), time(23, 59, 59)):
                    at = datetime.combine(day, moment, CN)
                    assert decision(line.number, code, at) == expected(line.number, phase, code), (day, moment)
        elif kind == "subcenter":
            check_subcenter(line.number, code)
        else:
            for day in (d(1, 1), d(5, 31), d(6, 1), d(10, 1), d(10, 16), d(12, 31)):
                at = datetime.combine(day, time(12), CN)
                want = "queue-12345" if kind == "platform" else "reject"
                assert decision(line.number, code, at) == expected(line.number, want, code)


def check_subcenter(number: str, region: str) -> None:
    # Before 08-31: own seats in service hours (default working days 09:00-17:00), else 12345 after a notice.
    # 2021-08-30 is a Monday (working day), 2021-08-29 a Sunday, 2021-08-31 the 7×24 milestone.
    cases = [
        (datetime(Y, 8, 30, 9, 0), "subcenter"),
        (datetime(Y, 8, 30, 16, 59, 59), "subcenter"),
        (datetime(Y, 8, 30, 8, 59, 59), "after-hours"),
        (datetime(Y, 8, 30, 17, 0), "after-hours"),
        (datetime(Y, 8, 30, 23, 59, 59), "after-hours"),
        (datetime(Y, 8, 29, 10, 0), "after-hours"),
        (datetime(Y, 1, 4, 10, 0), "subcenter"),  # Monday, first working day of 2021
        (datetime(Y, 1, 1, 10, 0), "after-hours"),  # New Year's Day, a Friday
        (datetime(Y, 8, 31, 0, 0), "subcenter"),
        (datetime(Y, 8, 31, 3, 0), "subcenter"),
        (datetime(Y, 9, 4, 23, 0), "subcenter"),  # a Saturday night, after 7×24
        (datetime(Y, 12, 31, 23, 59, 59), "subcenter"),
        (datetime(Y + 1, 1, 1, 2, 0), "subcenter"),
    ]
    for naive, phase in cases:
        at = naive.replace(tzinfo=CN)
        assert decision(number, region, at) == expected(number, phase, region), naive


def test_instants_are_read_in_china_time() -> None:
    # 2021-05-31T16:00Z is 2021-06-01 00:00 in China: the transition has begun.
    at = datetime(Y, 5, 31, 16, 0, tzinfo=UTC)
    assert decision("12331", "510100", at) == expected("12331", "transition", "510100")
    before = datetime(Y, 5, 31, 15, 59, 59, tzinfo=UTC)
    assert decision("12331", "510100", before) == expected("12331", "legacy", "510100")
    # A naive instant is China time.
    assert decision("12331", "510100", datetime(Y, 6, 1, 0, 0)) == expected("12331", "transition", "510100")


def test_unknown_numbers_are_rejected_not_raised() -> None:
    for number in ("12346", "999", "abc", "1234567890123"):
        assert decision(number, "510000", datetime(Y, 6, 1, tzinfo=CN)) == expected(number, "reject", "510000")


def test_region_by_name_or_alias_and_unknown_region() -> None:
    at = datetime(Y, 6, 1, 10, tzinfo=CN)
    assert decision("12331", "成都市", at)["target"] == "queue:510100"
    assert decision("12331", "省本级", at)["target"] == "queue:510000"
    from hotline.errors import NotFound

    with pytest.raises(NotFound) as err:
        route("12331", "北京市", at, PLAN, CAL)
    assert err.value.code == "region-not-found"


def test_plan_year_moves_every_date() -> None:
    later = PlanState(year=2023, catalogue=load_catalogue())
    at = datetime(2023, 6, 1, 10, tzinfo=CN)
    assert route("12331", "510000", at, later, CAL).action == "queue"
    assert route("12331", "510000", at - timedelta(days=1), later, CAL).action == "legacy"
    assert route("12333", "510000", datetime(2023, 10, 16, tzinfo=CN), later, CAL).action == "queue"
    # In plan year 2023, 2021 dates are long before the plan: every full-merge line is still on its own seats.
    assert route("12331", "510000", datetime(2021, 10, 2, tzinfo=CN), later, CAL).action == "legacy"


def test_number_written_with_spaces_or_hyphens() -> None:
    at = datetime(Y, 10, 16, tzinfo=CN)
    assert route(" 12-333 ", "510000", at, PLAN, CAL).target == "queue:510000"
