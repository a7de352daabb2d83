"""短信记录 (`/sms`): the texts the centre sends citizens (受理回执, 办结告知) by state (待发送 / 已发送 / 发送失败 /
不发送), each with its order, the number masked, the text, the attempts and the gateway's last error, and 重新发送
for a failed one; a line says whether a gateway is configured (without one nothing leaves the outbox). The order
page lists its own order's texts (`order_messages`, each with the citizen's replies under it), and the overview's
我的待办 says how many failed (`todo_line`). 短信回访: the citizens' replies (`/sms/replies`: time, number masked,
text, 结果, order link) for agents and dispatchers, who make the phone 回访 an unsatisfied reply leaves, and
supervisors and administrators; 我的待办 says 短信评价不满意 N to agents and dispatchers (`survey_todo_line`).

Thin handlers over `sms.service`. Supervisors and administrators read the list and send a failed text again (the
access table's rule for the role acted in); with sign-in off the page is viewed as the role named (`role`, by
default 督办审核员), a retry recorded under the name typed (`actor`) or the role's.
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
from hotline.settings import get_settings
from hotline.sms import domain as sms
from hotline.sms import service
from hotline.timeutil import now, parse_instant
from hotline.web.pages import render
from hotline.web.viewer import Viewer, page_roles, page_viewer, posted_step

router = APIRouter(include_in_schema=False)

TITLE = "短信记录"
PAGE = "/sms"
REPLIES = "/sms/replies"
REPLIES_TITLE = "短信回访"
SURVEY_CALLERS = frozenset({Grant.AGENT.value, Grant.DISPATCHER.value})  # who 我的待办 tells of unsatisfied replies
RETRY = "/sms/{message_id}/retry"
DEFAULT_ROLE = "supervisor"
FAILED = sms.MessageState.FAILED.value  # what the list opens on when any, and what 我的待办 counts
LIMIT = 500  # the newest listed; the rest are counted
NOTICES = {"retry": "已重新排入待发送，由后台任务经短信网关发出"}
RULE = (
    "受理后向来电人发送受理回执（工单编号、答复期限、凭来电号码后四位查询进度的方式），审核通过或直接办结后发送办结告知"
    "（直接办结的只发办结告知）；短信不含来电人姓名和诉求内容。只发往手机号码；举报件、保密件、移动端应用受理的工单"
    "和来电人不需要短信的不发送；21:00 至次日 08:00 不发送，顺延至 08:00 发出。"
)


def _viewer(request: Request, role: str, actor: str = "") -> Viewer:
    return page_viewer(request, role, PAGE, default=DEFAULT_ROLE, actor=actor)


def _gateway() -> str:
    """Whether a gateway is configured, in words (its address is not shown: it may carry a key)."""
    if get_settings().sms_gateway_url:
        return "已配置短信网关：待发送的短信由后台任务自动发出，失败的按间隔重试。"
    return "未配置短信网关（HOTLINE_SMS_GATEWAY_URL）：短信暂不发出，保留在待发送中，配置后自动补发（生成后超过 24 小时仍未发出的不再发送）。"


@router.get(PAGE, response_class=HTMLResponse)
def sms_page(
    request: Request,
    role: str = "",
    actor: str = "",
    state: str = "",
    order: str = "",
    done: str = "",
    session: Session = SESSION,
) -> HTMLResponse:
    return _list_page(request, session, role, actor, state, order.strip(), notice=NOTICES.get(done, ""))


@router.post(RETRY)
def retry_form(
    request: Request,
    message_id: int,
    role: Annotated[str, Form()] = "",
    actor: Annotated[str, Form()] = "",
    state: Annotated[str, Form()] = "",
    session: Session = SESSION,
) -> Response:
    return posted_step(
        session,
        lambda: _viewer(request, role, actor),
        f"/sms/{message_id}/retry",
        lambda viewer: service.retry(session, message_id, actor=viewer.actor),
        refused=lambda exc: _list_page(request, session, role, actor, state, "", error=exc),
        done=lambda viewer: f"{PAGE}?{viewer.keep(state=state, done='retry')}",
    )


def _list_page(
    request: Request,
    session: Session,
    role: str,
    actor: str,
    state: str,
    order: str,
    *,
    notice: str = "",
    error: HotlineError | None = None,
) -> HTMLResponse:
    context: dict[str, Any] = {"role": role, "roles": page_roles(request, PAGE), "error": error, "messages": []}
    try:
        viewer = _viewer(request, role, actor)
        counts = service.state_counts(session)
    except HotlineError as exc:
        return render(request, "sms.html", TITLE, status_code=exc.http_status, **{**context, "error": error or exc})
    # What needs someone comes first: the failed ones, when any; else every text.
    shown = state if state in counts or state == "all" else (FAILED if counts[FAILED] else "all")
    messages = service.list_messages(
        session, state=None if shown == "all" else shown, order=order or None, mask=True, limit=LIMIT
    )
    at = now()
    for m in messages:  # a text held back (quiet hours, a retry's back-off): when it may go
        later = m["state"] == sms.MessageState.PENDING and m["next_try_at"] and parse_instant(m["next_try_at"]) > at
        m["waits_until"] = m["next_try_at"] if later else None
    total = sum(counts.values())
    context.update(
        role=viewer.role,
        viewer=viewer,
        state=shown,
        order=order,
        messages=messages,
        more=not order and (total if shown == "all" else counts[shown]) > len(messages),
        tabs=[
            (value, label, counts[value], f"{PAGE}?{viewer.keep(state=value)}")
            for value, label in sms.STATE_LABELS.items()
        ],
        all_href=f"{PAGE}?{viewer.keep(state='all')}",
        total=total,
        may_retry=viewer.acts_as("POST", "/sms/0/retry"),
        gateway=_gateway(),
        notice=notice,
        rule=RULE,
        actor=viewer.kept_actor,
        order_query=urlencode({"role": viewer.role}),
        replies_href=f"{REPLIES}?{viewer.keep()}",
    )
    status = error.http_status if error is not None else 200
    return render(request, "sms.html", TITLE, status_code=status, **context)


# -- 短信回访: the citizens' replies ------------------------------------------------------------------------------------
@router.get(REPLIES, response_class=HTMLResponse)
def replies_page(
    request: Request,
    role: str = "",
    actor: str = "",
    outcome: str = "",
    awaiting: str = "",
    session: Session = SESSION,
) -> HTMLResponse:
    """The citizens' replies, newest first (numbers masked): all, of one 结果, or (`awaiting=1`) the unsatisfied ones
    whose order still waits for its phone 回访."""
    context: dict[str, Any] = {"role": role, "roles": page_roles(request, REPLIES), "replies": []}
    try:
        viewer = page_viewer(request, role, REPLIES, default=DEFAULT_ROLE, actor=actor)
        wanted = service.parse_outcome(outcome)
        replies = service.list_replies(
            session, outcome=wanted.value if wanted else None, awaiting=awaiting == "1", mask=True, limit=LIMIT
        )
    except HotlineError as exc:
        return render(request, "sms_replies.html", REPLIES_TITLE, status_code=exc.http_status, **context, error=exc)
    counts = service.outcome_counts(session)
    context.update(
        role=viewer.role,
        viewer=viewer,
        replies=replies,
        outcome=wanted.value if wanted else "",
        awaiting=awaiting == "1",
        waiting=service.awaiting_calls(session),
        awaiting_href=f"{REPLIES}?{viewer.keep(awaiting='1')}",
        tabs=[
            (o.value, label, counts[o.value], f"{REPLIES}?{viewer.keep(outcome=o.value)}")
            for o, label in sms.REPLY_OUTCOME_LABELS.items()
        ],
        all_href=f"{REPLIES}?{viewer.keep()}",
        total=sum(counts.values()),
        messages_href=f"{PAGE}?{viewer.keep()}" if viewer.acts_as("GET", PAGE) else "",
        order_query=urlencode({"role": viewer.role}),
        prompt=sms.SURVEY_PROMPT,
        hours=get_settings().sms_survey_hours,
        survey_on=get_settings().sms_survey,
        error=None,
    )
    return render(request, "sms_replies.html", REPLIES_TITLE, **context)


# -- the order page's 短信 section ------------------------------------------------------------------------------------
def order_messages(session: Session, number: str, role: str) -> dict[str, Any]:
    """The texts of one order (numbers masked), for the order page of a role that sees the order, and the link to
    the whole list for a role that reads it."""
    grants = tuple(g for g in Grant if g.value == role)
    href = f"{PAGE}?{urlencode({'role': role, 'order': number, 'state': 'all'})}"
    messages = service.messages_for_order(session, number, mask=True)
    replies = service.replies_by_message(session, [m["id"] for m in messages], mask=True)
    for m in messages:  # 短信回访: what the citizen answered, under the text that asked
        m["replies"] = replies.get(m["id"], [])
    return {"messages": messages, "href": href if POLICY.allows("GET", PAGE, grants) else ""}


# -- 我的待办 --------------------------------------------------------------------------------------------------------
def todo_line(session: Session, role: str) -> dict[str, Any] | None:
    """The 短信发送失败 line of 我的待办, for the roles that may send a text again, when some failed; else None."""
    if not POLICY.allows("POST", "/sms/0/retry", tuple(g for g in Grant if g.value == role)):
        return None
    count = service.state_counts(session)[FAILED]
    if not count:
        return None
    return {"count": count, "href": f"{PAGE}?{urlencode({'role': role, 'state': FAILED})}"}


def survey_todo_line(session: Session, role: str) -> dict[str, Any] | None:
    """The 短信评价不满意 line of 我的待办 for agents and dispatchers (they make the phone 回访): orders still 待回访
    whose citizen rated the answer 不满意 by text, when any; else None."""
    if role not in SURVEY_CALLERS:
        return None
    count = service.awaiting_calls(session)
    if not count:
        return None
    return {"count": count, "href": f"{REPLIES}?{urlencode({'role': role, 'awaiting': '1'})}"}
