"""HTTP resources of hotline.plan: catalogue, regions, plan status, overdue items, records, local lines."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.accounts.api import signed_actor
from hotline.deps import SESSION
from hotline.plan import service
from hotline.plan.domain import STATUS_LABELS, Milestone, Status
from hotline.settings import get_settings

router = APIRouter(tags=["plan"])


class LocalLineIn(BaseModel):
    number: str = Field(description="号码（3至20位数字）")
    name: str = Field(description="热线名称")
    units: list[str] = Field(default_factory=list, description="责任单位")
    note: str = ""
    registered_by: str = ""


class RecordIn(BaseModel):
    line: str = Field(description="热线号码")
    milestone: str = Field(description="里程碑编号，如 transition")
    region: str = Field(description="地区：代码、名称或别名")
    done: date | None = Field(default=None, description="完成日期")
    postpone: date | None = Field(default=None, description="延期至")
    note: str = ""
    recorded_by: str = ""


class HoursIn(BaseModel):
    opens: time
    closes: time
    region: str | None = Field(default=None, description="地区；为空时适用于全部地区")
    workdays_only: bool = True
    set_by: str = ""


@router.get("/api/lines")
def lines(session: Session = SESSION) -> list[dict[str, Any]]:
    """Every number the platform knows: 12345, the plan's lines, local lines, emergency numbers."""
    return [line.to_dict() for line in service.list_lines(session)]


@router.get("/api/lines/{number}")
def line(number: str, session: Session = SESSION) -> dict[str, Any]:
    found = service.get_line(session, number)
    return {**found.to_dict(), "milestones": [_milestone(m) for m in service.list_milestones(session, number)]}


@router.post("/api/lines", status_code=201)
def add_line(body: LocalLineIn, request: Request, session: Session = SESSION) -> dict[str, Any]:
    """Register a local line (整体并入, set up by a provincial department or a city)."""
    created = service.add_local_line(
        session,
        body.number,
        body.name,
        units=body.units,
        note=body.note,
        actor=signed_actor(request, body.registered_by),
    )
    return created.to_dict()


@router.get("/api/regions")
def regions() -> list[dict[str, str]]:
    return [{"code": r.code, "name": r.name} for r in service.list_regions()]


@router.get("/api/plan/status")
def plan_status(
    region: str | None = Query(None, description="地区；为空时为全部地区"),
    at: date | None = Query(None, description="评估日期，默认今天"),
    session: Session = SESSION,
) -> dict[str, Any]:
    """Every (line, milestone, region) with plan date, effective date and done / due / overdue."""
    items = service.status(session, region, at)
    counts = {s.value: sum(1 for i in items if i.status is s) for s in Status}
    return {
        "counts": counts,
        "labels": {s.value: STATUS_LABELS[s] for s in Status},
        "items": [i.to_dict() for i in items],
    }


@router.get("/api/plan/overdue")
def plan_overdue(
    region: str | None = Query(None),
    at: date | None = Query(None),
    session: Session = SESSION,
) -> list[dict[str, Any]]:
    """Overdue milestones per responsible unit."""
    return [
        {"unit": unit, "count": len(items), "items": [i.to_dict() for i in items]}
        for unit, items in service.overdue(session, at, region).items()
    ]


@router.get("/api/plan/records")
def plan_records(
    line: str | None = Query(None), region: str | None = Query(None), session: Session = SESSION
) -> list[dict[str, object]]:
    """The history of recorded completions and postponements (who, when, why)."""
    return [r.to_dict() for r in service.history(session, line, region)]


@router.post("/api/plan/records", status_code=201)
def record(body: RecordIn, request: Request, session: Session = SESSION) -> dict[str, object]:
    """Record a milestone done on a date (`done`) or postponed (`postpone`) for one line in one region."""
    rec = service.record_milestone(
        session,
        body.line,
        body.milestone,
        body.region,
        done=body.done,
        postpone=body.postpone,
        note=body.note,
        actor=signed_actor(request, body.recorded_by),
    )
    return rec.to_dict()


@router.put("/api/subcenters/{number}/hours")
def set_hours(number: str, body: HoursIn, request: Request, session: Session = SESSION) -> dict[str, object]:
    """Service hours of a sub-centre before 7×24, for one region or all."""
    hours = service.set_subcenter_hours(
        session,
        number,
        body.opens,
        body.closes,
        region_code=body.region,
        workdays_only=body.workdays_only,
        actor=signed_actor(request, body.set_by),
    )
    return {
        "number": number,
        "region": body.region,
        "opens": hours.opens.isoformat(timespec="minutes"),
        "closes": hours.closes.isoformat(timespec="minutes"),
        "workdays_only": hours.workdays_only,
        "description": hours.describe(),
    }


def _milestone(m: Milestone) -> dict[str, object]:
    return {
        "id": m.id,
        "title": m.title,
        "description": m.description,
        "plan_date": m.plan_date(get_settings().plan_year).isoformat(),
    }
