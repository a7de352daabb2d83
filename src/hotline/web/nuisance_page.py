"""骚扰号码名单 (`/nuisance`): the entries by state (待审核 / 生效中 / 已到期 / 已解除 / 已驳回), numbers masked for
everyone (an agent applies from the call record or the work order, so nobody types or reads the full number), and
the apply form (申请列入), which the call page and the order page open prefilled; supervisors and administrators
may also type a number. Each entry has its page (`/nuisance/{id}`): what was applied for and why, its history, and
the forms its viewer may use now (审核通过 / 驳回 a pending one, 解除 one in force).

Thin handlers over `nuisance.service`. Who may do what is the access table's rule for the role acted in; with
sign-in off the page is viewed as the role named (`role`, by default 督办审核员), changes recorded under the name
typed (`actor`) or the role's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from hotline.accounts.domain import Grant
from hotline.accounts.policy import POLICY
from hotline.deps import SESSION
from hotline.errors import HotlineError, InvalidInput
from hotline.nuisance import domain as n
from hotline.nuisance import service
from hotline.tables import whole_number
from hotline.web.pages import render
from hotline.web.viewer import Viewer, page_roles, page_viewer, posted_step

router = APIRouter(include_in_schema=False)

TITLE = "骚扰号码名单"
PAGE = "/nuisance"
APPLY = "/nuisance/apply"
DEFAULT_ROLE = "supervisor"
STATES = tuple((s.value, label) for s, label in n.STATE_LABELS.items())
NOTICES = {  # what the entry's page says after a step
    "apply": "已提交申请，待质检主管或管理员审核；审核通过后生效",
    "approve": "已审核通过，该号码的来电按所选方式处理，到期自动失效",
    "reject": "已驳回申请",
    "lift": "已解除，该号码的来电恢复正常接入",
}
TREATMENT_HELP = {
    n.Treatment.WARN.value: "来电先播放提示音，再接入骚扰专席，市民仍可反映诉求（一般选此项）。",
    n.Treatment.RELEASE.value: "播放告知后挂断：该号码在有效期内打不进 12345，限制了市民反映诉求，"
    "只用于反复恶意骚扰、转骚扰专席仍无法处置的情形，应极少采用。",
}
RULE = (
    "列入名单须质检主管或管理员审核通过后才生效，有效期届满自动失效，也可提前解除；"
    "110、119、120、122 等紧急号码不受影响；只有接入 12345 座席的来电受此限制。"
)


def _viewer(request: Request, role: str, actor: str = "") -> Viewer:
    return page_viewer(request, role, PAGE, default=DEFAULT_ROLE, actor=actor)


def _decides(viewer: Viewer) -> bool:
    """Whether the role acted in decides (审核, 解除) and may type a number: the access table's rule."""
    return viewer.acts_as("POST", "/nuisance/0/approve")


def applies(role: str) -> bool:
    """Whether ROLE may apply: for the links the call and order pages give it."""
    return POLICY.allows("POST", APPLY, tuple(g for g in Grant if g.value == role))


def apply_href(role: str, *, call: str = "", order: str = "") -> str:
    """The apply form prefilled from a call record or a work order, for a role that may apply; else ""."""
    if not applies(role):
        return ""
    source = {"call": call} if call else {"order": order}
    return f"{PAGE}?{urlencode({**source, 'role': role})}#apply"


def call_apply_href(session: Session, role: str, call_id: str) -> str:
    """The apply form prefilled from a call record, for a role that may apply and a call whose caller has a number
    (not an anonymous or withheld one); else ""."""
    if not applies(role):
        return ""
    from hotline.telephony import service as telephony
    from hotline.telephony.domain import callback_number

    decision = telephony.get_call(session, call_id, mask=False)["decision"]
    return apply_href(role, call=call_id) if decision and callback_number(decision["caller"] or "") else ""


# -- the list and the apply form -------------------------------------------------------------------------------------
@router.get(PAGE, response_class=HTMLResponse)
def nuisance_page(
    request: Request,
    role: str = "",
    actor: str = "",
    state: str = "",
    call: str = "",
    order: str = "",
    session: Session = SESSION,
) -> HTMLResponse:
    typed = {"call": call.strip(), "order": order.strip()}
    return _list_page(request, session, role, actor, state, typed=typed)


