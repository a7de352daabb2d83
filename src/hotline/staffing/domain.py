"""Seat planning (座席测算): how many agents each queue needs, hour by hour, on every date of the merge plan.

Pure: queueing formulas and the plan-wide sweep; the routing decision comes in as a function.

The queue model is Erlang C (M/M/N: Poisson arrivals, exponential handling times, nobody hangs up), the
standard of call-centre workforce planning. A queue needs the fewest agents N that answer the target share
of calls within the target time (及时接通率, e.g. 80 % within 15 s) at an occupancy no higher than the cap
(agents are people: planning them at 100 % occupancy makes queues that never clear). Erlang C ignores callers
who hang up while waiting, so it errs on the safe side for 人工接通率.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from hotline.errors import InvalidInput

HOURS = range(24)


class DayKind(StrEnum):
    """Forecasts may differ between working days and rest days (weekends, holidays)."""

    ANY = "any"
    WORKDAY = "workday"
    RESTDAY = "restday"


DAY_KIND_LABELS = {DayKind.ANY: "每天", DayKind.WORKDAY: "工作日", DayKind.RESTDAY: "休息日"}


@dataclass(frozen=True)
class Target:
    """The service a queue must give."""

    answer_within: float = 15.0  # seconds (15 秒接通率)
    service_level: float = 0.8  # share of calls answered within that time (80 % is the common local rule)
    max_occupancy: float = 0.85  # share of an agent's time spent on calls
    shrinkage: float = 0.3  # share of paid hours not on the phone (breaks, training, meetings, leave)

    def __post_init__(self) -> None:
        if not 0 < self.service_level < 1:
            raise InvalidInput("服务水平须在 0 与 1 之间（不含）", code="invalid-target")
        if self.answer_within < 0:
            raise InvalidInput("接通时限不能为负", code="invalid-target")
        if not 0 < self.max_occupancy <= 1:
            raise InvalidInput("最高占用率须大于 0、不超过 1", code="invalid-target")
        if not 0 <= self.shrinkage < 1:
            raise InvalidInput("缺勤率（非在线比例）须在 0 与 1 之间", code="invalid-target")


# ------------------------------------------------------------------------------------------- Erlang C


def erlang_c(agents: int, traffic: float) -> float:
    """The probability that a call waits (Erlang C) with AGENTS agents and TRAFFIC erlangs offered; 1 when
    the agents cannot keep up (AGENTS <= TRAFFIC)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    # Erlang B by its recurrence (stable for thousands of agents), then C from B.
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic * b / (k + traffic * b)
    return agents * b / (agents - traffic * (1 - b))


def service_level(agents: int, traffic: float, handle_seconds: float, within: float) -> float:
    """Share of calls answered within WITHIN seconds."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    return 1.0 - erlang_c(agents, traffic) * math.exp(-(agents - traffic) * within / handle_seconds)


def average_wait(agents: int, traffic: float, handle_seconds: float) -> float:
    """Average speed of answer in seconds (infinite when the agents cannot keep up)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c(agents, traffic) * handle_seconds / (agents - traffic)


def agents_needed(calls_per_hour: float, handle_seconds: float, target: Target) -> int:
    """The fewest agents on the phones that meet TARGET for this hour's calls (0 without calls)."""
    if calls_per_hour < 0 or handle_seconds <= 0:
        raise InvalidInput("来电量不能为负，平均处理时长须大于 0", code="invalid-forecast")
    traffic = calls_per_hour * handle_seconds / 3600
    if traffic == 0:
        return 0
    n = max(1, math.ceil(traffic / target.max_occupancy))
    if n <= traffic:
        n = math.floor(traffic) + 1
    while service_level(n, traffic, handle_seconds, target.answer_within) < target.service_level:
        n += 1
    return n


def staff_on_roster(agents: int, target: Target) -> int:
    """Agents to schedule so that AGENTS are on the phones after shrinkage."""
    return math.ceil(agents / (1 - target.shrinkage) - 1e-9)


# ------------------------------------------------------------------------------------------- forecast


@dataclass(frozen=True)
class Demand:
    """Expected calls to one number in one hour of the day."""

    line: str
    hour: int
    calls: float  # per hour
    handle_seconds: float  # average handling time: talk + after-call work
    day_kind: DayKind = DayKind.ANY

    def __post_init__(self) -> None:
        if self.hour not in HOURS:
            raise InvalidInput(f"时段须为 0–23 点，收到 {self.hour}", code="invalid-forecast")
        if self.calls < 0 or not math.isfinite(self.calls):
            raise InvalidInput(f"{self.line} {self.hour} 点的来电量无效：{self.calls}", code="invalid-forecast")
        if self.handle_seconds <= 0 or not math.isfinite(self.handle_seconds):
            raise InvalidInput(
                f"{self.line} {self.hour} 点的平均处理时长须大于 0 秒：{self.handle_seconds}", code="invalid-forecast"
            )


class Forecast:
    """Demands by (line, hour) for working days and rest days; a row for `any` day serves both unless a row
    for the specific kind of day exists."""

    def __init__(self, demands: Iterable[Demand]) -> None:
        self._rows: dict[tuple[str, int, DayKind], Demand] = {}
        for d in demands:
            key = (d.line, d.hour, d.day_kind)
            if key in self._rows:
                raise InvalidInput(
                    f"预测中 {d.line} {DAY_KIND_LABELS[d.day_kind]} {d.hour} 点重复", code="duplicate-forecast"
                )
            self._rows[key] = d
        if not self._rows:
            raise InvalidInput("来电预测为空", code="invalid-forecast")
        self.lines: tuple[str, ...] = tuple(sorted({line for line, _, _ in self._rows}))

    def demands(self) -> list[Demand]:
        return list(self._rows.values())

    def demand(self, line: str, hour: int, workday: bool) -> Demand | None:
        kind = DayKind.WORKDAY if workday else DayKind.RESTDAY
        return self._rows.get((line, hour, kind)) or self._rows.get((line, hour, DayKind.ANY))


