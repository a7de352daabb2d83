"""Working an order from its page (/orders/{number}): a form for each step the acting role may take now, and the
route the forms post to.

Which steps are offered is the lifecycle's rule (`domain.available_actions`), so the page offers nothing the
service would refuse for the role or the state; the service still checks everything (its guards may refuse),
and a refusal is shown next to the form with what was typed, nothing written.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from hotline.accounts.api import acting, identity_of
from hotline.accounts.domain import Acting
from hotline.deps import SESSION
from hotline.errors import Conflict, HotlineError, InvalidInput
from hotline.web import dispatch_hint, order_attachments, sms_page
from hotline.web.nuisance_page import apply_href
from hotline.workorders import domain as d
from hotline.workorders import service

router = APIRouter(include_in_schema=False)

A = d.Action
# What each step's form asks for, beyond its button; a step not named here is the button alone.
_FIELDS: dict[d.Action, tuple[str, ...]] = {
    A.DISPATCH: ("target_unit", "co_units", "category"),
    A.REDISPATCH: ("target_unit", "co_units", "category"),
    A.REOPEN: ("target_unit", "reason"),
    A.RETURN: ("reason",),
    A.REVIEW_REJECT: ("reason",),
    A.SUPERVISE: ("reason",),
    A.REFUSE_EXTENSION: ("reason",),
    A.AWAIT_CITIZEN: ("reason",),
    A.URGE: ("reason",),
    A.MERGE: ("master", "reason"),
    A.REQUEST_EXTENSION: ("days", "reason"),
    A.RESOLVE: ("reply",),
    A.DIRECT_RESOLVE: ("reply", "article"),
    A.CALLBACK: ("callback",),
}
# The names the service's own errors use ("退单原因不能为空"), so the field and its error read alike.
_REASON_LABELS: dict[d.Action, str] = {
    A.RETURN: "退单原因",
    A.REVIEW_REJECT: "退回理由",
    A.SUPERVISE: "督办意见",
    A.REFUSE_EXTENSION: "驳回理由",
    A.AWAIT_CITIZEN: "需市民补充的内容",
    A.REOPEN: "重办原因",
    A.REQUEST_EXTENSION: "延期理由",
    A.URGE: "催办说明（可选）",
    A.MERGE: "并单说明（可选）",
}
_DONE_NOTICES: dict[d.Action, str] = {A.AWAIT_CITIZEN: "已转为待市民补充（暂停计时）"}
_TYPED_FIELDS = ("action", "actor", "reason", "target_unit", "category", "days", "reply", "article",
                 "satisfaction", "citizen_resolved", "master")  # fmt: skip
_BLANK: dict[str, Any] = {**dict.fromkeys(_TYPED_FIELDS, ""), "co_units": []}


def done_notice(done: str) -> str:
    """The confirmation after a step (已签收, 已派单 …); nothing for a word that names no step."""
    try:
        action = A(done)
    except ValueError:
        return ""
    return _DONE_NOTICES.get(action, f"已{d.ACTION_LABELS[action]}")


def _shown_error(exc: HotlineError) -> HotlineError:
    """The refusal as the page says it: a stale page is shown again with the latest order, so say to look again."""
    if exc.code != "stale-version":
        return exc
    return Conflict("工单已被他人更新，页面已显示最新内容，请核对后重新操作", code="stale-version", **exc.details)


def work_context(
    session: Session,
    request: Request,
    order: dict[str, Any],
    who: Acting,
    *,
    done: str = "",
    typed: dict[str, Any] | None = None,
    error: HotlineError | None = None,
) -> dict[str, Any]:
    """What order.html's 办理 section needs, as `work`: the steps WHO may take now on ORDER (a `show_order`
    view), the units to choose from, the notice of the step just taken, and a refused step's error and input; and
    its 短信 section, as `sms` (`sms_page.order_messages`), and its 附件 section, as `attachments`."""
    role = d.Role(who.role)
    lead = order["lead_unit"]
    actions = d.available_actions(
        d.State(order["state"]),
        role,
        co_handling=order["parent"] is not None,
        unit=who.unit or "",
        lead_unit=lead["code"] if lead else None,
    )
    steps = [
        {
            "action": a.value,
            "label": d.ACTION_LABELS[a],
            "fields": _FIELDS.get(a, ()),
            "reason_label": _REASON_LABELS.get(a, "说明"),
        }
        for a in actions
    ]
    needs_units = any("target_unit" in s["fields"] for s in steps)
    units = [u for u in service.list_units(session) if u["active"]] if needs_units else []
    error_at = typed["action"] if error is not None and typed and typed["action"] in {a.value for a in actions} else ""
    # The dispatch helper's suggestion when a step picks a unit; its values start the 派单/改派 forms, but what a
    # refused form had typed wins (the template takes `typed` for the step it belongs to).
    hint = dispatch_hint.hint(session, order, who, actions)
    prefill = {step: {**_BLANK, **values} for step, values in hint["prefill"].items()} if hint else {}
    return {
        "work": {
            "steps": steps,
            "units": units,
            "reopen_label": service.reopen_label(session, lead["code"]) if lead and A.REOPEN in actions else "",
            "role_label": d.ROLE_LABELS[role],
            "unit": who.unit or "",
            "signed_in": identity_of(request) is not None,
            "notice": done_notice(done),
            "error": error,
            "error_at": error_at,
            "typed": typed or _BLANK,
            "blank": _BLANK,
            "hint": hint,
            "prefill": prefill,
            "satisfactions": [(s.value, label) for s, label in d.SATISFACTION_LABELS.items()],
            "max_days": d.MAX_EXTENSION_DAYS,
            "nuisance_href": apply_href(who.role, order=order["number"]),  # 申请列入骚扰号码名单, prefilled
        },
        # The order's 短信 section: its texts to the citizen (numbers masked), for every role that sees the order
        "sms": sms_page.order_messages(session, order["number"], who.role),
        # Its 附件 section: the files, and the upload form for those who may add one (web.order_attachments)
        "attachments": order_attachments.context(session, order, who, done=done),
    }


def _number(text: str, what: str, code: str) -> int | None:
    if not text.strip():
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise InvalidInput(f"{what}须为整数", code=code) from None


def _yes_no(text: str) -> bool | None:
    return {"yes": True, "no": False}.get(text)


def _refused(
    request: Request, session: Session, number: str, who: Acting, exc: HotlineError, typed: dict[str, Any]
) -> HTMLResponse:
    """The order page again, as it now stands, with the refusal next to the step's form and what was typed."""
    from hotline.web.pages import render

    title = f"工单 {number}"
    try:
        order = service.show_order(session, number, who.role, unit=who.unit)
    except HotlineError:
        return render(request, "order.html", title, status_code=exc.http_status, error=exc, order=None, role=who.role)
    shown = _shown_error(exc)
    return render(
        request, "order.html", title, status_code=exc.http_status, order=order, role=who.role,
        **work_context(session, request, order, who, typed=typed, error=shown),
    )  # fmt: skip


