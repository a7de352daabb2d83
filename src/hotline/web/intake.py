"""The 受理 page: a call-centre agent takes a demand in as a work order.

The form posts to this module, which creates the order through `workorders.service.create_order` (the same
checks as `POST /api/orders`) and answers with the new order's page. While the content is typed, the page's
own script (static/intake.js) asks `POST /api/dispatch/suggest` for the dispatch helper's advice and
`GET /api/kb/search` for knowledge articles, and shows both beside the form; they are a help only, so the form
never waits for them and is sent whether they came or not.

The softphone opens the page on a call (来电弹屏) as `/orders/new?call_id=…&phone=…&line=…[&region=…]`: the form
comes filled with the caller's number, the number dialed and the region, and the call id travels as a hidden
field to `create_order`, so the order is linked to its call. What the query lacks of the caller's number, the line
and the region is taken from the call's routing record when the telephony side has one (so a link such as the
话务记录 page's 受理工单 needs no number in its URL; the number is filled only for a role that sees callers on
every order, `workorders.domain.sees_every_contact`). Nothing more is checked here: the
service's checks apply when the form is sent. A third panel lists the caller's earlier orders
(`GET /api/orders?phone=…&order=newest`).

The form's 「发送短信」 box (ticked by default) is the citizen's consent to the 受理回执 and 办结告知 texts
(`hotline.sms`); unticked, the order is taken in with `sms=False` and its texts are recorded as 不发送.

A demand answered on the call (咨询 mostly) is 直接办结 from the same form: the order is created and
`direct_resolve` taken in one transaction, so a refused reply or article leaves no order behind.

The form's 附件 input (multiple) carries the files the citizen sent (WeChat photos…), all or nothing: every one is
checked (`attachments.service.check_all`) before the order is created, one refused file refuses the 受理 (the form
again, the file named in the reason, nothing written), and taken they are written with the order in its
transaction (`attach_all`: history 受理, then one 上传附件 each, then 直接办结 if asked).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from hotline.accounts.domain import Grant
from hotline.accounts.policy import POLICY
from hotline.deps import SESSION
from hotline.errors import HotlineError, InvalidInput
from hotline.web.pages import render
from hotline.web.viewer import Viewer, page_roles, viewer_of

router = APIRouter(include_in_schema=False)

TITLE = "受理工单"
PAGE = "/orders/new"
# The roles `service.create_order` lets take a demand in (the access table's INTAKE); the page offers those the
# account holds.
INTAKE_ROLES = tuple(g.value for g in Grant if POLICY.allows("POST", PAGE, (g,)))
_BLANK: dict[str, Any] = {
    "type": "", "content": "", "caller_name": "", "phone": "", "region": "", "place": "", "line": "",
    "channel": "phone", "urgency": "normal", "category": "", "confidential": False, "actor": "",
    "reply": "", "article": "", "call_id": "", "sms": True, "files": 0,
}  # fmt: skip
FINISH_DIRECT = "direct"  # the 直接办结 button's value (the 受理 button sends "register")


def _direct_roles() -> list[str]:
    """The intake roles the lifecycle lets answer a just registered demand at once (直接办结)."""
    from hotline.workorders import domain as wo

    return [
        r for r in INTAKE_ROLES if wo.Action.DIRECT_RESOLVE in wo.available_actions(wo.State.REGISTERED, wo.Role(r))
    ]


def _page(
    request: Request,
    session: Session,
    form: dict[str, Any],
    role: str,
    error: HotlineError | None = None,
) -> HTMLResponse:
    from hotline.attachments import domain as attachments
    from hotline.attachments import service as files
    from hotline.workorders import domain as wo
    from hotline.workorders import service as orders

    tree = orders.category_tree(session)
    direct_roles = _direct_roles()
    firsts = list(dict.fromkeys(a for a, _, _ in tree))
    return render(
        request,
        "order_new.html",
        TITLE,
        status_code=error.http_status if error is not None else 200,
        error=error,
        form=form,
        role=role,
        roles=page_roles(request, PAGE),
        # The role chosen may be changed on the page: the script shows 直接办结 for these roles only.
        direct_roles=direct_roles,
        can_direct=role in direct_roles,
        types=[t.value for t in wo.OrderType],
        channels=[(c.value, label) for c, label in wo.CHANNEL_LABELS.items()],
        urgencies=[(u.value, label) for u, label in wo.URGENCY_LABELS.items()],
        # Offered in the 分类 field: first and second levels (a prefix of the tree is a valid category).
        category_paths=firsts + list(dict.fromkeys(f"{a}/{b}" for a, b, _ in tree)),
        # The helper suggests a first-level name: it may be copied into the field only when the tree holds it.
        copyable=firsts,
        max_content=orders.MAX_CONTENT,
        # The 附件 input only for the roles that add files (an administrator takes demands in, adds no files).
        may_attach=role in {r.value for r in attachments.UPLOADERS},
        files_limit=attachments.MAX_PER_ORDER,
        files_max_mb=files.max_bytes() // (1024 * 1024),
        files_allowed=attachments.ALLOWED_TEXT,
    )


def _acting(request: Request, role: str, actor: str = "") -> Viewer:
    """Who takes the demand in: the role chosen, else the first the account holds that may take orders in
    (an account's first role may be one that cannot, as a supervisor who also dispatches); signed in, the
    account is the actor, whatever ACTOR says."""
    return viewer_of(request, role, actor=actor, default="agent", page=PAGE)


def _from_call(session: Session, call_id: str, role: str) -> dict[str, str]:
    """The region, the number dialed and the caller's number of a call, from its routing record
    (`telephony.service.get_call`), the number only for a ROLE that sees callers in full; none for a call the
    platform did not route."""
    from hotline.telephony import service as telephony
    from hotline.workorders import domain as wo

    full = role in {r.value for r in wo.Role} and wo.sees_every_contact(wo.Role(role))
    try:
        decision = telephony.get_call(session, call_id, mask=not full)["decision"]
    except HotlineError:
        return {}
    if not decision:
        return {}
    return {"region": decision["region_code"], "line": decision["dialed"], "phone": decision["caller"] if full else ""}


@router.get("/orders/new", response_class=HTMLResponse)
def intake_page(
    request: Request,
    role: str = "",
    phone: str = "",
    line: str = "",
    call_id: str = "",
    region: str = "",
    session: Session = SESSION,
) -> HTMLResponse:
    # 来电弹屏: what the softphone knows of the call fills the form; the agent may still change all of it.
    form = {
        **_BLANK,
        "phone": phone.strip(),
        "line": line.strip(),
        "call_id": call_id.strip(),
        "region": region.strip(),
    }
    try:
        role = _acting(request, role).role
    except HotlineError as exc:
        return _page(request, session, form, role, error=exc)
    if form["call_id"] and not (form["line"] and form["region"] and form["phone"]):
        known = _from_call(session, form["call_id"], role)
        for field in ("phone", "line", "region"):
            form[field] = form[field] or known.get(field, "")
    return _page(request, session, form, role)


def _chosen(files: list[UploadFile | str] | None) -> list[UploadFile]:
    """The files sent; the empty part a browser sends when no file was chosen (a string to Starlette) is none."""
    return [f for f in files or [] if not isinstance(f, str) and (f.filename or f.size)]


def _uploads(chosen: list[UploadFile]) -> list[tuple[str, bytes]]:
    """The files as (name, bytes), each read no further than one byte past the limit (refused as too large). More
    than an order takes are refused before any is read: a post of a thousand parts is not held in memory."""
    from hotline.attachments import domain, service

    domain.check_count(0, len(chosen))
    return [(f.filename or "", f.file.read(service.max_bytes() + 1)) for f in chosen]


@router.post("/orders/new", response_class=HTMLResponse)
def take_in(
    request: Request,
    type: Annotated[str, Form()] = "",
    content: Annotated[str, Form()] = "",
    caller_name: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    region: Annotated[str, Form()] = "",
    place: Annotated[str, Form()] = "",
    line: Annotated[str, Form()] = "",
    channel: Annotated[str, Form()] = "phone",
    urgency: Annotated[str, Form()] = "normal",
    category: Annotated[str, Form()] = "",
    confidential: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    reply: Annotated[str, Form()] = "",
    article: Annotated[str, Form()] = "",
    call_id: Annotated[str, Form()] = "",
    finish: Annotated[str, Form()] = "",
    sms: Annotated[str, Form()] = "",
    sms_asked: Annotated[str, Form()] = "",
    files: Annotated[list[UploadFile | str] | None, File()] = None,  # str: the empty part of no file chosen
    session: Session = SESSION,
) -> Response:
    from hotline.attachments import service as attachments
    from hotline.workorders import service as orders

    chosen = _chosen(files)

    form: dict[str, Any] = {
        "type": type, "content": content, "caller_name": caller_name, "phone": phone, "region": region,
        "place": place, "line": line, "channel": channel, "urgency": urgency, "category": category,
        "confidential": bool(confidential), "actor": actor, "reply": reply, "article": article.strip(),
        "call_id": call_id,
        # 「发送短信」: an unticked box sends nothing, so the form says it asked; a post that never asked sends them
        "sms": bool(sms) or not sms_asked,
        "files": len(chosen),  # a file input cannot be filled again: the form shown again says to choose them again
    }  # fmt: skip
    try:
        who = _acting(request, role, actor)
        if not region.strip():
            raise InvalidInput("请选择地区", code="region-required")
        uploads = _uploads(chosen)
        attachments.check_all(uploads, role=who.role)  # before anything is written
        order = orders.create_order(
            session,
            type=type,
            content=content,
            phone=phone,
            region=region,
            channel=channel or "phone",
            caller_name=caller_name,
            line=line,
            call_id=call_id,
            category=category,
            place=place,
            urgency=urgency or "normal",
            confidential=bool(confidential),
            sms=form["sms"],
            role=who.role,
            actor=who.actor,
        )
        session.flush()
        attachments.attach_all(session, order, uploads, role=who.role, actor=who.actor)
        if finish == FINISH_DIRECT:
            # Same role and actor as the 受理 just recorded; a refusal here rolls the new order back too.
            orders.act(
                session,
                order,
                "direct_resolve",
                role=who.role,
                actor=who.actor,
                reply=reply,
                article=article.strip() or None,
            )
    except HotlineError as exc:
        session.rollback()  # nothing half-written: the number taken, if any, is given back with the rest
        return _page(request, session, form, role, error=exc)
    # The order's page as the role that took it in (without sign-in a page is otherwise viewed as a supervisor).
    query = urlencode({"created": 1, "role": who.role})
    return RedirectResponse(f"/orders/{quote(order.number, safe='')}?{query}", status_code=303)
