"""座席状态: the agents' state changes as the ACD reports them, and each agent's day counted in the database.

- `record_states`: store reported changes (idempotent by agent, instant and state; a batch with one bad item writes
  nothing).
- `agent_rows`: for the period from a China day's 00:00 to an instant, one row per agent: the state now and since
  when, the day's seconds per state (the rule of `agents.day_hours`, summed by the database over the changes with a
  window function: a row per agent and state comes back, never a row per change), calls answered (`answered` call
  events with that agent, counted by the database) and the account's display name when its login is the 工号.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, case, cast, extract, func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.accounts.store import Account
from hotline.errors import InvalidInput
from hotline.telephony import agents as a
from hotline.telephony.domain import CallEventType
from hotline.telephony.store import AgentStateChange, CallEvent
from hotline.timeutil import CHINA_TZ, china, china_day, now, parse_instant

MAX_BATCH = 5000
FUTURE_SLACK = timedelta(minutes=5)  # the ACD's clock may run a little ahead of ours, not more


@dataclass(frozen=True)
class Reported:
    agent: str
    state: a.AgentState
    at: datetime
    reason: str


def parse_reported(item: Mapping[str, Any], received: datetime) -> Reported:
    """One reported change checked: `agent`, `state`, `at` (ISO 8601, China time without an offset; missing: when
    received), `reason` (示忙原因)."""
    agent, state, at, reason = (item.get(k) for k in ("agent", "state", "at", "reason"))
    if not isinstance(agent, str):
        raise InvalidInput("缺少座席工号（agent）", code="invalid-agent")
    if not isinstance(state, str):
        raise InvalidInput("缺少座席状态（state）", code="invalid-agent-state")
    if at is not None and not isinstance(at, str):
        raise InvalidInput("时间（at）应为 ISO 8601 文本", code="invalid-time")
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("示忙原因（reason）应为文本", code="invalid-agent-reason")
    kind = a.parse_state(state)
    when = parse_instant(at) if at else received
    if when > received + FUTURE_SLACK:
        raise InvalidInput(f"座席状态的时间晚于当前时间：{at}", code="invalid-time")
    return Reported(a.parse_agent(agent), kind, when, a.parse_reason(kind, reason or ""))


def _key(agent: str, at: datetime, state: str) -> tuple[str, datetime, str]:
    return agent, at.astimezone(CHINA_TZ), state


def record_states(session: Session, items: list[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Store ITEMS (each checked first: one bad item refuses the batch); answers each change as stored with whether
    it repeated one already stored (or earlier in the batch), and how many were new."""
    if len(items) > MAX_BATCH:
        raise InvalidInput(f"一次最多上报 {MAX_BATCH} 条座席状态", code="too-many-agent-states")
    received = now()
    reported = [parse_reported(item, received) for item in items]
    if not reported:
        return [], 0
    stored = {
        _key(r.agent, r.at, r.state): r
        for r in session.scalars(
            select(AgentStateChange).where(
                AgentStateChange.agent.in_({r.agent for r in reported}),
                AgentStateChange.at.in_({r.at for r in reported}),
            )
        )
    }
    answers, created = [], 0
    for r in reported:
        key = _key(r.agent, r.at, r.state.value)
        row = stored.get(key)
        if row is None:
            row = AgentStateChange(agent=r.agent, state=r.state.value, reason=r.reason, at=r.at, received_at=received)
            try:
                with session.begin_nested():
                    session.add(row)
            except IntegrityError:  # stored meanwhile by another request
                row = session.scalars(
                    select(AgentStateChange).where(
                        AgentStateChange.agent == r.agent,
                        AgentStateChange.at == r.at,
                        AgentStateChange.state == r.state,
                    )
                ).one()
                answers.append({**_change_dict(row), "duplicate": True})
                continue
            stored[key] = row
            created += 1
            answers.append({**_change_dict(row), "duplicate": False})
        else:
            answers.append({**_change_dict(row), "duplicate": True})
    return answers, created


def _change_dict(row: AgentStateChange) -> dict[str, Any]:
    state = a.AgentState(row.state)
    return {
        "agent": row.agent,
        "state": state.value,
        "label": a.state_label(state, row.reason),
        "reason": row.reason,
        "at": china(row.at).isoformat(),
    }


# --- the day, counted in the database ---------------------------------------------------------------------------


def _epoch(dialect: str, column: Any) -> ColumnElement[Any]:
    """Seconds since 1970 of an instant as the database computes it, to the microsecond. SQLite keeps instants as UTC
    text `YYYY-MM-DD HH:MM:SS.ffffff` (julianday would round to the millisecond): whole seconds plus the fraction."""
    if dialect == "sqlite":
        return cast(func.strftime("%s", column), Float) + cast(func.substr(column, 20), Float)
    return extract("epoch", column)


def _least(dialect: str, *values: Any) -> ColumnElement[Any]:
    return func.min(*values) if dialect == "sqlite" else func.least(*values)


def _greatest(dialect: str, *values: Any) -> ColumnElement[Any]:
    return func.max(*values) if dialect == "sqlite" else func.greatest(*values)


