"""KPIs over a period: work orders received in it and calls offered in it; and its hot topics (热点诉求).

An order belongs to the period (and region) it was received in; a co-handling (协办) order to its lead's,
whenever it was opened (a 改派 or 重办 may add one later): it is part of that demand.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Engine, bindparam, case, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hotline.errors import InvalidInput
from hotline.plan.regions import find_region, region_name
from hotline.quality import service as quality
from hotline.supervision import hotspots as hot
from hotline.supervision.domain import (
    ACCEPT,
    GIVING_ACTIONS,
    RETURN,
    Giving,
    OrderFacts,
    Step,
    demands,
    givings,
    order_kpis,
    signed_on_time,
    unit_scores,
)
from hotline.supervision.hotspots import Demand
from hotline.telephony import callbacks
from hotline.telephony import service as telephony
from hotline.timeutil import CHINA_TZ, china, china_day, now, parse_day
from hotline.workorders import service as workorders
from hotline.workorders.domain import OPEN_STATES, STATE_LABELS, Action, State
from hotline.workorders.store import History, Order, is_lead

log = logging.getLogger(__name__)

MAX_DAYS = 366
# Order ids per IN (...): few round trips, well within SQLite's 32,766 and PostgreSQL's 65,535 bound values.
_CHUNK = 5000
T = TypeVar("T")


def _facts(order: Order, given: Sequence[Giving], today: date, visited_on: date | None = None) -> OrderFacts:
    state = State(order.state)
    first = given[0] if given else None
    return OrderFacts(
        direct=order.dispatched_at is None and order.resolved_at is not None,
        dispatched=order.dispatched_at is not None,
        accept_due=first.accept_due if first else order.accept_due,
        accepted_on=first.accepted_on if first else None,
        due=order.due,
        resolved_on=china_day(order.resolved_at) if order.resolved_at else None,
        open_overdue=state in OPEN_STATES and state is not State.WAITING_CITIZEN and order.due < today,
        returned=order.return_count > 0,
        reopened=order.reopen_count > 0,
        visited=order.satisfaction is not None,
        satisfaction=order.satisfaction,
        citizen_resolved=order.citizen_resolved,
        from_knowledge=order.answer_article is not None,
        co_handling=order.parent_id is not None,
        signings=tuple(signed_on_time(g, today) for g in given),
        visit_due=order.visit_due,
        visited_on=visited_on,
    )


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


KPI_DAYS = 30  # a KPI report's default period: the last 30 China days, today included
HOTSPOT_DAYS = 7  # 热点诉求's: the last 7


def period_of(since: str | None, until: str | None, *, days: int) -> tuple[date, date]:
    """The period a request names as text (China dates, YYYY-MM-DD, both included; `invalid-date`); UNTIL
    defaults to today in China, SINCE to DAYS days up to UNTIL."""
    end = parse_day(until) if until else china_day(now())
    return (parse_day(since) if since else end - timedelta(days=days - 1)), end


def period_bounds(since: date, until: date) -> tuple[datetime, datetime]:
    """The instants a KPI period of China dates SINCE to UNTIL (both included) spans; at most MAX_DAYS days.
    Raises `invalid-period`."""
    if until < since:
        raise InvalidInput("结束日期不能早于开始日期", code="invalid-period")
    if (until - since).days >= MAX_DAYS:
        raise InvalidInput(f"统计区间不能超过 {MAX_DAYS} 天", code="invalid-period")
    start = datetime.combine(since, time.min, CHINA_TZ)
    return start, datetime.combine(until + timedelta(days=1), time.min, CHINA_TZ)


def latest_order_day(session: Session, *, region: str | None = None) -> date | None:
    """The China day the latest demand was received (in REGION), or None if there is none: where a report with
    nothing in its period can point to. Co-handling orders (opened when their lead is dispatched) and merged
    duplicates are not counted by a report, so they are not pointed to either."""
    query = (
        select(Order.created_at)
        .where(is_lead(), Order.state != State.MERGED.value)
        .order_by(Order.created_at.desc())
        .limit(1)
    )
    if region:
        query = query.where(Order.region_code == find_region(region).code)
    latest = session.scalar(query)
    return china_day(latest) if latest is not None else None


def _quality(figures: dict[str, Any], per_agent: bool) -> dict[str, Any]:
    return figures if per_agent else {**figures, "agents": [], "agents_hidden": True}


def report(
    session: Session,
    since: date,
    until: date,
    *,
    region: str | None = None,
    today: date | None = None,
    overdue_orders: bool = False,
    quality_agents: bool = True,
) -> dict[str, Any]:
    """KPIs of orders received and calls offered from SINCE to UNTIL (China dates, both included); with
    OVERDUE_ORDERS, also the orders counted overdue (`overdue_orders`, for the exported report); without
    QUALITY_AGENTS, the 质检 figures of the centre only (`quality.domain.sees_agents`: `agents` empty and
    `agents_hidden`)."""
    start, end = period_bounds(since, until)
    region_code = find_region(region).code if region else None
    orders = _period_orders(session, start, end, region_code)
    day = today or china_day(now())
    given = _givings(session, orders)
    called = _callback_days(session, orders)
    facts = {o.id: _facts(o, given[o.id], day, called.get(o.id)) for o in orders}
    rates = order_kpis(facts.values())
    calls = telephony.kpi_report(session, start, end)
    counted = len(demands(facts.values()))
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "region": region_code,
        "orders": counted,  # demands: lead and standalone orders
        "co_handling_orders": len(orders) - counted,  # in the units' assessment only
        "order_kpis": [r.to_dict() for r in rates],
        "call_kpis": calls.to_dict(),
        # 漏话回拨: the callback tasks whose first missed call was in the period (in the region, if named)
        "missed_call_kpis": callbacks.callback_kpi_report(session, start, end, region=region_code).to_dict(),
        # 话务质检: the results on the orders received in the period, for the centre and per agent
        "quality": _quality(quality.figures(session, start, end, region_code=region_code), quality_agents),
        "units": _units(session, orders, facts, given, day),
    } | ({"overdue_orders": _overdue(orders, facts, day)} if overdue_orders else {})


def _received(start: datetime, end: datetime, region_code: str | None) -> list[ColumnElement[bool]]:
    """Which orders a report of a period counts: taken in (受理) from START to END, in REGION_CODE if named (an
    order carries its 市（州）'s code, so a region's counties are in it), lead and standalone orders only (a
    co-handling order is part of its lead's demand)."""
    where = [Order.created_at >= start, Order.created_at < end, is_lead()]
    if region_code:
        where.append(Order.region_code == region_code)
    return where


def _period_orders(session: Session, start: datetime, end: datetime, region_code: str | None) -> list[Order]:
    """The demands received from START to END (in REGION_CODE), merged duplicates left out (they follow their
    master), then the co-handling orders of those demands."""
    query = select(Order).where(*_received(start, end, region_code), Order.state != State.MERGED.value)
    orders = list(session.scalars(query))
    # child_count spares a lookup for the many orders nobody co-handles.
    for chunk in _chunks([o.id for o in orders if o.child_count]):
        orders.extend(session.scalars(select(Order).where(Order.parent_id.in_(chunk))))
    return orders


_STEPS_READ = (*GIVING_ACTIONS, ACCEPT, RETURN)
CALLBACK = Action.CALLBACK.value
# The unit and 签收 deadline a step changed, before and after, as text extracted by the database (the rest of
# the JSON is never parsed); NULL after for a step that did not change it (a giving always names both).
_CHANGED = [History.changes[(name, i)].as_string() for name in ("lead_unit", "accept_due") for i in (0, 1)]


def _givings(session: Session, orders: Sequence[Order]) -> dict[int, list[Giving]]:
    """Each order's givings (`domain.givings`) from its history: one query per 5,000 orders for the steps
    that give an order to a unit, 签收 and 退单, in each order's sequence (the history's unique index)."""
    found: dict[int, list[Giving]] = {o.id: [] for o in orders}
    for chunk in _chunks(orders):
        by_id = {o.id: o for o in chunk}
        rows = session.execute(
            select(History.order_id, History.action, History.at, *_CHANGED)
            .where(History.order_id.in_(by_id), History.action.in_(_STEPS_READ))
            .order_by(History.order_id, History.seq)
        )
        for order_id, group in groupby(rows, key=itemgetter(0)):
            steps = [Step(action, china_day(at), _changes(*changed)) for _, action, at, *changed in group]
            order = by_id[order_id]
            unit = order.lead_unit.code if order.lead_unit else None
            found[order_id] = givings(steps, unit=unit, accept_due=order.accept_due)
    return found


def _callback_days(session: Session, orders: Sequence[Order]) -> dict[int, date]:
    """The China day of the latest 回访 of each order called back with a 回访时限 (按时回访率): that callback's,
    since a 重办 clears both the callback's answers and its deadline. One query per 5,000 such orders."""
    timed = [o.id for o in orders if o.visit_due is not None and o.satisfaction is not None]
    found: dict[int, date] = {}
    for chunk in _chunks(timed):
        rows = session.execute(
            select(History.order_id, func.max(History.at))
            .where(History.order_id.in_(chunk), History.action == CALLBACK)
            .group_by(History.order_id)
        )
        found.update((order_id, china_day(at)) for order_id, at in rows)
    return found


def _changes(unit_was: str | None, unit: str | None, due_was: str | None, due: str | None) -> dict[str, Any]:
    """A step's changes as `domain.givings` reads them, from the columns of `_CHANGED`."""
    changes: dict[str, Any] = {}
    if unit is not None:
        changes["lead_unit"] = (unit_was, unit)
    if due is not None:
        changes["accept_due"] = (due_was, due)
    return changes


def _units(
    session: Session,
    orders: Sequence[Order],
    facts: Mapping[int, OrderFacts],
    given: Mapping[int, Sequence[Giving]],
    today: date,
) -> list[dict[str, Any]]:
    """承办单位考核 over the period's orders, co-handling ones included: who handles each now, and every time
    one was given to a unit (history)."""
    led: dict[str, list[OrderFacts]] = {}
    names: dict[str, str] = {}
    for order in orders:
        if order.lead_unit is not None:
            led.setdefault(order.lead_unit.code, []).append(facts[order.id])
            names[order.lead_unit.code] = order.lead_unit.name
    rows = []
    for score in unit_scores(led, (g for o in orders for g in given[o.id]), today):
        if score.unit not in names:
            names[score.unit] = workorders.get_unit(session, score.unit).name
        rows.append({**score.to_dict(), "name": names[score.unit]})
    return rows


def _overdue(orders: Sequence[Order], facts: Mapping[int, OrderFacts], today: date) -> list[dict[str, Any]]:
    """The orders 超期率 and the units' 超期率 count as overdue (answered after their due date, or open past it
    on TODAY and not waiting on the citizen), co-handling ones included; by unit, then by due date. No caller
    and no content: what the citizen said may name people."""
    rows = []
    for order in orders:
        f = facts[order.id]
        late = f.resolved_on is not None and f.resolved_on > f.due
        if not (late or f.open_overdue):
            continue
        rows.append({
            "number": order.number,
            "parent": order.parent.number if order.parent else None,
            "created_at": china(order.created_at).isoformat(),
            "region": order.region_code,
            "type": order.type,
            "category": order.category,
            "unit": order.lead_unit.code if order.lead_unit else None,
            "unit_name": order.lead_unit.name if order.lead_unit else "",
            "due": order.due.isoformat(),
            "state": order.state,
            "state_label": STATE_LABELS[State(order.state)],
            "resolved_at": china(order.resolved_at).isoformat() if order.resolved_at else None,
            "days_overdue": ((f.resolved_on or today) - f.due).days,
        })  # fmt: skip
    return sorted(rows, key=lambda r: (r["unit_name"], r["due"], r["number"]))


# -- 热点诉求 ---------------------------------------------------------------------------------------------------------
def previous_period(since: date, until: date) -> tuple[date, date]:
    """The period of the same length just before SINCE to UNTIL (China dates, both included)."""
    days = (until - since).days + 1
    return since - timedelta(days=days), since - timedelta(days=1)


def hotspots(session: Session, since: date, until: date, *, region: str | None = None) -> dict[str, Any]:
    """热点诉求 (`hotspots.hotspots`) of the orders taken in (受理) from SINCE to UNTIL (China dates, both
    included; `invalid-period`), in REGION if named (`region-not-found`), against the period of the same length
    just before. Selected as the KPIs select a period's demands (`_received`: co-handling orders left out),
    except that merged duplicates count: how many people called about a thing is its heat. One query over
    both periods, newest first (the examples shown are the latest orders), reading each order's stored words
    (`wo_orders.content_words`); the orders without them yet are cut and their words stored (`_store_words`)."""
    start, end = period_bounds(since, until)
    region_code = find_region(region).code if region else None
    first, last = previous_period(since, until)
    before_start, _ = period_bounds(first, last)
    rows = session.execute(
        select(
            Order.id,
            Order.number,
            Order.category,
            Order.place,
            Order.created_at,
            Order.content_words,
            case((Order.content_words.is_(None), Order.content)),  # the content only where it is still needed
        )
        .where(*_received(before_start, end, region_code))
        .order_by(Order.created_at.desc(), Order.number.desc())
    ).all()
    cut = _store_words(session, {row[0]: row[6] for row in rows if row[5] is None})
    now: list[Demand] = []
    before: list[Demand] = []
    for order_id, number, category, place, created_at, words, _ in rows:
        stored = cut[order_id] if words is None else words
        (now if created_at >= start else before).append(Demand(number, category, place, stored.split()))
    found = hot.hotspots(now, before)
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "previous": {"since": first.isoformat(), "until": last.isoformat()},
        "region": region_code,
        "region_name": region_name(region_code) if region_code else "全部地区",
        **found.to_dict(),
    }


