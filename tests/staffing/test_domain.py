"""Seat planning's pure core: Erlang C, the agents a queue needs, forecasts, and the sweep over plan dates."""

from __future__ import annotations

import heapq
import math
import random
import statistics
from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from hotline.errors import InvalidInput
from hotline.staffing.domain import (
    DEFAULT_PATIENCE,
    MIN_ABANDONED,
    NO_WAIT,
    DayKind,
    Demand,
    Forecast,
    Target,
    agents_needed,
    agents_on_phones,
    average_wait,
    erlang_a,
    erlang_c,
    estimate_patience,
    service_level,
    staff_on_roster,
    sweep,
)
from hotline.telephony.domain import CallEventType, EventRecord, call_facts


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


# ------------------------------------------------------------------------------------------- Erlang A


def _simulate(agents: int, calls_per_hour: float, handle: float, patience: float, within: float) -> dict[str, Any]:
    """M/M/n+M, caller by caller (first come, first served; a caller hangs up when her own patience runs
    out), to check `erlang_a` by a route that shares nothing with it. Returns, per batch of callers, the
    shares waiting, hanging up and answered within WITHIN seconds, and the answered callers' mean wait."""
    rng = random.Random(20211016)
    rate = calls_per_hour / 3600
    warmup, batches, size = 5_000, 20, 15_000
    now, free = 0.0, agents
    ends: list[float] = []  # agents' next completions (a heap)
    queue: deque[tuple[int, float, float]] = deque()  # (caller, arrival, the instant she hangs up)
    fate: dict[int, tuple[bool, float | None]] = {}  # caller -> (waited, wait when answered / None: hung up)

    def free_an_agent(at: float) -> None:
        nonlocal free
        while queue and queue[0][2] <= at:  # those whose patience ran out before this agent freed up
            fate[queue.popleft()[0]] = (True, None)
        if queue:
            caller, arrived, _ = queue.popleft()
            fate[caller] = (True, at - arrived)
            heapq.heappush(ends, at + rng.expovariate(1 / handle))
        else:
            free += 1

    for caller in range(warmup + batches * size):
        now += rng.expovariate(rate)
        while ends and ends[0] <= now:
            free_an_agent(heapq.heappop(ends))
        if free > 0:
            free -= 1
            fate[caller] = (False, 0.0)
            heapq.heappush(ends, now + rng.expovariate(1 / handle))
        else:
            queue.append((caller, now, now + rng.expovariate(1 / patience)))
    out: dict[str, list[float]] = {"waiting": [], "abandoned": [], "answered_within": [], "average_answer": []}
    for b in range(batches):
        seen = [fate[c] for c in range(warmup + b * size, warmup + (b + 1) * size) if c in fate]
        waits = [w for _, w in seen if w is not None]
        out["waiting"].append(sum(waited for waited, _ in seen) / len(seen))
        out["abandoned"].append(sum(w is None for _, w in seen) / len(seen))
        out["answered_within"].append(sum(w <= within for w in waits) / len(seen))
        out["average_answer"].append(sum(waits) / len(waits))
    return out


def test_erlang_a_agrees_with_a_simulation_of_callers_who_hang_up() -> None:
    # 150 calls an hour, 4 minutes each (10 erlangs) on 10 agents: Erlang C has no answer (the queue would
    # grow without end); callers of 60 s mean patience hold it in check, at a price the model must foresee.
    exact = erlang_a(10, 10, 240, 60, 15)
    assert 0.1 < exact.abandoned < 0.2 and 0.6 < exact.answered_within < 0.75  # far from trivial
    batches = _simulate(10, 150, 240, 60, 15)
    for name, values in batches.items():
        mean = statistics.fmean(values)
        # 20 batches of 15 000 callers, each far longer than the queue's memory (a few handling times, some
        # 50 callers), are close to independent: their spread gives the standard error of the mean. Five
        # standard errors leave a correct model a chance below 1e-6 to fail; the errors are below 0.4 %
        # of a share (0.3 s of a wait), small enough that a wrong formula (the Erlang C one, or patience
        # left out of the race to an agent) lands far outside.
        error = statistics.stdev(values) / math.sqrt(len(values))
        assert error < (0.3 if name == "average_answer" else 0.004), name
        assert getattr(exact, name) == pytest.approx(mean, abs=5 * error), name


def _by_the_chain(agents: int, traffic: float, handle: float, patience: float) -> tuple[float, float]:
    """P(wait) and P(hang up) the textbook way, for a check that shares no formula with `erlang_a`: the
    stationary law of the birth-death chain, cut far out, and abandonment as the rate of hang-ups (θ times
    the mean queue) over the rate of calls."""
    lam, mu, theta = traffic / handle, 1 / handle, 1 / patience
    weights = [1.0]
    for k in range(1, agents + 2_000):
        weights.append(weights[-1] * lam / (min(k, agents) * mu + max(0, k - agents) * theta))
    total = sum(weights)
    waiting = sum(weights[agents:]) / total
    queue = sum((k - agents) * w for k, w in enumerate(weights) if k > agents) / total
    return waiting, theta * queue / lam