@router.post("/orders/{number}/act")
def act_form(
    request: Request,
    number: str,
    action: Annotated[str, Form()] = "",
    version: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    unit: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    target_unit: Annotated[str, Form()] = "",
    co_units: Annotated[list[str] | None, Form()] = None,
    category: Annotated[str, Form()] = "",
    days: Annotated[str, Form()] = "",
    reply: Annotated[str, Form()] = "",
    article: Annotated[str, Form()] = "",
    satisfaction: Annotated[str, Form()] = "",
    citizen_resolved: Annotated[str, Form()] = "",
    master: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    """One step from the order page: on success back to the page with its notice (POST, then 303 to GET)."""
    typed = {
        "action": action, "actor": actor, "reason": reason, "target_unit": target_unit, "category": category,
        "days": days, "reply": reply, "article": article, "satisfaction": satisfaction,
        "citizen_resolved": citizen_resolved, "master": master, "co_units": [c for c in co_units or [] if c],
    }  # fmt: skip
    try:
        who = acting(request, role or None, unit or None, actor, default="supervisor")
    except HotlineError as exc:
        from hotline.web.pages import render

        return render(request, "order.html", f"工单 {number}", status_code=exc.http_status, error=exc, order=None,
                      role=role)  # fmt: skip
    try:
        service.act(
            session,
            number,
            action,
            role=who.role,
            unit=who.unit or "",
            actor=who.actor,
            version=_number(version, "版本号", "invalid-version"),
            reason=reason,
            target_unit=target_unit or None,
            co_units=typed["co_units"],
            days=_number(days, "延期天数", "invalid-extension-days"),
            reply=reply,
            satisfaction=satisfaction or None,
            citizen_resolved=_yes_no(citizen_resolved),
            master=master.strip() or None,
            category=category.strip() or None,
            article=article.strip() or None,
        )
        session.commit()
    except HotlineError as exc:
        session.rollback()
        return _refused(request, session, number, who, exc, typed)
    query = {"role": who.role, "done": action, **({"unit": who.unit} if who.unit else {})}
    return RedirectResponse(f"/orders/{quote(number, safe='')}?{urlencode(query)}", status_code=303)
