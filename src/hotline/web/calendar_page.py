"""工作日历: a month of the calendar the deadlines count on (the State Council's arrangement, make-up working days,
an administrator's local changes), the years ahead nobody has entered yet, and — for those who may change it
(the access table's `POST /calendar/…`) — forms to set or clear a day and to import a year's arrangement; below, the
变更记录 of the calendar's days (`web.change_records`), for those who may read it."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from hotline.calendar import service as calendar
from hotline.changelog.domain import Kind
from hotline.deps import SESSION
from hotline.errors import HotlineError, InvalidInput
from hotline.tables import read_table, uploaded
from hotline.timeutil import china_day, now, parse_day
from hotline.web.change_records import change_records, wanted_before
from hotline.web.pages import render
from hotline.web.viewer import viewer_of
from hotline.workorders import service as orders
from hotline.workorders.domain import DEADLINE_LABELS, redated_text

router = APIRouter(include_in_schema=False)

TITLE = "工作日历"
DEFAULT_ROLE = "admin"  # with sign-in off and no role named: the one who keeps the calendar
WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")
_NOTICES = {"set": "已设置", "cleared": "已恢复按官方日历"}


@router.get("/calendar", response_class=HTMLResponse)
def calendar_page(
    request: Request,
    month: str = "",
    role: str = "",
    done: str = "",
    redated: str = "",
    changes_before: str = "",  # the 变更记录 older than this record (更早)
    session: Session = SESSION,
) -> HTMLResponse:
    notice = _notice(done, redated)
    return _page(request, session, month, role, notice=notice, changes_before=wanted_before(changes_before))


@router.post("/calendar/days")
def set_form(
    request: Request,
    day: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    month: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    typed = {"day": day, "kind": kind, "note": note}
    try:
        viewer = viewer_of(request, role, default=DEFAULT_ROLE)
        viewer.require("POST", "/calendar/days")
        if not day.strip():
            raise InvalidInput("请填写日期", code="date-required")
        parsed = parse_day(day)
        change = partial(calendar.set_override, session, parsed, kind, note=note.strip(), actor=viewer.actor)
        _, moved = orders.change_calendar(session, change, actor=viewer.actor)
        session.commit()
    except HotlineError as exc:
        session.rollback()
        return _page(request, session, month, role, error=exc, typed=typed)
    return _back(parsed.strftime("%Y-%m"), viewer.role, f"set:{parsed.isoformat()}", moved)


@router.post("/calendar/days/clear")
def clear_form(
    request: Request,
    day: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    try:
        viewer = viewer_of(request, role, default=DEFAULT_ROLE)
        viewer.require("POST", "/calendar/days/clear")
        parsed = parse_day(day)
        _, moved = orders.change_calendar(
            session, partial(calendar.clear_override, session, parsed, actor=viewer.actor), actor=viewer.actor
        )
        session.commit()
    except HotlineError as exc:
        session.rollback()
        return _page(request, session, day[:7], role, error=exc)
    return _back(parsed.strftime("%Y-%m"), viewer.role, f"cleared:{parsed.isoformat()}", moved)


@router.post("/calendar/import")
async def import_form(
    request: Request,
    file: Annotated[UploadFile | None, File()] = None,
    month: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    try:
        viewer = viewer_of(request, role, default=DEFAULT_ROLE)
        viewer.require("POST", "/calendar/import")
        if file is None or not file.filename:
            raise InvalidInput("请选择放假安排文件（CSV 或 Excel）", code="file-required")
        with uploaded(file.filename, await file.read()) as path:
            table = read_table(path, needed=calendar.IMPORT_COLUMNS)
        change = partial(calendar.import_days, session, table, actor=viewer.actor)
        done, moved = orders.change_calendar(session, change, actor=viewer.actor)
        session.commit()
    except HotlineError as exc:
        session.rollback()
        return _page(request, session, month, role, error=exc)
    summary = f"imported:{done.days}:{done.holidays}:{done.workdays}:{done.first}:{done.last}"
    return _back(done.first.strftime("%Y-%m"), viewer.role, summary, moved)


def _back(month: str, role: str, done: str, moved: list[orders.Redated]) -> RedirectResponse:
    # The orders whose 办理期限, 签收时限 and 退单时限 moved, as three counts: "3,1,2".
    counts = orders.redated_counts(moved)
    query = {"month": month, "role": role, "done": done, "redated": ",".join(str(counts[k]) for k in DEADLINE_LABELS)}
    return RedirectResponse(f"/calendar?{urlencode(query)}", status_code=303)


def _notice(done: str, redated: str) -> str:
    """The redirect's words: what was just changed (the figures travel in the URL, read back as numbers only)."""
    what, _, rest = done.partition(":")
    parts = rest.split(":")
    said = ""
    try:
        if what == "imported" and len(parts) == 5:
            days, holidays, workdays = (int(p) for p in parts[:3])
            first, last = (date.fromisoformat(p) for p in parts[3:])
            said = f"已导入 {days} 天（{first} 至 {last}）：放假 {holidays} 天，上班 {workdays} 天"
        elif what in _NOTICES and len(parts) == 1:
            said = f"{_NOTICES[what]}：{date.fromisoformat(parts[0])}"
    except ValueError:
        return ""
    counts = redated.split(",")
    if said and len(counts) <= len(DEADLINE_LABELS) and all(c.isascii() and c.isdigit() for c in counts):
        moved = redated_text(dict(zip(DEADLINE_LABELS, map(int, counts), strict=False)))
        said += f"；{moved}（见各工单的办理记录）" if moved else ""
    return said


def _page(
    request: Request,
    session: Session,
    month: str,
    role: str,
    *,
    notice: str = "",
    error: HotlineError | None = None,
    typed: dict[str, str] | None = None,
    changes_before: int | None = None,
) -> HTMLResponse:
    today = china_day(now())
    context: dict[str, Any] = {"month": month, "weeks": [], "error": error, "typed": typed or {}, "today": today}
    try:
        viewer = viewer_of(request, role, default=DEFAULT_ROLE)
        year, number = calendar.parse_month(month) if month.strip() else (today.year, today.month)
        days = calendar.month_days(session, year, number)
        missing = calendar.unentered_years(session, today)
    except HotlineError as exc:
        return render(
            request, "calendar.html", TITLE, status_code=exc.http_status, **{**context, "error": error or exc}
        )
    first = date(year, number, 1)
    context.update(
        month=f"{year:04d}-{number:02d}",
        previous=(first - timedelta(days=1)).strftime("%Y-%m"),
        following=(first + timedelta(days=32)).strftime("%Y-%m"),
        weeks=_weeks(days),
        weekdays=WEEKDAYS,
        workdays=sum(1 for d in days if d.is_workday),
        official_known=days[0].official_known,
        unentered=missing,
        viewer=viewer,
        can_change=viewer.may("POST", "/calendar/days"),
        notice=notice,
        changes=change_records(
            session,
            viewer,
            "/calendar",
            kind=Kind.CALENDAR.value,
            before=changes_before,
            keep={"month": f"{year:04d}-{number:02d}"},
            choose_kind=False,
        ),
    )
    return render(
        request,
        "calendar.html",
        f"{TITLE} · {year}年{number}月",
        status_code=error.http_status if error is not None else 200,
        **context,
    )


def _weeks(days: list[calendar.Day]) -> list[list[calendar.Day | None]]:
    """The month as rows Monday to Sunday, blanks before the first and after the last day."""
    cells: list[calendar.Day | None] = [None] * days[0].day.weekday() + list(days)
    cells += [None] * (-len(cells) % 7)
    return [cells[i : i + 7] for i in range(0, len(cells), 7)]
