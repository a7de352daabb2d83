"""HTTP resources of 短信通知 (`/api/sms`): supervisors and administrators read the texts (numbers masked for every
role) and send a failed one again (who is who: `accounts.policy`; the role acted in must itself be allowed, as on
质检). 短信回访: the SMS gateway (an `sms_gateway` account) delivers citizens' replies; agents, dispatchers,
supervisors and administrators read them, numbers masked."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.deps import SESSION
from hotline.errors import InvalidInput
from hotline.quality.api import acting_in
from hotline.sms import service

router = APIRouter(prefix="/api/sms", tags=["sms"])
PATH = "/api/sms"


@router.get("")
def list_messages(
    request: Request,
    state: str = "",
    order: str = "",
    limit: int = 200,
    role: str = "",
    actor: str = "",
    session: Session = SESSION,
) -> dict[str, Any]:
    """The texts, newest first (numbers masked), of `state` pending (待发送), sent (已发送), failed (发送失败) or
    skipped (不发送), all when empty, and of the order numbered `order`; with `counts` per state. 422
    `sms-invalid-state`, `sms-invalid-limit`."""
    acting_in(request, role, actor or "查询", "GET", PATH)
    return {
        "counts": service.state_counts(session),
        "messages": service.list_messages(session, state=state or None, order=order or None, limit=limit),
    }


class RetryIn(BaseModel):
    role: str | None = None
    actor: str = Field("", description="操作人（未启用登录时）；登录后记为当前账号")


@router.post("/{message_id}/retry")
def retry(message_id: int, request: Request, body: RetryIn | None = None, session: Session = SESSION) -> dict[str, Any]:
    """重新发送 a failed text: back to 待发送 (its tries counted afresh), recorded under the account. 404
    `sms-not-found`; 409 `sms-not-failed`."""
    body = body or RetryIn.model_validate({})
    who = acting_in(request, body.role, body.actor, "POST", f"{PATH}/{message_id}/retry")
    return service.retry(session, message_id, who.actor)


class ReplyIn(BaseModel):
    id: str | None = Field(None, description="短信网关的回复编号：同一编号重复报送只记一次")
    from_: str = Field(..., alias="from", description="发送回复的手机号码")
    text: str = Field(..., description="回复内容")
    received_at: str | None = Field(None, description="网关收到回复的时间（ISO 8601；不带时区按北京时间）；缺省为现在")


@router.post("/replies")
def receive_reply(body: Any = Body(None), session: Session = SESSION) -> dict[str, Any]:
    """短信回访: a citizen's reply the SMS gateway received, `{"id", "from", "text", "received_at"}` →
    `{"reply_id", "outcome", "outcome_label"}` (no order number, no name). 1/满意 and 2/基本满意 are recorded as the
    order's 回访; 3/不满意 leaves it 待回访 for an agent's phone 回访. 422 `sms-invalid-reply`."""
    try:
        found = ReplyIn.model_validate(body)
    except ValueError:
        raise InvalidInput(
            '回复须为 JSON：{"id": 编号或 null, "from": 号码, "text": 内容, "received_at": 时间或 null}',
            code="sms-invalid-reply",
        ) from None
    return service.receive_reply(
        session, phone=found.from_, text=found.text, received_at=found.received_at, gateway_id=found.id
    )


@router.get("/replies")
def list_replies(
    request: Request,
    outcome: str = "",
    awaiting: bool = False,
    order: str = "",
    limit: int = 200,
    role: str = "",
    actor: str = "",
    session: Session = SESSION,
) -> dict[str, Any]:
    """The citizens' replies, newest first (numbers masked), of `outcome` (recorded, unsatisfied, unrecognized,
    no_survey, already_visited, already_answered; all when empty); `awaiting=true`: only 不满意 ones whose order still
    waits for its phone 回访; with `counts` per outcome and `awaiting_calls`. 422 `sms-invalid-outcome`,
    `sms-invalid-limit`."""
    acting_in(request, role, actor or "查询", "GET", f"{PATH}/replies")
    return {
        "counts": service.outcome_counts(session),
        "awaiting_calls": service.awaiting_calls(session),
        "replies": service.list_replies(
            session, outcome=outcome or None, awaiting=awaiting, order=order or None, limit=limit
        ),
    }