def tokens(content: str) -> list[str]:
    """`dispatch.text.tokens`, imported when first needed: rjieba loads its dictionary as it is imported (0.1 s),
    which the KPI report and the command line's other commands do not need."""
    from hotline.dispatch.text import tokens as cut

    return cut(content)


def _store_words(session: Session, contents: Mapping[int, str]) -> dict[int, str]:
    """The words of each order's content in CONTENTS (order id → content) as stored for counting
    (`hotspots.countable_words` of `dispatch.text.tokens`), written to `wo_orders.content_words` of the orders
    that have none yet.

    Cutting was three quarters of a call's cost (bench/supervision.md), and a content never changes after 受理,
    so each order is cut once, by the first call that reads it, and never again after any restart. Done here,
    on first read, rather than when an order is created: one place covers every way an order arrives (受理 on
    the page, Open311, legacy imports, the command line) and the orders stored before the column existed;
    workorders needs neither jieba nor supervision, and 受理 does not wait for a cut that only hot topics use.

    Written in short transactions of its own (`_CHUNK` orders each, in id order), not in the caller's
    session: a page's read-only session then stays so, and on SQLite a read transaction is never turned into a
    write one. A failed write (a lock waited on too long, a read-only replica) is logged and the words are
    still counted: the next call cuts those orders again. Two calls cutting the same new orders at once write
    the same words; `content_words IS NULL` in the UPDATE keeps the first."""
    if not contents:
        return {}
    cut = {order_id: hot.countable_words(tokens(content)) for order_id, content in contents.items()}
    write = (
        update(Order)
        .where(Order.id == bindparam("order_id"), Order.content_words.is_(None))
        .values(content_words=bindparam("words"))
    )
    rows = [{"order_id": order_id, "words": words} for order_id, words in sorted(cut.items())]
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    try:
        for chunk in _chunks(rows):
            with engine.begin() as conn:
                conn.execute(write, chunk)
    except DBAPIError:
        log.warning("the words of %d orders could not be stored; they will be cut again", len(rows), exc_info=True)
    return cut