@pytest.mark.parametrize(
    ("agents", "traffic", "handle", "patience"),
    [(1, 0.5, 240, 60), (10, 10, 240, 60), (12, 8, 300, 120), (5, 15, 180, 30), (40, 38, 240, 200), (3, 0.2, 90, 5)],
)
def test_erlang_a_matches_the_chain_and_its_flow_balance(
    agents: int, traffic: float, handle: float, patience: float
) -> None:
    waiting, abandoned = _by_the_chain(agents, traffic, handle, patience)
    got = erlang_a(agents, traffic, handle, patience, 15)
    assert got.waiting == pytest.approx(waiting, rel=1e-9)
    assert got.abandoned == pytest.approx(abandoned, rel=1e-9)
    # Answered at once when no wait is allowed; every caller answered or gone when any wait is.
    assert erlang_a(agents, traffic, handle, patience, 0).answered_within == pytest.approx(1 - waiting, rel=1e-9)
    assert erlang_a(agents, traffic, handle, patience, 1e6).answered_within == pytest.approx(got.answered, rel=1e-9)


@pytest.mark.parametrize(
    ("agents", "traffic", "handle", "within"), [(11, 10, 180, 20), (32, 26.7, 240, 15), (5, 1.2, 300, 30)]
)
def test_erlang_a_becomes_erlang_c_as_callers_grow_patient(
    agents: int, traffic: float, handle: float, within: float
) -> None:
    gaps = []
    for patience in (1e3, 1e5, 1e7):
        a = erlang_a(agents, traffic, handle, patience, within)
        assert a.average_answer is not None
        gaps.append(
            (
                abs(a.waiting - erlang_c(agents, traffic)),
                abs(a.answered_within - service_level(agents, traffic, handle, within)),
                abs(a.average_answer - average_wait(agents, traffic, handle)),
                a.abandoned,
            )
        )
    for measure in zip(*gaps, strict=True):
        assert measure[0] > measure[1] > measure[2]  # ever closer
    waiting, within_share, wait, abandoned = gaps[-1]
    assert (
        waiting < 1e-4
        and within_share < 1e-4
        and wait < 0.01 * average_wait(agents, traffic, handle)
        and abandoned < 1e-4
    )


def test_more_agents_fewer_callers_hang_up_and_enough_agents_none_wait() -> None:
    results = [erlang_a(n, 30, 240, 60, 15) for n in range(0, 61)]
    abandoned = [r.abandoned for r in results]
    assert abandoned == sorted(abandoned, reverse=True) and len(set(abandoned)) == len(abandoned)
    within = [r.answered_within for r in results]
    assert within == sorted(within)
    assert results[0].abandoned == 1 and results[0].answered_within == 0 and results[0].average_answer is None
    # Too few agents: Erlang C can only say "never" (P(wait) = 1, the queue grows without end); Erlang A says
    # how many give up. 20 agents answer at most 20 of the 30 erlangs: a third or more of the callers hang up.
    short = results[20]
    assert service_level(20, 30, 240, 15) == 0 and average_wait(20, 30, 240) == math.inf
    assert 1 / 3 <= short.abandoned < 0.5 and short.answered_within > 0
    plenty = erlang_a(200, 30, 240, 60, 15)
    assert plenty.waiting < 1e-12 and plenty.abandoned < 1e-12 and plenty.answered_within == pytest.approx(1, abs=1e-12)
    assert erlang_a(3000, 30, 240, 60, 15) == erlang_a(3, 0, 240, 60, 15) == NO_WAIT  # Erlang B below 1e-308; no calls
    assert erlang_a(3000, 2900, 240, 60, 15).abandoned < 0.001  # thousands of agents: no overflow
    assert 0.8 < erlang_a(20, 200, 240, 60, 15).abandoned < 1  # ten times the traffic the agents can carry


def test_patience_must_be_a_positive_number_of_seconds() -> None:
    for bad in (0, -60, math.inf, math.nan):
        with pytest.raises(InvalidInput) as err:
            erlang_a(10, 5, 240, bad, 15)
        assert err.value.code == "invalid-target"
    with pytest.raises(InvalidInput):
        erlang_a(-1, 5, 240, 60, 15)


def test_agents_on_the_phones_out_of_a_roster() -> None:
    target = Target(shrinkage=0.3)
    assert (
        agents_on_phones(80, target) == 56 and agents_on_phones(100, target) == 70 and agents_on_phones(0, target) == 0
    )
    for n in range(0, 300):
        assert agents_on_phones(staff_on_roster(n, target), target) >= n
        assert staff_on_roster(agents_on_phones(n, target), target) <= n


