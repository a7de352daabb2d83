"""实时监控 (the live wallboard): what is happening on the floor now, for 班长 (supervisors), administrators and
dispatchers (those who read the KPIs).

`live_board` reads three small things from the database, each counted there, never a row per call:
- the calls routed today (China day) up to the instant, grouped by region, number dialed, the kinds of event each
  has (`telephony.service._tallied`, as 话务记录's figures) and whether routed in the last minutes, with their waits
  summed and those within the threshold counted;
- the calls waiting for an agent (queued, nothing after it) grouped by region and number dialed, with the first
  queued instant;
- work orders: 今日受理 as 考核指标 counts a period's demands (`service._received`), 待派单 and 已超期 as the
  order list counts them (`workorders.service.count_orders`, its query and rule for 已超期), so each links to the
  very list; 今日办结.
- the agents (座席): their state now and the day's hours and calls answered, summed by the database
  (`telephony.agent_states.agents_block`; the whole centre's, whatever the region chosen: agents report no region).
The figures are made of those counts by `telephony.board`. No caller's number is read.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, exists, extract, func, select
from sqlalchemy.orm import Session

from hotline.plan.regions import find_region, region_name
from hotline.plan.service import list_lines
from hotline.supervision.service import _received
from hotline.telephony import agent_states
from hotline.telephony import board as b
from hotline.telephony.agent_states import day_start
from hotline.telephony.domain import TO_AGENTS, CallEventType
from hotline.telephony.service import _flags, _tallied
from hotline.telephony.store import CallDecision, CallEvent
from hotline.timeutil import china, china_day
from hotline.workorders import service as workorders
from hotline.workorders.domain import Case, OrderType, Sla, State, sla_state
from hotline.workorders.store import Order, is_lead

# What ends a caller's wait for an agent: an agent took the call (or transferred it), the caller hung up, it ended.
WAIT_ENDS = tuple(
    e.value for e in (CallEventType.ANSWERED, CallEventType.TRANSFERRED, CallEventType.ABANDONED, CallEventType.ENDED)
)


def _seconds(dialect: str, end: Any, start: Any) -> ColumnElement[Any]:
    """END - START in seconds as the database computes it, 0 when reported out of order (`seconds_between`);
    NULL when either is. SQLite keeps instants as text: julianday's double rounded to the millisecond."""
    if dialect == "sqlite":
        raw: ColumnElement[Any] = func.round((func.julianday(end) - func.julianday(start)) * 86400.0, 3)
    else:
        raw = extract("epoch", end - start)
    return case((raw < 0, 0.0), else_=raw)


def _calls_today(session: Session, at: datetime, region_code: str | None, threshold: int) -> list[b.Counted]:
    """The calls routed from 00:00 China time to AT (in REGION_CODE), counted by region, number dialed, kinds of
    event (`_tallied`) and routed in the last RECENT_MINUTES or not, with their waits summed in the database."""
    table = CallDecision.__table__
    where = [table.c.decided_at >= day_start(at), table.c.decided_at <= at]
    if region_code:
        where.append(table.c.region_code == region_code)
    tallied = _tallied(select(table.c.call_id).where(*where)).subquery()
    wait = _seconds(session.get_bind().dialect.name, tallied.c.answered_at, tallied.c.start_at)
    recent = at - timedelta(minutes=b.RECENT_MINUTES)
    calls = (
        select(
            table.c.region_code.label("region"),
            table.c.dialed.label("dialed"),
            func.coalesce(tallied.c.kinds, 0).label("kinds"),
            case((table.c.decided_at >= recent, 1), else_=0).label("recent"),
            wait.label("wait"),
        )
        .select_from(table.outerjoin(tallied, tallied.c.call_id == table.c.call_id))
        .where(*where)
        .subquery()
    )
    c = calls.c
    grouped = select(
        c.region,
        c.dialed,
        c.kinds,
        c.recent,
        func.count(),
        func.count(c.wait),
        func.sum(c.wait),
        func.sum(case((c.wait <= threshold, 1), else_=0)),
    ).group_by(c.region, c.dialed, c.kinds, c.recent)
    return [
        b.Counted(region, dialed, _flags(int(kinds)), bool(recent), calls, waits, float(total or 0), int(within or 0))
        for region, dialed, kinds, recent, calls, waits, total, within in session.execute(grouped)
    ]


