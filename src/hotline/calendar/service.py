"""Use cases of the working-day calendar."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.calendar.domain import WorkCalendar, official_is_workday
from hotline.calendar.store import CalendarOverride
from hotline.errors import InvalidInput
from hotline.timeutil import now

DAY_KINDS = {"workday": True, "holiday": False}

_OVERRIDES = CalendarOverride.__table__
# What a cache of the calendar depends on: the overrides' count and latest change, as two scalar subqueries
# a caller can put into its own revision query (one round trip for everything it caches).
REVISION_COLUMNS = (
    select(func.count()).select_from(_OVERRIDES).scalar_subquery(),
    select(func.max(_OVERRIDES.c.set_at)).scalar_subquery(),
)


def load_calendar(session: Session) -> WorkCalendar:
    rows = session.scalars(select(CalendarOverride)).all()
    return WorkCalendar({row.day: row.is_workday for row in rows})


def set_override(session: Session, day: date, kind: str, *, note: str = "", actor: str = "") -> CalendarOverride:
    """Record that DAY is a working day or a holiday, whatever the official calendar says."""
    if kind not in DAY_KINDS:
        raise InvalidInput(f"日期类型只能是 workday 或 holiday，收到 {kind!r}", code="invalid-day-kind")
    row = session.get(CalendarOverride, day)
    if row is None:
        row = CalendarOverride(day=day)
        session.add(row)
    row.is_workday = DAY_KINDS[kind]
    row.note = note
    row.set_by = actor
    row.set_at = now()
    session.flush()
    return row


def clear_override(session: Session, day: date) -> bool:
    row = session.get(CalendarOverride, day)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def describe_day(session: Session, day: date) -> dict[str, object]:
    calendar = load_calendar(session)
    return {
        "date": day.isoformat(),
        "is_workday": calendar.is_workday(day),
        "official_is_workday": official_is_workday(day),
        "overridden": day in calendar.overrides,
    }
