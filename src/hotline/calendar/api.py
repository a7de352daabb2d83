"""HTTP resources of hotline.calendar: a month of the working-day calendar, an administrator's changes to single
days, and the import of a year's holiday arrangement. Every change moves the deadlines it gives days back
(`workorders.service.change_calendar`) and answers with the orders whose deadlines moved (`redated`). Changes are
recorded as the signed-in account's, or with sign-in off as the name sent, else as 管理员."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.accounts.api import signed_actor
from hotline.accounts.domain import Grant
from hotline.calendar import service
from hotline.deps import SESSION
from hotline.tables import read_table, uploaded
from hotline.timeutil import china_day, now, parse_day
from hotline.workorders import service as orders

router = APIRouter(prefix="/api/calendar", tags=["calendar"])


class DayIn(BaseModel):
    kind: str = Field(description="workday（工作日）或 holiday（休息日）")
    note: str = Field(default="", description="说明，如：国务院办公厅通知")
    set_by: str = ""


def redated_dicts(moved: list[orders.Redated]) -> list[dict[str, Any]]:
    """The orders whose deadlines the change moved (each also in its history): `before` and `after` of `due` (null
    when only the 签收 or 退单 limit moved), and `changes`, every deadline moved, as the history entry has them."""
    return [
        {
            "number": m.number,
            "before": m.before.isoformat() if m.before else None,
            "after": m.after.isoformat() if m.after else None,
            "changes": {name: [was.isoformat(), new.isoformat()] for name, (was, new) in m.changes.items()},
        }
        for m in moved
    ]


def day_dict(day: service.Day) -> dict[str, Any]:
    override = day.override
    return {
        "date": day.day.isoformat(),
        "is_workday": day.is_workday,
        "label": day.label,
        "tag": day.tag,
        "official_is_workday": day.official_is_workday,
        "official_known": day.official_known,
        "override": None
        if override is None
        else {"note": override.note, "set_by": override.set_by, "set_at": override.set_at.isoformat()},
    }


@router.get("/months/{month}")
def month(month: str, session: Session = SESSION) -> dict[str, Any]:
    """Every day of MONTH (YYYY-MM) as deadlines count it, and the years ahead nobody has entered yet."""
    year, number = service.parse_month(month)
    return {
        "month": f"{year:04d}-{number:02d}",
        "days": [day_dict(d) for d in service.month_days(session, year, number)],
        "unentered_years": service.unentered_years(session, china_day(now())),
    }


@router.put("/days/{day}")
def set_day(day: str, body: DayIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """Make DAY a working day or a holiday whatever the official calendar says (a local decision, or a year the
    package does not know yet)."""
    parsed = parse_day(day)
    actor = signed_actor(request, body.set_by, role=Grant.ADMIN)
    _, moved = orders.change_calendar(
        session,
        partial(service.set_override, session, parsed, body.kind, note=body.note.strip(), actor=actor),
        actor=actor,
    )
    return {**day_dict(service.describe(session, parsed)), "redated": redated_dicts(moved)}


@router.delete("/days/{day}")
def clear_day(day: str, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """Back to the official calendar for DAY."""
    parsed = parse_day(day)
    actor = signed_actor(request, "", role=Grant.ADMIN)
    clear = partial(service.clear_override, session, parsed, actor=actor)
    cleared, moved = orders.change_calendar(session, clear, actor=actor)
    return {**day_dict(service.describe(session, parsed)), "cleared": cleared, "redated": redated_dicts(moved)}


@router.post("/import")
async def import_days(
    request: Request, file: UploadFile = File(...), set_by: str = Form(""), session: Session = SESSION
) -> dict[str, Any]:
    """A year's arrangement (CSV or Excel: 日期, 类型, 说明); a wrong row writes nothing."""
    with uploaded(file.filename or "", await file.read()) as path:
        table = read_table(path, needed=service.IMPORT_COLUMNS)
    actor = signed_actor(request, set_by, role=Grant.ADMIN)
    done, moved = orders.change_calendar(
        session, partial(service.import_days, session, table, actor=actor), actor=actor
    )
    return {
        "redated": redated_dicts(moved),
        "days": done.days,
        "holidays": done.holidays,
        "workdays": done.workdays,
        "first": done.first.isoformat(),
        "last": done.last.isoformat(),
    }