def _window(start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    """The changes that may bear on [START, END]: from STALE_HOURS before START (an older one is over by START)."""
    t = AgentStateChange.__table__
    return [t.c.at >= start - timedelta(hours=a.STALE_HOURS), t.c.at <= end]


def _segments(session: Session, start: datetime, end: datetime) -> Any:
    """Each change that may bear on [START, END) with the seconds it holds within the period (`agents.day_hours`):
    until its agent's next change (`LEAD`), END or STALE_HOURS after it. Each instant is made seconds once, in an
    inner query, not once per use."""
    dialect = session.get_bind().dialect.name
    t = AgentStateChange.__table__
    inner = select(t.c.agent, t.c.state, t.c.id, t.c.at, _epoch(dialect, t.c.at).label("s"))
    changes = inner.where(*_window(start, end)).subquery()
    c = changes.c
    end_s, start_s = literal(end.timestamp()), literal(start.timestamp())
    nxt = func.lead(c.s).over(partition_by=c.agent, order_by=(c.at, c.id))
    until = _least(dialect, func.coalesce(nxt, end_s), end_s, c.s + a.STALE_HOURS * 3600.0)
    held = until - _greatest(dialect, c.s, start_s)
    signed_in = case((c.state == a.AgentState.LOGGED_OUT.value, 0.0), else_=held)
    return select(c.agent, c.state, signed_in.label("held")).subquery()


def _latest(session: Session, start: datetime, at: datetime) -> dict[str, a.Current]:
    """Each agent's state at AT (`agents.latest`) from its latest change up to AT, found by the database (the latest
    instant per agent); of two changes at that instant, the later reported."""
    t = AgentStateChange.__table__
    last = select(t.c.agent, func.max(t.c.at).label("at")).where(*_window(start, at)).group_by(t.c.agent).subquery()
    rows = session.execute(
        select(t.c.agent, t.c.state, t.c.reason, t.c.at, t.c.id)
        .join(last, and_(last.c.agent == t.c.agent, last.c.at == t.c.at))
        .order_by(t.c.id)
    )
    return {
        agent: a.latest(a.StateChange(when, a.AgentState(state), reason), at) for agent, state, reason, when, _ in rows
    }


def day_start(day_or_at: datetime | date) -> datetime:
    """00:00 China time of a China date, or of an instant's China day."""
    day = china_day(day_or_at) if isinstance(day_or_at, datetime) else day_or_at
    return datetime.combine(day, time.min, CHINA_TZ)


def agent_rows(session: Session, at: datetime, start: datetime | None = None) -> list[a.AgentRow]:
    """Every agent signed in at AT or with a change or a call answered from START (by default 00:00 China time of
    AT's day) to AT: the state at AT, the period's hours and calls answered; signed-in agents first, then by 工号."""
    start = start or day_start(at)
    hours = day_seconds(session, start, at)
    latest = _latest(session, start, at)
    answered = dict(_answered(session, start, at))
    active = {k for k, v in latest.items() if v.state is not a.AgentState.LOGGED_OUT} | set(hours) | set(answered)
    names = _names(session, active)
    return a.table_order(
        a.AgentRow(
            agent,
            names.get(agent, agent),
            latest.get(agent, a.Current(a.AgentState.LOGGED_OUT, "", None)),
            answered.get(agent, 0),
            a.Hours(hours.get(agent, {})),
        )
        for agent in active
    )


def day_seconds(session: Session, start: datetime, end: datetime) -> dict[str, dict[a.AgentState, float]]:
    """Each agent's seconds per state within [START, END), summed by the database (`agents.day_hours`)."""
    seg = _segments(session, start, end)
    summed = (
        select(seg.c.agent, seg.c.state, func.sum(seg.c.held)).where(seg.c.held > 0).group_by(seg.c.agent, seg.c.state)
    )
    hours: dict[str, dict[a.AgentState, float]] = {}
    for agent, state, seconds in session.execute(summed):
        hours.setdefault(agent, {})[a.AgentState(state)] = float(seconds)
    return hours


def _answered(session: Session, start: datetime, end: datetime) -> Iterable[tuple[str, int]]:
    """Calls answered from START to END per agent, as the call events name them."""
    e = CallEvent.__table__
    query = (
        select(e.c.agent, func.count())
        .where(
            and_(e.c.event == CallEventType.ANSWERED.value, e.c.at >= start, e.c.at <= end, e.c.agent != ""),
        )
        .group_by(e.c.agent)
    )
    return [(agent, int(n)) for agent, n in session.execute(query)]


def _names(session: Session, agents: set[str]) -> dict[str, str]:
    """The display name of the account whose login is the 工号 (logins are lower case: A007's account is a007)."""
    if not agents:
        return {}
    query = select(Account.login, Account.name).where(Account.login.in_({x.lower() for x in agents}))
    rows = {login: name for login, name in session.execute(query)}
    return {agent: rows[agent.lower()] for agent in agents if agent.lower() in rows}


def agents_block(session: Session, at: datetime) -> dict[str, Any]:
    """The wallboard's 座席 block at AT: counts per state now (示忙 split by reason) and the per-agent table."""
    rows = agent_rows(session, at)
    return {"counts": a.state_counts(rows), "rows": [r.to_dict(at) for r in rows], "stale_hours": a.STALE_HOURS}


def day_table(session: Session, day: date | None = None) -> dict[str, Any]:
    """One China day's table (by default today): the hours up to the day's end, or now for today."""
    instant = now()
    start = day_start(day or instant)
    end = min(start + timedelta(days=1), instant) if start <= instant else start
    rows = agent_rows(session, end, start)
    return {
        "day": start.date().isoformat(),
        "until": china(end).isoformat(timespec="seconds"),
        "rows": [r.to_dict(end) for r in rows],
    }
