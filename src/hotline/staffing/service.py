"""Use cases of seat planning: read a call forecast, sweep the merge plan's dates, say where seats fall short."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from hotline.errors import InvalidInput
from hotline.plan.domain import Mode
from hotline.plan.regions import find_region
from hotline.plan.service import snapshot
from hotline.routing.domain import Action, route, valid_until
from hotline.staffing.domain import (
    CONFIDENCE,
    DAY_KIND_LABELS,
    DEFAULT_PATIENCE,
    MIN_ABANDONED,
    DayKind,
    DayOutcome,
    DayPlan,
    Demand,
    Forecast,
    PatienceEstimate,
    Period,
    Target,
    agents_on_phones,
    check_patience,
    estimate_patience,
    staff_on_roster,
    sweep,
)
from hotline.tables import Row, column_key, read_table
from hotline.timeutil import CHINA_TZ, china

# Forecast columns: (field, Chinese header, English header). The first four are required.
COLUMNS = (
    ("line", "号码", "line"),
    ("hour", "时段", "hour"),
    ("calls", "来电量", "calls"),
    ("handle_seconds", "平均处理时长", "handle_seconds"),
    ("day_kind", "日期类型", "day_kind"),
)
_REQUIRED = 4
_DAY_KINDS = {
    "": DayKind.ANY,
    "any": DayKind.ANY,
    "每天": DayKind.ANY,
    "workday": DayKind.WORKDAY,
    "工作日": DayKind.WORKDAY,
    "restday": DayKind.RESTDAY,
    "休息日": DayKind.RESTDAY,
    "节假日": DayKind.RESTDAY,
}
_HOUR = re.compile(r"\s*(\d{1,2})(?:\s*[:：]\s*00)?(?:\s*[-–~至到].*)?\s*(?:点|时)?\s*")


def read_forecast(path: Path) -> Forecast:
    """A forecast table (CSV or Excel) with Chinese or English headers (`COLUMNS`)."""
    for names in ([zh for _, zh, _ in COLUMNS], [en for _, _, en in COLUMNS]):
        table = read_table(path, needed=names[:_REQUIRED])
        if {column_key(n) for n in names[:_REQUIRED]} <= {column_key(h) for h in table.header}:
            return forecast_from_rows(table, names, table.numbers)
    wanted = "、".join(zh for _, zh, _ in COLUMNS[:_REQUIRED])
    raise InvalidInput(f"来电预测缺少列：须有 {wanted}（或 line、hour、calls、handle_seconds）", code="missing-column")


def forecast_from_rows(rows: Sequence[Row], names: Sequence[str], numbers: Sequence[int] = ()) -> Forecast:
    """Demands from rows keyed by NAMES (one per `COLUMNS` field, in order); a bad cell names its row."""
    line_col, hour_col, calls_col, handle_col, kind_col = names
    demands = []
    for i, row in enumerate(rows):
        at = numbers[i] if numbers else i + 2
        try:
            hour_text = row.get(hour_col, "")
            hour = _HOUR.fullmatch(hour_text)
            if hour is None:
                raise ValueError(f"时段 {hour_text!r}")
            kind_text = column_key(row.get(kind_col, ""))
            if kind_text not in _DAY_KINDS:
                raise ValueError(f"日期类型 {row.get(kind_col)!r}（应为 工作日、休息日 或 每天）")
            demands.append(
                Demand(
                    line=_number(row.get(line_col, "")),
                    hour=int(hour.group(1)),
                    calls=_number_value(row.get(calls_col, ""), "来电量"),
                    handle_seconds=_number_value(row.get(handle_col, ""), "平均处理时长"),
                    day_kind=_DAY_KINDS[kind_text],
                )
            )
        except (ValueError, InvalidInput) as exc:
            detail = exc.message if isinstance(exc, InvalidInput) else str(exc)
            raise InvalidInput(f"来电预测第 {at} 行无效：{detail}", code="invalid-forecast", row=at) from None
    return Forecast(demands)


def _number(text: str) -> str:
    number = "".join(text.split())
    if not number.isdigit():
        raise ValueError(f"号码 {text!r}")
    return number


def _number_value(text: str, label: str) -> float:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise ValueError(f"{label} {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{label} {text!r}")
    return value


def forecast_from_records(records: Sequence[Mapping[str, Any]]) -> Forecast:
    """Demands from JSON-like records with the English field names."""
    rows = [{k: "" if v is None else str(v) for k, v in r.items()} for r in records]
    return forecast_from_rows(rows, [en for _, _, en in COLUMNS])


@dataclass(frozen=True)
class ObservedForecast:
    forecast: Forecast
    calls: int
    measured: int  # calls whose handling time was reported (answered and ended)
    days: tuple[int, int]  # working days, rest days observed
    patience: PatienceEstimate  # callers' mean patience measured over the same calls

    def rows(self) -> list[list[str]]:
        """The forecast as a table with the Chinese header `read_forecast` reads."""
        out = [[zh for _, zh, _ in COLUMNS]]
        for d in self.forecast.demands():
            out.append([d.line, str(d.hour), f"{d.calls:.2f}", f"{d.handle_seconds:.0f}", DAY_KIND_LABELS[d.day_kind]])
        return out


def forecast_from_calls(
    session: Session, *, region: str, first: date, last: date, default_handle: float = 240.0
) -> ObservedForecast:
    """A forecast from the calls the proxy routed in REGION from FIRST to LAST (China dates, both included):
    per number and hour, the mean calls of a working day and of a rest day (official calendar), and the mean
    handling time of that number's answered calls (DEFAULT_HANDLE seconds where none was measured); with the
    callers' mean patience measured over the same calls (`measured_patience`)."""
    since, until = _instants(first, last)
    if default_handle <= 0:
        raise InvalidInput("平均处理时长须大于 0 秒", code="invalid-forecast")
    from hotline.telephony.service import observed_calls  # the telephony capability's public use case

    calendar = snapshot(session).calendar
    calls = observed_calls(session, since, until, region)
    if not calls:
        raise InvalidInput("该期间没有话务记录，无法生成来电预测", code="no-calls")
    days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    workdays = sum(1 for d in days if calendar.is_workday(d))
    count: dict[tuple[str, int, bool], int] = {}
    handled: dict[str, list[float]] = {}
    for call in calls:
        local = china(call.at)
        key = (call.dialed, local.hour, calendar.is_workday(local.date()))
        count[key] = count.get(key, 0) + 1
        if call.handle_seconds is not None:
            handled.setdefault(call.dialed, []).append(call.handle_seconds)
    demands = []
    for (line, hour, workday), n in sorted(count.items()):
        times = handled.get(line)
        demands.append(
            Demand(
                line=line,
                hour=hour,
                calls=n / (workdays if workday else len(days) - workdays),
                handle_seconds=sum(times) / len(times) if times else default_handle,
                day_kind=DayKind.WORKDAY if workday else DayKind.RESTDAY,
            )
        )
    measured = sum(len(v) for v in handled.values())
    patience = measured_patience(session, region=region, first=first, last=last)
    return ObservedForecast(Forecast(demands), len(calls), measured, (workdays, len(days) - workdays), patience)


