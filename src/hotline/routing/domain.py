"""Where a call goes: a pure function of (dialed number, region, instant, plan state).

The contract other capabilities rely on (telephony, web) is `RouteDecision`:
- action: queue | legacy | subcenter | cancelled | reject
- prompt: id of the notice to play first, or None: "transition:<number>", "cancellation:<number>",
  "after-hours:<number>"
- skill: the domain whose agents should take the call (the line's number), or None
- target: "queue:<region code>", "legacy:<number>:<region code>", "subcenter:<number>:<region code>", or None
- reason: one sentence in Chinese
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol

from hotline.plan.domain import Line, Mode, PlanState
from hotline.plan.regions import Region, find_region
from hotline.timeutil import CHINA_TZ


class Action(StrEnum):
    QUEUE = "queue"
    LEGACY = "legacy"
    SUBCENTER = "subcenter"
    CANCELLED = "cancelled"
    REJECT = "reject"


ACTION_LABELS = {
    Action.QUEUE: "转入12345话务队列",
    Action.LEGACY: "原热线座席接听",
    Action.SUBCENTER: "分中心座席接听",
    Action.CANCELLED: "号码已注销",
    Action.REJECT: "不予接入",
}


@dataclass(frozen=True)
class RouteDecision:
    action: Action
    prompt: str | None
    skill: str | None
    target: str | None
    reason: str

    def to_dict(self) -> dict[str, str | None]:
        data = asdict(self)
        data["action"] = self.action.value
        return data


# ------------------------------------------------------------------------------------------------
# The decision. Pure: everything it needs is an argument (plan state, calendar, sub-centre hours).


class Workdays(Protocol):
    def is_workday(self, day: date) -> bool: ...


class CachedCalendar:
    """Remembers the working-day answer per day: the official lookup costs tens of microseconds."""

    def __init__(self, calendar: Workdays) -> None:
        self.calendar = calendar
        self._days: dict[date, bool] = {}

    def is_workday(self, day: date) -> bool:
        found = self._days.get(day)
        if found is None:
            found = self._days[day] = self.calendar.is_workday(day)
        return found


@dataclass(frozen=True)
class ServiceHours:
    """When a sub-centre's own seats answer before it reaches 7×24: [opens, closes) China time."""

    opens: time = time(9, 0)
    closes: time = time(17, 0)
    workdays_only: bool = True  # working days per the official calendar (holidays, make-up days) + overrides

    def is_open(self, local: datetime, calendar: Workdays) -> bool:
        if not (self.opens <= local.time() < self.closes):
            return False
        return not self.workdays_only or calendar.is_workday(local.date())

    def describe(self) -> str:
        days = "工作日" if self.workdays_only else "每天"
        return f"{days}{self.opens:%H:%M}—{self.closes:%H:%M}"


DEFAULT_HOURS = ServiceHours()


@dataclass(frozen=True)
class HoursTable:
    """Configured hours per (sub-centre number, region code); region '*' is the sub-centre's default."""

    hours: Mapping[tuple[str, str], ServiceHours] = field(default_factory=dict)

    def for_subcenter(self, number: str, region_code: str) -> ServiceHours:
        found = self.hours.get((number, region_code))
        if found is None:
            found = self.hours.get((number, "*"), DEFAULT_HOURS)
        return found


NO_HOURS = HoursTable()


def normalize_number(dialed: str) -> str:
    """The digits a caller dialed, without spaces or hyphens."""
    return dialed.strip().replace(" ", "").replace("-", "")


def _queue(region: Region) -> str:
    return f"queue:{region.code}"


def _reject(reason: str) -> RouteDecision:
    return RouteDecision(Action.REJECT, None, None, None, reason)


