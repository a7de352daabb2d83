"""Seat planning (座席测算): how many agents each queue needs, hour by hour, on every date of the merge plan.

Pure: queueing formulas and the plan-wide sweep; the routing decision comes in as a function.

The queue model is Erlang C (M/M/N: Poisson arrivals, exponential handling times, nobody hangs up), the
standard of call-centre workforce planning. A queue needs the fewest agents N that answer the target share
of calls within the target time (及时接通率, e.g. 80 % within 15 s) at an occupancy no higher than the cap
(agents are people: planning them at 100 % occupancy makes queues that never clear). Erlang C ignores callers
who hang up while waiting, so it errs on the safe side for 人工接通率.

What callers would get is foreseen by Erlang A (M/M/n+M, Palm), in which callers hang up when their patience
runs out: the share who give up (放弃率) and who are answered in time, with the agents planned or with the
agents a centre has when it has too few, where Erlang C has no answer at all.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Protocol

import numpy as np
from scipy import special

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


def agents_on_phones(roster: int, target: Target) -> int:
    """Agents on the phones at once out of ROSTER scheduled, after shrinkage (`staff_on_roster` backwards)."""
    return math.floor(roster * (1 - target.shrinkage) + 1e-9)


# ------------------------------------------------------------------------------------------- Erlang A

# Callers' mean patience (平均耐心时长) when nothing better is known: the low end of the 60–90 s published for
# voice queues, so that the abandonment foreseen errs on the high side (docs/staffing.md).
DEFAULT_PATIENCE = 60.0


@dataclass(frozen=True)
class Outcome:
    """What callers get from a queue whose callers hang up when their patience runs out (Erlang A).

    waiting: share of callers who wait at all. abandoned: share who hang up before an agent answers (放弃率).
    answered_within: share of all callers answered within the time asked (a caller who hangs up is not
    answered). average_answer: mean wait of the answered callers in seconds (ASA; None when none is)."""

    waiting: float
    abandoned: float
    answered_within: float
    average_answer: float | None

    @property
    def answered(self) -> float:
        """人工接通率: every caller is either answered or hangs up."""
        return 1.0 - self.abandoned

    @property
    def within_of_answered(self) -> float | None:
        """Share of the answered callers answered in time (the KPIs' 15秒接通率 counts answered calls only)."""
        return self.answered_within / self.answered if self.answered > 0 else None


NO_WAIT = Outcome(waiting=0.0, abandoned=0.0, answered_within=1.0, average_answer=0.0)


def check_patience(patience: float) -> None:
    if not (patience > 0 and math.isfinite(patience)):
        raise InvalidInput(f"平均耐心时长须为大于 0 的秒数：{patience}", code="invalid-target")


def erlang_a(agents: int, traffic: float, handle_seconds: float, patience: float, within: float) -> Outcome:
    """Erlang A (Palm's M/M/n+M queue): AGENTS agents, TRAFFIC erlangs offered (calls × HANDLE_SECONDS, the
    mean handling time), callers who hang up after a wait drawn from an exponential law of mean PATIENCE
    seconds, served first come, first served; answered within WITHIN seconds.

    Computed exactly from the birth-death chain of the number of callers in the system, in units of the
    abandonment rate θ = 1/PATIENCE: A = λ/θ, c = nμ/θ. An arriving caller sees the chain's stationary law
    (PASTA). Below n callers nobody waits; with n + j in the system (j ≥ 0 waiting ahead), the weights
    relative to state n are Π_{i=1..j} A/(c + i), and below n the Erlang B recurrence gives their sum,
    (1 − B)/B. The weights are those of a Poisson law of mean A at c + j, so the chain is cut where a
    Poisson tail is negligible: j ≤ max(0, A − c) + 12√A + 60 (a tail of the order of e⁻⁷⁰ of the mass
    kept).

    A caller with j ahead moves up one place at rate nμ + mθ while m are ahead (an agent frees, or one ahead
    hangs up) and hangs up at rate θ: a race of exponentials at each of the j + 1 steps. It reaches an
    agent with probability Π_{m=0..j} (c + m)/(c + m + 1) = c/(c + j + 1), and, given so, after the sum
    S_j of independent exponentials of rates θ(c + 1), …, θ(c + j + 1); 1 − e^{−θS_j} follows the law
    Beta(j + 1, c + 1) (equally spaced rates), so P(S_j ≤ t) = I_{1−e^{−θt}}(j + 1, c + 1) and
    E[S_j] = Σ_{i=1..j+1} 1/(θ(c + i)). Abandonment by this route equals θ·E[queue]/λ (flow balance), which
    the tests check; as PATIENCE grows the measures tend to Erlang C's (`erlang_c`, `service_level`,
    `average_wait`) when TRAFFIC < AGENTS. Unlike Erlang C, the answer is finite with any number of agents:
    with too few, the queue is held in check by the callers who give up."""
    check_patience(patience)
    if agents < 0 or traffic < 0 or handle_seconds <= 0 or within < 0:
        raise InvalidInput("座席数、话务量、接通时限不能为负，平均处理时长须大于 0", code="invalid-target")
    if traffic == 0:
        return NO_WAIT
    return _erlang_a(agents, traffic, handle_seconds, patience, within)


@functools.lru_cache(maxsize=4096)  # a year's plan asks the same hours again period after period
def _erlang_a(agents: int, traffic: float, handle_seconds: float, patience: float, within: float) -> Outcome:
    b = 1.0  # Erlang B, by its recurrence
    for k in range(1, agents + 1):
        b = traffic * b / (k + traffic * b)
    if b == 0.0:  # far more agents than traffic: P(wait) below 1e-300
        return NO_WAIT
    big_a = traffic * patience / handle_seconds  # λ/θ
    c = agents * patience / handle_seconds  # nμ/θ
    last = math.ceil(max(0.0, big_a - c) + 12 * math.sqrt(big_a) + 60)
    i = np.arange(1, last + 1, dtype=float)
    log_w = np.concatenate(([0.0], np.cumsum(np.log(big_a / (c + i)))))  # states n + j, j = 0..last
    top = float(log_w.max())
    below = math.exp(math.log1p(-b) - math.log(b) - top) if b < 1 else 0.0  # states 0..n-1, same scale
    w = np.exp(log_w - top)
    total = below + float(w.sum())
    p = w / total  # an arriving caller finds j waiting ahead
    j = np.arange(last + 1, dtype=float)
    reach = c / (c + j + 1)  # reaches an agent, from position j
    answered_at_once = below / total
    served = p * reach
    answered = answered_at_once + float(served.sum())
    x = -math.expm1(-within / patience)
    in_time = special.betainc(j + 1, c + 1, x) if x > 0 else np.zeros_like(j)
    waits = patience * np.cumsum(1.0 / (c + j + 1))  # E[S_j] in seconds
    return Outcome(
        waiting=_share(float(p.sum())),
        abandoned=_share(float((p * (j + 1) / (c + j + 1)).sum())),
        answered_within=_share(answered_at_once + float((served * in_time).sum())),
        average_answer=float((served * waits).sum()) / answered if answered > 0 else None,
    )


def _share(x: float) -> float:
    return min(1.0, max(0.0, x))  # sums of a few thousand terms may stray from [0, 1] by rounding


# ---------------------------------------------------------------------------- callers' patience, measured

# Abandonments needed before the measured patience replaces the assumed one. The estimate's relative standard
# error is about 1/√(abandonments) (Fisher information of the exponential law: var = mean²/abandonments): 18 %
# at 30, a 95 % interval of about −30 %/+50 % around it. The assumption it replaces may be off by a factor of
# two (60 s against the couple of minutes of the studies docs/staffing.md cites), and Erlang A's 放弃率 moves
# roughly as 1/patience: from 30 abandonments on, the measure is the better guess. Fewer, and a handful of
# callers would decide the plan (at 10 the interval runs from −45 % to +110 %).
MIN_ABANDONED = 30
CONFIDENCE = 0.95


class QueuedCall(Protocol):
    """What a call record tells about a caller's wait for an agent (`hotline.telephony.domain.CallFacts`)."""

    @property
    def answered(self) -> bool: ...

    @property
    def abandoned(self) -> bool: ...

    @property
    def queue_seconds(self) -> float | None: ...


@dataclass(frozen=True)
class PatienceEstimate:
    """Callers' mean patience measured from their waits (`estimate_patience`).

    waited: callers who waited for an agent (answered after a wait, or hung up); abandoned: those who hung up
    while waiting; waited_seconds: the time all of them spent waiting."""

    waited: int
    abandoned: int
    waited_seconds: float

    @property
    def mean(self) -> float | None:
        """Seconds; None without an abandonment (a patience longer than every wait is all they say)."""
        return self.waited_seconds / self.abandoned if self.abandoned else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95 % confidence interval of the mean in seconds (None without an abandonment).

        With exponential patience, abandonments occur at rate 1/mean per second of waiting, whoever waits
        (memorylessness), so over a total waiting time T their count is Poisson of mean T/mean: the exact
        (Garwood) interval of a Poisson mean, 2T/χ²(1 − α/2; 2A + 2) to 2T/χ²(α/2; 2A), the one used for a
        mean time between failures over a test of fixed length. T here ends with the callers, not at a
        fixed instant; the interval is conservative, which the tests check by simulation."""
        if not self.abandoned:
            return None
        alpha = 1 - CONFIDENCE
        total = 2 * self.waited_seconds
        low = total / float(special.chdtri(2 * self.abandoned + 2, alpha / 2))
        return low, total / float(special.chdtri(2 * self.abandoned, 1 - alpha / 2))

    @property
    def trusted(self) -> bool:
        """Enough abandonments (`MIN_ABANDONED`) for the measure to replace the assumption."""
        return self.abandoned >= MIN_ABANDONED and self.waited_seconds > 0

    @property
    def patience(self) -> float:
        """The mean patience to plan with: the measure when trusted, else the assumption (`DEFAULT_PATIENCE`)."""
        mean = self.mean
        return mean if self.trusted and mean is not None else DEFAULT_PATIENCE

    def to_dict(self) -> dict[str, object]:
        interval = self.interval
        return {
            "waited": self.waited,
            "abandoned": self.abandoned,
            "waited_seconds": round(self.waited_seconds, 1),
            "mean_seconds": None if self.mean is None else round(self.mean, 1),
            "interval_seconds": None if interval is None else [round(x, 1) for x in interval],
            "confidence": CONFIDENCE,
            "min_abandoned": MIN_ABANDONED,
            "trusted": self.trusted,
            "patience": round(self.patience, 1),
        }


def estimate_patience(calls: Iterable[QueuedCall]) -> PatienceEstimate:
    """Callers' mean patience, the maximum-likelihood estimate under Erlang A's exponential law: the time
    spent waiting by every caller who waited, answered or not, over the number who hung up.

    A caller answered after waiting w was patient for at least w (a censored observation: her w counts, she
    does not); one who hung up after w was patient for exactly w. The likelihood, Π (1/m)e^{−w/m} over those
    who hung up times Π e^{−w/m} over the answered, is greatest at m = Σw / (number who hung up). Counting only
    the waits of those who hung up would take the impatient for the whole: the patient were answered first.
    A caller answered at once adds nothing (she was never put to the test); a call neither answered nor
    abandoned (ended or transferred while queued, or still in progress) is left out, its outcome unknown."""
    waited = abandoned = 0
    total = 0.0
    for call in calls:
        seconds = call.queue_seconds
        if seconds is None or not (call.answered or call.abandoned):
            continue
        if call.abandoned:
            abandoned += 1
        elif seconds <= 0:
            continue
        waited += 1
        total += seconds
    return PatienceEstimate(waited, abandoned, total)


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
    handle_seconds: float  # the mean of the pool's calls that hour
    agents: int
    # Agents the expert groups need on their own (line number -> agents), within the pool's agents.
    experts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DayOutcome:
    """Erlang A over a day: the day's calls together, and its worst hour (most callers hanging up)."""

    day: Outcome
    worst_hour: int | None
    worst: Outcome


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

    def outcome(self, pool: str, patience: float, within: float, cap: int | None = None) -> DayOutcome:
        """What the day's callers of POOL get (Erlang A, mean patience PATIENCE seconds, answered within
        WITHIN seconds) with the agents planned each hour, or with no more than CAP of them on the phones
        (the agents a centre has, when short): the day's shares weighted by each hour's calls, and the hour
        that fares worst."""
        calls = waiting = abandoned = within_share = answered = answer_wait = 0.0
        worst: tuple[int, Outcome] | None = None
        for hour, h in enumerate(self.pools.get(pool, ())):
            if h is None:
                continue
            agents = h.agents if cap is None else min(h.agents, cap)
            o = erlang_a(agents, h.calls * h.handle_seconds / 3600, h.handle_seconds, patience, within)
            calls += h.calls
            waiting += h.calls * o.waiting
            abandoned += h.calls * o.abandoned
            within_share += h.calls * o.answered_within
            answered += h.calls * o.answered
            answer_wait += h.calls * o.answered * (o.average_answer or 0.0)
            if worst is None or o.abandoned > worst[1].abandoned:
                worst = (hour, o)
        if worst is None:
            return DayOutcome(NO_WAIT, None, NO_WAIT)
        day = Outcome(
            waiting=waiting / calls,
            abandoned=abandoned / calls,
            answered_within=within_share / calls,
            average_answer=answer_wait / answered if answered > 0 else None,
        )
        return DayOutcome(day, worst[0], worst[1])

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
            hours[hour] = PoolHour(calls, work / calls, agents_needed(calls, work / calls, target), experts)
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