def _instants(first: date, last: date) -> tuple[datetime, datetime]:
    """The China dates FIRST to LAST, both included, as the instants [since, until)."""
    if last < first:
        raise InvalidInput("结束日期不能早于开始日期", code="invalid-period")
    since = datetime.combine(first, time(0), CHINA_TZ)
    return since, datetime.combine(last + timedelta(days=1), time(0), CHINA_TZ)


def measured_patience(session: Session, *, region: str, first: date, last: date) -> PatienceEstimate:
    """Callers' mean patience (Erlang A's `--patience`) measured from the waits of the calls the proxy routed
    in REGION from FIRST to LAST (China dates, both included): queued to answered or to abandoned, as the
    telephony side reported them (`estimate_patience`)."""
    from hotline.telephony.service import routed_calls_facts  # the telephony capability's public use case

    since, until = _instants(first, last)
    return estimate_patience(routed_calls_facts(session, since, until, region))


def describe_patience(estimate: PatienceEstimate) -> str:
    """The measured patience as a line of Chinese text, with what `seats plan` should be given."""
    if estimate.waited == 0:
        return f"期间没有排队或放弃的话务记录，无法实测来电人平均耐心；测算仍按默认 {DEFAULT_PATIENCE:g} 秒"
    mean, interval = estimate.mean, estimate.interval
    if mean is None or interval is None:
        return (
            f"实测来电人平均耐心：排队 {estimate.waited:,} 人，无人放弃，无法估计；测算仍按默认 {DEFAULT_PATIENCE:g} 秒"
        )
    counts = f"排队 {estimate.waited:,} 人，放弃 {estimate.abandoned:,} 人"
    low, high = interval
    rough = f"{mean:.0f} 秒（{counts}；{CONFIDENCE:.0%} 区间 {low:.0f}–{high:.0f} 秒）"
    if not estimate.trusted:
        return (
            f"实测来电人平均耐心约 {rough}，放弃不足 {MIN_ABANDONED} 人，样本太少，不宜采用；"
            f"测算仍按默认 {DEFAULT_PATIENCE:g} 秒"
        )
    return f"实测来电人平均耐心 {rough}，测算时可用 --patience {max(1, round(mean))}"


