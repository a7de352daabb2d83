"""Seat planning's pure core: Erlang C, the agents a queue needs, forecasts, and the sweep over plan dates."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from hotline.errors import InvalidInput
from hotline.staffing.domain import (
    DayKind,
    Demand,
    Forecast,
    Target,
    agents_needed,
    average_wait,
    erlang_c,
    service_level,
    staff_on_roster,
    sweep,
)


def _erlang_c_by_sums(n: int, a: float) -> float:
    """The textbook formula, term by term (fine for small N), to check the recurrence against."""
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


def test_erlang_c_matches_the_textbook_example() -> None:
    # 100 calls in half an hour, 3 minutes each: 10 erlangs. The classic worked example of call-centre
    # planning: 11 agents make 68 % of callers wait, 122.8 s on average; 14 agents reach 80 % within 20 s.
    assert erlang_c(11, 10) == pytest.approx(0.6821, abs=1e-4)
    assert average_wait(11, 10, 180) == pytest.approx(122.8, abs=0.1)
    assert service_level(13, 10, 180, 20) < 0.8 < service_level(14, 10, 180, 20)
    assert agents_needed(200, 180, Target(answer_within=20)) == 14
    for n, a in ((1, 0.5), (5, 3.2), (20, 17.9), (40, 12.0)):
        assert erlang_c(n, a) == pytest.approx(_erlang_c_by_sums(n, a), rel=1e-9)


def test_more_agents_never_serve_worse_and_too_few_cannot_keep_up() -> None:
    levels = [service_level(n, 25, 240, 15) for n in range(20, 40)]
    assert levels == sorted(levels)
    assert service_level(25, 25, 240, 15) == 0 and erlang_c(24, 25) == 1 and average_wait(25, 25, 240) == math.inf
    assert erlang_c(3000, 2900) < 1  # thousands of agents: no overflow


def test_agents_needed_meets_the_target_with_the_fewest_agents() -> None:
    target = Target()
    for calls in (1, 30, 120, 600, 2400):
        n = agents_needed(calls, 240, target)
        traffic = calls * 240 / 3600
        assert service_level(n, traffic, 240, 15) >= 0.8 and traffic / n <= 0.85
        assert n == 1 or service_level(n - 1, traffic, 240, 15) < 0.8 or traffic / (n - 1) > 0.85
    assert agents_needed(0, 240, target) == 0
    # A loose service target: the occupancy cap sets the number (100 erlangs / 0.85 → 118 agents).
    assert agents_needed(1500, 240, Target(answer_within=60, service_level=0.05)) == 118
    needs = [agents_needed(c, 240, target) for c in range(0, 2000, 50)]
    assert needs == sorted(needs)


def test_roster_covers_shrinkage() -> None:
    assert staff_on_roster(70, Target(shrinkage=0.3)) == 100
    assert staff_on_roster(71, Target(shrinkage=0.3)) == 102
    assert staff_on_roster(0, Target()) == 0


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"service_level": 1.0}, "invalid-target"),
        ({"max_occupancy": 0}, "invalid-target"),
        ({"shrinkage": 1.0}, "invalid-target"),
        ({"answer_within": -1}, "invalid-target"),
    ],
)
def test_impossible_targets_are_refused(kw: dict[str, float], code: str) -> None:
    with pytest.raises(InvalidInput) as err:
        Target(**kw)
    assert err.value.code == code


def test_forecast_rows_are_checked_and_a_specific_day_kind_wins() -> None:
    with pytest.raises(InvalidInput):
        Demand("12345", 24, 10, 200)
    with pytest.raises(InvalidInput):
        Demand("12345", 9, -1, 200)
    with pytest.raises(InvalidInput):
        Demand("12345", 9, 10, 0)
    with pytest.raises(InvalidInput) as err:
        Forecast([Demand("12345", 9, 10, 200), Demand("12345", 9, 20, 200)])
    assert err.value.code == "duplicate-forecast"
    with pytest.raises(InvalidInput):
        Forecast([])
    forecast = Forecast([Demand("12345", 9, 100, 200), Demand("12345", 9, 30, 200, DayKind.RESTDAY)])
    assert forecast.demand("12345", 9, workday=True).calls == 100  # type: ignore[union-attr]
    assert forecast.demand("12345", 9, workday=False).calls == 30  # type: ignore[union-attr]
    assert forecast.demand("12345", 10, workday=True) is None


MERGE = date(2021, 6, 1)


def _router(line: str, day: date, hour: int) -> tuple[str, str | None] | None:
    """12345 always on its queue; "12333" on its own seats before MERGE, then on the queue as an expert group;
    "12366" answered by its sub-centre in office hours, else by the queue."""
    if line == "12345":
        return "queue:510100", None
    if line == "12333":
        return ("legacy:12333", None) if day < MERGE else ("queue:510100", "12333")
    return ("subcenter:12366", None) if 9 <= hour < 17 else ("queue:510100", None)


def test_the_sweep_cuts_periods_where_the_routing_changes_and_moves_the_load() -> None:
    forecast = Forecast(
        [
            Demand("12345", 10, 500, 240),
            Demand("12333", 10, 120, 300, DayKind.WORKDAY),
            Demand("12333", 10, 20, 300, DayKind.RESTDAY),
            Demand("12366", 10, 90, 280),
            Demand("12366", 20, 40, 280),
        ]
    )
    target = Target()

    def is_workday(d: date) -> bool:
        return d.weekday() < 5

    periods = sweep(date(2021, 5, 1), date(2021, 6, 30), is_workday, forecast, _router, target)
    assert [(p.first, p.last) for p in periods] == [
        (date(2021, 5, 1), MERGE - timedelta(days=1)),
        (MERGE, date(2021, 6, 30)),
    ]
    before, after = periods
    assert before.pools() == ["legacy:12333", "queue:510100", "subcenter:12366"]
    assert after.pools() == ["queue:510100", "subcenter:12366"]
    assert before.workday is not None and after.workday is not None and after.restday is not None
    # The merged line's calls join the queue's at 10:00: one pooled queue needs fewer agents than two.
    queue_before = before.workday.pools["queue:510100"][10]
    queue_after = after.workday.pools["queue:510100"][10]
    legacy = before.workday.pools["legacy:12333"][10]
    assert queue_before and queue_after and legacy
    assert queue_after.calls == queue_before.calls + 120
    assert queue_before.agents < queue_after.agents < queue_before.agents + legacy.agents
    assert queue_after.experts == {"12333": legacy.agents}  # the expert group sized for its own calls
    assert after.restday.pools["queue:510100"][10].experts == {"12333": agents_needed(20, 300, target)}  # type: ignore[union-attr]
    # 20:00: the sub-centre is closed, its calls are the queue's alone.
    assert after.workday.pools["queue:510100"][20].agents == agents_needed(40, 280, target)  # type: ignore[union-attr]
    assert after.workday.pools["subcenter:12366"][20] is None
    assert after.workday.peak("queue:510100") == queue_after.agents


def test_the_sweep_refuses_a_backward_or_endless_period() -> None:
    forecast = Forecast([Demand("12345", 10, 1, 200)])
    with pytest.raises(InvalidInput):
        sweep(date(2021, 2, 1), date(2021, 1, 1), lambda d: True, forecast, _router, Target())
    with pytest.raises(InvalidInput):
        sweep(date(2021, 1, 1), date(2024, 1, 1), lambda d: True, forecast, _router, Target())