def _waiting(session: Session, at: datetime, region_code: str | None) -> list[b.Queued]:
    """The calls sent to agents waiting for one at AT (in REGION_CODE): queued at most STALE_HOURS before, nothing
    that ends a wait reported since; by region and number dialed, with the first queued instant."""
    decisions, events = CallDecision.__table__, CallEvent.__table__
    queued, later = events.alias("queued"), events.alias("later")
    ended = exists().where(later.c.call_id == queued.c.call_id, later.c.event.in_(WAIT_ENDS))
    where = [
        queued.c.event == CallEventType.QUEUED.value,
        queued.c.at >= at - timedelta(hours=b.STALE_HOURS),
        decisions.c.decision.in_(TO_AGENTS),
        ~ended,
    ]
    if region_code:
        where.append(decisions.c.region_code == region_code)
    query = (
        select(decisions.c.region_code, decisions.c.dialed, func.count(), func.min(queued.c.at))
        .select_from(queued.join(decisions, decisions.c.call_id == queued.c.call_id))
        .where(*where)
        .group_by(decisions.c.region_code, decisions.c.dialed)
    )
    return [b.Queued(region, dialed, calls, since) for region, dialed, calls, since in session.execute(query)]


def order_figures(session: Session, at: datetime, region_code: str | None) -> dict[str, int]:
    """今日受理: the demands taken in today up to AT, as 考核指标 counts a period's (co-handling orders and merged
    duplicates left out); 待派单: orders waiting to be dispatched (已受理（待派单）); 已超期: orders past their deadline
    (办理 or 回访), as the order list's 超期 filter finds them; 今日办结: demands answered (办结) today."""
    start = day_start(at)
    received = (
        select(func.count())
        .select_from(Order)
        .where(*_received(start, at, region_code), Order.state != State.MERGED.value)
    )
    resolved = select(func.count()).select_from(Order).where(Order.resolved_at >= start, Order.resolved_at <= at)
    resolved = resolved.where(is_lead(), *([Order.region_code == region_code] if region_code else []))
    today = china_day(at)

    to_dispatch = workorders.OrderFilters(state=State.REGISTERED.value, region=region_code)
    return {
        "received_today": int(session.scalar(received) or 0),
        "to_dispatch": workorders.count_orders(session, to_dispatch, role="supervisor", today=today),
        "resolved_today": int(session.scalar(resolved) or 0),
        "overdue": overdue_orders(session, region_code, today),
    }


def overdue_orders(session: Session, region_code: str | None, today: date) -> int:
    """已超期: what `workorders.service.count_orders` counts under the list's 超期 filter (its query,
    `filtered_orders`, and its rule, `domain.sla_state`), reading only the columns the rule needs, as `todo` does,
    rather than each order whole: a centre has thousands past due (bench/supervision.md, 实时监控)."""
    filters = workorders.OrderFilters(sla=Sla.OVERDUE.value, region=region_code)
    query, wanted = workorders.filtered_orders(session, filters, role="supervisor", today=today)
    calendar = workorders._calendar(session)
    rows = session.execute(
        query.with_only_columns(Order.type, Order.state, Order.due, Order.paused_on, Order.visit_due)
    )
    return sum(
        1
        for type_, state, due, paused_on, visit_due in rows
        if sla_state(
            Case(OrderType(type_), State(state), due, paused_on=paused_on, visit_due=visit_due), today, calendar
        )
        is wanted
    )


def live_board(
    session: Session, at: datetime, region: str | None = None, threshold_seconds: int = b.THRESHOLD_SECONDS
) -> dict[str, Any]:
    """The live board at AT (now) for REGION (code or name; None: every region): 排队中, today's and the last
    minutes' call figures (`telephony.board`), per region and per number dialed, and the work orders' figures.
    Events are taken as reported so far: the board is the present, not a replay of the past."""
    region_code = find_region(region).code if region else None
    counted = _calls_today(session, at, region_code, threshold_seconds)
    waiting = _waiting(session, at, region_code)
    figures = b.board(counted, waiting, at, threshold_seconds)
    names = {line.number: line.short_name or line.name for line in list_lines(session)}
    return {
        "at": china(at).isoformat(timespec="seconds"),
        "day": china_day(at).isoformat(),
        "region": region_code,
        "region_name": region_name(region_code) if region_code else "",
        "threshold_seconds": threshold_seconds,
        "recent_minutes": b.RECENT_MINUTES,
        "stale_hours": b.STALE_HOURS,
        **figures.total.to_dict(),
        "regions": [{"code": s.key, "name": region_name(s.key), **s.to_dict()} for s in figures.regions],
        "lines": [{"dialed": s.key, "name": names.get(s.key, ""), **s.to_dict()} for s in figures.lines],
        "orders": order_figures(session, at, region_code),
        "agents": agent_states.agents_block(session, at),
    }