# ----------------------------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class SeatPlan:
    region: str
    region_name: str
    target: Target
    available: int | None  # 12345 agents the region can roster, if given
    periods: list[Period]
    patience: float = DEFAULT_PATIENCE  # callers' mean patience in seconds, for the abandonment foreseen

    def to_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "region_name": self.region_name,
            "target": {
                "answer_within": self.target.answer_within,
                "service_level": self.target.service_level,
                "max_occupancy": self.target.max_occupancy,
                "shrinkage": self.target.shrinkage,
            },
            "patience": self.patience,
            "available": self.available,
            "periods": [self._period(p) for p in self.periods],
        }

    def _period(self, period: Period) -> dict[str, Any]:
        pools = []
        for pool in period.pools():
            entry: dict[str, Any] = {"pool": pool, "label": pool_label(pool)}
            for name, plan in (("workday", period.workday), ("restday", period.restday)):
                entry[name] = self._needs(plan, pool) if plan is not None and pool in plan.pools else None
            pools.append(entry)
        return {
            "first": period.first.isoformat(),
            "last": period.last.isoformat(),
            "days": period.days,
            "pools": pools,
            "shortfall": self.shortfall(period),
        }

    def _needs(self, plan: DayPlan, pool: str) -> dict[str, Any]:
        peak = plan.peak(pool)
        roster = staff_on_roster(peak, self.target)
        within = self.target.answer_within
        needs = {
            "calls": round(plan.calls(pool), 1),
            "peak_agents": peak,
            "roster": roster,
            "hourly_agents": [h.agents if h is not None else 0 for h in plan.pools[pool]],
            "experts": plan.expert_peaks(pool),
            "outcome": _outcome(plan.outcome(pool, self.patience, within)),
            "at_available": None,
        }
        if self.available is not None and pool.startswith("queue:") and roster > self.available:
            # Short of agents: the queue's peak hours get only those on the phones out of the agents it has.
            agents = agents_on_phones(self.available, self.target)
            outcome = _outcome(plan.outcome(pool, self.patience, within, cap=agents))
            needs["at_available"] = {"roster": self.available, "agents": agents, **outcome}
        return needs

    def platform_roster(self, period: Period) -> int:
        """Agents the region's 12345 queue must roster on the busiest kind of day of PERIOD."""
        return max(
            (
                staff_on_roster(plan.peak(pool), self.target)
                for plan in (period.workday, period.restday)
                if plan is not None
                for pool in plan.pools
                if pool.startswith("queue:")
            ),
            default=0,
        )

    def shortfall(self, period: Period) -> int:
        """12345 agents missing in PERIOD against `available` (0: enough, or nothing to compare with)."""
        if self.available is None:
            return 0
        return max(0, self.platform_roster(period) - self.available)


def _outcome(o: DayOutcome) -> dict[str, Any]:
    """A day's Erlang A measures as shares (0–1) and seconds."""
    return {
        "abandoned": round(o.day.abandoned, 4),
        "answered": round(o.day.answered, 4),
        "answered_within": round(o.day.answered_within, 4),
        "answered_within_of_answered": _round(o.day.within_of_answered, 4),
        "average_answer_seconds": _round(o.day.average_answer, 1),
        "worst_hour": o.worst_hour,
        "worst_hour_abandoned": round(o.worst.abandoned, 4),
        "worst_hour_answered_within": round(o.worst.answered_within, 4),
    }


def _round(x: float | None, digits: int) -> float | None:
    return None if x is None else round(x, digits)


def pool_label(pool: str) -> str:
    kind, _, rest = pool.partition(":")
    if kind == "queue":
        return f"12345话务队列（{find_region(rest).name}）"
    number, _, _ = rest.partition(":")
    if kind == "legacy":
        return f"{number}原热线座席"
    if kind == "subcenter":
        return f"{number}分中心座席"
    return pool