def test_a_day_of_a_pool_with_the_agents_planned_or_too_few() -> None:
    forecast = Forecast([Demand("12345", 10, 500, 240), Demand("12345", 11, 300, 240), Demand("12345", 20, 40, 240)])
    (period,) = sweep(date(2021, 6, 7), date(2021, 6, 7), lambda d: True, forecast, _router, Target())
    assert period.workday is not None
    day = period.workday
    hours = day.pools["queue:510100"]
    planned = day.outcome("queue:510100", 60, 15)
    each = {h: erlang_a(hours[h].agents, hours[h].calls * 240 / 3600, 240, 60, 15) for h in (10, 11, 20)}  # type: ignore[union-attr]
    # The day's shares weigh each hour by its calls.
    assert planned.day.abandoned == pytest.approx(
        (500 * each[10].abandoned + 300 * each[11].abandoned + 40 * each[20].abandoned) / 840
    )
    assert planned.day.answered_within >= 0.8  # Erlang C's agents meet the target here too
    assert (
        planned.worst_hour == max(each, key=lambda h: each[h].abandoned) and planned.worst == each[planned.worst_hour]
    )
    assert day.outcome("queue:510100", 60, 15, cap=day.peak("queue:510100")) == planned  # enough agents: as planned
    # Fewer on the phones than the peak needs: the busy hours lose callers, the quiet one keeps its plan.
    short = day.outcome("queue:510100", 60, 15, cap=25)
    assert short.worst_hour == 10 and short.worst == erlang_a(25, 500 * 240 / 3600, 240, 60, 15)
    assert short.day.abandoned > planned.day.abandoned and short.day.answered_within < planned.day.answered_within
    assert day.outcome("queue:510100", 600, 15, cap=25).day.abandoned < short.day.abandoned  # more patient callers
    assert day.outcome("legacy:12333", 60, 15).worst_hour is None  # no calls to that pool on that day


# ------------------------------------------------------------------------------- patience, measured


@dataclass(frozen=True)
class _Call:
    answered: bool
    abandoned: bool
    queue_seconds: float | None


def _answered(after: float) -> _Call:
    return _Call(True, False, after)


def _hung_up(after: float) -> _Call:
    return _Call(False, True, after)


def test_patience_counts_every_wait_but_only_those_who_hung_up() -> None:
    t0 = datetime(2021, 6, 7, 2, 0, tzinfo=UTC)

    def call(**offsets: float) -> Any:
        events = [EventRecord(CallEventType(k), t0 + timedelta(seconds=v)) for k, v in offsets.items()]
        return call_facts("x", events)

    calls = [
        call(offered=0, queued=5, answered=35, ended=300),  # waited 30 s and was answered: patient for >= 30 s
        call(offered=0, queued=5, answered=55),  # >= 50 s
        call(offered=0, queued=5, abandoned=25),  # hung up after 20 s
        call(offered=0, queued=5, answered=5, ended=200),  # answered at once: never put to the test
        call(offered=0, abandoned=8),  # hung up during the notice, before the queue: not a wait for an agent
        call(offered=0, queued=5, ended=90),  # ended while queued, neither answered nor abandoned: unknown
        call(offered=0, queued=5, transferred=60),  # likewise
        call(offered=0, ended=30),  # never asked for an agent
    ]
    estimate = estimate_patience(calls)
    assert (estimate.waited, estimate.abandoned, estimate.waited_seconds) == (3, 1, 100.0)
    # 100 s, not the 20 s the caller who hung up waited: the two answered were at least 30 and 50 s patient.
    assert estimate.mean == 100.0
    # Reported out of order (clocks of two systems): a wait of 0, still one who hung up.
    assert estimate_patience([call(offered=0, queued=10, abandoned=9)]).abandoned == 1
    assert estimate_patience([call(offered=0, queued=10, abandoned=9)]).waited_seconds == 0


def test_no_estimate_without_a_caller_who_hung_up() -> None:
    for calls in ([], [_answered(0), _answered(0)], [_answered(30), _answered(400)]):
        estimate = estimate_patience(calls)
        # Waits that all ended with an agent say only that patience is longer than them: no mean, no interval.
        assert estimate.abandoned == 0 and estimate.mean is None and estimate.interval is None
        assert not estimate.trusted and estimate.patience == DEFAULT_PATIENCE
        shown = estimate.to_dict()
        assert shown["mean_seconds"] is None and shown["interval_seconds"] is None and shown["patience"] == 60
    assert estimate_patience([_answered(0), _answered(0)]).waited == 0
    assert estimate_patience([_answered(30), _answered(400)]).waited == 2


