"""Work-order events delivered to the handling units' own systems, as plain rules. Pure: no database, no queue.

A sub-centre (or a department) that runs its own system should not have to poll the platform for the orders
it must act on. The events are read from the work-order history (`wo_history`, written in the same
transaction as the order, so nothing committed is missed and nothing rolled back is sent):

- 派单 / 改派 (`dispatch`, `redispatch`): to the unit the order now goes to (co-handling orders included);
- 催办, 督办, 审核退回, 重办, 延期审批, 并单: to the order's lead unit, which must act or stop acting.

`Cursor` is how far the relay has read. History ids are handed out when a row is inserted, not when its
transaction commits, so on PostgreSQL a row with a smaller id can become visible after a larger one was read:
ids skipped over are kept as holes and looked for again until `HOLE_WAIT` has passed (an id whose
transaction rolled back never appears).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# action -> label a unit's system shows
EVENT_LABELS = {
    "dispatch": "派单",
    "redispatch": "改派",
    "urge": "催办",
    "supervise": "督办",
    "review_reject": "审核退回",
    "reopen": "重办",
    "approve_extension": "延期已批准",
    "refuse_extension": "延期未批准",
    "merge": "并单",
    "recalendar": "时限顺延（工作日历调整）",  # the calendar changed: the due date, 签收 or 退单 limit moved (follow_calendar)
}
_TO_NEW_UNIT = frozenset({"dispatch", "redispatch"})
# Changed fields no unit's system needs to hear about: a `recalendar` entry changing only these is not pushed.
_CENTRE_ONLY = frozenset({"visit_due"})

HOLE_WAIT = timedelta(minutes=10)
MAX_HOLES = 10_000


def target_unit(action: str, changes: Mapping[str, Any], lead_unit: str | None) -> str | None:
    """The unit an event goes to, or None when the action concerns no unit's system (受理, 签收, 办结…).

    CHANGES is the history entry's changed fields; LEAD_UNIT the order's lead unit as it is now."""
    if action not in EVENT_LABELS:
        return None
    if action in _TO_NEW_UNIT:
        moved = changes.get("lead_unit")
        return moved[1] if isinstance(moved, list | tuple) and len(moved) == 2 and moved[1] else None
    if action == "recalendar" and changes and set(changes) <= _CENTRE_ONLY:
        return None  # a calendar change that moved only the 回访时限: the callback is the centre's, not the unit's
    return lead_unit


@dataclass(frozen=True)
class Cursor:
    last_id: int = 0
    holes: tuple[tuple[int, datetime], ...] = ()  # (id skipped, when it was first missed)

    def to_dict(self) -> dict[str, Any]:
        return {"last_id": self.last_id, "holes": [[i, at.isoformat()] for i, at in self.holes]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cursor:
        holes = tuple((int(i), datetime.fromisoformat(at)) for i, at in data.get("holes", ()))
        return cls(int(data.get("last_id", 0)), holes)


def advance(cursor: Cursor, read: Iterable[int], at: datetime, *, wait: timedelta = HOLE_WAIT) -> Cursor:
    """The cursor after delivering the ids READ (the ids above `last_id`, read in order, and any holes that
    have appeared since): ids below the new `last_id` that were not read become holes; holes older than WAIT
    are given up (their transaction rolled back), and so are the oldest beyond MAX_HOLES."""
    found = set(read)
    last = max([cursor.last_id, *found])
    holes = {i: since for i, since in cursor.holes if i not in found and at - since < wait}
    missing = (i for i in range(cursor.last_id + 1, last) if i not in found)
    for i in missing:
        holes.setdefault(i, at)
    kept = sorted(holes.items())[-MAX_HOLES:]
    return Cursor(last, tuple(kept))


_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def subject_token(unit_code: str) -> str:
    """A unit code as one subject token: letters, digits, '-' and '_' as they are, any other character as
    '~' and its UTF-8 bytes in hex (so `510100-zjj` stays itself and no code can reach another's subject)."""
    return "".join(c if c in _SAFE else "".join(f"~{b:02x}" for b in c.encode()) for c in unit_code)
