"""Use cases of 设置变更记录: the services that change a setting record each change in their own transaction
(`record`: a refused change raises before it, so it records nothing); pages, the API and the CLI list them newest
first, a page at a time (`list_changes`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.changelog.domain import KIND_LABELS, Change, Kind, parse_kind
from hotline.changelog.store import SettingChange
from hotline.errors import InvalidInput
from hotline.timeutil import now

PAGE_SIZE = 50
MAX_PAGE = 500
MAX_ACTOR = 64  # the column's width, as the work-order history's


def record(session: Session, change: Change | None, *, actor: str, at: datetime | None = None) -> None:
    """Add CHANGE, made by ACTOR, to the records in SESSION's transaction (written with it, or not at all); None,
    a change that changed nothing, records nothing."""
    if change is None:
        return
    actor = actor.strip()
    if len(actor) > MAX_ACTOR:
        raise InvalidInput(f"操作人过长（最多 {MAX_ACTOR} 字）", code="field-too-long", field="操作人")
    session.add(
        SettingChange(
            at=at or now(),
            actor=actor,
            kind=change.kind.value,
            key=change.key,
            before=change.before,
            after=change.after,
            summary=change.summary,
        )
    )


@dataclass(frozen=True)
class Listed:
    changes: list[SettingChange]
    earlier: int | None  # what to pass as `before` for the page of older ones; None when there are none


def list_changes(
    session: Session, *, kind: Kind | str | None = None, before: int | None = None, limit: int = PAGE_SIZE
) -> Listed:
    """The changes newest first, of one KIND (a `Kind`, its code or its label) or all, older than the record
    BEFORE (an `earlier` of the previous page), at most LIMIT."""
    wanted = kind if isinstance(kind, Kind) else parse_kind(kind)
    limit = min(max(limit, 1), MAX_PAGE)
    query = select(SettingChange).order_by(SettingChange.id.desc()).limit(limit + 1)
    if wanted is not None:
        query = query.where(SettingChange.kind == wanted.value)
    if before is not None:
        query = query.where(SettingChange.id < before)
    rows = list(session.scalars(query))
    shown = rows[:limit]
    return Listed(shown, shown[-1].id if len(rows) > limit else None)


def change_view(row: SettingChange) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "kind": row.kind,
        "kind_label": KIND_LABELS[Kind(row.kind)],
        "key": row.key,
        "before": row.before,
        "after": row.after,
        "summary": row.summary,
    }


def listed_view(listed: Listed) -> dict[str, Any]:
    return {"changes": [change_view(row) for row in listed.changes], "earlier": listed.earlier}
