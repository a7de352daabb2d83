"""漏话回拨: the callback tasks of missed calls, open ones oldest first (待回拨) or those dealt with (已处理), and — for
those who dial (`POST /callbacks/{id}/attempts` in the access table: 话务员, 派单员, administrators) — a form on each
open task to record an attempt (`telephony.callbacks.record_attempt`, as `POST /api/callbacks/{id}/attempts`).

Thin handlers over `telephony.callbacks`. Who may open the page is the access table's rule; with sign-in off the page
is viewed as the role named (`role`, by default 话务员: the page is their work list). Callers' numbers are shown in
full to the roles that see the caller on every work order, as on 话务记录 (they dial them), masked for the others.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from hotline.accounts.domain import Grant
from hotline.accounts.policy import POLICY
from hotline.deps import SESSION
from hotline.errors import HotlineError
from hotline.tables import whole_number
from hotline.telephony import callbacks
from hotline.telephony.domain import CALLBACK_OUTCOME_LABELS, CallbackOutcome
from hotline.web.pages import render
from hotline.web.viewer import Viewer, page_roles, page_viewer, posted_step
from hotline.workorders import domain as wo

router = APIRouter(include_in_schema=False)

TITLE = "漏话回拨"
PAGE = "/callbacks"
DEFAULT_ROLE = "agent"
TABS = (("open", "待回拨"), ("closed", "已处理"))


def _attempt_path(callback_id: int) -> str:
    return f"/callbacks/{callback_id}/attempts"


def _viewer(request: Request, role: str, actor: str = "") -> Viewer:
    return page_viewer(request, role, PAGE, default=DEFAULT_ROLE, actor=actor)


@router.get(PAGE, response_class=HTMLResponse)
def callbacks_page(
    request: Request,
    role: str = "",
    state: str = "open",
    region: str = "",
    overdue: str = "",
    done: str = "",
    session: Session = SESSION,
) -> HTMLResponse:
    return _page(request, session, role, state, region, overdue, done=done)


@router.post("/callbacks/{callback_id}/attempts")
def attempt_form(
    request: Request,
    callback_id: int,
    outcome: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    order: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    region: Annotated[str, Form()] = "",
    overdue: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    typed = {"id": callback_id, "outcome": outcome, "note": note, "order": order}

    def back(viewer: Viewer) -> str:
        query = {"role": viewer.role, "region": region, "overdue": overdue, "done": str(callback_id)}
        return f"{PAGE}?{urlencode({k: v for k, v in query.items() if v})}"

    return posted_step(
        session,
        lambda: _viewer(request, role, actor),
        _attempt_path(callback_id),
        lambda viewer: callbacks.record_attempt(
            session, callback_id, outcome, note=note, order=order, actor=viewer.actor
        ),
        refused=lambda exc: _page(request, session, role, "open", region, overdue, error=exc, typed=typed),
        done=back,
    )


def _page(
    request: Request,
    session: Session,
    role: str,
    state: str,
    region: str,
    overdue: str,
    *,
    done: str = "",
    error: HotlineError | None = None,
    typed: dict[str, Any] | None = None,
) -> HTMLResponse:
    state = state if state in dict(TABS) else "open"
    context: dict[str, Any] = {
        "role": role,
        "roles": page_roles(request, PAGE),
        "state": state,
        "region": region.strip(),
        "overdue": bool(overdue),
        "callbacks": [],
        "total": None,
        "error": error,
        "typed": typed or {},
        "outcomes": [(o.value, label) for o, label in CALLBACK_OUTCOME_LABELS.items()],
        "reached": CallbackOutcome.REACHED.value,
        **callbacks.callback_rules(),
    }
    try:
        viewer = _viewer(request, role)
        full = wo.sees_every_contact(wo.Role(viewer.role))
        context.update(role=viewer.role, viewer=viewer, full_numbers=full)
        found = callbacks.list_callbacks(session, state=state, region=region, overdue=bool(overdue), mask=not full)
    except HotlineError as exc:
        return render(
            request, "callbacks.html", TITLE, status_code=exc.http_status, **{**context, "error": error or exc}
        )
    base = {"role": viewer.role, "region": context["region"]}
    context.update(
        callbacks=found["callbacks"],
        total=found["total"],
        can_record=viewer.acts_as("POST", _attempt_path(0)),
        takes_in=viewer.acts_as("GET", "/orders/new"),
        tabs=[(value, label, f"{PAGE}?{urlencode({**base, 'state': value})}") for value, label in TABS],
        notice=_notice(session, done, mask=not full),
    )
    return render(
        request, "callbacks.html", TITLE, status_code=error.http_status if error is not None else 200, **context
    )


def _notice(session: Session, done: str, *, mask: bool) -> str:
    """What the redirect after an attempt says, read back from the task."""
    task_id = whole_number(done)
    if task_id is None:
        return ""
    try:
        task = callbacks.get_callback(session, task_id, mask=mask)
    except HotlineError:
        return ""
    if not task["attempts"]:
        return ""
    last = task["attempts"][-1]
    after = "，继续待回拨" if task["open"] else f"，任务结束：{task['state_label']}"
    return f"已登记回拨 {task['caller']}：{last['outcome_label']}{after}"


def todo_line(session: Session, role: str) -> dict[str, Any] | None:
    """The 待回拨 line of 我的待办 for those who call back: the roles the access table lets record an attempt
    (话务员, 派单员, administrators), else None."""
    if not POLICY.allows("POST", _attempt_path(0), tuple(g for g in Grant if g.value == role)):
        return None
    count, late = callbacks.open_counts(session)
    href = f"{PAGE}?{urlencode({'role': role})}"
    return {"count": count, "overdue": late, "href": href, "overdue_href": f"{href}&overdue=1"}
