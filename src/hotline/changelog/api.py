"""HTTP resource of 设置变更记录: the changes to units, the dispatch catalogue, the time limits and the working-day
calendar, newest first, a page at a time (supervisors and administrators: `accounts.policy`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from hotline.changelog import service
from hotline.deps import SESSION

router = APIRouter(tags=["settings"])


@router.get("/api/settings/changes")
def changes(
    kind: str = Query(
        "",
        description="unit 单位、catalogue 派单目录、limit 办理时限、calendar 工作日历、quality 质检标准（代码或中文）；空为全部",
    ),
    before: int | None = Query(None, description="只列此编号之前（更早）的记录：上一页答复的 earlier"),
    limit: int = Query(service.PAGE_SIZE, description=f"每页条数（1 至 {service.MAX_PAGE}）"),
    session: Session = SESSION,
) -> dict[str, Any]:
    """Each change: `at` (UTC), `actor`, `kind` and `kind_label`, `key`, `before` and `after` (null: not there
    before, or no longer), `summary`; `earlier`, the `before` of the next (older) page, null on the oldest.
    422 `invalid-change-kind`."""
    return service.listed_view(service.list_changes(session, kind=kind, before=before, limit=limit))