@router.post(APPLY)
def apply_form(
    request: Request,
    call: Annotated[str, Form()] = "",
    order: Annotated[str, Form()] = "",
    number: Annotated[str, Form()] = "",
    treatment: Annotated[str, Form()] = "",
    days: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    typed = {"call": call.strip(), "order": order.strip(), "number": number.strip(), "treatment": treatment,
             "days": days, "reason": reason}  # fmt: skip

    def work(viewer: Viewer) -> dict[str, Any]:
        return service.propose(
            session,
            actor=viewer.actor,
            role=viewer.role,
            call_id=typed["call"] or None,
            order=typed["order"] or None,
            number=typed["number"] or None,
            treatment=treatment or n.Treatment.WARN.value,
            days=_days(days),
            reason=reason,
        )

    return posted_step(
        session,
        lambda: _viewer(request, role, actor),
        APPLY,
        work,
        refused=lambda exc: _list_page(request, session, role, actor, "", typed=typed, error=exc),
        to=lambda viewer, made: f"{PAGE}/{made['id']}?{viewer.keep(done='apply')}",
    )


def _days(text: str) -> int:
    if not text.strip():
        return n.DEFAULT_DAYS
    found = whole_number(text)
    if found is None:
        raise InvalidInput(f"限制天数须为 1 至 {n.MAX_DAYS} 天的整数", code="nuisance-invalid-days", days=text)
    return found


def _list_page(
    request: Request,
    session: Session,
    role: str,
    actor: str,
    state: str,
    *,
    typed: dict[str, str],
    error: HotlineError | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "role": role,
        "roles": page_roles(request, PAGE),
        "error": error,
        "entries": [],
        "hidden": 0,
    }
    try:
        viewer = _viewer(request, role, actor)
        decides = _decides(viewer)
        counts = service.state_counts(session)
        source = _source(session, viewer, typed)
    except HotlineError as exc:
        return render(
            request, "nuisance.html", TITLE, status_code=exc.http_status, **{**context, "error": error or exc}
        )
    default = (
        n.EntryState.PENDING.value if decides and counts[n.EntryState.PENDING.value] else n.EntryState.ACTIVE.value
    )
    shown = state if state in counts or state == "all" else default
    entries = service.list_entries(session, state=None if shown == "all" else shown)  # the newest 500
    context.update(
        role=viewer.role,
        viewer=viewer,
        decides=decides,
        may_apply=viewer.acts_as("POST", APPLY),
        state=shown,
        entries=entries,
        hidden=(sum(counts.values()) if shown == "all" else counts[shown]) - len(entries),
        tabs=[(value, label, counts[value], f"{PAGE}?{viewer.keep(state=value)}") for value, label in STATES],
        all_href=f"{PAGE}?{viewer.keep(state='all')}",
        total=sum(counts.values()),
        typed={"treatment": n.Treatment.WARN.value, "days": str(n.DEFAULT_DAYS), "reason": "", "number": "", **typed},
        source=source,
        treatments=[(t.value, label, TREATMENT_HELP[t.value]) for t, label in n.TREATMENT_LABELS.items()],
        max_days=n.MAX_DAYS,
        default_days=n.DEFAULT_DAYS,
        rule=RULE,
        query=viewer.keep(),
        actor=viewer.kept_actor,
    )
    status = error.http_status if error is not None else 200
    return render(request, "nuisance.html", TITLE, status_code=status, **context)


def _source(session: Session, viewer: Viewer, typed: dict[str, str]) -> str:
    """What the prefilled apply form is about, in words, the caller's number masked (never in full here); "" when
    it names nothing that can be found (the service says why on applying)."""
    from hotline.privacy import mask_phone

    try:
        if typed.get("call"):
            from hotline.telephony import service as telephony

            view = telephony.call_detail(session, typed["call"], mask=True)["view"]
            caller = mask_phone(view["caller"]) if view and view.get("caller") else "号码未知"
            return f"来电 {typed['call']}（{view['time'] if view else '无路由记录'}，来电号码 {caller}）"
        if typed.get("order"):
            from hotline.workorders import service as orders

            found = orders.show_order(session, typed["order"], viewer.role)
            return f"工单 {typed['order']}（来电人号码 {mask_phone(found['caller_phone'] or '') or '未留'}）"
    except HotlineError:
        return ""
    return ""


# -- one entry -------------------------------------------------------------------------------------------------------
@router.get("/nuisance/{entry_id}", response_class=HTMLResponse)
def entry_page(
    request: Request, entry_id: int, role: str = "", actor: str = "", done: str = "", session: Session = SESSION
) -> HTMLResponse:
    return _entry_page(request, session, entry_id, role, actor, done=done)


def _act(
    request: Request,
    session: Session,
    entry_id: int,
    step: str,
    role: str,
    actor: str,
    work: Callable[[Viewer], object],
    typed: dict[str, str],
) -> Response:
    """One decision from the entry's page: checked for the role acted in, done and committed, then back to the page
    saying so; refused, the page again with why and what was typed, nothing written."""
    return posted_step(
        session,
        lambda: _viewer(request, role, actor),
        f"/nuisance/{entry_id}/{step}",
        work,
        refused=lambda exc: _entry_page(
            request, session, entry_id, role, actor, error=exc, typed={"form": step, **typed}
        ),
        done=lambda viewer: f"{PAGE}/{entry_id}?{viewer.keep(done=step)}",
    )


@router.post("/nuisance/{entry_id}/approve")
def approve_form(
    request: Request,
    entry_id: int,
    note: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    def work(viewer: Viewer) -> object:
        return service.approve(session, entry_id, actor=viewer.actor, note=note)

    return _act(request, session, entry_id, "approve", role, actor, work, {"note": note})


def _with_reason(step: str, decide: Callable[..., object]) -> None:
    """The route of a decision that needs a reason (驳回, 解除): STEP's form, done by DECIDE."""

    def form(
        request: Request,
        entry_id: int,
        reason: Annotated[str, Form()] = "",
        role: Annotated[str, Form()] = "",
        actor: Annotated[str, Form()] = "",
        session: Session = SESSION,
    ) -> Response:
        def work(viewer: Viewer) -> object:
            return decide(session, entry_id, actor=viewer.actor, reason=reason)

        return _act(request, session, entry_id, step, role, actor, work, {"reason": reason})

    router.post(f"{PAGE}/{{entry_id}}/{step}", name=f"nuisance_{step}")(form)


_with_reason("reject", service.reject)
_with_reason("lift", service.lift)


def _entry_page(
    request: Request,
    session: Session,
    entry_id: int,
    role: str,
    actor: str,
    *,
    done: str = "",
    error: HotlineError | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    title = f"骚扰号码 #{entry_id}"
    context: dict[str, Any] = {"role": role, "roles": page_roles(request, PAGE), "entry": None, "error": error}
    try:
        viewer = _viewer(request, role, actor)
        entry = service.get_entry(session, entry_id)
    except HotlineError as exc:
        return render(request, "nuisance_entry.html", title, status_code=exc.http_status, **{**context, "error": exc})
    path = f"{PAGE}/{entry_id}"
    pending = entry["state"] == n.EntryState.PENDING.value
    context.update(
        role=viewer.role,
        viewer=viewer,
        entry=entry,
        may_decide=pending and viewer.acts_as("POST", f"{path}/approve"),
        may_lift=entry["state"] == n.EntryState.ACTIVE.value and viewer.acts_as("POST", f"{path}/lift"),
        evidence_href=_evidence_href(entry, viewer),
        typed={"form": "", "note": "", "reason": "", **(typed or {})},
        notice=NOTICES.get(done, ""),
        back=f"{PAGE}?{viewer.keep(state=entry['state'])}",
        treatment_help=TREATMENT_HELP.get(entry["treatment"], ""),
        rule=RULE,
        actor=viewer.kept_actor,
    )
    status = error.http_status if error is not None else 200
    return render(request, "nuisance_entry.html", title, status_code=status, **context)


def _evidence_href(entry: dict[str, Any], viewer: Viewer) -> str:
    """Where the entry came from, when it names a call record or a work order the viewer may open."""
    if entry["call_id"] and viewer.acts_as("GET", f"/calls/{entry['call_id']}"):
        return f"/calls/{quote(entry['call_id'], safe='')}?{urlencode({'role': viewer.role})}"
    if entry["order"]:
        return f"/orders/{quote(entry['order'], safe='')}?{urlencode({'role': viewer.role})}"
    return ""


# -- 我的待办 --------------------------------------------------------------------------------------------------------
def todo_line(session: Session, role: str) -> dict[str, Any] | None:
    """The 骚扰号码待审核 line of 我的待办, for the roles that decide, when something waits for them; else None."""
    if not POLICY.allows("POST", "/nuisance/0/approve", tuple(g for g in Grant if g.value == role)):
        return None
    count = service.pending_count(session)
    if not count:
        return None
    return {"count": count, "href": f"{PAGE}?{urlencode({'role': role, 'state': n.EntryState.PENDING.value})}"}
