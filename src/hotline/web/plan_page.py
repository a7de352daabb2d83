"""整合进度: every integration line's milestones in one region on one date, and — for those who record the plan's
progress (`POST /plan/records` in the access table) — a form on each milestone not yet done to record it done
or postponed (`plan.service.record_milestone`, kept in the plan's history as the API's records are)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from hotline.deps import SESSION
from hotline.errors import HotlineError, InvalidInput
from hotline.plan import service as plan_service
from hotline.plan.domain import MODE_LABELS, RecordKind, Status
from hotline.plan.regions import PROVINCE, find_region
from hotline.timeutil import china_day, now, parse_day
from hotline.web.pages import render
from hotline.web.viewer import viewer_of

router = APIRouter(include_in_schema=False)

TITLE = "整合进度"
DEFAULT_ROLE = "supervisor"  # with sign-in off and no role named, as the order pages
RECORD = "/plan/records"
KIND_LABELS = {RecordKind.DONE: "已完成", RecordKind.POSTPONE: "延期至"}


@router.get("/plan", response_class=HTMLResponse)
def plan_page(
    request: Request,
    region: str = PROVINCE.name,
    on: str | None = None,
    role: str = "",
    recorded: str = "",
    session: Session = SESSION,
) -> HTMLResponse:
    return _page(request, session, region, on or "", role, recorded=recorded)


@router.post(RECORD)
def record_form(
    request: Request,
    line: Annotated[str, Form()] = "",
    milestone: Annotated[str, Form()] = "",
    region: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    day: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    on: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    typed = {"line": line, "milestone": milestone, "kind": kind, "day": day, "note": note}
    try:
        viewer = viewer_of(request, role, default=DEFAULT_ROLE)
        viewer.require("POST", RECORD)
        when = _record_day(kind, day)
        record = plan_service.record_milestone(
            session,
            line,
            milestone,
            region,
            done=when if kind == RecordKind.DONE else None,
            postpone=when if kind == RecordKind.POSTPONE else None,
            note=note.strip(),
            actor=viewer.actor,
        )
        session.commit()
    except HotlineError as exc:
        session.rollback()
        return _page(request, session, region or PROVINCE.name, on, role, error=exc, typed=typed)
    query = {"region": find_region(record.region).name, "on": on, "role": viewer.role}
    query["recorded"] = f"{record.line}/{record.milestone}"
    return RedirectResponse(f"/plan?{urlencode({k: v for k, v in query.items() if v})}", status_code=303)


def _record_day(kind: str, day: str) -> date:
    if kind not in {k.value for k in RecordKind}:
        raise InvalidInput("请选择登记内容：已完成或延期", code="record-kind-required")
    if not day.strip():
        raise InvalidInput("请填写日期", code="date-required")
    return parse_day(day)


def _page(
    request: Request,
    session: Session,
    region: str,
    on: str,
    role: str,
    *,
    recorded: str = "",
    error: HotlineError | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {"region": region, "on": on, "rows": [], "error": error, "typed": typed or {}}
    try:
        viewer = viewer_of(request, role, default=DEFAULT_ROLE)
        chosen = find_region(region)
        shown = parse_day(on) if on else china_day(now())
        statuses = plan_service.status(session, chosen.code, shown)
    except HotlineError as exc:
        return render(request, "plan.html", TITLE, status_code=exc.http_status, **{**context, "error": error or exc})
    rows: dict[str, dict[str, Any]] = {}
    for item in statuses:
        row = rows.setdefault(
            item.line.number, {"line": item.line, "mode": MODE_LABELS[item.line.mode], "milestones": []}
        )
        row["milestones"].append(item)
    context.update(
        region=chosen.name,
        region_code=chosen.code,
        on=shown.isoformat(),
        rows=list(rows.values()),
        status=Status,
        viewer=viewer,
        can_record=viewer.may("POST", RECORD),
        kinds=[(k.value, label) for k, label in KIND_LABELS.items()],
        notice=_notice(statuses, recorded),
        today=china_day(now()).isoformat(),
    )
    return render(
        request,
        "plan.html",
        f"{TITLE} · {chosen.name}",
        status_code=error.http_status if error is not None else 200,
        **context,
    )


def _notice(statuses: list[Any], recorded: str) -> str:
    """What the redirect after a record says: the milestone and what was recorded, read back from the plan."""
    line, _, milestone = recorded.partition("/")
    item = next((s for s in statuses if s.line.number == line and s.milestone.id == milestone), None)
    if item is None or item.latest is None:
        return ""
    what = KIND_LABELS[item.latest.kind]
    return f"已登记：{item.line.number} {item.line.name} · {item.milestone.title} {what} {item.latest.day}"