def route(
    dialed: str,
    region_code: str,
    at: datetime,
    plan: PlanState,
    calendar: Workdays,
    hours: HoursTable = NO_HOURS,
) -> RouteDecision:
    """Where a call to DIALED from REGION at instant AT goes (mission.md's routing table).

    `region_code` may be a code, name or alias (raises `region-not-found`). A naive `at` is China time.
    Milestone dates are effective dates: recorded date, else the plan's. Unknown numbers are rejected.
    Each line's dates per region and each distinct decision are derived once per plan state and kept
    in `plan.memo` (the state is immutable, so they never go stale).
    """
    region = find_region(region_code)
    number = dialed if dialed.isdigit() else normalize_number(dialed)
    line = plan.find_line(number)
    if line is None:
        return _reject(f"号码 {dialed.strip() or '（空）'} 不在热线目录中，本平台不予接入。")
    local = at.replace(tzinfo=CHINA_TZ) if at.tzinfo is None else at.astimezone(CHINA_TZ)
    mode = line.mode
    memo = plan.memo
    if mode is Mode.FULL_MERGE:
        dates_key = ("full-merge", number, region.code)
        dates = memo.get(dates_key)
        if dates is None:
            dates = memo[dates_key] = full_merge_dates(plan, line, region)
        day = local.date()
        phase = 2 if day >= dates[1] else 1 if day >= dates[0] else 0
        key: tuple[object, ...] = (number, region.code, phase)
        found = memo.get(key)
        if found is None:
            found = memo[key] = _full_merge(line, region, phase, dates)
        return found
    if mode is Mode.PARALLEL:
        transfer_key = ("transfer", number, region.code)
        transfer = memo.get(transfer_key)
        if transfer is None:
            transfer = memo[transfer_key] = _date(plan, line, "transfer", region)
        key = (number, region.code, local.date() >= transfer)
        found = memo.get(key)
        if found is None:
            found = memo[key] = _parallel(line, region, local.date() >= transfer, transfer)
        return found
    if mode is Mode.SUBCENTER:
        full_time_key = ("full-time", number, region.code)
        full_time = memo.get(full_time_key)
        if full_time is None:
            full_time = memo[full_time_key] = _date(plan, line, "full-time", region)
        if local.date() >= full_time:
            key = (number, region.code, "7x24")
            service = None
        else:
            service = hours.for_subcenter(number, region.code)
            key = (number, region.code, service.is_open(local, calendar), service)
        found = memo.get(key)
        if found is None:
            found = memo[key] = _subcenter(line, region, full_time, service, key[2] is True)
        return found
    if mode is Mode.PLATFORM:
        key = (number, region.code)
        found = memo.get(key)
        if found is None:
            found = memo[key] = RouteDecision(
                Action.QUEUE, None, None, _queue(region), f"12345热线来电，进入{region.name}12345话务队列。"
            )
        return found
    found = memo.get(number)
    if found is None:
        found = memo[number] = _reject(
            f"{line.number}（{line.name}）是紧急热线，由应急联动体系接听，不经12345平台路由。"
        )
    return found


def valid_until(
    dialed: str,
    region_code: str,
    at: datetime,
    plan: PlanState,
    hours: HoursTable = NO_HOURS,
) -> datetime | None:
    """The first instant after AT at which `route(dialed, region, ·, plan, …)` may decide differently, or
    None when, for this plan state, the decision never changes again (12345, emergency and unknown numbers,
    a cancelled number, a parallel line after its transfer, a sub-centre answering 7×24).

    A conservative bound: the decision is the same at every instant of [AT, result) for the same plan
    state, calendar and hours; it may also be the same after it. The boundaries are the midnights (China
    time) of the dates that change a line's phase and, for a sub-centre before it answers 7×24, its
    opening and closing times and every midnight (a working day may follow a holiday). An edit of the
    plan is a new plan state: bounding how long an answer is kept across edits is the caller's business.
    The result is China time (aware); a naive AT is China time.
    """
    number = dialed if dialed.isdigit() else normalize_number(dialed)
    line = plan.find_line(number)
    if line is None:
        return None
    region = find_region(region_code)
    local = at.replace(tzinfo=CHINA_TZ) if at.tzinfo is None else at.astimezone(CHINA_TZ)
    day = local.date()
    if line.mode is Mode.FULL_MERGE:
        dates: tuple[date, ...] = full_merge_dates(plan, line, region)
    elif line.mode is Mode.PARALLEL:
        dates = (_date(plan, line, "transfer", region),)
    elif line.mode is Mode.SUBCENTER:
        full_time = _date(plan, line, "full-time", region)
        if day >= full_time:
            return None
        service = hours.for_subcenter(number, region.code)
        candidates = [_midnight(day + timedelta(days=1))]
        for moment in (service.opens, service.closes):
            instant = datetime.combine(day, moment, tzinfo=CHINA_TZ)
            if instant > local:
                candidates.append(instant)
        return min(candidates)
    else:
        return None
    later = [d for d in dates if d > day]
    return _midnight(min(later)) if later else None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=CHINA_TZ)


