"""附件 on the order page (/orders/{number}): the order's files (name, type, size, who, when; images as thumbnails,
each linked to its download, `attachments.api`), and the upload form for the roles that may add one, posted like the
page's other steps (`viewer.posted_step`): done, back to the page with its notice; refused, the page again with the
reason in the 附件 section, nothing written.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from hotline.accounts.api import acting
from hotline.accounts.domain import Acting
from hotline.attachments import domain as a
from hotline.attachments import service
from hotline.attachments.api import read_upload
from hotline.deps import SESSION
from hotline.errors import HotlineError
from hotline.web.viewer import Viewer, posted_step, viewer_of

router = APIRouter(include_in_schema=False)

DONE = "attach"
DEFAULT_ROLE = "supervisor"  # the order page's own default


def _query(who: Acting) -> str:
    return urlencode({"role": who.role, **({"unit": who.unit} if who.unit else {})})


def context(
    session: Session, order: dict[str, Any], who: Acting, *, done: str = "", error: HotlineError | None = None
) -> dict[str, Any]:
    """What order.html's 附件 section needs: ORDER's files (a `show_order` view) with their download links for WHO,
    whether WHO may add one, the notice of an upload just done and a refused upload's error, and the link to the
    citizen's photo an Open311 app sent (`media_url`, never fetched)."""
    number = order["number"]
    base = f"/api/orders/{quote(number, safe='')}/attachments"
    query = _query(who)
    items = [{**item, "href": f"{base}/{item['id']}?{query}"} for item in service.list_attachments(
        session, number, role=who.role, unit=who.unit)]  # fmt: skip
    lead = order["lead_unit"]
    return {
        "files": items,
        "media_url": service.media_url(session, number, role=who.role, unit=who.unit),
        "may_upload": service.may_upload(who.role, order["state"], unit=who.unit, lead_unit=lead and lead["code"]),
        # The limit is each order's own: the files listed from the demand's other orders do not fill this one.
        "full": sum(1 for item in items if item["order_number"] is None) >= a.MAX_PER_ORDER,
        "limit": a.MAX_PER_ORDER,
        "max_mb": service.max_bytes() // (1024 * 1024),
        "allowed": a.ALLOWED_TEXT,
        "notice": "已上传附件" if done == DONE else "",
        "error": error,
    }


def _unshown(request: Request, number: str, role: str, exc: HotlineError) -> HTMLResponse:
    """The refusal alone, no order shown: the request's role or unit is not the account's."""
    from hotline.web.pages import render

    return render(
        request, "order.html", f"工单 {number}", status_code=exc.http_status, error=exc, order=None, role=role
    )


def _refused(request: Request, session: Session, number: str, who: Acting, exc: HotlineError) -> HTMLResponse:
    """The order page again as it now stands, the refusal in its 附件 section."""
    from hotline.web.order_actions import work_context
    from hotline.web.pages import render
    from hotline.workorders import service as orders

    title = f"工单 {number}"
    try:
        order = orders.show_order(session, number, who.role, unit=who.unit)
    except HotlineError:
        return _unshown(request, number, who.role, exc)
    work = work_context(session, request, order, who)
    work["attachments"]["error"] = exc
    return render(request, "order.html", title, status_code=exc.http_status, order=order, role=who.role, **work)


@router.post("/orders/{number}/attachments")
async def attach_form(
    request: Request,
    number: str,
    file: Annotated[UploadFile | None, File()] = None,
    role: Annotated[str, Form()] = "",
    unit: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    """上传附件 from the order page (POST, then 303 back to it)."""
    data = await read_upload(file) if file is not None else b""
    name = file.filename or "" if file is not None else ""
    # The role and unit checked against the account before anything is shown: a refusal renders the order page
    # as them, so unchecked form values would show another unit's order (as order_actions.act_form does).
    try:
        acted = acting(request, role or None, unit or None, actor, default=DEFAULT_ROLE)
    except HotlineError as exc:
        return _unshown(request, number, role, exc)

    def viewer() -> Viewer:
        return viewer_of(request, role, default=DEFAULT_ROLE, actor=actor)

    def work(who: Viewer) -> None:
        service.attach(session, number, data, name, role=who.role, actor=acted.actor or who.actor, unit=acted.unit)

    def done(_who: Viewer) -> str:
        return f"/orders/{quote(number, safe='')}?{_query(acted)}&done={DONE}#attachments"

    return await run_in_threadpool(
        posted_step,
        session,
        viewer,
        f"/orders/{number}/attachments",
        work,
        refused=lambda exc: _refused(request, session, number, acted, exc),
        done=done,
    )
