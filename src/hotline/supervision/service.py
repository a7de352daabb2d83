"""KPIs over a period: work orders received in it and calls offered in it.

An order belongs to the period (and region) it was received in; a co-handling (协办) order to its lead's,
whenever it was opened (a 改派 or 重办 may add one later): it is part of that demand.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.errors import InvalidInput
from hotline.plan.regions import find_region
from hotline.supervision.domain import OrderFacts, demands, order_kpis, unit_scores
from hotline.telephony import service as telephony
from hotline.timeutil import CHINA_TZ, china_day, now
from hotline.workorders import service as workorders
from hotline.workorders.domain import OPEN_STATES, State
from hotline.workorders.store import History, Order

MAX_DAYS = 366
# Order ids per IN (...): few round trips, well within SQLite's 32,766 and PostgreSQL's 65,535 bound values.
_CHUNK = 5000


def _facts(order: Order, accepted_at: datetime | None, today: date) -> OrderFacts:
    state = State(order.state)
    return OrderFacts(
        direct=order.dispatched_at is None and order.resolved_at is not None,
        dispatched=order.dispatched_at is not None,
        accept_due=order.accept_due,
        accepted_on=china_day(accepted_at) if accepted_at else None,
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
    )


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


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
    query = select(func.max(Order.created_at)).where(Order.parent_id.is_(None), Order.state != State.MERGED.value)
    if region:
        query = query.where(Order.region_code == find_region(region).code)
    latest = session.scalar(query)
    return china_day(latest) if latest is not None else None


def report(
    session: Session, since: date, until: date, *, region: str | None = None, today: date | None = None
) -> dict[str, Any]:
    """KPIs of orders received and calls offered from SINCE to UNTIL (China dates, both included)."""
    start, end = period_bounds(since, until)
    region_code = find_region(region).code if region else None
    orders = _period_orders(session, start, end, region_code)
    first_accept: dict[int, datetime] = {}
    for chunk in _chunks([o.id for o in orders]):
        accepts = session.execute(
            select(History.order_id, History.at).where(History.action == "accept", History.order_id.in_(chunk))
        )
        for order_id, at in accepts:
            if order_id not in first_accept or at < first_accept[order_id]:
                first_accept[order_id] = at
    day = today or china_day(now())
    facts = {o.id: _facts(o, first_accept.get(o.id), day) for o in orders}
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
        "units": _units(session, orders, facts),
    }


def _period_orders(session: Session, start: datetime, end: datetime, region_code: str | None) -> list[Order]:
    """The demands received from START to END (in REGION_CODE), merged duplicates left out (they follow their
    master), then the co-handling orders of those demands."""
    query = select(Order).where(
        Order.created_at >= start,
        Order.created_at < end,
        Order.parent_id.is_(None),
        Order.state != State.MERGED.value,
    )
    if region_code:
        query = query.where(Order.region_code == region_code)
    orders = list(session.scalars(query))
    # child_count spares a lookup for the many orders nobody co-handles.
    for chunk in _chunks([o.id for o in orders if o.child_count]):
        orders.extend(session.scalars(select(Order).where(Order.parent_id.in_(chunk))))
    return orders


def _units(session: Session, orders: Sequence[Order], facts: Mapping[int, OrderFacts]) -> list[dict[str, Any]]:
    """承办单位考核 over the period's orders, co-handling ones included: who handles each now, and who received
    and returned them (history)."""
    led: dict[str, list[OrderFacts]] = {}
    names: dict[str, str] = {}
    for order in orders:
        if order.lead_unit is not None:
            led.setdefault(order.lead_unit.code, []).append(facts[order.id])
            names[order.lead_unit.code] = order.lead_unit.name
    dispatched: Counter[str] = Counter()
    returned: Counter[str] = Counter()
    for chunk in _chunks([o.id for o in orders]):
        moves = session.execute(
            select(History.action, History.unit_code, History.changes).where(
                History.order_id.in_(chunk),
                History.action.in_(("dispatch", "redispatch", "return")),
            )
        )
        for action, unit, changes in moves:
            if action == "return":
                returned[unit] += 1
            elif isinstance(lead := (changes or {}).get("lead_unit"), list) and len(lead) == 2 and lead[1]:
                dispatched[lead[1]] += 1  # 派单, 改派, and a co-handling order's opening (协办)
    rows = []
    for score in unit_scores(led, dispatched, returned):
        if score.unit not in names:
            names[score.unit] = workorders.get_unit(session, score.unit).name
        rows.append({**score.to_dict(), "name": names[score.unit]})
    return rows