def test_the_measure_replaces_the_assumption_from_enough_callers_who_hung_up() -> None:
    few = estimate_patience([_hung_up(30)] * (MIN_ABANDONED - 1) + [_answered(90)] * 10)
    assert few.mean == pytest.approx((30 * 29 + 900) / 29) and not few.trusted
    assert few.patience == DEFAULT_PATIENCE and few.to_dict()["trusted"] is False
    enough = estimate_patience([_hung_up(30)] * MIN_ABANDONED + [_answered(90)] * 10)
    assert enough.trusted and enough.patience == enough.mean == pytest.approx((30 * 30 + 900) / 30)
    shown = enough.to_dict()
    assert (shown["waited"], shown["abandoned"], shown["min_abandoned"]) == (40, 30, 30)
    assert shown["patience"] == shown["mean_seconds"] == 60.0 and shown["confidence"] == 0.95
    # Thirty callers who hung up at once say nothing about the time: no patience of 0 s to plan with.
    instant = estimate_patience([_hung_up(0)] * 40)
    assert instant.mean == 0 and not instant.trusted and instant.patience == DEFAULT_PATIENCE


def test_the_interval_of_the_mean() -> None:
    # One caller who hung up: χ² with 2 degrees of freedom has a closed form, P(χ² ≤ x) = 1 − e^{−x/2}, so the
    # upper bound 2T/χ²(0.025; 2) is T/−ln(0.975), some 40 times T.
    one = estimate_patience([_hung_up(10), _answered(20)])
    assert one.interval is not None and one.interval[1] == pytest.approx(30 / -math.log(0.975))
    widths = []
    for n in (1, 10, 30, 100, 1000):
        estimate = estimate_patience([_hung_up(50)] * n + [_answered(25)] * (2 * n))  # mean 100 s each time
        assert estimate.interval is not None and estimate.mean == pytest.approx(100)
        low, high = estimate.interval
        assert low < 100 < high
        widths.append(high / low)
        if n >= 100:
            # With many, the log of the estimate is close to normal of standard deviation 1/√n (the exponential
            # law's Fisher information): the bounds approach 100·e^{∓1.96/√n}, a route that shares nothing with χ².
            spread = 1.96 / math.sqrt(n)
            assert low == pytest.approx(100 * math.exp(-spread), rel=0.02)
            assert high == pytest.approx(100 * math.exp(spread), rel=0.02)
    assert widths == sorted(widths, reverse=True) and widths[-1] < 1.15  # more callers, a narrower interval


def _exponential_callers(rng: np.random.Generator, n: int, patience: float, wait: float) -> list[_Call]:
    """N callers who each need WAIT seconds on average (exponential) to reach an agent, and hang up after a
    patience of mean PATIENCE (exponential, Erlang A's law): each waits the shorter of the two."""
    needs, patient = rng.exponential(wait, n), rng.exponential(patience, n)
    return [_hung_up(p) if p < w else _answered(w) for w, p in zip(needs, patient, strict=True)]


def test_patience_of_simulated_callers_is_found() -> None:
    rng = np.random.default_rng(20210607)
    calls = _exponential_callers(rng, 6000, 80, 40) + [_answered(0)] * 1500  # a fifth answered at once
    estimate = estimate_patience(calls)
    # A third hang up (rate 1/80 against 1/40): about 2 000. The estimate's standard error is mean/√2000, about
    # 1.8 s; 4 standard errors (7 s) leave a right estimator a chance below 1e-4 to fail, and exclude the
    # naive one (the mean wait of those who hung up, some 27 s here: the patient were answered first).
    assert 1800 < estimate.abandoned < 2200 and estimate.waited == 6000
    assert estimate.mean == pytest.approx(80, abs=4 * 80 / math.sqrt(estimate.abandoned))
    naive = statistics.fmean(c.queue_seconds for c in calls if c.abandoned)  # type: ignore[misc]
    assert naive < 30
    assert estimate.interval is not None and estimate.interval[0] < 80 < estimate.interval[1]


def test_the_interval_holds_the_true_patience_95_times_in_100() -> None:
    rng = np.random.default_rng(16)
    runs, covered = 2000, 0
    for _ in range(runs):
        # 150 waiting callers, some 50 hanging up: a few busy hours of a city's queue.
        needs, patient = rng.exponential(40, 150), rng.exponential(80, 150)
        hung_up = patient < needs
        estimate = estimate_patience(
            [_hung_up(p) if h else _answered(w) for w, p, h in zip(needs, patient, hung_up, strict=True)]
        )
        assert estimate.interval is not None
        covered += estimate.interval[0] <= 80 <= estimate.interval[1]
    # Garwood's interval is exact for a fixed total wait and errs on the wide side: at least 95 %, and not much
    # more (an interval twice too wide would hold it 99.9 % of the time). 2 000 runs: a standard error of 0.5 %.
    assert 0.94 <= covered / runs <= 0.975