# ------------------------------------------------------------------------------------------- the sweep


# Where a call to a line goes at an hour of a day: (pool, skill), or None when no agent of the plan answers
# it. Pools are routing targets: "queue:<region>" for 12345's queues, "legacy:…" and "subcenter:…" for the
# seats a line keeps; the skill names a 12345 expert group (专家座席) or is None.
Router = Callable[[str, date, int], tuple[str, str | None] | None]


@dataclass(frozen=True)
class PoolHour:
    calls: float
    agents: int
    # Agents the expert groups need on their own (line number -> agents), within the pool's agents.
    experts: Mapping[str, int] = field(default_factory=dict)


Routing = tuple[tuple[str, str | None] | None, ...]  # one day's router answers, line by line, hour by hour


@dataclass(frozen=True)
class DayPlan:
    """Every pool's needs on one kind of day, hour by hour."""

    workday: bool
    pools: Mapping[str, tuple[PoolHour | None, ...]]  # pool -> 24 hours (None: no calls that hour)

    def peak(self, pool: str) -> int:
        return max((h.agents for h in self.pools.get(pool, ()) if h is not None), default=0)

    def calls(self, pool: str) -> float:
        return sum(h.calls for h in self.pools.get(pool, ()) if h is not None)

    def expert_peaks(self, pool: str) -> dict[str, int]:
        peaks: dict[str, int] = {}
        for h in self.pools.get(pool, ()):
            for skill, n in (h.experts if h is not None else {}).items():
                peaks[skill] = max(peaks.get(skill, 0), n)
        return peaks


def routing_of(day: date, forecast: Forecast, router: Router) -> Routing:
    return tuple(router(line, day, hour) for line in forecast.lines for hour in HOURS)


def plan_day(workday: bool, routing: Routing, forecast: Forecast, target: Target) -> DayPlan:
    """Agents each pool needs in each hour of a day routed as ROUTING (`routing_of`): the calls sent to a
    pool are pooled (one queue, any agent), and each 12345 expert group is sized for its own line's calls."""
    pools: dict[str, list[PoolHour | None]] = {}
    for hour in HOURS:
        load: dict[str, tuple[float, float]] = {}  # pool -> (calls, calls × handle seconds)
        skills: dict[tuple[str, str], tuple[float, float]] = {}
        for k, line in enumerate(forecast.lines):
            demand = forecast.demand(line, hour, workday)
            where = routing[k * len(HOURS) + hour]
            if demand is None or demand.calls == 0 or where is None:
                continue
            pool, skill = where
            calls, work = load.get(pool, (0.0, 0.0))
            load[pool] = (calls + demand.calls, work + demand.calls * demand.handle_seconds)
            if skill is not None:
                c, w = skills.get((pool, skill), (0.0, 0.0))
                skills[(pool, skill)] = (c + demand.calls, w + demand.calls * demand.handle_seconds)
        for pool, (calls, work) in load.items():
            experts = {
                skill: agents_needed(c, w / c, target) for (p, skill), (c, w) in sorted(skills.items()) if p == pool
            }
            hours = pools.setdefault(pool, [None] * len(HOURS))
            hours[hour] = PoolHour(calls, agents_needed(calls, work / calls, target), experts)
    return DayPlan(workday, {p: tuple(h) for p, h in sorted(pools.items())})


@dataclass(frozen=True)
class Period:
    """Consecutive days routed alike (the plan changes routing only at its milestones): the needs of its
    working days and of its rest days (None when the period has none)."""

    first: date
    last: date
    workday: DayPlan | None
    restday: DayPlan | None

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def pools(self) -> list[str]:
        return sorted({p for plan in (self.workday, self.restday) if plan is not None for p in plan.pools})


def sweep(
    first: date,
    last: date,
    is_workday: Callable[[date], bool],
    forecast: Forecast,
    router: Router,
    target: Target,
) -> list[Period]:
    """Plan every day from FIRST to LAST, as periods of consecutive days in which working days are all
    routed alike and rest days are all routed alike; a new period starts where the routing of either
    kind of day changes (a milestone), so a year reads as a handful of lines."""
    if last < first:
        raise InvalidInput("结束日期不能早于开始日期", code="invalid-period")
    if (last - first).days > 731:
        raise InvalidInput("测算期间最长两年", code="invalid-period")
    plans: dict[tuple[bool, Routing], DayPlan] = {}
    periods: list[tuple[date, date, dict[bool, Routing]]] = []
    day = first
    while day <= last:
        workday = is_workday(day)
        routing = routing_of(day, forecast, router)
        if periods and periods[-1][2].get(workday, routing) == routing:
            start, _, seen = periods[-1]
            seen[workday] = routing
            periods[-1] = (start, day, seen)
        else:
            periods.append((day, day, {workday: routing}))
        if (workday, routing) not in plans:
            plans[(workday, routing)] = plan_day(workday, routing, forecast, target)
        day += timedelta(days=1)
    return [
        Period(
            start,
            end,
            plans[(True, seen[True])] if True in seen else None,
            plans[(False, seen[False])] if False in seen else None,
        )
        for start, end, seen in periods
    ]
