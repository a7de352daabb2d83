"""Use cases of push: read the work-order history past the cursor and turn it into deliveries for units."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from hotline.push.domain import EVENT_LABELS, Cursor, target_unit
from hotline.push.store import PushCursor
from hotline.timeutil import china, now
from hotline.workorders import service as workorders
from hotline.workorders.store import History, Order

CURSOR = "units"  # the one relay's cursor
BATCH = 500
_HOLES_PER_QUERY = 500
AnySelect = Select[*tuple[Any, ...]]
AnyRow = Row[*tuple[Any, ...]]


@dataclass(frozen=True)
class Delivery:
    history_id: int
    unit: str
    payload: dict[str, Any]

    @property
    def message_id(self) -> str:
        """Stable per event and unit: the queue drops a copy published again (a relay restarted mid-batch)."""
        return f"{self.history_id}-{self.unit}"


def load_cursor(session: Session, name: str = CURSOR) -> Cursor:
    """The cursor NAME (push's own by default; 短信通知's relay keeps its own beside it)."""
    row = session.get(PushCursor, name)
    return Cursor.from_dict(row.state) if row else Cursor()


def save_cursor(session: Session, cursor: Cursor, *, at: datetime | None = None, name: str = CURSOR) -> None:
    row = session.get(PushCursor, name)
    if row is None:
        session.add(PushCursor(name=name, state=cursor.to_dict(), updated_at=at or now()))
    else:
        row.state, row.updated_at = cursor.to_dict(), at or now()


def read_past(session: Session, cursor: Cursor, query: AnySelect, limit: int = BATCH) -> list[AnyRow]:
    """The rows of QUERY (whose first column is a history entry or its id; filtered here on `History.id`) for the
    entries past CURSOR, at most LIMIT of them, and for any of its holes that have appeared, in history id order."""
    rows = list(session.execute(query.where(History.id > cursor.last_id).order_by(History.id).limit(limit)))
    holes = [i for i, _ in cursor.holes]
    for start in range(0, len(holes), _HOLES_PER_QUERY):
        rows += session.execute(query.where(History.id.in_(holes[start : start + _HOLES_PER_QUERY])))
    rows.sort(key=_entry_id)
    return rows


def _entry_id(row: AnyRow) -> int:
    first = row[0]
    return first if isinstance(first, int) else first.id


def _delivery(session: Session, entry: History, order: Order) -> Delivery | None:
    lead = order.lead_unit.code if order.lead_unit else None
    unit = target_unit(entry.action, entry.changes or {}, lead)
    if unit is None:
        return None
    payload = {
        "event_id": entry.id,
        "event": entry.action,
        "event_label": EVENT_LABELS[entry.action],
        "at": china(entry.at).isoformat(timespec="seconds"),
        "unit": unit,
        "reason": entry.reason,
        # As a handling unit may see it (contact details masked for 举报 and confidential orders), as it is now.
        "order": workorders.order_view(session, order, "department"),
    }
    return Delivery(entry.id, unit, payload)


def pending(session: Session, cursor: Cursor, limit: int = BATCH) -> tuple[list[Delivery], list[int]]:
    """The deliveries of the history entries past CURSOR (at most LIMIT of them, in id order) and of any of its
    holes that have appeared, and the ids read (for `domain.advance`)."""
    query = select(History, Order).join(Order, History.order_id == Order.id)
    rows: list[tuple[History, Order]] = [(row[0], row[1]) for row in read_past(session, cursor, query, limit)]
    deliveries = [found for entry, order in rows if (found := _delivery(session, entry, order)) is not None]
    return deliveries, [entry.id for entry, _ in rows]


def skip_history(session: Session, *, at: datetime | None = None) -> int:
    """Start delivering from now: the cursor moves past every history entry already written (when push is
    first switched on for a platform in service, whose units have long had those orders). Returns how many
    entries were skipped."""
    cursor = load_cursor(session)
    last = session.scalar(select(func.max(History.id))) or 0
    skipped = session.scalar(select(func.count()).select_from(History).where(History.id > cursor.last_id)) or 0
    save_cursor(session, Cursor(max(cursor.last_id, int(last))), at=at)
    return int(skipped)


def status(session: Session) -> dict[str, Any]:
    """How far the relay has read: the last history id delivered, the holes it still looks for, the backlog."""
    cursor = load_cursor(session)
    row = session.get(PushCursor, CURSOR)
    backlog = session.scalar(select(func.count()).select_from(History).where(History.id > cursor.last_id)) or 0
    return {
        "last_id": cursor.last_id,
        "holes": len(cursor.holes),
        "backlog": int(backlog),
        "updated_at": row.updated_at.isoformat() if row else None,
    }