def _date(plan: PlanState, line: Line, milestone_id: str, region: Region) -> date:
    return plan.effective_date(line, plan.get_milestone(line, milestone_id), region.code)


def full_merge_dates(plan: PlanState, line: Line, region: Region) -> tuple[date, date]:
    """(first day of dual answering, first day the number is cancelled) for a full-merge line.

    A number cannot be cancelled before its transition began: if the transition is postponed past the
    cancellation date, cancellation moves with it.
    """
    transition = _date(plan, line, "transition", region)
    cancellation = max(_date(plan, line, "cancellation", region), transition)
    return transition, cancellation


def _full_merge(line: Line, region: Region, phase: int, dates: tuple[date, date]) -> RouteDecision:
    transition, cancellation = dates
    n = line.number
    if phase == 2:
        return RouteDecision(
            Action.CANCELLED,
            f"cancellation:{n}",
            None,
            None,
            f"{n}（{line.short_name or line.name}）已于{cancellation.isoformat()}注销，播放注销提示（请拨打12345）后结束通话。",
        )
    if phase == 1:
        return RouteDecision(
            Action.QUEUE,
            f"transition:{n}",
            n,
            _queue(region),
            f"{n}已并入12345热线，过渡期双号接听（{cancellation.isoformat()}起注销）：播放过渡期提示后转入{region.name}12345话务队列。",
        )
    return RouteDecision(
        Action.LEGACY,
        None,
        None,
        f"legacy:{n}:{region.code}",
        f"{n}尚未进入过渡期（{transition.isoformat()}起），仍由原热线座席接听。",
    )


def _parallel(line: Line, region: Region, transferred: bool, transfer: date) -> RouteDecision:
    n = line.number
    if transferred:
        return RouteDecision(
            Action.QUEUE,
            None,
            n,
            _queue(region),
            f"{n}双号并行，自{transfer.isoformat()}起转接{region.name}12345话务队列，由{line.short_name or n}专家座席优先接听。",
        )
    return RouteDecision(
        Action.LEGACY,
        None,
        None,
        f"legacy:{n}:{region.code}",
        f"{n}双号并行，{transfer.isoformat()}转接12345之前仍由原热线座席接听（已纳入12345统一管理）。",
    )


def _subcenter(
    line: Line, region: Region, full_time: date, service: ServiceHours | None, is_open: bool
) -> RouteDecision:
    n = line.number
    target = f"subcenter:{n}:{region.code}"
    if service is None:
        return RouteDecision(
            Action.SUBCENTER,
            None,
            None,
            target,
            f"{n}分中心自{full_time.isoformat()}起7×24小时人工服务，由{region.name}分中心座席接听。",
        )
    if is_open:
        return RouteDecision(
            Action.SUBCENTER,
            None,
            None,
            target,
            f"{n}分中心服务时间内（{service.describe()}），由{region.name}分中心座席接听。",
        )
    return RouteDecision(
        Action.QUEUE,
        f"after-hours:{n}",
        n,
        _queue(region),
        f"{n}分中心非服务时间（{service.describe()}），播放提示后转入{region.name}12345话务队列，由{line.short_name or n}业务座席接听。",
    )


def subcenter_transfer_available(number: str, region_code: str, at: datetime, plan: PlanState) -> bool:
    """Whether 12345 can transfer a call to this sub-centre (three-way) at AT: from its transfer-mechanism date."""
    line = plan.find_line(normalize_number(number))
    if line is None or line.mode is not Mode.SUBCENTER:
        return False
    region = find_region(region_code)
    local = at.replace(tzinfo=CHINA_TZ) if at.tzinfo is None else at.astimezone(CHINA_TZ)
    return local.date() >= _date(plan, line, "transfer-mechanism", region)