def plan_seats(
    session: Session,
    forecast: Forecast,
    *,
    region: str,
    first: date | None = None,
    last: date | None = None,
    target: Target,
    available: int | None = None,
    patience: float = DEFAULT_PATIENCE,
) -> SeatPlan:
    """Agents needed, period by period from FIRST to LAST (default: the plan year), for REGION's calls as
    the merge plan routes them (recorded milestones and sub-centre hours included): on the 12345 queue and on
    the seats lines keep. Calls to a cancelled number are counted on the 12345 queue (the caller is told to
    dial 12345); emergency numbers are not planned. Agents are sized by Erlang C; what callers would get
    (abandonment, answered in time) is foreseen by Erlang A with callers of mean PATIENCE seconds, at the
    agents planned and, where AVAILABLE falls short, at the agents available."""
    found = find_region(region)
    snap = snapshot(session)
    first = first or date(snap.state.year, 1, 1)
    last = last or date(snap.state.year, 12, 31)
    lines = {n: snap.state.find_line(n) for n in forecast.lines}
    unknown = [n for n, line in lines.items() if line is None or line.mode is Mode.EMERGENCY]
    if unknown:
        raise InvalidInput(
            f"来电预测中的号码不在热线目录中（紧急热线不由本平台接听）：{'、'.join(unknown)}", code="unknown-line"
        )
    if available is not None and available < 0:
        raise InvalidInput("现有座席数不能为负", code="invalid-target")
    check_patience(patience)

    platform = snap.state.catalogue.platform.number
    # A line's answer holds until `valid_until` (the next milestone; for a sub-centre not yet 7×24, its next
    # opening, closing or midnight): most of a year's days reuse the answer of the day before.
    known: dict[tuple[str, int], tuple[tuple[str, str | None] | None, datetime | None]] = {}

    def router(number: str, day: date, hour: int) -> tuple[str, str | None] | None:
        at = datetime.combine(day, time(hour, 30), CHINA_TZ)
        cached = known.get((number, hour))
        if cached is not None and (cached[1] is None or at < cached[1]):
            return cached[0]
        decision = route(number, found.code, at, snap.state, snap.calendar, snap.hours)
        until = valid_until(number, found.code, at, snap.state, snap.hours)
        if decision.action is Action.CANCELLED:
            # The cancellation prompt tells the caller to dial 12345: the demand moves there, it does not end.
            decision = route(platform, found.code, at, snap.state, snap.calendar, snap.hours)
        answer: tuple[str, str | None] | None = None
        if decision.action in (Action.QUEUE, Action.LEGACY, Action.SUBCENTER) and decision.target is not None:
            line = lines[number]
            expert = decision.action is Action.QUEUE and line is not None and line.mode is Mode.PARALLEL
            answer = (decision.target, number if expert else None)
        known[(number, hour)] = (answer, until)
        return answer

    periods = sweep(first, last, snap.calendar.is_workday, forecast, router, target)
    return SeatPlan(found.code, found.name, target, available, periods, patience)


def describe(plan: SeatPlan) -> list[str]:
    """The plan as lines of Chinese text for the CLI (from `SeatPlan.to_dict`, what the API and page show)."""
    t = plan.target
    within = f"{t.answer_within:g} 秒接通率"
    out = [
        f"{plan.region_name} 座席测算：{t.answer_within:g} 秒内接通 {t.service_level:.0%}，"
        f"最高占用率 {t.max_occupancy:.0%}，非在线比例 {t.shrinkage:.0%}（Erlang C）；"
        f"放弃率按来电者平均耐心 {plan.patience:g} 秒估算（Erlang A）"
    ]
    for period, shown in zip(plan.periods, plan.to_dict()["periods"], strict=True):
        out.append(f"\n{shown['first']} 至 {shown['last']}（{shown['days']} 天）")
        short = []
        for pool in shown["pools"]:
            parts = []
            for kind in (DayKind.WORKDAY, DayKind.RESTDAY):
                n = pool[kind.value]
                if n is None:
                    continue
                experts = "，".join(f"{k} 专家座席 {v} 人" for k, v in n["experts"].items())
                o = n["outcome"]
                parts.append(
                    f"{DAY_KIND_LABELS[kind]}来电 {n['calls']:g} 通，高峰在线 {n['peak_agents']} 人，"
                    f"排班 {n['roster']} 人"
                    + (f"（其中 {experts}）" if experts else "")
                    + f"，预计放弃率 {o['abandoned']:.1%}，{within} {o['answered_within']:.1%}"
                )
                if n["at_available"] is not None:
                    short.append((DAY_KIND_LABELS[kind], n["at_available"]))
            out.append(f"  {pool['label']}：" + "；".join(parts))
        if shown["shortfall"]:
            out.append(
                f"  ⚠ 12345座席缺口 {shown['shortfall']} 人（需排班 {plan.platform_roster(period)} 人，现有 {plan.available} 人）"
            )
            for kind_label, a in short:
                out.append(
                    f"    按现有 {a['roster']} 人排班（同时在线 {a['agents']} 人），{kind_label}预计放弃率 "
                    f"{a['abandoned']:.1%}，人工接通率 {a['answered']:.1%}，{within} {a['answered_within']:.1%}"
                    f"（最差时段 {a['worst_hour']} 点：放弃率 {a['worst_hour_abandoned']:.1%}，"
                    f"{within} {a['worst_hour_answered_within']:.1%}）"
                )
    return out
