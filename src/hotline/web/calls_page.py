"""The 话务记录 pages: the calls the platform routed, a day at a time, and one call in full (来电详情).

Thin handlers over `telephony.service` (`call_records` and `call_detail`, the functions behind /telephony/calls,
and `day_report`: the day's figures and calls per number dialed) and `workorders.service.numbers_by_call` (each call's 关联工单). Who may open
them is the access table's rule (DESK); with sign-in off the page is viewed as the role named (`role`, by default
督办审核员 as on the order pages) and refused to a role outside DESK the same way. Callers' numbers are shown in full
only to the roles that see the caller on every work order (`workorders.domain.sees_every_contact`), masked for the
others; the roles that take demands in (INTAKE) get a 受理工单 link per call, which opens the 受理 page on the call
(web.intake fills the number, the line and the region from the call's record: no number travels in the URL).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from hotline.deps import SESSION
from hotline.errors import HotlineError, InvalidInput
from hotline.plan import service as plan_service
from hotline.supervision.service import period_bounds
from hotline.telephony import service as telephony
from hotline.telephony.domain import DECISION_LABELS, OUTCOME_LABELS
from hotline.timeutil import china_day, now, parse_day
from hotline.web.pages import _error_page, render
from hotline.web.viewer import page_roles, page_viewer
from hotline.workorders import domain as wo
from hotline.workorders import service as orders

router = APIRouter(include_in_schema=False)

TITLE = "话务记录"
DEFAULT_ROLE = "supervisor"  # with sign-in off and no role named, as the order pages
PAGE = "/calls"
PAGE_SIZE = 50


@dataclass(frozen=True)
class CallsView:
    """What the role the page is viewed as may see and do there."""

    role: str
    sees_callers: bool  # callers' numbers in full
    takes_in: bool  # 受理工单 (INTAKE)

    def call_href(self, call_id: str) -> str:
        return f"/calls/{quote(call_id, safe='')}?{urlencode({'role': self.role})}"

    def intake_href(self, call_id: str) -> str:
        return f"/orders/new?{urlencode({'call_id': call_id, 'role': self.role})}"

    def order_href(self, number: str) -> str:
        return f"/orders/{quote(number, safe='')}?{urlencode({'role': self.role})}"


def _viewer(request: Request, role: str) -> CallsView:
    """The role named (signed in: if the account holds it), else the account's first role the page is open to;
    a role the page is not open to is refused, even when the account holds another that it is (its callers'
    numbers follow the role)."""
    viewer = page_viewer(request, role, PAGE, default=DEFAULT_ROLE)
    return CallsView(
        viewer.role,
        sees_callers=wo.sees_every_contact(wo.Role(viewer.role)),
        takes_in=viewer.acts_as("GET", "/orders/new"),
    )


def _page_number(text: str) -> int:
    try:
        number = int(text.strip() or "1")
    except ValueError:
        number = 0
    if number < 1:
        raise InvalidInput("页码应为正整数", code="invalid-page")
    return number


@router.get("/calls", response_class=HTMLResponse)
def calls_page(
    request: Request,
    role: str = "",
    day: str = "",
    dialed: str = "",
    region: str = "",
    outcome: str = "",
    page: str = "",
    session: Session = SESSION,
) -> HTMLResponse:
    filters = {"day": day.strip(), "dialed": dialed.strip(), "region": region.strip(), "outcome": outcome.strip()}
    context: dict[str, Any] = {
        **filters,
        "role": role,
        "roles": page_roles(request, PAGE),
        "outcomes": [(o.value, label) for o, label in OUTCOME_LABELS.items()],
        "lines": [(line.number, line.short_name or line.name) for line in plan_service.list_lines(session)],
        "calls": [],
        "kpis": None,
        "by_line": [],
        "total": None,
    }
    try:
        viewer = _viewer(request, role)
        context.update(role=viewer.role, viewer=viewer)
        shown = parse_day(filters["day"]) if filters["day"] else china_day(now())
        number = _page_number(page)
        since, until = period_bounds(shown, shown)
        records = telephony.call_records(
            session, since, until, dialed=filters["dialed"], region=filters["region"], outcome=filters["outcome"],
            offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE, mask=not viewer.sees_callers,
        )  # fmt: skip
        report = telephony.day_report(session, since, until, region=filters["region"])
        linked = orders.numbers_by_call(session, [c["call_id"] for c in records["calls"]])
    except HotlineError as exc:
        return _error_page(request, "calls.html", TITLE, exc, **context)
    pages = max(1, math.ceil(records["total"] / PAGE_SIZE))
    query = {"role": viewer.role, **{k: v for k, v in filters.items() if v}, "day": shown.isoformat()}
    names = dict(context["lines"])
    context.update(
        by_line=[
            {
                "line": line,
                "name": names.get(line.dialed, ""),
                "href": f"/calls?{urlencode({**query, 'dialed': line.dialed})}",
            }
            for line in report.lines
        ],
        routes=list(DECISION_LABELS.items()),
        day=shown.isoformat(),
        calls=[{**c, "orders": linked.get(c["call_id"], [])} for c in records["calls"]],
        total=records["total"],
        kpis=report.kpis,
        page=number,
        pages=pages,
        previous_href=f"/calls?{urlencode({**query, 'page': number - 1})}" if number > 1 else "",
        next_href=f"/calls?{urlencode({**query, 'page': number + 1})}" if number < pages else "",
    )
    return render(request, "calls.html", TITLE, **context)


@router.get("/calls/{call_id}", response_class=HTMLResponse)
def call_page(request: Request, call_id: str, role: str = "", session: Session = SESSION) -> HTMLResponse:
    context: dict[str, Any] = {"call": None, "role": role}
    try:
        viewer = _viewer(request, role)
        context.update(role=viewer.role, viewer=viewer)
        call = telephony.call_detail(session, call_id, mask=not viewer.sees_callers)
        linked = orders.numbers_by_call(session, [call_id]).get(call_id, [])
    except HotlineError as exc:
        return _error_page(request, "call.html", "来电详情", exc, **context)
    back = f"/calls?{urlencode({'role': viewer.role, 'day': call['view']['time'][:10] if call['view'] else ''})}"
    from hotline.web.nuisance_page import call_apply_href

    nuisance = call_apply_href(session, viewer.role, call_id)  # 申请列入骚扰号码名单: a caller with a number
    context.update(call=call, orders=linked, back_href=back, nuisance_href=nuisance)
    return render(request, "call.html", "来电详情", **context)
